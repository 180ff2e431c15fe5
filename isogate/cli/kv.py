"""``isogate kv``: a tenant's KV namespaces and their keys, through the gateway's API."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any
from urllib.parse import quote

from isogate.cli.client import EXIT_USAGE, ClientError, problem_message


def _key_path(ns: str, key: str) -> str:
    return f"/v1/kv/{quote(ns, safe='')}/keys/{quote(key, safe='')}"


def cmd_kv(args: argparse.Namespace) -> int:
    from isogate.cli.common import _client, _print

    c = _client(args)
    action = args.action
    if action == "create":
        data = c.call("POST", "/v1/kv", json={"name": args.namespace})
        _print(args, data, f"KV namespace {data['name']} created")
    elif action == "list":
        data = c.call("GET", "/v1/kv")
        _print(args, data, "\n".join(n["name"] for n in data["namespaces"]) or "no namespaces")
    elif action == "delete":
        c.call("DELETE", f"/v1/kv/{quote(args.namespace, safe='')}")
        _print(args, {"deleted": args.namespace}, f"KV namespace {args.namespace} deleted")
    elif action == "keys":
        params: dict[str, Any] = {"limit": args.limit}
        if args.prefix:
            params["prefix"] = args.prefix
        if args.cursor:
            params["cursor"] = args.cursor
        data = c.call("GET", f"/v1/kv/{quote(args.namespace, safe='')}/keys", params=params)
        lines = [k["name"] for k in data["keys"]]
        if not data["list_complete"]:
            lines.append(f"(more: --cursor {data['cursor']})")
        _print(args, data, "\n".join(lines) or "no keys")
    elif action == "get":
        headers = {"Authorization": f"Bearer {c.token}"} if c.token else {}
        resp = c.raw("GET", _key_path(args.namespace, args.key), headers=headers)
        if resp.status_code >= 400:
            msg, problem = problem_message(resp)
            raise ClientError(msg, problem=problem)
        sys.stdout.buffer.write(resp.content)
        sys.stdout.buffer.flush()
    elif action == "put":
        value = args.value.encode() if args.value is not None else sys.stdin.buffer.read()
        headers = {"Content-Type": "application/octet-stream"}
        if args.metadata is not None:
            try:
                json.loads(args.metadata)
            except ValueError:
                raise ClientError("--metadata must be JSON", EXIT_USAGE) from None
            headers["X-KV-Metadata"] = args.metadata
        params = {"expiration_ttl": args.ttl} if args.ttl else {}
        c.call(
            "PUT",
            _key_path(args.namespace, args.key),
            content=value,
            headers=headers,
            params=params,
        )
        _print(args, {"key": args.key}, f"{args.key} written")
    elif action == "rm":
        c.call("DELETE", _key_path(args.namespace, args.key))
        _print(args, {"deleted": args.key}, f"{args.key} deleted")
    return 0


def add_commands(sub: Any, client: argparse.ArgumentParser) -> None:
    """The ``kv`` group of ``isogate``."""
    from isogate.cli.main import _command, _group

    g = _group(
        sub,
        "kv",
        "manage KV namespaces and keys",
        "Manage your KV namespaces (bind one to a function: deploy --bind NAME=kv:NAMESPACE)\n"
        "and read or write their keys.",
    )
    s = _command(g, "create", "create a namespace", parents=(client,), func=cmd_kv)
    s.add_argument("namespace")
    _command(g, "list", "list your namespaces", parents=(client,), func=cmd_kv)
    s = _command(g, "delete", "delete a namespace and its keys", parents=(client,), func=cmd_kv)
    s.add_argument("namespace")
    s = _command(g, "keys", "list keys (in order)", parents=(client,), func=cmd_kv)
    s.add_argument("namespace")
    s.add_argument("--prefix", help="only keys starting with this")
    s.add_argument("--limit", type=int, default=1000, help="at most this many (1-1000)")
    s.add_argument("--cursor", help="continue a listing")
    s = _command(g, "get", "print a value (raw bytes)", parents=(client,), func=cmd_kv)
    s.add_argument("namespace")
    s.add_argument("key")
    s = _command(g, "put", "write a value (argument, or stdin)", parents=(client,), func=cmd_kv)
    s.add_argument("namespace")
    s.add_argument("key")
    s.add_argument("value", nargs="?", help="the value (default: stdin, bytes as they are)")
    s.add_argument("--ttl", type=int, metavar="SECONDS", help="expire after (at least 60)")
    s.add_argument("--metadata", metavar="JSON", help="metadata of the key")
    s = _command(g, "rm", "delete a key", parents=(client,), func=cmd_kv)
    s.add_argument("namespace")
    s.add_argument("key")
