"""Code blobs on a real S3 server (SeaweedFS), and the function store on S3 + PostgreSQL."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy import func, select

from isogate.backends.database import create_engine, migrate
from isogate.config import Settings
from isogate.registry.blobs import open_blob_store, sha256_hex
from isogate.registry.blobs_s3 import S3BlobStore, normalize_prefix
from isogate.registry.errors import BlobMissing, StoreUnavailable
from isogate.registry.functions import SqlFunctionStore
from isogate.registry.tables import function_versions
from tests.fixtures.seaweedfs import SeaweedFS, free_port


def s3_settings(tmp_path: Path, server: SeaweedFS, **kw: object) -> Settings:
    values: dict = {"data_dir": tmp_path, "blob_timeout_seconds": 5, **server.settings(), **kw}
    return Settings(**values)


def test_prefix() -> None:
    assert normalize_prefix("") == ""
    assert normalize_prefix("/a/b/") == "a/b/"
    assert normalize_prefix("code") == "code/"


async def test_s3_blobs_content_addressed(tmp_path: Path, s3_server: SeaweedFS) -> None:
    settings = s3_settings(tmp_path, s3_server, s3_prefix="tenant-code/")
    async with open_blob_store(settings) as blobs:  # creates the bucket
        assert isinstance(blobs, S3BlobStore)
        sha = await blobs.put(b"export default {}")
        assert sha == sha256_hex(b"export default {}")
        assert blobs.key(sha) == f"tenant-code/{sha[:2]}/{sha}"
        assert await blobs.get(sha) == b"export default {}"
        assert await blobs.put(b"export default {}") == sha  # idempotent
        await blobs.ping()
        with pytest.raises(BlobMissing):
            await blobs.get("0" * 64)
        with pytest.raises(BlobMissing):
            await blobs.get("../../etc/passwd")
        # a tampered object is refused
        client = blobs._client
        await client.put_object(Bucket=settings.s3_bucket, Key=blobs.key(sha), Body=b"evil")
        with pytest.raises(BlobMissing):
            await blobs.get(sha)
    # opening again finds the existing bucket
    async with open_blob_store(settings) as blobs:
        await blobs.ping()


async def test_s3_bucket_not_created_when_forbidden(tmp_path: Path, s3_server: SeaweedFS) -> None:
    settings = s3_settings(tmp_path, s3_server, s3_create_bucket=False)
    with pytest.raises(StoreUnavailable, match="does not exist"):
        async with open_blob_store(settings):
            pass


async def test_s3_down_fails_fast(
    tmp_path: Path, seaweedfs_factory: Callable[[], SeaweedFS]
) -> None:
    server = seaweedfs_factory()
    settings = s3_settings(tmp_path, server, blob_timeout_seconds=3)
    async with open_blob_store(settings) as blobs:
        sha = await blobs.put(b"kept")
        server.stop()
        for call in (blobs.put(b"new"), blobs.get(sha), blobs.ping()):
            with pytest.raises(StoreUnavailable):
                await call
    # start-up against a dead endpoint fails within the deadline too
    dead = s3_settings(tmp_path, server, s3_endpoint=f"http://127.0.0.1:{free_port()}")
    with pytest.raises(StoreUnavailable):
        async with open_blob_store(dead):
            pass


async def test_function_store_on_s3_and_postgres(
    tmp_path: Path, s3_server: SeaweedFS, pg_url: str
) -> None:
    settings = s3_settings(tmp_path, s3_server, database_url=pg_url)
    engine = create_engine(settings)
    try:
        await migrate(engine)
        async with open_blob_store(settings) as blobs:
            store = SqlFunctionStore(engine, blobs, 5)
            v = await store.deploy("acme", "hello", b"code-1", {}, None, [], False)
            assert await blobs.get(v.sha256) == b"code-1"
            assert (await store.get("acme", "hello")).current.sha256 == v.sha256
        async with engine.connect() as conn:
            n = (await conn.execute(select(func.count()).select_from(function_versions))).scalar()
        assert n == 1
    finally:
        await engine.dispose()


async def test_hanging_s3_meets_the_deadline(tmp_path: Path, s3_server: SeaweedFS) -> None:
    """An endpoint that accepts TCP and never answers: start-up fails at the deadline."""
    import socket

    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(16)
        endpoint = f"http://127.0.0.1:{silent.getsockname()[1]}"
        settings = s3_settings(tmp_path, s3_server, s3_endpoint=endpoint, blob_timeout_seconds=1)
        with pytest.raises(StoreUnavailable):
            async with open_blob_store(settings):
                pass
