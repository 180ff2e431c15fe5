"""``isogate admin …``: the operator's route controls (see :mod:`isogate.gateway.api.admin`).

    isogate admin routes PATTERN            who holds PATTERN or any overlapping pattern
    isogate admin release PATTERN           drop a claimed pattern, whoever holds it
    isogate admin hosts [--tenant T]        hostname assignments
    isogate admin assign-host HOST TENANT   let TENANT claim patterns on HOST
    isogate admin unassign-host HOST        withdraw HOST (its routes stop serving)
    isogate admin grant-hostless TENANT     let TENANT claim host-less patterns
    isogate admin revoke-hostless TENANT    withdraw it (its host-less routes stop serving)

Every command needs the admin token: ``--admin-token`` or env ``ISOGATE_ADMIN_TOKEN``.
"""

from __future__ import annotations

import argparse
import json
import os
from typing import Any
from urllib.parse import quote

from isogate.cli.client import Client, ClientError

#: the module docstring without its markup (help text is plain text)
_DESCRIPTION = (
    (__doc__ or "")
    .replace(" (see :mod:`isogate.gateway.api.admin`)", "; docs/api.md, Route ownership")
    .replace("``", "")
)


def _call(args: argparse.Namespace, method: str, path: str, **kw: Any) -> Any:
    token = args.admin_token or os.environ.get("ISOGATE_ADMIN_TOKEN")
    if not token:
        raise ClientError("the admin token is required: --admin-token or ISOGATE_ADMIN_TOKEN", 2)
    client = Client(args.url)
    try:
        return client.call(
            method, path, auth=False, headers={"Authorization": f"Bearer {token}"}, **kw
        )
    finally:
        client.close()


def _out(args: argparse.Namespace, data: Any, text: str) -> None:
    print(json.dumps(data, indent=2, ensure_ascii=False) if args.json else text)


def cmd_admin(args: argparse.Namespace) -> int:
    """Run one ``isogate admin`` subcommand."""
    action = args.admin_action
    if action == "routes":
        data = _call(args, "GET", "/v1/admin/routes", params={"pattern": args.pattern})
        lines = [f"{h['pattern']:<40} {h['tenant']:<24} {h['function']}" for h in data["holders"]]
        _out(args, data, "\n".join(lines) or f"nobody holds a pattern overlapping {args.pattern}")
    elif action == "release":
        _call(args, "DELETE", "/v1/admin/routes", params={"pattern": args.pattern})
        _out(args, {"released": args.pattern}, f"released {args.pattern}")
    elif action == "hosts":
        params = {"tenant": args.tenant} if args.tenant else None
        data = _call(args, "GET", "/v1/admin/hosts", params=params)
        lines = [f"{h['host']:<40} {h['tenant']}" for h in data["hosts"]]
        _out(args, data, "\n".join(lines) or "no hostnames assigned")
    elif action == "assign-host":
        data = _call(
            args,
            "PUT",
            f"/v1/admin/hosts/{quote(args.host, safe='')}",
            json={"tenant": args.tenant},
        )
        _out(args, data, f"{data['host']} assigned to {data['tenant']}")
    elif action == "unassign-host":
        data = _call(args, "DELETE", f"/v1/admin/hosts/{quote(args.host, safe='')}")
        _out(
            args,
            data,
            f"{data['host']} withdrawn ({data['functions_affected']} functions lost routes)",
        )
    elif action == "grant-hostless":
        data = _call(args, "PUT", f"/v1/admin/hostless-grants/{quote(args.tenant, safe='')}")
        _out(args, data, f"{data['tenant']} may claim host-less route patterns")
    elif action == "revoke-hostless":
        data = _call(args, "DELETE", f"/v1/admin/hostless-grants/{quote(args.tenant, safe='')}")
        _out(
            args,
            data,
            f"{data['tenant']} may no longer claim host-less patterns "
            f"({data['functions_affected']} functions lost routes)",
        )
    return 0


def add_admin_parser(sub: Any, common: argparse.ArgumentParser) -> None:
    """Add ``isogate admin`` and its subcommands to the top-level subparsers."""
    admin = sub.add_parser(
        "admin",
        help="operator: route ownership (hostnames, host-less grants, who holds a pattern)",
        description=_DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    acts = admin.add_subparsers(dest="admin_action", required=True)
    token = argparse.ArgumentParser(add_help=False)
    token.add_argument("--admin-token", help="admin token (env ISOGATE_ADMIN_TOKEN)")
    parents = [common, token]

    def add(name: str, help_text: str, *positionals: tuple[str, str]) -> argparse.ArgumentParser:
        p: argparse.ArgumentParser = acts.add_parser(
            name, parents=parents, help=help_text, description=help_text
        )
        for arg, arg_help in positionals:
            p.add_argument(arg, help=arg_help)
        p.set_defaults(func=cmd_admin)
        return p

    add(
        "routes",
        "show who holds a pattern, or any pattern matching the same requests",
        ("pattern", "route pattern, e.g. shop.example/api/* or /api/login"),
    )
    add("release", "drop a claimed pattern, whoever holds it", ("pattern", "route pattern"))
    p = add("hosts", "list hostname assignments")
    p.add_argument("--tenant", help="only this tenant's")
    add(
        "assign-host",
        "let a tenant claim patterns on a hostname",
        ("host", "hostname, no port"),
        ("tenant", "tenant name"),
    )
    add(
        "unassign-host", "withdraw a hostname (the routes on it stop serving)", ("host", "hostname")
    )
    add(
        "grant-hostless",
        "let a tenant claim host-less patterns (they match every hostname)",
        ("tenant", "tenant name"),
    )
    add(
        "revoke-hostless",
        "withdraw a host-less grant (those routes stop serving)",
        ("tenant", "tenant name"),
    )
