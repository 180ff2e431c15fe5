"""Code blobs in S3-compatible object storage (aiobotocore), content-addressed by SHA-256.

Objects are ``<prefix><ab>/<sha256>``. Every call runs under ``blob_timeout_seconds`` and
botocore's own timeouts and retries are kept small, so an unreachable S3 fails within the
deadline (:class:`StoreUnavailable`) instead of hanging. A blob is verified against its
address when read, and written before the metadata row that names it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from typing import Any

from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from isogate.config import Settings
from isogate.registry.blobs import check_address, sha256_hex
from isogate.registry.errors import BlobMissing, StoreUnavailable

log = logging.getLogger(__name__)

_MISSING = {"404", "NoSuchKey", "NotFound", "NoSuchBucket"}


def _code(exc: ClientError) -> str:
    return str(exc.response.get("Error", {}).get("Code", ""))


def normalize_prefix(prefix: str) -> str:
    """``"a/b"`` → ``"a/b/"``; empty stays empty; no leading slash."""
    prefix = prefix.strip("/")
    return prefix + "/" if prefix else ""


def client_config(timeout: float) -> Config:
    """Botocore settings for a fast failure: short connect, bounded reads, 2 attempts."""
    return Config(
        connect_timeout=min(2.0, timeout),
        read_timeout=timeout,
        retries={"max_attempts": 2, "mode": "standard"},
        s3={"addressing_style": "path"},
        max_pool_connections=32,
    )


class S3BlobStore:
    """Blobs as objects in one bucket, under a prefix."""

    def __init__(
        self,
        client: Any,
        bucket: str,
        prefix: str,
        timeout: float,
        content_type: str = "application/javascript",
    ) -> None:
        self._client = client
        self._bucket = bucket
        self._prefix = normalize_prefix(prefix)
        self._timeout = timeout
        self._content_type = content_type

    def scoped(self, name: str) -> S3BlobStore:
        """The blobs of another user of the bucket (KV values) under ``<prefix><name>/``,
        on the same client."""
        return S3BlobStore(
            self._client,
            self._bucket,
            self._prefix + name,
            self._timeout,
            "application/octet-stream",
        )

    def key(self, sha: str) -> str:
        """The object key of a blob."""
        check_address(sha)
        return f"{self._prefix}{sha[:2]}/{sha}"

    @contextlib.asynccontextmanager
    async def _call(self, what: str) -> AsyncIterator[None]:
        try:
            async with asyncio.timeout(self._timeout):
                yield
        except TimeoutError:
            raise StoreUnavailable(f"blob store timed out ({what})") from None
        except ClientError as exc:
            if _code(exc) in _MISSING:
                raise
            log.warning("S3 %s failed: %s", what, exc)
            raise StoreUnavailable(f"blob store failed ({what})") from None
        except (BotoCoreError, OSError) as exc:
            log.warning("S3 %s failed: %s", what, exc)
            raise StoreUnavailable(f"blob store unreachable ({what})") from None

    async def put(self, data: bytes) -> str:
        """Store ``data`` (a no-op when the object exists); returns its SHA-256."""
        sha = sha256_hex(data)
        key = self.key(sha)
        async with self._call("put"):
            try:
                head = await self._client.head_object(Bucket=self._bucket, Key=key)
                if head.get("ContentLength") == len(data):
                    return sha
            except ClientError as exc:
                if _code(exc) not in _MISSING:
                    raise
            await self._client.put_object(
                Bucket=self._bucket,
                Key=key,
                Body=data,
                ContentType=self._content_type,
            )
        return sha

    async def get(self, sha256: str) -> bytes:
        """The blob's bytes, verified against its address."""
        key = self.key(sha256)
        try:
            async with self._call("get"):
                resp = await self._client.get_object(Bucket=self._bucket, Key=key)
                async with resp["Body"] as body:
                    data: bytes = await body.read()
        except ClientError:
            raise BlobMissing(f"blob {sha256[:12]} is missing") from None
        if sha256_hex(data) != sha256:
            raise BlobMissing(f"blob {sha256[:12]} is corrupt")
        return data

    async def delete(self, sha256: str) -> None:
        """Remove the blob's object (S3 answers success when it is absent already)."""
        key = self.key(sha256)
        async with self._call("delete"):
            await self._client.delete_object(Bucket=self._bucket, Key=key)

    async def ping(self) -> None:
        """Raise :class:`StoreUnavailable` unless the bucket answers."""
        try:
            async with self._call("ping"):
                await self._client.head_bucket(Bucket=self._bucket)
        except ClientError:
            raise StoreUnavailable(f"bucket {self._bucket!r} does not exist") from None

    async def ensure_bucket(self, create: bool) -> None:
        """Check the bucket; create it when missing and ``create`` allows it."""
        try:
            async with self._call("head_bucket"):
                await self._client.head_bucket(Bucket=self._bucket)
            return
        except ClientError:
            if not create:
                raise StoreUnavailable(
                    f"bucket {self._bucket!r} does not exist (s3_create_bucket is off)"
                ) from None
        try:
            async with self._call("create_bucket"):
                await self._client.create_bucket(Bucket=self._bucket)
        except ClientError as exc:  # created concurrently by another replica
            if _code(exc) not in {"BucketAlreadyOwnedByYou", "BucketAlreadyExists"}:
                raise StoreUnavailable(f"cannot create bucket {self._bucket!r}") from None
        log.info("created bucket %s", self._bucket)


@contextlib.asynccontextmanager
async def open_s3_blob_store(settings: Settings) -> AsyncIterator[S3BlobStore]:
    """Open the S3 client of ``settings``, make sure the bucket exists, close on exit."""
    from aiobotocore.session import get_session

    assert settings.s3_endpoint is not None and settings.s3_bucket is not None
    timeout = settings.blob_timeout_seconds
    kwargs: dict[str, Any] = {
        "endpoint_url": settings.s3_endpoint,
        "region_name": settings.s3_region or "us-east-1",
        "config": client_config(timeout),
    }
    if settings.s3_access_key is not None:
        kwargs["aws_access_key_id"] = settings.s3_access_key.get_secret_value()
    if settings.s3_secret_key is not None:
        kwargs["aws_secret_access_key"] = settings.s3_secret_key.get_secret_value()
    async with get_session().create_client("s3", **kwargs) as client:
        store = S3BlobStore(client, settings.s3_bucket, settings.s3_prefix, timeout)
        await store.ensure_bucket(settings.s3_create_bucket)
        yield store
