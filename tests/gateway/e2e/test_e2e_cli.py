"""The ``isogate`` CLI against a running gateway: the quickstart, friendly errors, --json."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from .conftest import unique
from .server import ADMIN, GatewayProcess

pytestmark = pytest.mark.timeout(300)


def run(gw: GatewayProcess, home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ISOGATE_")}
    env.update({"XDG_CONFIG_HOME": str(home), "ISOGATE_URL": gw.url})
    return subprocess.run(
        [sys.executable, "-m", "isogate.cli", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_cli_quickstart(gateway: GatewayProcess, tmp_path: Path) -> None:
    name = unique("cli")
    fn = unique("clifn")
    src = tmp_path / "hello.js"
    src.write_text(
        "export default { fetch(req, env) { console.log('cli!'); "
        "return new Response('hi ' + env.WHO) } };"
    )
    pw = ("--password", "password-123")
    r = run(gateway, tmp_path, "tenant", "create", name, *pw, "--admin-token", ADMIN)
    assert r.returncode == 0, r.stderr
    r = run(gateway, tmp_path, "tenant", "create", name, *pw, "--admin-token", ADMIN)
    assert r.returncode == 1 and "Tenant exists" in r.stderr
    assert run(gateway, tmp_path, "login", name, *pw).returncode == 0
    assert (tmp_path / "isogate" / "tokens.json").stat().st_mode & 0o777 == 0o600
    r = run(gateway, tmp_path, "deploy", fn, str(src), "--env", "WHO=cli", "--timeout-ms", "500")
    assert r.returncode == 0 and "version 1" in r.stdout, r.stderr
    r = run(gateway, tmp_path, "--help")
    r = run(gateway, tmp_path, "keys", "create", "--rate", "2/h", "--json")
    assert r.returncode == 0, r.stderr
    key = json.loads(r.stdout)
    r = run(gateway, tmp_path, "invoke", fn, "--key", key["key"])
    assert r.returncode == 0 and r.stdout.strip() == "hi cli", (r.stdout, r.stderr)
    run(gateway, tmp_path, "invoke", fn, "--key", key["key"])
    r = run(gateway, tmp_path, "invoke", fn, "--key", key["key"])
    assert r.returncode == 1 and "Rate limit exceeded" in r.stderr
    r = run(gateway, tmp_path, "functions", "list", "--json")
    assert [f["name"] for f in json.loads(r.stdout)["functions"]] == [fn]
    r = run(gateway, tmp_path, "functions", "show", fn)
    assert r.returncode == 0 and "v1" in r.stdout
    r = run(gateway, tmp_path, "logs", fn)
    assert r.returncode == 0 and "cli!" in r.stdout, r.stdout
    r = run(gateway, tmp_path, "keys", "list")
    assert key["id"] in r.stdout
    assert run(gateway, tmp_path, "keys", "renew", key["id"], "--ttl", "600").returncode == 0
    assert run(gateway, tmp_path, "keys", "revoke", key["id"]).returncode == 0
    r = run(gateway, tmp_path, "functions", "rollback", fn, "9")
    assert r.returncode == 1 and "Version not found" in r.stderr
    bad = tmp_path / "bad.js"
    bad.write_text("export default { fetch( {")
    r = run(gateway, tmp_path, "deploy", fn, str(bad))
    assert r.returncode == 1 and "line 1" in r.stderr
    assert run(gateway, tmp_path, "functions", "delete", fn).returncode == 0
    r = run(gateway, tmp_path, "invoke", fn, "--url", "http://127.0.0.1:9")
    assert r.returncode == 3 and "cannot reach" in r.stderr


def test_serve_bad_setting_names_key(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ISOGATE_")}
    env["ISOGATE_RUNTIME__WORKERS"] = "zero"
    r = subprocess.run(
        [sys.executable, "-m", "isogate.cli", "serve", "--data-dir", str(tmp_path)],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert r.returncode == 2
    assert "ISOGATE_RUNTIME__WORKERS" in r.stderr
