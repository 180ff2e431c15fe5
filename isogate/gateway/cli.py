"""The ``isogate`` command: run the server, migrate, and talk to a running gateway.

Exit codes: 0 success, 1 API error (the problem's title and detail are printed),
2 usage or settings error, 3 gateway unreachable.
"""

from __future__ import annotations

import argparse
import asyncio
import getpass
import json
import os
import sys
from pathlib import Path
from typing import Any

from isogate.gateway.client import DEFAULT_URL, Client, ClientError, load_token, save_token


def _print(args: argparse.Namespace, data: Any, text: str | None = None) -> None:
    if args.json or text is None:
        print(json.dumps(data, indent=2, ensure_ascii=False))
    else:
        print(text)


def _password(args: argparse.Namespace) -> str:
    pw = args.password or os.environ.get("ISOGATE_PASSWORD")
    if pw:
        return pw
    if not sys.stdin.isatty():
        return sys.stdin.readline().rstrip("\n")
    return getpass.getpass("password: ")


# ---------------------------------------------------------------- server commands


def _settings(args: argparse.Namespace) -> Any:
    from isogate.config import load_settings

    overrides = {
        "host": getattr(args, "host", None),
        "port": getattr(args, "port", None),
        "data_dir": getattr(args, "data_dir", None),
    }
    return load_settings(args.config, **overrides)


def cmd_serve(args: argparse.Namespace) -> int:
    from isogate.gateway.server import serve

    settings = _settings(args)
    print(f"isogate serving on http://{settings.host}:{settings.port} (data: {settings.data_dir})")
    asyncio.run(serve(settings))
    return 0


def cmd_migrate(args: argparse.Namespace) -> int:
    from isogate.gateway.database import DatabaseUnavailable, create_engine, migrate

    settings = _settings(args)

    async def run() -> list[str]:
        engine = create_engine(settings)
        try:
            return await migrate(engine)
        finally:
            await engine.dispose()

    try:
        applied = asyncio.run(run())
    except DatabaseUnavailable as exc:
        print(f"isogate migrate: {exc}", file=sys.stderr)
        return 1
    _print(args, {"applied": applied}, "\n".join(applied) or "schema is up to date")
    return 0


# ---------------------------------------------------------------- client commands


def _client(args: argparse.Namespace) -> Client:
    return Client(args.url, load_token(args.url))


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


def _env_pairs(pairs: list[str]) -> dict[str, str]:
    env: dict[str, str] = {}
    for p in pairs:
        k, sep, v = p.partition("=")
        if not sep:
            raise ClientError(f"--env {p!r}: expected KEY=VALUE", exit_code=2)
        env[k] = v
    return env


def cmd_deploy(args: argparse.Namespace) -> int:
    c = _client(args)
    try:
        code = Path(args.file).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ClientError(f"cannot read {args.file}: {exc}", exit_code=2) from None
    body: dict[str, Any] = {
        "code": code,
        "env": _env_pairs(args.env),
        "routes": args.route,
        "public": args.public,
    }
    if args.timeout_ms is not None:
        body["timeout_ms"] = args.timeout_ms
    data = c.call("PUT", f"/v1/functions/{args.name}", json=body)
    _print(args, data, f"deployed {data['name']} version {data['version']} ({data['sha256'][:12]})")
    return 0


def cmd_invoke(args: argparse.Namespace) -> int:
    c = _client(args)
    headers: dict[str, str] = {}
    key = args.key or os.environ.get("ISOGATE_API_KEY")
    if key:
        headers["X-API-Key"] = key
    for h in args.header:
        k, sep, v = h.partition(":")
        if not sep:
            raise ClientError(f"--header {h!r}: expected 'Name: value'", exit_code=2)
        headers[k.strip()] = v.strip()
    data: bytes | None = None
    if args.data is not None:
        at_file = args.data.startswith("@")
        data = Path(args.data[1:]).read_bytes() if at_file else args.data.encode()
    method = args.method or ("POST" if data is not None else "GET")
    path = f"/fn/{args.name}" + ("/" + args.path.lstrip("/") if args.path else "")
    resp = c.raw(method, path, headers=headers, content=data)
    if args.json:
        _print(
            args,
            {
                "status": resp.status_code,
                "headers": dict(resp.headers),
                "body": resp.text,
            },
        )
    else:
        if resp.status_code >= 400 and "problem+json" in resp.headers.get("content-type", ""):
            from isogate.gateway.client import problem_message

            print(problem_message(resp)[0], file=sys.stderr)
        else:
            sys.stdout.write(resp.text)
            if resp.text and not resp.text.endswith("\n"):
                sys.stdout.write("\n")
    return 0 if resp.status_code < 400 else 1


