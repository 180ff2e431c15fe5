"""The README's quickstart, run verbatim against a fresh gateway: it prints what it says.

Both shell blocks of the "Quickstart" section are taken from README.md as they stand and
run line by line in one bash session (variables carry over), against a real
``isogate serve`` on a free loopback port, with a fresh data folder and HOME. The only
change made to them: the port (8000 → the free one; the CLI gets it through
``ISOGATE_URL``). Every command that carries a comment makes a claim; each claim has a
check below, and a comment without one fails the test, so README and behaviour cannot
drift apart.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.cli.user_shell import BIN, captured, readme_sh_blocks
from tests.gateway.e2e.server import GatewayProcess

pytestmark = pytest.mark.timeout(300)


def commands(block: str) -> list[str]:
    """Shell commands of a block: lines ending in a backslash or a pipe continue."""
    out: list[str] = []
    current = ""
    for line in block.splitlines():
        current = f"{current}\n{line}" if current else line
        if not current.rstrip().endswith(("\\", "|")):
            out.append(current)
            current = ""
    assert not current, f"unfinished command: {current}"
    return [c for c in out if c.strip()]


def comment(cmd: str) -> str:
    """The trailing ``# ...`` of a command's last line (the README's claim), or ''."""
    match = re.search(r"\s#\s*(.*)$", cmd.splitlines()[-1])
    return match.group(1).strip() if match else ""


class Ran:
    def __init__(self, cmd: str, rc: int, out: str, err: str) -> None:
        self.cmd, self.rc, self.out, self.err = cmd, rc, out, err

    def __repr__(self) -> str:
        return f"{self.cmd!r} → rc {self.rc}\nstdout: {self.out!r}\nstderr: {self.err!r}"


def run_block(cmds: list[str], cwd: Path, env: dict[str, str]) -> list[Ran]:
    """Run ``cmds`` in one bash session, capturing each one's exit code and output."""
    script = []
    for i, cmd in enumerate(cmds):
        script.append(f"echo '@@{i}'; echo '@@{i}' >&2")
        script.append(cmd)
        script.append(f'echo "@@rc {i} $?"')
    r = captured(["bash", "-c", "\n".join(script)], cwd, env, timeout=240)
    outs = re.split(r"^@@\d+\n", r.stdout, flags=re.M)[1:]
    errs = re.split(r"^@@\d+\n", r.stderr, flags=re.M)[1:]
    assert len(outs) == len(cmds) == len(errs), (r.stdout, r.stderr)
    ran = []
    for i, (cmd, out, err) in enumerate(zip(cmds, outs, errs, strict=True)):
        body, _, rc = out.rpartition(f"@@rc {i} ")
        ran.append(Ran(cmd, int(rc), body, err))
    return ran


def no_output(r: Ran) -> None:
    assert r.rc == 0 and r.out == "" and r.err == "", r


def home_file_0600(home: Path) -> Callable[[Ran], None]:
    def check(r: Ran) -> None:
        assert r.rc == 0 and r.out.startswith("logged in as acme"), r
        assert (home / ".config" / "isogate" / "tokens.json").stat().st_mode & 0o777 == 0o600

    return check


def cli_claims(home: Path) -> dict[str, Callable[[Ran], None]]:
    """What each commented command of the CLI block must do (keyed by its comment)."""

    def deployed(r: Ran) -> None:
        assert r.rc == 0 and r.out.startswith("deployed hello version 1 ("), r

    def hello_world(r: Ran) -> None:
        assert r.rc == 0 and r.out == "hello world\n" and r.err == "", r

    def last_429(r: Ran) -> None:
        assert r.out == "hello world\nhello world\n", r
        assert r.rc == 1 and len(r.err.splitlines()) == 1 and "HTTP 429" in r.err, r

    def logs(r: Ran) -> None:
        lines = [line for line in r.out.splitlines() if " v1 200 ok " in line]
        assert r.rc == 0 and len(lines) == 3, r

    return {
        "or activate the venv": no_output,
        "token kept in ~/.config/isogate (0600)": home_file_0600(home),
        "[--public] [--route 'shop.example/api/*'] [--timeout-ms 500]": deployed,
        "hello world": hello_world,
        "the last one: HTTP 429": last_429,
        "latest invocations, with console lines": logs,
    }


def curl_claims() -> dict[str, Callable[[Ran], None]]:
    """What each commented command of the curl block must do (keyed by its comment)."""

    def hello_200(r: Ran) -> None:
        head, _, body = r.out.replace("\r\n", "\n").partition("\n\n")
        assert r.rc == 0 and head.startswith("HTTP/1.1 200"), r
        assert body == "hello world", r
        names = {line.split(":", 1)[0].lower() for line in head.splitlines()[1:]}
        assert {"ratelimit", "ratelimit-policy"} <= names, r

    def then_429(r: Ran) -> None:
        assert r.rc == 0 and r.out.split() == ["200", "200", "429"], r

    return {'200 "hello world", RateLimit headers': hello_200, "... 429": then_429}


def check_block(ran: list[Ran], claims: dict[str, Callable[[Ran], None]]) -> None:
    for r in ran:
        claim = comment(r.cmd)
        if claim:
            assert claim in claims, f"README claim without a check in this test: {claim!r}"
            claims[claim](r)
        else:
            assert r.rc == 0 and "Traceback" not in r.err, r
        assert "Traceback" not in r.out + r.err, r


def client_env(home: Path, gw: GatewayProcess) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ISOGATE_")}
    env.update(
        HOME=str(home),
        PATH=f"{BIN}{os.pathsep}{env.get('PATH', '')}",
        ISOGATE_URL=gw.url,
    )
    env.pop("XDG_CONFIG_HOME", None)
    return env


def test_readme_quickstart_prints_what_it_says(tmp_path: Path) -> None:
    blocks = readme_sh_blocks("Quickstart")
    assert len(blocks) == 2, "expected the CLI block and the curl block"
    cli, curl = (commands(b) for b in blocks)
    work = tmp_path / "work"
    work.mkdir()

    home = tmp_path / "home-cli"
    home.mkdir()
    gw = GatewayProcess(tmp_path / "data-cli")
    gw.start()
    try:
        ran = run_block(cli, work, client_env(home, gw))
    finally:
        gw.stop()
    check_block(ran, cli_claims(home))
    assert (work / "hello.js").is_file()

    # The curl block, against another fresh gateway (it registers acme again).
    home = tmp_path / "home-curl"
    home.mkdir()
    gw = GatewayProcess(tmp_path / "data-curl")
    gw.start()
    try:
        port = str(gw.port)
        ran = run_block([c.replace(":8000", f":{port}") for c in curl], work, client_env(home, gw))
    finally:
        gw.stop()
    assert all(":8000" not in r.cmd for r in ran)
    check_block(ran, curl_claims())
    created, deployed = ran[0], ran[2]
    assert '"name": "acme"' in created.out or '"name":"acme"' in created.out, created
    assert '"version":1' in deployed.out.replace(" ", ""), deployed
