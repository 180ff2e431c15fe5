"""The ``isogate`` command: run the server, migrate, and talk to a running gateway.

Built on argparse (standard library): no extra dependency in the image, usage errors
exit 2 as our exit codes say, and a new command is one ``_command(...)`` call in
:func:`build_parser`. Every failure ends as one line on stderr, never a traceback.

Exit codes: 0 success, 1 API error (the problem's title and detail are printed),
2 usage, input or settings error, 3 gateway unreachable, 130 interrupted (Ctrl-C).
"""

from __future__ import annotations

import argparse
import asyncio
import getpass
import json
import os
import signal
import sys
from pathlib import Path
from typing import Any

from isogate.gateway.client import (
    DEFAULT_URL,
    EXIT_INTERRUPTED,
    EXIT_USAGE,
    Client,
    ClientError,
    check_url,
    load_token,
    save_token,
)


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
    from isogate.gateway.server import StartupError, serve

    settings = _settings(args)

    def bound(url: str) -> None:
        print(f"isogate listening on {url} (data: {settings.data_dir})", flush=True)

    try:
        stopped_by = asyncio.run(serve(settings, on_bound=bound))
    except StartupError as exc:
        print(f"isogate serve: {exc}", file=sys.stderr)
        return 1
    # Ctrl-C ends with the shell's convention for SIGINT; SIGTERM is a normal stop.
    return EXIT_INTERRUPTED if stopped_by == signal.SIGINT else 0


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
    url = check_url(args.url)
    return Client(url, load_token(url))


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
            raise ClientError(f"--env {p!r}: expected KEY=VALUE", EXIT_USAGE)
        env[k] = v
    return env


def cmd_deploy(args: argparse.Namespace) -> int:
    if args.file is None:
        return _deploy_wrangler(args)
    if args.name is None:
        raise ClientError("deploy NAME FILE: both are needed without a wrangler config", EXIT_USAGE)
    try:
        code = Path(args.file).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ClientError(f"cannot read {args.file}: {_reason(exc)}", EXIT_USAGE) from None
    body: dict[str, Any] = {
        "code": code,
        "env": _env_pairs(args.env),
        "routes": args.route,
        "public": args.public,
    }
    if args.bind:
        body["bindings"] = _bindings(args.bind)
    if args.cron or args.no_crons:
        body["crons"] = args.cron
    return _put_function(args, args.name, body)


def _put_function(args: argparse.Namespace, name: str, body: dict[str, Any]) -> int:
    c = _client(args)
    if args.timeout_ms is not None:
        body["timeout_ms"] = args.timeout_ms
    if args.cpu_ms is not None:
        body["cpu_ms"] = args.cpu_ms
    try:
        data = c.call("PUT", f"/v1/functions/{name}", json=body)
    except ClientError as exc:
        # A gateway without KV refuses the unknown field (422 "Extra inputs"): say what
        # that means for this deploy; other refusals (an unknown namespace) pass as they are.
        if body.get("bindings") and "bindings" in str(exc) and "not permitted" in str(exc):
            raise ClientError(
                "this gateway does not accept KV bindings (kv_namespaces "
                + ", ".join(body["bindings"])
                + f"): {exc}",
                exc.exit_code,
                exc.problem,
            ) from None
        raise
    text = f"deployed {data['name']} version {data['version']} ({data['sha256'][:12]})"
    if "crons" in data:
        text += "\ncrons (UTC): " + (", ".join(data["crons"]) or "none")
    _print(args, data, text)
    return 0


def _bindings(pairs: list[str]) -> dict[str, dict[str, str]]:
    """``--bind NAME=kv:NAMESPACE`` → the deploy body's ``bindings``."""
    out: dict[str, dict[str, str]] = {}
    for p in pairs:
        name, eq, target = p.partition("=")
        kind, colon, value = target.partition(":")
        if not (eq and colon and name and value):
            raise ClientError(f"--bind {p!r}: expected NAME=kv:NAMESPACE", EXIT_USAGE)
        out[name] = {kind: value}
    return out


