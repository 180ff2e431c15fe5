"""The CLI's HTTP client: talks to a running gateway, keeps the login token on disk."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import httpx

DEFAULT_URL = "http://127.0.0.1:8000"


class ClientError(Exception):
    """An API error (a problem document) or a transport failure, with an exit code."""

    def __init__(self, message: str, exit_code: int = 1, problem: dict | None = None) -> None:
        super().__init__(message)
        self.exit_code = exit_code
        self.problem = problem


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
        return json.loads(path.read_text()).get(url.rstrip("/"))
    except ValueError:
        return None


def problem_message(resp: httpx.Response) -> tuple[str, dict | None]:
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
        self.url = url.rstrip("/")
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
            raise ClientError(f"cannot reach {self.url}: {exc}", exit_code=3) from None

    def call(self, method: str, path: str, *, auth: bool = True, **kw: Any) -> Any:
        """A control-plane call: JSON in and out; problems raise :class:`ClientError`."""
        headers = dict(kw.pop("headers", {}) or {})
        if auth:
            if not self.token:
                raise ClientError("not logged in: run 'isogate login NAME' or set ISOGATE_TOKEN")
            headers["Authorization"] = f"Bearer {self.token}"
        resp = self.raw(method, path, headers=headers, **kw)
        if resp.status_code >= 400:
            msg, problem = problem_message(resp)
            raise ClientError(msg, problem=problem)
        if resp.status_code == 204 or not resp.content:
            return None
        if "json" in resp.headers.get("content-type", ""):
            return resp.json()
        return resp.text
