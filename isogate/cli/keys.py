"""``isogate keys …``: API keys (leases) of the logged-in tenant."""

from __future__ import annotations

import argparse
import json
from typing import Any

from isogate.cli.client import EXIT_USAGE, ClientError
from isogate.cli.common import _client, _print


def _parse_rate(value: str) -> dict[str, int]:
    n, _, per = value.partition("/")
    units = {"s": 1, "sec": 1, "m": 60, "min": 60, "h": 3600, "d": 86400}
    try:
        seconds = units[per] if per in units else int(per or 1)
        return {"requests": int(n), "per_seconds": seconds}
    except ValueError:
        raise ClientError(
            f"--rate {value!r}: expected N/SECONDS or N/s|m|h|d", EXIT_USAGE
        ) from None


def _key_line(k: dict[str, Any]) -> str:
    return f"{k['id']}  {k['prefix']}…  {k['state']:<8} expires {k['expires_at']}  {k['name']}"


def cmd_keys(args: argparse.Namespace) -> int:
    c = _client(args)
    if args.action == "create":
        body: dict[str, Any] = {
            "name": args.name,
            "ttl_seconds": args.ttl,
            "functions": args.function or ["*"],
        }
        if args.rate:
            body["rate_limit"] = _parse_rate(args.rate)
            if args.burst:
                body["rate_limit"]["burst"] = args.burst
        if args.quota:
            n, _, period = args.quota.partition("/")
            try:
                body["quota"] = {"invocations": int(n), "period": period or "day"}
            except ValueError:
                raise ClientError("--quota: expected N/day or N/month", EXIT_USAGE) from None
        if args.uses:
            body["uses"] = args.uses
        data = c.call("POST", "/v1/keys", json=body)
        _print(args, data, f"{data['key']}\n(id {data['id']}; shown once, keep it safe)")
    elif args.action == "list":
        data = c.call("GET", "/v1/keys")
        _print(args, data, "\n".join(_key_line(k) for k in data["keys"]) or "no keys")
    elif args.action == "show":
        data = c.call("GET", f"/v1/keys/{args.id}")
        _print(args, data, json.dumps(data, indent=2))
    elif args.action == "renew":
        data = c.call("POST", f"/v1/keys/{args.id}/renew", json={"ttl_seconds": args.ttl})
        _print(args, data, _key_line(data))
    elif args.action == "revoke":
        data = c.call("DELETE", f"/v1/keys/{args.id}")
        _print(args, data, f"revoked {data['id']}")
    return 0
