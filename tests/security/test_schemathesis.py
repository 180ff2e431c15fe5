"""Schemathesis against the live ``/openapi.json``: every operation, authenticated, with
real objects behind the path parameters most of the time.

Checks: no 5xx, status codes documented, content types documented, bodies match the
documented schemas, and auth not ignored. Bounded (``MAX_EXAMPLES`` per operation, no
shrinking) so CI stays fast.
"""

from __future__ import annotations

import hashlib
from collections import Counter, defaultdict
from collections.abc import Iterator
from dataclasses import dataclass

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    ignored_auth,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from isogate.gateway.openapi import openapi_document
from tests.gateway.e2e.server import ADMIN, GatewayProcess

from .conftest import ECHO_JS

MAX_EXAMPLES = 25
STATS: defaultdict[str, Counter[int]] = defaultdict(Counter)
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    response_headers_conformance,
    ignored_auth,
]
# Not ``negative_data_rejection``: unknown query parameters are ignored on purpose, and the
# test adds the credentials that a negative case leaves out.


@dataclass
class World:
    url: str
    token: str
    api_key: str
    victim_key_id: str
    fn: str = "st-echo"
    deploy_target: str = "st-deploy"


def _setup(url: str) -> World:
    with httpx.Client(base_url=url, timeout=60) as http:
        creds = {"name": "st-tenant", "password": "password-123"}
        r = http.post("/v1/tenants", json=creds, headers={"Authorization": f"Bearer {ADMIN}"})
        assert r.status_code == 201, r.text
        token = http.post("/v1/auth/token", json=creds).json()["access_token"]
        auth = {"Authorization": f"Bearer {token}"}
        for fn in ("st-echo", "st-deploy"):
            r = http.put(f"/v1/functions/{fn}", headers=auth, json={"code": ECHO_JS})
            assert r.status_code == 201, r.text
        key = http.post(
            "/v1/keys",
            headers=auth,
            json={"functions": ["st-echo"], "rate_limit": {"requests": 100000, "per_seconds": 1}},
        ).json()["key"]
        victim = http.post("/v1/keys", headers=auth, json={"name": "victim"}).json()["id"]
        assert http.get("/fn/st-echo", headers={"X-API-Key": key}).status_code == 200
    return World(url, token, key, victim)


@pytest.fixture(scope="module")
def world(gateway: GatewayProcess) -> Iterator[World]:
    yield _setup(gateway.url)


#: The document the gateway serves, loaded in process to enumerate the operations at
#: collection time; the live document is checked to be the same in ``test_live_document``.
SCHEMA = schemathesis.openapi.from_dict(openapi_document())
OPERATIONS = [r.ok() for r in SCHEMA.get_all_operations()]


def test_live_document(world: World) -> None:
    assert httpx.get(world.url + "/openapi.json").json() == openapi_document()


def _real_params(case, world: World) -> None:
    """Point most cases at real objects (a quarter keep the generated values)."""
    seed = hashlib.sha256(repr((case.body, case.query, case.path_parameters)).encode()).digest()
    if seed[0] % 4 == 0 or not case.path_parameters:
        return
    path = case.path
    params = dict(case.path_parameters)
    if "name" in params:
        if path.startswith("/fn/"):
            params["name"] = world.fn
        elif path == "/v1/functions/{name}" and case.method.upper() in ("PUT", "DELETE"):
            params["name"] = world.deploy_target
        else:
            params["name"] = world.fn
    if "key_id" in params:
        params["key_id"] = world.victim_key_id
    case.path_parameters = params


@pytest.mark.parametrize("operation", OPERATIONS, ids=lambda op: op.label)
def test_operation(operation, world: World) -> None:
    strategy = operation.as_strategy(GenerationMode.POSITIVE) | operation.as_strategy(
        GenerationMode.NEGATIVE
    )

    @given(case=strategy)
    @settings(
        max_examples=MAX_EXAMPLES,
        phases=[Phase.explicit, Phase.generate],
        deadline=None,
        suppress_health_check=list(HealthCheck),
        derandomize=True,
        database=None,
    )
    def run(case) -> None:
        _check_case(case, world)

    run()
    statuses = STATS[operation.label]
    print(f"{operation.label}: {sum(statuses.values())} calls, {dict(sorted(statuses.items()))}")
    assert statuses, "no request was made"


def _check_case(case, world: World) -> None:
    _real_params(case, world)
    if case.path.startswith("/fn/"):
        headers = {"X-API-Key": world.api_key}
    else:
        headers = {"Authorization": f"Bearer {world.token}"}
    if case.headers:
        headers = {**case.headers, **headers}
    response = case.call(base_url=world.url, headers=headers, timeout=30)
    STATS[case.operation.label][response.status_code] += 1
    case.validate_response(
        response, checks=CHECKS, headers=headers, transport_kwargs={"base_url": world.url}
    )
    if (
        case.path == "/v1/functions/{name}"
        and case.method.upper() == "DELETE"
        and response.status_code == 204
        and case.path_parameters.get("name") == world.deploy_target
    ):
        with httpx.Client(base_url=world.url, timeout=60) as http:
            http.put(
                f"/v1/functions/{world.deploy_target}",
                headers={"Authorization": f"Bearer {world.token}"},
                json={"code": ECHO_JS},
            )
