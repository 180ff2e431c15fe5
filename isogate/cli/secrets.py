"""``isogate secrets``: a function's secrets (client) and the master key (operator).

Values are read from stdin or a prompt, never from an argument (arguments end up in shell
history and in every user's ``ps``).
"""

from __future__ import annotations

import argparse
import asyncio
import getpass
import json
import sys
from typing import Any

from isogate.cli.client import EXIT_USAGE, ClientError


def _read_value() -> str:
    if sys.stdin.isatty():
        value = getpass.getpass("secret value: ")
    else:
        value = sys.stdin.read()
        if value.endswith("\n"):  # `echo x |` and here-strings add one
            value = value[:-1]
            if value.endswith("\r"):
                value = value[:-1]
    if not value:
        raise ClientError("no value: pipe it on stdin or type it at the prompt", EXIT_USAGE)
    return value


def cmd_secrets(args: argparse.Namespace) -> int:
    """``put``, ``list``, ``delete``: through the gateway's API."""
    from isogate.cli.common import _client, _print

    c = _client(args)
    base = f"/v1/functions/{args.function}/secrets"
    if args.action == "put":
        data = c.call("PUT", f"{base}/{args.name}", json={"value": _read_value()})
        _print(args, data, f"secret {data['name']} set on {args.function}")
    elif args.action == "list":
        data = c.call("GET", base)
        lines = [f"{s['name']}  updated {s['updated_at']:.0f}" for s in data["secrets"]]
        _print(args, data, "\n".join(lines) or "no secrets")
    elif args.action == "delete":
        c.call("DELETE", f"{base}/{args.name}")
        _print(args, {"deleted": args.name}, f"secret {args.name} deleted from {args.function}")
    return 0


def cmd_rotate_master(args: argparse.Namespace) -> int:
    """Re-wrap every secret's data key under the current master key (operator command:
    it opens the database itself, like ``migrate``)."""
    from isogate.backends.database import DatabaseUnavailable, create_engine, migrate
    from isogate.cli.common import _settings
    from isogate.state.crypto import (
        Keyring,
        KeyringError,
        load_key_file,
        new_key_entry,
        parse_keyring,
        save_key_file,
    )
    from isogate.state.errors import SecretsUnavailable
    from isogate.state.secrets import SqlSecretStore

    settings = _settings(args)
    path = settings.secrets_key_path
    generated = settings.secrets_master_key is None
    if generated and not settings.embedded_database:
        print(
            "isogate secrets rotate-master: set secrets_master_key "
            "(env ISOGATE_SECRETS_MASTER_KEY) with the new key first, the old ones after it",
            file=sys.stderr,
        )
        return EXIT_USAGE
    if generated:
        # the embedded default: a new key goes first in the file, old ones stay for
        # readers (a running gateway re-reads the file when it meets the new id)
        keys = parse_keyring(new_key_entry()) + load_key_file(path)
        save_key_file(path, keys)
    else:
        keys = parse_keyring(settings.secrets_master_key.get_secret_value())

    async def run() -> tuple[int, dict[str, int]]:
        engine = create_engine(settings)
        try:
            await migrate(engine)
            store = SqlSecretStore(engine, settings.store_timeout_seconds, Keyring(keys), 1, 1)
            return await store.rewrap_all()
        finally:
            await engine.dispose()

    try:
        done, left = asyncio.run(run())
    except (DatabaseUnavailable, SecretsUnavailable, KeyringError) as exc:
        print(f"isogate secrets rotate-master: {exc}", file=sys.stderr)
        return 1
    if generated and args.drop_old and not left:
        save_key_file(path, keys[:1])
    data: dict[str, Any] = {"current": keys[0][0], "rewrapped": done, "left": left}
    text = f"{done} secret(s) re-wrapped under master key {keys[0][0]}"
    if left:
        text += "; still under other keys: " + json.dumps(left)
    _print_plain(args, data, text)
    return 0


def _print_plain(args: argparse.Namespace, data: Any, text: str) -> None:
    print(json.dumps(data, indent=2) if args.json else text)


def add_commands(
    sub: Any, client: argparse.ArgumentParser, server: argparse.ArgumentParser
) -> None:
    """The ``secrets`` group of ``isogate``."""
    from isogate.cli.main import _command, _group

    g = _group(
        sub,
        "secrets",
        "manage functions' secrets and the master key",
        "Manage a function's secrets (env.NAME in the function; values are never shown)\n"
        "and re-wrap them under a new master key (operator).",
    )
    s = _command(
        g,
        "put",
        "set a secret (value from stdin or a prompt)",
        "Set secret NAME of FUNCTION; the value is read from stdin, or prompted for\n"
        "without echo. The function's next call sees it (no redeploy).",
        parents=(client,),
        func=cmd_secrets,
    )
    s.add_argument("function", help="function name")
    s.add_argument("name", help="secret name (letters, digits, '_')")
    s = _command(g, "list", "list a function's secret names", parents=(client,), func=cmd_secrets)
    s.add_argument("function", help="function name")
    s = _command(g, "delete", "delete a secret", parents=(client,), func=cmd_secrets)
    s.add_argument("function", help="function name")
    s.add_argument("name", help="secret name")
    s = _command(
        g,
        "rotate-master",
        "re-wrap every secret under the current master key",
        "Re-wrap every secret's data key under the current master key: the first of\n"
        "secrets_master_key (env ISOGATE_SECRETS_MASTER_KEY), or on the embedded default a\n"
        "newly generated one added to data_dir/secrets_master_key. Values are not\n"
        "re-encrypted. See docs/operations.md, 'Secrets and the master key'.",
        parents=(server,),
        func=cmd_rotate_master,
    )
    s.add_argument(
        "--drop-old",
        action="store_true",
        help="embedded default: remove the old keys from the key file when no secret uses "
        "them (stop the gateway first)",
    )
