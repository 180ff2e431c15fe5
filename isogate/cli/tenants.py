"""``isogate tenant create`` and ``isogate login``: an account and its login token."""

from __future__ import annotations

import argparse
import os

from isogate.cli.client import save_token
from isogate.cli.common import _client, _password, _print


def cmd_tenant_create(args: argparse.Namespace) -> int:
    c = _client(args)
    headers = {}
    admin = args.admin_token or os.environ.get("ISOGATE_ADMIN_TOKEN")
    if admin:
        headers["Authorization"] = f"Bearer {admin}"
    body = {"name": args.name, "password": _password(args)}
    data = c.call("POST", "/v1/tenants", auth=False, json=body, headers=headers)
    _print(args, data, f"tenant {data['name']} created")
    return 0


def cmd_login(args: argparse.Namespace) -> int:
    c = _client(args)
    body = {"name": args.name, "password": _password(args)}
    data = c.call("POST", "/v1/auth/token", auth=False, json=body)
    save_token(args.url, data["access_token"])
    _print(args, data, f"logged in as {args.name} (token valid {data['expires_in']} s)")
    return 0
