"""``isogate deploy``, ``invoke``, ``functions …`` and ``logs``: a tenant's functions."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import Any

from isogate.cli.client import EXIT_USAGE, ClientError
from isogate.cli.common import _client, _print


def _env_pairs(pairs: list[str]) -> dict[str, str]:
    env: dict[str, str] = {}
    for p in pairs:
        k, sep, v = p.partition("=")
        if not sep:
            raise ClientError(f"--env {p!r}: expected KEY=VALUE", EXIT_USAGE)
        env[k] = v
    return env


def cmd_deploy(args: argparse.Namespace) -> int:
    if not args.file:
        return _deploy_wrangler(args)
    if args.name is None:
        raise ClientError("deploy NAME FILE: both are needed without a wrangler config", EXIT_USAGE)
    if args.no_bundle:
        raise ClientError("--no-bundle is for wrangler projects (without FILE)", EXIT_USAGE)
    first = Path(args.file[0])
    body: dict[str, Any]
    if len(args.file) == 1 and not first.is_dir():
        if args.main:
            raise ClientError(
                "--main picks the main module of several files or a folder", EXIT_USAGE
            )
        try:
            code = first.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise ClientError(f"cannot read {first}: {_reason(exc)}", EXIT_USAGE) from None
        body = {"code": code}
        if first.suffix in (".ts", ".mts"):  # the gateway erases its types
            body["main_module"] = first.name
    else:
        body = _module_set(args.file, args.main)
    body.update(env=_env_pairs(args.env), routes=args.route, public=args.public)
    if args.bind:
        body["bindings"] = _bindings(args.bind)
    if args.cron or args.no_crons:
        body["crons"] = args.cron
    return _put_function(args, args.name, body)


def _module_set(files: list[str], main: str | None) -> dict[str, Any]:
    """``deploy NAME DIR`` or ``deploy NAME FILE FILE...``: the JSON module-set form."""
    from isogate.cli import module_files

    paths = [Path(f) for f in files]
    try:
        if len(paths) == 1:
            found = module_files.from_directory(paths[0], main)
        else:
            if any(p.is_dir() for p in paths):
                raise module_files.ModuleFilesError("give one folder, or files")
            if main is not None:  # the main module first: names are relative to its folder
                chosen = [p for p in paths if p.resolve() == Path(main).resolve()]
                if not chosen:
                    raise module_files.ModuleFilesError(f"--main {main} is not among the files")
                paths = chosen + [p for p in paths if p not in chosen]
            found = module_files.from_files(paths)
        return module_files.deploy_body(*found)
    except module_files.ModuleFilesError as exc:
        raise ClientError(str(exc), EXIT_USAGE) from None


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
    from isogate.cli import module_files, wrangler

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
        project = wrangler.load_project(config, no_bundle=args.no_bundle)
        name = args.name or project.name
        if not name:
            raise ClientError(f"{config}: no 'name' set; give the function NAME", EXIT_USAGE)
        if project.unsupported:
            print(
                f"warning: {config.name}: not supported by isogate, not applied: "
                + ", ".join(project.unsupported),
                file=sys.stderr,
            )
        if project.no_bundle:  # the modules as they are, found by wrangler's rules
            body: dict[str, Any] = module_files.deploy_body(*wrangler.module_set(project))
        else:
            body = {"code": wrangler.bundle(project)}
    except (wrangler.ProjectError, module_files.ModuleFilesError) as exc:
        raise ClientError(str(exc), EXIT_USAGE) from None
    body |= {
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
            from isogate.cli.client import problem_message

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
