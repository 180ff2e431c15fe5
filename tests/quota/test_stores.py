"""Tenants and key leases on real SQLite and PostgreSQL databases."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from isogate.backends.database import create_engine, migrate
from isogate.config import Settings
from isogate.quota.errors import (
    InvalidCredentials,
    InvalidInput,
    InvalidName,
    KeyExpired,
    KeyNotFound,
    KeyOutOfScope,
    KeyRevoked,
    KeyUnknown,
    TenantExists,
)
from isogate.quota.key_cache import InMemoryKeyCache
from isogate.quota.keys import SqlKeyStore, hash_secret
from isogate.quota.leases import KeyVerifier
from isogate.quota.models import KeyPolicy, RateLimit
from isogate.quota.tables import api_keys
from isogate.quota.tenants import SqlTenantStore


@pytest.fixture
async def engine(tmp_path: Path, database_url: str | None) -> AsyncIterator[AsyncEngine]:
    eng = create_engine(Settings(data_dir=tmp_path, database_url=database_url))
    await migrate(eng)
    assert await migrate(eng) == []  # idempotent
    yield eng
    await eng.dispose()


POLICY = KeyPolicy(rate=RateLimit(10, 60, 10))


async def test_tenants(engine: AsyncEngine) -> None:
    store = SqlTenantStore(engine, 5)
    await store.create("acme", "password1")
    with pytest.raises(TenantExists):
        await store.create("acme", "password2")
    assert (await store.authenticate("acme", "password1")).name == "acme"
    with pytest.raises(InvalidCredentials):
        await store.authenticate("acme", "wrong-password")
    with pytest.raises(InvalidCredentials):
        await store.authenticate("nobody", "password1")
    for bad in [
        "",
        "UPPER",
        "-x",
        "x-",
        "a" * 64,
        "../etc",
        "a.b",
        "\uff41\uff43\uff4d\uff45",
        "acme\n",
        "é",
    ]:
        with pytest.raises(InvalidName):
            await store.create(bad, "password1")
    with pytest.raises(InvalidInput):
        await store.create("short", "pw")


async def test_key_lifecycle(engine: AsyncEngine) -> None:
    keys = SqlKeyStore(engine, 5, 86400)
    key, secret = await keys.create("acme", "ci", 3600, ["*"], POLICY)
    assert secret.startswith("isg_") and len(secret) > 40
    assert key.prefix == secret[:12]
    async with engine.connect() as conn:
        row = (await conn.execute(select(api_keys))).one()
    assert secret not in [str(v) for v in row]  # only the hash is stored
    assert row.secret_hash == hash_secret(secret)
    assert (await keys.find(secret)).id == key.id
    assert await keys.find(secret + "x") is None
    assert await keys.find("nonsense") is None
    assert [k.id for k in await keys.list("acme")] == [key.id]
    assert await keys.list("other") == []
    with pytest.raises(KeyNotFound):
        await keys.get("other", key.id)  # another tenant's key is invisible
    with pytest.raises(KeyNotFound):
        await keys.revoke("other", key.id)
    renewed = await keys.renew("acme", key.id, 7200)
    assert renewed.expires_at > key.expires_at
    with pytest.raises(InvalidInput):
        await keys.renew("acme", key.id, 10**9)
    revoked = await keys.revoke("acme", key.id)
    assert revoked.revoked_at is not None
    with pytest.raises(InvalidInput):
        await keys.renew("acme", key.id, 60)


async def test_verifier_revocation_is_immediate(engine: AsyncEngine) -> None:
    keys = SqlKeyStore(engine, 5, 86400)
    verifier = KeyVerifier(keys, InMemoryKeyCache(60))
    key, secret = await keys.create("acme", "k", 3600, ["hello"], POLICY)
    assert (await verifier.verify(secret, "hello")).id == key.id
    with pytest.raises(KeyOutOfScope):
        await verifier.verify(secret, "other")
    with pytest.raises(KeyUnknown):
        await verifier.verify("isg_unknown", "hello")
    with pytest.raises(KeyUnknown):
        await verifier.verify("", "hello")
    await keys.revoke("acme", key.id)
    verifier.invalidate(key.id)
    with pytest.raises(KeyRevoked):
        await verifier.verify(secret, "hello")


async def test_verifier_expiry_exact(engine: AsyncEngine) -> None:
    keys = SqlKeyStore(engine, 5, 86400)
    now = [time.time()]
    verifier = KeyVerifier(keys, InMemoryKeyCache(60), clock=lambda: now[0])
    _, secret = await keys.create("acme", "k", 10, ["*"], POLICY)
    await verifier.verify(secret, "f")  # cached now
    now[0] += 11
    with pytest.raises(KeyExpired):
        await verifier.verify(secret, "f")


async def test_usage_store_replaces_and_survives_concurrent_saves(engine: AsyncEngine) -> None:
    import asyncio

    from isogate.quota.models import Usage
    from isogate.quota.usage import SqlUsageStore

    store = SqlUsageStore(engine, 5)
    assert await store.load("key_a") == Usage()
    await store.save({"key_a": Usage(uses=1, period_start=10.0, period_count=1)})
    await store.save({"key_a": Usage(uses=2, period_start=10.0, period_count=2)})
    assert await store.load("key_a") == Usage(uses=2, period_start=10.0, period_count=2)
    # replicas flushing the same key at once: every save succeeds, one value wins
    await asyncio.gather(
        *(
            store.save(
                {"key_a": Usage(uses=n, period_start=20.0, period_count=n), "key_b": Usage(uses=n)}
            )
            for n in range(3, 9)
        )
    )
    got = await store.load("key_a")
    assert got.period_start == 20.0 and 3 <= got.uses <= 8
    assert 3 <= (await store.load("key_b")).uses <= 8


async def test_key_names_any_database_can_store(engine: AsyncEngine) -> None:
    keys = SqlKeyStore(engine, 5, 86400)
    for bad in ["a\x00b", "x\ud800"]:
        with pytest.raises(InvalidInput):
            await keys.create("acme", bad, 3600, ["*"], POLICY)
    key, _ = await keys.create("acme", "é 😀 ok", 3600, ["*"], POLICY)
    assert (await keys.get("acme", key.id)).name == "é 😀 ok"
