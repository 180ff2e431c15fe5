"""The CLI's HTTP client: talks to a running gateway, keeps the login token on disk."""

from __future__ import annotations

import errno
import json
import os
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx

DEFAULT_URL = "http://127.0.0.1:8000"

# Exit codes of the ``isogate`` command (README, ``isogate --help``).
EXIT_OK = 0
EXIT_API = 1  # the gateway answered with an error (a problem document)
EXIT_USAGE = 2  # bad arguments, input files or settings
EXIT_UNREACHABLE = 3  # no answer from the gateway
EXIT_INTERRUPTED = 130  # Ctrl-C (128 + SIGINT)


class ClientError(Exception):
    """An API error (a problem document) or a transport failure, with an exit code."""

    def __init__(
        self, message: str, exit_code: int = EXIT_API, problem: dict[str, Any] | None = None
    ) -> None:
        super().__init__(message)
        self.exit_code = exit_code
        self.problem = problem


def check_url(url: str) -> str:
    """``url`` without a trailing slash, or :class:`ClientError` (exit 2) saying what is wrong.

    Without this, ``ISOGATE_URL=localhost:8000`` reads as scheme ``localhost`` and fails
    deep inside httpx with a message that names neither the URL nor the fix.
    """
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018  (raises ValueError for a port that is not a number)
    except ValueError as exc:
        raise ClientError(f"gateway URL {url!r} is not valid: {exc}", EXIT_USAGE) from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ClientError(
            f"gateway URL {url!r} needs http:// or https:// and a host, "
            "e.g. http://127.0.0.1:8000 (--url or ISOGATE_URL)",
            EXIT_USAGE,
        )
    return url.rstrip("/")


def transport_reason(exc: BaseException) -> str:
    """A short reason for a failed connection: 'connection refused', 'timed out', ..."""
    if isinstance(exc, httpx.TimeoutException):
        return "timed out"
    cause: BaseException | None = exc
    while cause is not None:  # httpx wraps the OSError of the socket
        if isinstance(cause, OSError) and cause.errno is not None:
            if cause.errno == errno.ECONNREFUSED:
                return "connection refused (is 'isogate serve' running there?)"
            return (cause.strerror or str(cause)).lower()
        cause = cause.__cause__ or cause.__context__
    text = str(exc).strip()
    if text.startswith("[Errno"):  # "[Errno -2] Name or service not known"
        text = text.split("]", 1)[-1].strip()
    return text or type(exc).__name__


def config_dir() -> Path:
    """``$XDG_CONFIG_HOME/isogate`` or ``~/.config/isogate``."""
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "isogate"


def token_file() -> Path:
    """Where login tokens are kept, per gateway URL (mode 0600)."""
    return config_dir() / "tokens.json"


def save_token(url: str, token: str) -> None:
    """Remember ``token`` for ``url``."""
    path = token_file()
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    data: dict[str, str] = {}
    if path.exists():
        try:
            data = json.loads(path.read_text())
        except ValueError:
            data = {}
    data[url.rstrip("/")] = token
    tmp = path.with_suffix(".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        json.dump(data, f)
    os.replace(tmp, path)


def load_token(url: str) -> str | None:
    """``ISOGATE_TOKEN``, else the stored token for ``url``."""
    env = os.environ.get("ISOGATE_TOKEN")
    if env:
        return env
    path = token_file()
    if not path.exists():
        return None
    try:
        token = json.loads(path.read_text()).get(url.rstrip("/"))
    except ValueError:
        return None
    return token if isinstance(token, str) else None


def problem_message(resp: httpx.Response) -> tuple[str, dict[str, Any] | None]:
    """A friendly one-line message from an error response."""
    try:
        body = resp.json()
    except ValueError:
        return f"HTTP {resp.status_code}: {resp.text[:200]}", None
    if isinstance(body, dict) and "title" in body:
        msg = body["title"]
        if body.get("detail"):
            msg += f": {body['detail']}"
        return f"{msg} (HTTP {resp.status_code})", body
    return f"HTTP {resp.status_code}", None


class Client:
    """Thin wrapper over httpx with the bearer token and problem handling."""

    def __init__(self, url: str, token: str | None = None, timeout: float = 60.0) -> None:
        self.url = check_url(url)
        self.token = token
        self._http = httpx.Client(base_url=self.url, timeout=timeout)

    def close(self) -> None:
        """Close the connection pool."""
        self._http.close()

    def raw(self, method: str, path: str, **kw: Any) -> httpx.Response:
        """Send a request; transport errors become :class:`ClientError` (exit 3)."""
        try:
            return self._http.request(method, path, **kw)
        except httpx.HTTPError as exc:
            raise ClientError(
                f"cannot reach the gateway at {self.url}: {transport_reason(exc)}",
                EXIT_UNREACHABLE,
            ) from None
        except httpx.InvalidURL as exc:
            raise ClientError(f"invalid request URL: {exc}", EXIT_USAGE) from None

    def call(self, method: str, path: str, *, auth: bool = True, **kw: Any) -> Any:
        """A control-plane call: JSON in and out; problems raise :class:`ClientError`."""
        headers = dict(kw.pop("headers", {}) or {})
        if auth and self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        # Without a token the request still goes out: an unreachable gateway must say so
        # (exit 3) rather than "not logged in"; the gateway's 401 then becomes that hint.
        resp = self.raw(method, path, headers=headers, **kw)
        if auth and not self.token and resp.status_code == 401:
            raise ClientError("not logged in: run 'isogate login NAME' or set ISOGATE_TOKEN")
        if resp.status_code >= 400:
            msg, problem = problem_message(resp)
            raise ClientError(msg, problem=problem)
        if resp.status_code == 204 or not resp.content:
            return None
        if "json" in resp.headers.get("content-type", ""):
            return resp.json()
        return resp.text