def _deploy_wrangler(args: argparse.Namespace) -> int:
    """``isogate deploy [NAME]`` in a wrangler project: config read, main bundled."""
    from isogate.gateway import wrangler

    try:
        if args.wrangler_config:
            config: Path | None = Path(args.wrangler_config)
        else:
            config = wrangler.find_config(Path.cwd())
        if config is None:
            raise ClientError(
                "no FILE given and no wrangler.toml, wrangler.json or wrangler.jsonc here",
                EXIT_USAGE,
            )
        project = wrangler.load_project(config)
        name = args.name or project.name
        if not name:
            raise ClientError(f"{config}: no 'name' set; give the function NAME", EXIT_USAGE)
        if project.unsupported:
            print(
                f"warning: {config.name}: not supported by isogate, not applied: "
                + ", ".join(project.unsupported),
                file=sys.stderr,
            )
        code = wrangler.bundle(project)
    except wrangler.ProjectError as exc:
        raise ClientError(str(exc), EXIT_USAGE) from None
    body: dict[str, Any] = {
        "code": code,
        "env": {**project.vars, **_env_pairs(args.env)},
        "routes": [*project.routes, *args.route],
        "public": args.public,
    }
    bindings = {**project.bindings(), **_bindings(args.bind)} if args.bind else project.bindings()
    if bindings:
        body["bindings"] = bindings
    if args.cron or args.no_crons:
        body["crons"] = args.cron
    elif project.crons is not None:  # triggers.crons: the module's scheduled() runs on them
        body["crons"] = project.crons
    return _put_function(args, name, body)


def _reason(exc: OSError | UnicodeDecodeError) -> str:
    if isinstance(exc, OSError):
        return (exc.strerror or str(exc)).lower()
    return "not UTF-8 text"


def _body(value: str) -> bytes:
    """``-d``'s value: the text itself, ``@FILE`` for a file's bytes, ``@-`` for stdin."""
    if not value.startswith("@"):
        return value.encode()
    name = value[1:]
    if name == "-":
        return sys.stdin.buffer.read()
    try:
        return Path(name).read_bytes()
    except OSError as exc:
        raise ClientError(f"cannot read {name}: {_reason(exc)}", EXIT_USAGE) from None


def cmd_invoke(args: argparse.Namespace) -> int:
    c = _client(args)
    headers: dict[str, str] = {}
    key = args.key or os.environ.get("ISOGATE_API_KEY")
    if key:
        headers["X-API-Key"] = key
    for h in args.header:
        k, sep, v = h.partition(":")
        if not sep:
            raise ClientError(f"--header {h!r}: expected 'Name: value'", EXIT_USAGE)
        headers[k.strip()] = v.strip()
    data: bytes | None = None
    if args.data is not None:
        data = _body(args.data)
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
            f"  {_limits(v)}"
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


def _limits(version: dict[str, Any]) -> str:
    """A version's limits for ``functions show``: ``-`` where it takes the gateway's."""

    def ms(value: int | None) -> str:
        return "-" if value is None else f"{value}ms"

    return f"timeout {ms(version.get('timeout_ms'))} cpu {ms(version.get('cpu_ms'))}"


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

EPILOG = """\
exit codes:
  0    success
  1    the gateway answered with an error (its title and detail are printed)
  2    usage, input or settings error
  3    the gateway cannot be reached
  130  interrupted (Ctrl-C)

environment:
  ISOGATE_URL        gateway URL of the client commands (default http://127.0.0.1:8000)
  ISOGATE_TOKEN      login token (instead of the one 'isogate login' stores)
  ISOGATE_API_KEY    API key of 'isogate invoke'
  ISOGATE_PASSWORD   password of 'tenant create' and 'login'
  ISOGATE_<SETTING>  settings of 'serve' and 'migrate' (README, "Settings")

'isogate COMMAND --help' describes a command and its options."""


class _Formatter(argparse.RawDescriptionHelpFormatter):
    """Descriptions and epilogs keep their line breaks; option help is wrapped."""

    def __init__(self, prog: str) -> None:
        super().__init__(prog, max_help_position=30)


