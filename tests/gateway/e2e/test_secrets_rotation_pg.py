"""``isogate secrets rotate-master`` on PostgreSQL (the production layout), end to end, the
way docs/operations.md tells operators to do it: secrets written under the old master key
are read by the functions after every step and after the old key is gone; a rotation cut
in the middle (a crash between batches) leaves every secret readable and is finished by
running the command again; a run without the old key fails without a traceback, without
a value in its output, and changes nothing."""

from __future__ import annotations

import asyncio
import base64
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import func, select

from isogate.backends.database import create_engine
from isogate.config import Settings
from isogate.state.crypto import Keyring, KeyringError, Sealed, parse_keyring
from isogate.state.secrets import SqlSecretStore
from isogate.state.tables import function_secrets

from .conftest import Tenant, unique
from .server import GatewayProcess

pytestmark = pytest.mark.timeout(600)

SHOW = """export default { fetch(req, env) {
  return Response.json({ A: env.A ?? null, B: env.B ?? null, C: env.C ?? null });
} };"""


def entry(key_id: str) -> str:
    return f"{key_id}:{base64.b64encode(os.urandom(32)).decode()}"


OLD, NEW = entry("old1"), entry("new2")


@pytest.fixture
def pg(pg_url: str, tmp_path: Path) -> Iterator[tuple[GatewayProcess, str]]:
    """A gateway on a fresh PostgreSQL database with the old master key only; function
    lookups and secrets are not cached, so every call reads the database."""
    gw = GatewayProcess(
        tmp_path / "data",
        {
            "ISOGATE_DATABASE_URL": pg_url,
            "ISOGATE_SECRETS_MASTER_KEY": OLD,
            "ISOGATE_FUNCTION_CACHE_TTL_SECONDS": "0",
        },
    )
    gw.start()
    yield gw, pg_url
    if gw.proc is not None:
        assert gw.stop() == 0, gw.log.read_text()[-3000:]


def restart(gw: GatewayProcess, keyring: str) -> None:
    assert gw.stop() == 0, gw.log.read_text()[-3000:]
    gw.env["ISOGATE_SECRETS_MASTER_KEY"] = keyring
    gw.start()