def cmd_functions(args: argparse.Namespace) -> int:
    c = _client(args)
    if args.action == "list":
        data = c.call("GET", "/v1/functions")
        lines = [
            f"{f['name']:<30} v{f['version']:<4} {'public' if f['public'] else 'keyed'}"
            for f in data["functions"]
        ]
        _print(args, data, "\n".join(lines) or "no functions")
    elif args.action == "show":
        data = c.call("GET", f"/v1/functions/{args.name}")
        lines = [f"{data['name']} (current v{data['version']}, routes: {data['routes'] or '-'})"]
        lines += [
            f"  v{v['version']:<4} {v['sha256'][:12]} {v['size']:>8} B  {v['created_at']}"
            for v in data["versions"]
        ]
        _print(args, data, "\n".join(lines))
    elif args.action == "rollback":
        data = c.call("POST", f"/v1/functions/{args.name}/rollback", json={"version": args.version})
        _print(args, data, f"{data['name']} now serves version {data['version']}")
    elif args.action == "delete":
        c.call("DELETE", f"/v1/functions/{args.name}")
        _print(args, {"deleted": args.name}, f"deleted {args.name}")
    elif args.action == "code":
        params = {"version": args.version} if args.version else None
        print(c.call("GET", f"/v1/functions/{args.name}/code", params=params), end="")
    return 0


def _parse_rate(value: str) -> dict[str, int]:
    n, _, per = value.partition("/")
    units = {"s": 1, "sec": 1, "m": 60, "min": 60, "h": 3600, "d": 86400}
    try:
        seconds = units[per] if per in units else int(per or 1)
        return {"requests": int(n), "per_seconds": seconds}
    except ValueError:
        raise ClientError(f"--rate {value!r}: expected N/SECONDS or N/s|m|h|d", 2) from None


def _key_line(k: dict) -> str:
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
                raise ClientError("--quota: expected N/day or N/month", 2) from None
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


def cmd_logs(args: argparse.Namespace) -> int:
    c = _client(args)
    data = c.call("GET", f"/v1/functions/{args.name}/invocations", params={"limit": args.limit})
    lines = []
    for r in reversed(data["invocations"]):
        lines.append(
            f"{r['time']} {r['id']} v{r['version']} {r['status']} {r['outcome']} "
            f"{r['duration_ms']:.1f}ms{' cold' if r['cold'] else ''}"
        )
        lines += [f"    {line}" for line in r["logs"]]
        if r["error"]:
            lines.append(f"    ! {r['error']}")
    _print(args, data, "\n".join(lines) or "no invocations yet")
    return 0


