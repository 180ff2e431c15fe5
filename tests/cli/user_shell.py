"""How the CLI tests run the installed ``isogate``, and README's shell blocks, as a user.

Each command is a subprocess of the venv's ``bin/isogate`` console script (or bash with
that folder first on ``PATH``) with its output captured as text, no stdin (a prompt
would wait for ever) and a time limit. Its environment is the caller's without any
``ISOGATE_*`` setting and with the test's own HOME, so neither the developer's gateway
settings nor their stored tokens take part. Shared by the tests of this folder.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

#: the venv's bin: the installed ``isogate`` entry point
BIN = Path(sys.executable).parent
ISOGATE = str(BIN / "isogate")
README = Path(__file__).resolve().parents[2] / "README.md"


def captured(
    argv: list[str], cwd: Path | None, env: dict[str, str], timeout: float = 120
) -> subprocess.CompletedProcess[str]:
    """``argv`` run to its end in ``cwd`` (None: this process's) with ``env``: stdout and
    stderr captured as text, no stdin, at most ``timeout`` seconds."""
    return subprocess.run(
        argv,
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        stdin=subprocess.DEVNULL,
    )


def user_env(home: Path, **extra: str) -> dict[str, str]:
    """This process's environment without its ``ISOGATE_*`` settings, with HOME (and the
    CLI's token file, under XDG_CONFIG_HOME) in ``home``, and ``extra`` set."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("ISOGATE_")}
    env.update(HOME=str(home), XDG_CONFIG_HOME=str(home / "config"), **extra)
    return env


def run(cwd: Path | None, home: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    """``isogate ARGS`` in ``cwd`` (None: this process's) as the user of ``home``, with
    the variables ``env`` (``ISOGATE_URL=...``) set."""
    return captured([ISOGATE, *args], cwd, user_env(home, **env))


def bash(script: str, cwd: Path, home: Path, **env: str) -> subprocess.CompletedProcess[str]:
    """``script`` (a README block) in ``bash -euc``, as :func:`run` runs ``isogate``; the
    installed ``isogate`` is first on ``PATH``, as after README's install step."""
    path = f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}"
    return captured(["bash", "-euc", script], cwd, user_env(home, PATH=path, **env))


def one_line(text: str) -> str:
    """The one line ``text`` holds (a CLI error), after checking it holds no traceback."""
    assert "Traceback" not in text, text
    lines = text.strip().splitlines()
    assert len(lines) == 1, text
    return lines[0]


def readme_sh_blocks(title: str) -> list[str]:
    """The ```sh blocks of README's ``## title`` section, in order."""
    section = README.read_text().split(f"## {title}", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"```sh\n(.*?)```", section, re.S)
