"""Helpers every ``isogate`` command shares: output, password prompt, settings, client."""

from __future__ import annotations

import argparse
import getpass
import json
import os
import sys
from typing import Any

from isogate.cli.client import Client, check_url, load_token


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


def _settings(args: argparse.Namespace) -> Any:
    from isogate.config import load_settings

    overrides = {
        "host": getattr(args, "host", None),
        "port": getattr(args, "port", None),
        "data_dir": getattr(args, "data_dir", None),
    }
    return load_settings(args.config, **overrides)


def _client(args: argparse.Namespace) -> Client:
    url = check_url(args.url)
    return Client(url, load_token(url))