# ---------------------------------------------------------------- parser


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of ``isogate``."""
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "--url",
        default=os.environ.get("ISOGATE_URL", DEFAULT_URL),
        help="gateway URL (env ISOGATE_URL)",
    )
    common.add_argument("--json", action="store_true", help="print JSON")
    server = argparse.ArgumentParser(add_help=False)
    server.add_argument("--config", help="TOML settings file (env ISOGATE_CONFIG)")
    server.add_argument("--data-dir", type=Path, help="state folder (env ISOGATE_DATA_DIR)")
    server.add_argument("--json", action="store_true", help="print JSON")

    p = argparse.ArgumentParser(prog="isogate", description=__doc__.split("\n")[0])
    sub = p.add_subparsers(dest="command", required=True)

    s = sub.add_parser("serve", parents=[server], help="run the gateway (Hypercorn)")
    s.add_argument("--host", help="bind address (env ISOGATE_HOST)")
    s.add_argument("--port", type=int, help="TCP port (env ISOGATE_PORT)")
    s.set_defaults(func=cmd_serve)
    s = sub.add_parser("migrate", parents=[server], help="apply database migrations")
    s.set_defaults(func=cmd_migrate)

    t = sub.add_parser("tenant", help="tenants").add_subparsers(dest="action", required=True)
    s = t.add_parser("create", parents=[common], help="register a tenant")
    s.add_argument("name")
    s.add_argument("--password", help="or env ISOGATE_PASSWORD, stdin, prompt")
    s.add_argument("--admin-token", help="or env ISOGATE_ADMIN_TOKEN")
    s.set_defaults(func=cmd_tenant_create)

    s = sub.add_parser("login", parents=[common], help="log in and store the token")
    s.add_argument("name")
    s.add_argument("--password", help="or env ISOGATE_PASSWORD, stdin, prompt")
    s.set_defaults(func=cmd_login)

    s = sub.add_parser("deploy", parents=[common], help="deploy a new version of a function")
    s.add_argument("name")
    s.add_argument("file")
    s.add_argument("--env", action="append", default=[], metavar="K=V")
    s.add_argument("--public", action="store_true", help="callable without an API key")
    s.add_argument("--route", action="append", default=[], metavar="PATTERN")
    s.add_argument("--timeout-ms", type=int)
    s.set_defaults(func=cmd_deploy)

    s = sub.add_parser("invoke", parents=[common], help="call a function")
    s.add_argument("name")
    s.add_argument("--data", "-d", help="request body, or @FILE")
    s.add_argument("--key", "-k", help="API key (env ISOGATE_API_KEY)")
    s.add_argument("--method", "-X")
    s.add_argument("--path", help="sub-path after /fn/NAME")
    s.add_argument("--header", "-H", action="append", default=[])
    s.set_defaults(func=cmd_invoke)

    f = sub.add_parser("functions", help="manage functions").add_subparsers(
        dest="action", required=True
    )
    f.add_parser("list", parents=[common]).set_defaults(func=cmd_functions)
    for action in ("show", "delete"):
        s = f.add_parser(action, parents=[common])
        s.add_argument("name")
        s.set_defaults(func=cmd_functions)
    s = f.add_parser("rollback", parents=[common])
    s.add_argument("name")
    s.add_argument("version", type=int)
    s.set_defaults(func=cmd_functions)
    s = f.add_parser("code", parents=[common])
    s.add_argument("name")
    s.add_argument("--version", type=int)
    s.set_defaults(func=cmd_functions)

    k = sub.add_parser("keys", help="manage API keys").add_subparsers(dest="action", required=True)
    s = k.add_parser("create", parents=[common])
    s.add_argument("--name", default="key")
    s.add_argument("--ttl", type=int, default=30 * 86400, help="lease in seconds")
    s.add_argument("--function", action="append", help="allowed function (default: all)")
    s.add_argument("--rate", help="N/SECONDS or N/s|m|h|d, e.g. 100/m")
    s.add_argument("--burst", type=int)
    s.add_argument("--quota", help="N/day or N/month")
    s.add_argument("--uses", type=int)
    s.set_defaults(func=cmd_keys)
    k.add_parser("list", parents=[common]).set_defaults(func=cmd_keys)
    for action in ("show", "revoke"):
        s = k.add_parser(action, parents=[common])
        s.add_argument("id")
        s.set_defaults(func=cmd_keys)
    s = k.add_parser("renew", parents=[common])
    s.add_argument("id")
    s.add_argument("--ttl", type=int, required=True)
    s.set_defaults(func=cmd_keys)

    s = sub.add_parser("logs", parents=[common], help="latest invocations of a function")
    s.add_argument("name")
    s.add_argument("--limit", type=int, default=20)
    s.set_defaults(func=cmd_logs)

    from isogate.gateway.cli_admin import add_admin_parser  # the operator's route controls

    add_admin_parser(sub, common)
    return p


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``isogate`` console script."""
    from isogate.config import SettingsError

    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except SettingsError as exc:
        print(str(exc), file=sys.stderr)
        return 2
    except ClientError as exc:
        if getattr(args, "json", False) and exc.problem:
            print(json.dumps(exc.problem, indent=2), file=sys.stderr)
        else:
            print(f"error: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
