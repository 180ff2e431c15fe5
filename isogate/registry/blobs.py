"""Code blobs, content-addressed by SHA-256: a local folder (embedded) or S3 (``blobs_s3``).

:func:`open_blob_store` picks the backend from the settings. Local writes are atomic: a
temporary file in the target folder, ``fsync``, ``rename``, then an ``fsync`` of the
folder. A blob is always written before the metadata row naming it.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import os
import re
import tempfile
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Protocol

from isogate.config import Settings
from isogate.registry.errors import BlobMissing, StoreUnavailable

_SHA = re.compile(r"[0-9a-f]{64}")


def sha256_hex(data: bytes) -> str:
    """The blob address of ``data``."""
    return hashlib.sha256(data).hexdigest()


def check_address(sha: str) -> None:
    """Raise :class:`BlobMissing` unless ``sha`` is a lowercase hex SHA-256."""
    if not _SHA.fullmatch(sha):
        raise BlobMissing("invalid blob address")


class BlobStore(Protocol):
    """Immutable blobs by SHA-256."""

    async def put(self, data: bytes) -> str: ...
    async def get(self, sha256: str) -> bytes: ...
    async def ping(self) -> None: ...
    async def delete(self, sha256: str) -> None: ...
    def scoped(self, name: str) -> BlobStore: ...


class LocalBlobStore:
    """Blobs as files ``<root>/ab/cd/<sha256>``."""

    def __init__(self, root: Path, timeout: float) -> None:
        self._root = Path(root)
        self._timeout = timeout

    def _path(self, sha: str) -> Path:
        check_address(sha)
        return self._root / sha[:2] / sha[2:4] / sha

    def _write(self, sha: str, data: bytes) -> None:
        path = self._path(sha)
        if path.exists() and path.stat().st_size == len(data):
            return
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=".tmp-", dir=path.parent)
        try:
            with os.fdopen(fd, "wb") as f:
                f.write(data)
                f.flush()
                os.fsync(f.fileno())
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        dir_fd = os.open(path.parent, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)

    def _read(self, sha: str) -> bytes:
        try:
            data = self._path(sha).read_bytes()
        except FileNotFoundError:
            raise BlobMissing(f"blob {sha[:12]} is missing") from None
        if sha256_hex(data) != sha:
            raise BlobMissing(f"blob {sha[:12]} is corrupt")
        return data

    async def put(self, data: bytes) -> str:
        """Store ``data`` durably; returns its SHA-256."""
        sha = sha256_hex(data)
        try:
            async with asyncio.timeout(self._timeout):
                await asyncio.to_thread(self._write, sha, data)
        except TimeoutError:
            raise StoreUnavailable("blob store timed out") from None
        return sha

    async def get(self, sha256: str) -> bytes:
        """The blob's bytes, verified against its address."""
        try:
            async with asyncio.timeout(self._timeout):
                return await asyncio.to_thread(self._read, sha256)
        except TimeoutError:
            raise StoreUnavailable("blob store timed out") from None

    async def delete(self, sha256: str) -> None:
        """Remove the blob (absent already: nothing to do)."""
        path = self._path(sha256)
        try:
            async with asyncio.timeout(self._timeout):
                await asyncio.to_thread(path.unlink, True)
        except TimeoutError:
            raise StoreUnavailable("blob store timed out") from None

    def scoped(self, name: str) -> LocalBlobStore:
        """The blobs of another user of the store (KV values) in a subfolder ``name``:
        code blob collection never sees them (``name`` is not two hex digits)."""
        return LocalBlobStore(self._root / name, self._timeout)

    async def ping(self) -> None:
        """Raise if the folder is not usable."""

        def check() -> None:
            self._root.mkdir(parents=True, exist_ok=True)
            if not os.access(self._root, os.W_OK):
                raise StoreUnavailable("blob folder is not writable")

        # inline (two syscalls on a local folder): on the default thread pool, /readyz
        # waited behind tenants' blob writes
        check()


@contextlib.asynccontextmanager
async def open_blob_store(settings: Settings) -> AsyncIterator[BlobStore]:
    """The blob store of ``settings`` (S3 when ``s3_endpoint`` is set), checked and open."""
    if settings.s3_endpoint is not None:
        from isogate.registry.blobs_s3 import open_s3_blob_store

        async with open_s3_blob_store(settings) as s3:
            yield s3
        return
    local = LocalBlobStore(settings.blob_dir, settings.blob_timeout_seconds)
    await local.ping()
    yield local
