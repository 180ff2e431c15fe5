"""The ``isogate`` command: run the server, migrate, and talk to a running gateway.

Built on argparse (standard library): no extra dependency in the image, usage errors
exit 2 as our exit codes say, and a new command is one ``_command(...)`` call in
:func:`build_parser`. Every failure ends as one line on stderr, never a traceback.

Exit codes: 0 success, 1 API error (the problem's title and detail are printed),
2 usage, input or settings error, 3 gateway unreachable, 130 interrupted (Ctrl-C).
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
from pathlib import Path
from typing import Any

from isogate.cli.client import DEFAULT_URL, EXIT_INTERRUPTED, EXIT_USAGE, ClientError
from isogate.cli.functions import cmd_deploy, cmd_functions, cmd_invoke, cmd_logs
from isogate.cli.keys import cmd_keys
from isogate.cli.server import cmd_migrate, cmd_serve
from isogate.cli.tenants import cmd_login, cmd_tenant_create

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
    p: argparse.ArgumentParser = sub.add_parser(
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
        "Several FILEs, or one folder, are uploaded unbundled as one module set:\n"
        "the first FILE (or --main; in a folder index.js, index.ts, src/index.js, ...)\n"
        "is the main module, the others are named by their path from its folder and\n"
        "typed by extension (.js .mjs .ts: ES module, .cjs: CommonJS, .txt .html\n"
        ".sql: text, .json, .bin: data, .wasm); a folder's node_modules and\n"
        "dot-folders are left out.\n\n"
        "Without FILE, in a wrangler project (wrangler.json, wrangler.jsonc or\n"
        "wrangler.toml here, or --wrangler-config): main is bundled with esbuild as\n"
        "wrangler bundles it; name, vars, routes, kv_namespaces and triggers.crons come\n"
        "from the config (NAME, --env, --route and --cron add to or override them);\n"
        "settings isogate does not apply are named in one warning. With --no-bundle\n"
        "(or no_bundle = true) main and the files wrangler's module rules match are\n"
        "uploaded as they are, as wrangler deploy --no-bundle does.\n\n"
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
        nargs="*",
        help="JavaScript or TypeScript file: a module with export default { fetch }; "
        "several files or a folder: a module set (default: the wrangler project here)",
    )
    s.add_argument(
        "--main",
        metavar="FILE",
        help="the main module of several files or a folder (its path in the folder)",
    )
    s.add_argument(
        "--no-bundle",
        action="store_true",
        help="wrangler project: upload main and the modules its rules match, unbundled",
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

    from isogate.cli import kv as cli_kv
    from isogate.cli import schedules as cli_schedules
    from isogate.cli import secrets as cli_secrets

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

    from isogate.cli.admin import add_admin_parser  # the operator's route controls

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
