"""``isogate secrets`` against a running gateway (embedded default): put from stdin,
list, delete, and ``rotate-master`` beside the running gateway (its generated key file
gains a new key; the gateway reads secrets re-wrapped under it)."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from .conftest import Tenant, unique
from .server import GatewayProcess

pytestmark = pytest.mark.timeout(300)

SHOW = "export default { fetch(req, env) { return new Response(env.TOKEN ?? 'none') } };"


@pytest.fixture(scope="module")
def uncached(tmp_path_factory: pytest.TempPathFactory) -> Iterator[GatewayProcess]:
    """A gateway that caches no function lookups or secrets: each call reads them."""
    gw = GatewayProcess(
        tmp_path_factory.mktemp("sec-cli") / "data", {"ISOGATE_FUNCTION_CACHE_TTL_SECONDS": "0"}
    )
    gw.start()
    yield gw
    assert gw.stop() == 0, gw.log.read_text()[-3000:]


def run(
    gw: GatewayProcess, home: Path, *args: str, stdin: str = "", token: str = ""
) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ISOGATE_")}
    env.update({"XDG_CONFIG_HOME": str(home), "ISOGATE_URL": gw.url, "ISOGATE_TOKEN": token})
    return subprocess.run(
        [sys.executable, "-m", "isogate.cli", *args],
        env=env,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_secrets_cli_and_rotation(uncached: GatewayProcess, tmp_path: Path) -> None:
    t = Tenant(uncached.url, unique("cli"))
    fn = unique("fn")
    assert t.deploy(fn, SHOW).status_code == 201
    key = t.key(functions=[fn])["key"]

    def call() -> str:
        r = httpx.get(f"{uncached.url}/fn/{fn}", headers={"x-api-key": key}, timeout=30)
        assert r.status_code == 200, r.text
        return r.text

    r = run(uncached, tmp_path, "secrets", "put", fn, "TOKEN", stdin="from-stdin\n", token=t.token)
    assert r.returncode == 0, r.stderr
    assert "from-stdin" not in r.stdout + r.stderr
    assert call() == "from-stdin"
    r = run(uncached, tmp_path, "secrets", "list", fn, token=t.token)
    assert r.returncode == 0 and r.stdout.startswith("TOKEN"), r.stderr
    r = run(uncached, tmp_path, "secrets", "put", fn, "TOKEN", token=t.token)  # empty stdin
    assert r.returncode == 2 and "no value" in r.stderr

    keyfile = uncached.data_dir / "secrets_master_key"
    before = keyfile.read_text().strip().split(",")
    r = run(uncached, tmp_path, "secrets", "rotate-master", "--data-dir", str(uncached.data_dir))
    assert r.returncode == 0, r.stderr
    assert "re-wrapped" in r.stdout
    after = keyfile.read_text().strip().split(",")
    assert after[1:] == before and len(after) == 2 and keyfile.stat().st_mode & 0o077 == 0
    assert call() == "from-stdin"  # opened with the new key, read from the file

    r = run(uncached, tmp_path, "secrets", "delete", fn, "TOKEN", token=t.token)
    assert r.returncode == 0, r.stderr
    assert call() == "none"
    r = run(uncached, tmp_path, "secrets", "delete", fn, "TOKEN", token=t.token)
    assert r.returncode == 1 and "Secret not found" in r.stderr
    t.http.close()


def test_kv_cli_and_deploy_bind(uncached: GatewayProcess, tmp_path: Path) -> None:
    t = Tenant(uncached.url, unique("kvcli"))
    tok = t.token
    assert run(uncached, tmp_path, "kv", "create", "cache", token=tok).returncode == 0
    r = run(uncached, tmp_path, "kv", "put", "cache", "a/b", "--metadata", '{"m":1}', token=tok)
    assert r.returncode == 0, r.stderr
    r = run(uncached, tmp_path, "kv", "put", "cache", "c", stdin="from stdin", token=tok)
    assert r.returncode == 0, r.stderr
    r = run(uncached, tmp_path, "kv", "get", "cache", "c", token=tok)
    assert r.returncode == 0 and r.stdout == "from stdin"
    r = run(uncached, tmp_path, "kv", "keys", "cache", "--limit", "1", token=tok)
    assert r.returncode == 0 and r.stdout.startswith("a/b\n(more: --cursor ")
    src = tmp_path / "kv.js"
    src.write_text(
        "export default { async fetch(req, env) "
        "{ return new Response(await env.CACHE.get('c')) } };"
    )
    fn = unique("kvfn")
    r = run(uncached, tmp_path, "deploy", fn, str(src), "--bind", "CACHE=kv:nope", token=tok)
    assert r.returncode == 1 and "CACHE" in r.stderr
    r = run(uncached, tmp_path, "deploy", fn, str(src), "--bind", "CACHE=kv:cache", token=tok)
    assert r.returncode == 0, r.stderr
    key = t.key(functions=[fn])["key"]
    r = httpx.get(f"{uncached.url}/fn/{fn}", headers={"x-api-key": key}, timeout=30)
    assert r.text == "from stdin"
    assert run(uncached, tmp_path, "kv", "rm", "cache", "c", token=tok).returncode == 0
    r = run(uncached, tmp_path, "kv", "get", "cache", "c", token=tok)
    assert r.returncode == 1 and "KV key not found" in r.stderr
    t.http.close()