def _command(
    sub: Any,
    name: str,
    summary: str,
    description: str | None = None,
    *,
    parents: tuple[argparse.ArgumentParser, ...] = (),
    func: Any = None,
) -> argparse.ArgumentParser:
    """Add one command: ``summary`` shows in its group's list, ``description`` in its --help."""
    p = sub.add_parser(
        name,
        help=summary,
        description=description or summary[0].upper() + summary[1:] + ".",
        parents=list(parents),
        formatter_class=_Formatter,
    )
    if func is not None:
        p.set_defaults(func=func)
    return p


def _group(sub: Any, name: str, summary: str, description: str) -> Any:
    """A command with subcommands (``isogate keys create``); returns their subparsers."""
    p = sub.add_parser(name, help=summary, description=description, formatter_class=_Formatter)
    return p.add_subparsers(dest="action", required=True, metavar="ACTION", title="actions")


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of ``isogate``."""
    client = argparse.ArgumentParser(add_help=False)
    opts = client.add_argument_group("gateway options")
    opts.add_argument(
        "--url",
        default=os.environ.get("ISOGATE_URL", DEFAULT_URL),
        help="gateway URL, with http:// or https:// (env ISOGATE_URL; default %(default)s)",
    )
    opts.add_argument("--json", action="store_true", help="print the raw JSON answer")
    server = argparse.ArgumentParser(add_help=False)
    opts = server.add_argument_group("settings options")
    opts.add_argument("--config", metavar="FILE", help="TOML settings file (env ISOGATE_CONFIG)")
    opts.add_argument(
        "--data-dir",
        type=Path,
        metavar="DIR",
        help="folder of the embedded state: SQLite file, code blobs, token key "
        "(env ISOGATE_DATA_DIR; default ./isogate-data)",
    )
    opts.add_argument("--json", action="store_true", help="print JSON")

    p = argparse.ArgumentParser(
        prog="isogate",
        description="Run an isogate gateway, and manage tenants, functions and API keys on one.",
        epilog=EPILOG,
        formatter_class=_Formatter,
    )
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND", title="commands")

    s = _command(
        sub,
        "serve",
        "run the gateway (Hypercorn) until Ctrl-C or SIGTERM",
        "Run the gateway: migrate the database, start the runtime workers, serve HTTP.\n"
        "Settings come from flags, ISOGATE_* variables and the TOML file (README, Settings).",
        parents=(server,),
        func=cmd_serve,
    )
    s.add_argument("--host", help="address to bind (env ISOGATE_HOST; default 127.0.0.1)")
    s.add_argument(
        "--port", type=int, help="TCP port, 0 for any free one (env ISOGATE_PORT; default 8000)"
    )
    _command(
        sub,
        "migrate",
        "apply the database migrations and exit",
        "Apply the missing database migrations (serve also does this at start-up).",
        parents=(server,),
        func=cmd_migrate,
    )

    t = _group(sub, "tenant", "manage tenants", "Manage tenants.")
    s = _command(
        t,
        "create",
        "register a tenant",
        "Register a tenant (open registration, or with the admin token).",
        parents=(client,),
        func=cmd_tenant_create,
    )
    s.add_argument("name", help="tenant name (lower-case letters, digits, '-')")
    s.add_argument("--password", help="password (or env ISOGATE_PASSWORD, stdin, a prompt)")
    s.add_argument("--admin-token", help="admin token of the gateway (or env ISOGATE_ADMIN_TOKEN)")

    s = _command(
        sub,
        "login",
        "log in and store the token",
        "Log in as a tenant; the token is kept per gateway URL in "
        "~/.config/isogate/tokens.json (mode 0600).",
        parents=(client,),
        func=cmd_login,
    )
    s.add_argument("name", help="tenant name")
    s.add_argument("--password", help="password (or env ISOGATE_PASSWORD, stdin, a prompt)")

    s = _command(
        sub,
        "deploy",
        "deploy a new version of a function",
        "Upload FILE as a new version of function NAME and make it current.\n"
        "Each deploy sets every option anew (options are not inherited from the\n"
        "previous version); --env and --route may be given several times.\n\n"
        "Without FILE, in a wrangler project (wrangler.json, wrangler.jsonc or\n"
        "wrangler.toml here, or --wrangler-config): main is bundled with esbuild as\n"
        "wrangler bundles it; name, vars, routes, kv_namespaces and triggers.crons come\n"
        "from the config (NAME, --env, --route and --cron add to or override them);\n"
        "settings isogate does not apply are named in one warning.\n\n"
        "Crons are the exception to 'every option anew': without --cron (or a\n"
        "wrangler triggers.crons) the function keeps the crons it has.",
        parents=(client,),
        func=cmd_deploy,
    )
    s.add_argument(
        "name", nargs="?", help="function name (unique on the gateway; default: wrangler's name)"
    )
    s.add_argument(
        "file",
        nargs="?",
        help="JavaScript file: a module with export default { fetch } "
        "(default: bundle the wrangler project here)",
    )
    s.add_argument(
        "--wrangler-config",
        metavar="FILE",
        help="the wrangler.toml/wrangler.json(c) to deploy (default: the one here)",
    )
    s.add_argument(
        "--env",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="a variable the function reads as env.KEY; repeat for several",
    )
    s.add_argument(
        "--bind",
        action="append",
        default=[],
        metavar="NAME=kv:NAMESPACE",
        help="bind env.NAME to one of your KV namespaces; repeat for several",
    )
    s.add_argument(
        "--cron",
        action="append",
        default=[],
        metavar="EXPR",
        help="run the module's scheduled() on this cron schedule (5 fields, UTC, e.g. "
        "'*/5 * * * *'); repeat for several; replaces the function's crons",
    )
    s.add_argument("--no-crons", action="store_true", help="remove the function's cron schedules")
    s.add_argument(
        "--public", action="store_true", help="callable without an API key (no rate limit)"
    )
    s.add_argument(
        "--route",
        action="append",
        default=[],
        metavar="PATTERN",
        help="also serve requests matching [host]/path or [host]/prefix/*, "
        "e.g. '/api/*'; repeat for several",
    )
    s.add_argument(
        "--timeout-ms",
        type=int,
        metavar="MS",
        help="time limit of one invocation (default: the gateway's, 1000)",
    )
    s.add_argument(
        "--cpu-ms",
        type=int,
        metavar="MS",
        help="CPU time limit of one invocation (default: the gateway's, 500)",
    )

    s = _command(
        sub,
        "invoke",
        "call a function and print its response body",
        "Call function NAME through /fn/NAME and print the response body (or, with\n"
        "--json, status, headers and body). An error status exits 1.",
        parents=(client,),
        func=cmd_invoke,
    )
    s.add_argument("name", help="function name")
    s.add_argument(
        "--data",
        "-d",
        metavar="BODY",
        help="request body: text, @FILE for a file, @- for stdin (makes the method POST)",
    )
    s.add_argument("--key", "-k", help="API key (env ISOGATE_API_KEY)")
    s.add_argument("--method", "-X", help="HTTP method (default GET, or POST with --data)")
    s.add_argument("--path", help="sub-path after /fn/NAME, e.g. users/42?x=1")
    s.add_argument(
        "--header",
        "-H",
        action="append",
        default=[],
        metavar="'NAME: VALUE'",
        help="a request header; repeat for several",
    )

    f = _group(
        sub, "functions", "manage functions", "List, inspect, roll back and delete functions."
    )
    _command(f, "list", "list your functions", parents=(client,), func=cmd_functions)
    s = _command(
        f, "show", "show a function and its versions", parents=(client,), func=cmd_functions
    )
    s.add_argument("name", help="function name")
    s = _command(
        f,
        "rollback",
        "make an earlier version current again",
        "Make VERSION (with its env, limits and routes) the current version of NAME.",
        parents=(client,),
        func=cmd_functions,
    )
    s.add_argument("name", help="function name")
    s.add_argument("version", type=int, help="version number (see 'functions show')")
    s = _command(
        f, "delete", "delete a function and its routes", parents=(client,), func=cmd_functions
    )
    s.add_argument("name", help="function name")
    s = _command(f, "code", "print a version's source code", parents=(client,), func=cmd_functions)
    s.add_argument("name", help="function name")
    s.add_argument("--version", type=int, help="version number (default: the current one)")

    from isogate.gateway import cli_kv, cli_schedules, cli_secrets

    cli_secrets.add_commands(sub, client, server)
    cli_kv.add_commands(sub, client)
    cli_schedules.add_commands(sub, client)

    k = _group(
        sub,
        "keys",
        "manage API keys",
        "Manage API keys: leases that let clients invoke your functions.\n"
        "A key's secret is shown once, by 'create'; the gateway keeps only its hash.",
    )
    s = _command(
        k,
        "create",
        "create a key and print its secret (once)",
        "Create an API key and print its secret on the first line (shown once) and its id.",
        parents=(client,),
        func=cmd_keys,
    )
    s.add_argument("--name", default="key", help="a label for the key (default %(default)s)")
    s.add_argument(
        "--ttl",
        type=int,
        default=30 * 86400,
        metavar="SECONDS",
        help="lease length in seconds (default %(default)s: 30 days)",
    )
    s.add_argument(
        "--function",
        action="append",
        metavar="NAME",
        help="a function the key may call; repeat for several (default: all of yours)",
    )
    s.add_argument(
        "--rate",
        metavar="N/PER",
        help="rate limit: N requests per SECONDS or per s|m|h|d, e.g. 100/m "
        "(default: the gateway's, 600/60)",
    )
    s.add_argument("--burst", type=int, metavar="N", help="burst size of --rate (default: N)")
    s.add_argument(
        "--quota", metavar="N/PERIOD", help="invocations per day or month, e.g. 1000/day"
    )
    s.add_argument("--uses", type=int, metavar="N", help="total invocations, then the key is spent")
    _command(
        k,
        "list",
        "list your keys with state and expiry",
        "List your keys: id, prefix of the secret, state, expiry, label.",
        parents=(client,),
        func=cmd_keys,
    )
    s = _command(k, "show", "show one key as JSON", parents=(client,), func=cmd_keys)
    s.add_argument("id", help="key id (see 'keys list')")
    s = _command(
        k,
        "renew",
        "extend a key's lease",
        "Extend a key's lease to end TTL seconds from now.",
        parents=(client,),
        func=cmd_keys,
    )
    s.add_argument("id", help="key id (see 'keys list')")
    s.add_argument(
        "--ttl", type=int, required=True, metavar="SECONDS", help="new lease from now, in seconds"
    )
    s = _command(
        k,
        "revoke",
        "revoke a key at once",
        "Revoke a key: it stops working at once, on every replica.",
        parents=(client,),
        func=cmd_keys,
    )
    s.add_argument("id", help="key id (see 'keys list')")

    s = _command(
        sub,
        "logs",
        "latest invocations of a function, with console lines",
        parents=(client,),
        func=cmd_logs,
    )
    s.add_argument("name", help="function name")
    s.add_argument(
        "--limit", type=int, default=20, help="how many invocations (default %(default)s)"
    )

    from isogate.gateway.cli_admin import add_admin_parser  # the operator's route controls

    add_admin_parser(sub, client)
    return p


def _run(argv: list[str] | None) -> int:
    from isogate.config import SettingsError

    try:
        args = build_parser().parse_args(argv)
    except SystemExit:  # --help or a usage error: flush here so a closed pipe is seen
        sys.stdout.flush()
        raise
    try:
        code = int(args.func(args) or 0)
    except SettingsError as exc:
        print(str(exc), file=sys.stderr)
        code = EXIT_USAGE
    except ClientError as exc:
        if getattr(args, "json", False) and exc.problem:
            print(json.dumps(exc.problem, indent=2), file=sys.stderr)
        else:
            print(f"error: {exc}", file=sys.stderr)
        code = exc.exit_code
    sys.stdout.flush()  # a closed pipe shows here, inside main, not at interpreter exit
    return code


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``isogate`` console script."""
    try:
        return _run(argv)
    except KeyboardInterrupt:
        return EXIT_INTERRUPTED
    except BrokenPipeError:
        # The reader went away (``isogate ... | head``): stop quietly, as a tool killed by
        # SIGPIPE would; stdout goes to /dev/null so the exit flush cannot fail again.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 128 + signal.SIGPIPE


if __name__ == "__main__":
    sys.exit(main())