def rotate(url: str, keyring: str, data_dir: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ISOGATE_")}
    env.update({"ISOGATE_DATABASE_URL": url, "ISOGATE_SECRETS_MASTER_KEY": keyring})
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "isogate.cli",
            "secrets",
            "rotate-master",
            "--json",
            "--data-dir",
            str(data_dir),
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def key_ids(url: str) -> dict[str, int]:
    """Rows per master key id."""

    async def run() -> dict[str, int]:
        engine = create_engine(Settings(database_url=url))
        try:
            async with engine.connect() as conn:
                rows = await conn.execute(
                    select(function_secrets.c.key_id, func.count()).group_by(
                        function_secrets.c.key_id
                    )
                )
                return {k: n for k, n in rows}
        finally:
            await engine.dispose()

    return asyncio.run(run())


class CrashingKeyring(Keyring):
    """Re-wraps ``survive`` data keys, then dies (a process killed mid-rotation)."""

    def __init__(self, keys: list[tuple[str, bytes]], survive: int) -> None:
        super().__init__(keys)
        self.left = survive

    def rewrap(self, sealed: Sealed, context: bytes) -> Sealed:
        if self.left == 0:
            raise RuntimeError("killed")
        self.left -= 1
        return super().rewrap(sealed, context)


def crash_midway(url: str, keyring: str) -> None:
    """Batches of 2; the third re-wrap dies: one batch committed, the next rolled back."""

    async def run() -> None:
        engine = create_engine(Settings(database_url=url))
        try:
            ring = CrashingKeyring(parse_keyring(keyring), survive=3)
            store = SqlSecretStore(engine, 10, ring, 1024, 64)
            with pytest.raises(RuntimeError, match="killed"):
                await store.rewrap_all(batch=2)
        finally:
            await engine.dispose()

    asyncio.run(run())


def test_rotation_on_postgres_is_readable_throughout_and_restart_safe(
    pg: tuple[GatewayProcess, str], tmp_path: Path
) -> None:
    gw, url = pg
    t = Tenant(gw.url, unique("rot"))
    values: dict[str, dict[str, str]] = {}
    keys: dict[str, str] = {}
    for _ in range(3):
        fn = unique("rotfn")
        assert t.deploy(fn, SHOW).status_code == 201
        keys[fn] = t.key(functions=[fn])["key"]
        values[fn] = {}
        for name in ("A", "B"):
            value = f"{name}-{fn}-" + base64.b64encode(os.urandom(9)).decode()
            r = t.http.put(
                f"/v1/functions/{fn}/secrets/{name}", json={"value": value}, headers=t.auth
            )
            assert r.status_code == 200, r.text
            values[fn][name] = value

    def check() -> None:
        for fn, expected in values.items():
            r = httpx.get(f"{gw.url}/fn/{fn}", headers={"x-api-key": keys[fn]}, timeout=30)
            assert r.status_code == 200, r.text
            got = {k: v for k, v in r.json().items() if v is not None}
            assert got == expected, fn

    check()
    assert key_ids(url) == {"old1": 6}

    # 1. the new key second on every replica (all can read it), then first (new writes)
    restart(gw, f"{OLD},{NEW}")
    check()
    restart(gw, f"{NEW},{OLD}")
    check()
    some = next(iter(values))
    r = t.http.put(f"/v1/functions/{some}/secrets/C", json={"value": "written-new"}, headers=t.auth)
    assert r.status_code == 200, r.text
    values[some]["C"] = "written-new"
    assert key_ids(url) == {"old1": 6, "new2": 1}

    # a run that lacks the old key fails cleanly and changes nothing
    r = rotate(url, NEW, tmp_path)
    assert r.returncode == 1, (r.stdout, r.stderr)
    assert "old1" in r.stderr and "Traceback" not in r.stderr
    for v in (v for vs in values.values() for v in vs.values()):
        assert v not in r.stdout + r.stderr
    assert key_ids(url) == {"old1": 6, "new2": 1}

    # 2. a rotation that dies between batches: what it committed is under the new key,
    # the rest still under the old one, and every secret reads, also after a restart
    crash_midway(url, f"{NEW},{OLD}")
    assert key_ids(url) == {"old1": 4, "new2": 3}
    check()
    restart(gw, f"{NEW},{OLD}")
    check()

    # run again: it finishes; a third run finds nothing to do
    r = rotate(url, f"{NEW},{OLD}", tmp_path)
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout)
    assert out == {"current": "new2", "rewrapped": 4, "left": {}}
    assert key_ids(url) == {"new2": 7}
    r = rotate(url, f"{NEW},{OLD}", tmp_path)
    assert r.returncode == 0 and json.loads(r.stdout)["rewrapped"] == 0

    # 3. the old key removed: every secret (old ones included) still reads
    restart(gw, NEW)
    check()
    r = t.http.get(f"/v1/functions/{some}/secrets", headers=t.auth)
    assert [s["name"] for s in r.json()["secrets"]] == ["A", "B", "C"]
    # and a keyring that lost the key now in use is refused by the functions' secrets only
    restart(gw, OLD)
    r = httpx.get(f"{gw.url}/fn/{some}", headers={"x-api-key": keys[some]}, timeout=30)
    assert r.status_code >= 500 and "written-new" not in r.text
    assert all(v not in gw.log.read_text() for vs in values.values() for v in vs.values())
    t.http.close()


def test_keyring_error_is_not_a_value_leak() -> None:
    """The error a missing key gives names the key id, never key material."""
    ring = Keyring(parse_keyring(NEW))
    sealed = Keyring(parse_keyring(OLD)).seal(b"v", b"ctx")
    with pytest.raises(KeyringError) as info:
        ring.open(sealed, b"ctx")
    assert "old1" in str(info.value) and OLD.split(":")[1] not in str(info.value)
