"""Gateways for the security suite: real ``isogate serve`` processes on loopback ports."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.gateway.e2e.server import GatewayProcess

#: Code of the functions the suites invoke: answers every method, never throws.
ECHO_JS = """
export default {
  async fetch(req) {
    const body = await req.text();
    return new Response(JSON.stringify({ method: req.method, length: body.length }), {
      headers: { "content-type": "application/json" },
    });
  },
};
"""

#: The suites make many failed auth attempts and many deploys on purpose: no such
#: limits unless a test starts its own gateway to check them.
RELAXED = {
    "ISOGATE_AUTH_FAILURE_LIMIT": "100000",
    "ISOGATE_AUTH_ATTEMPT_LIMIT": "100000",
    "ISOGATE_MAX_DEPLOYS_PER_MINUTE": "0",
}


@pytest.fixture(scope="module")
def gateway(tmp_path_factory: pytest.TempPathFactory) -> Iterator[GatewayProcess]:
    gw = GatewayProcess(tmp_path_factory.mktemp("sec") / "data", dict(RELAXED))
    gw.start()
    yield gw
    assert gw.stop() == 0, gw.log.read_text()[-3000:]
