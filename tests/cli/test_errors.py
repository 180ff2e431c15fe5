"""The ``isogate`` entry point on the first-hour error paths: one line, the right exit code.

Each test runs the installed console script (the venv's ``bin/isogate``) as a subprocess
and checks its exit code, that stderr is a single line saying what is wrong, and that no
Python traceback reaches the terminal.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
from pathlib import Path

import httpx
import pytest

from tests.cli.user_shell import ISOGATE, one_line, run, user_env

pytestmark = pytest.mark.timeout(180)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_missing_body_file_names_it(tmp_path: Path) -> None:
    r = run(None, tmp_path, "invoke", "hello", "-d", "@/nonexistent/file")
    assert r.returncode == 2, r
    line = one_line(r.stderr)
    assert "/nonexistent/file" in line and "no such file" in line, line


def test_unreachable_gateway_says_so(tmp_path: Path) -> None:
    url = f"http://127.0.0.1:{free_port()}"
    # not logged in either: the unreachable gateway is what the user must hear about
    for args in (("functions", "list"), ("invoke", "hello")):
        r = run(None, tmp_path, *args, ISOGATE_URL=url)
        assert r.returncode == 3, r
        line = one_line(r.stderr)
        assert line.startswith(f"error: cannot reach the gateway at {url}: "), line
        assert "refused" in line and "not logged in" not in line, line


def test_url_without_scheme(tmp_path: Path) -> None:
    r = run(None, tmp_path, "functions", "list", ISOGATE_URL="localhost:8000")
    assert r.returncode == 2, r
    line = one_line(r.stderr)
    assert "localhost:8000" in line and "http:// or https://" in line, line


def test_closed_pipe_ends_quietly(tmp_path: Path) -> None:
    # the reader is gone before isogate writes anything (as with `| head` that exited)
    read, write = os.pipe()
    os.close(read)
    try:
        p = subprocess.run(
            [ISOGATE, "migrate", "--data-dir", str(tmp_path / "d")],  # prints the steps
            env=user_env(tmp_path),
            stdout=write,
            stderr=subprocess.PIPE,
            text=True,
            timeout=60,
        )
    finally:
        os.close(write)
    assert p.returncode == 128 + signal.SIGPIPE, p
    assert p.stderr == "", p.stderr


def _wait_reading_stdin(pid: int) -> None:
    """Until ``pid`` is blocked in read(0, ...) (Linux /proc/PID/syscall: nr 0, fd 0)."""
    for _ in range(600):
        try:
            fields = Path(f"/proc/{pid}/syscall").read_text().split()
        except OSError:
            fields = []
        if len(fields) > 1 and fields[0] == "0" and int(fields[1], 16) == 0:
            return
        time.sleep(0.05)
    raise AssertionError("isogate never waited for the password")


def _as_from_a_terminal() -> None:
    """SIGINT as a shell gives it to a command it runs: default action, not blocked. A child
    inherits both from the test process, where a thread or a library may have changed them
    (then Ctrl-C would never reach the prompt and the test would measure that instead)."""
    signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def test_ctrl_c_at_a_prompt(tmp_path: Path) -> None:
    p = subprocess.Popen(
        [ISOGATE, "tenant", "create", "acme"],
        env=user_env(tmp_path),
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        preexec_fn=_as_from_a_terminal,
    )
    try:
        _wait_reading_stdin(p.pid)
        p.send_signal(signal.SIGINT)
        out, err = p.communicate(timeout=60)
    finally:
        if p.poll() is None:
            p.kill()
    assert p.returncode == 130, (out, err)
    assert err == "" and out == "", (out, err)


def test_ctrl_c_stops_serve_and_its_workers_quietly(tmp_path: Path) -> None:
    port = free_port()
    p = subprocess.Popen(
        [ISOGATE, "serve", "--port", str(port), "--data-dir", str(tmp_path / "data")],
        env=user_env(tmp_path, ISOGATE_LOG_LEVEL="warning", ISOGATE_RUNTIME__PREWARM_ISOLATES="1"),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,  # its own process group, as a terminal's foreground job
        preexec_fn=_as_from_a_terminal,
    )
    try:
        for _ in range(900):
            assert p.poll() is None, p.communicate()
            try:
                if httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        else:
            raise AssertionError("gateway never became ready")
        os.killpg(p.pid, signal.SIGINT)  # what Ctrl-C does: the whole group, workers too
        out, err = p.communicate(timeout=90)
    finally:
        if p.poll() is None:
            os.killpg(p.pid, signal.SIGKILL)
            p.wait()
    assert p.returncode == 130, (out, err)
    assert "Traceback" not in err and "KeyboardInterrupt" not in err, err
    assert (
        out.strip() == f"isogate listening on http://127.0.0.1:{port} (data: {tmp_path / 'data'})"
    )


def test_port_in_use(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        r = run(None, tmp_path, "serve", "--port", str(port), "--data-dir", str(tmp_path / "d"))
    assert r.returncode == 1, r
    line = one_line(r.stderr)
    assert f"127.0.0.1:{port}" in line and "already in use" in line and "--port" in line, line
    # refused before anything started: no database was created
    assert not (tmp_path / "d" / "isogate.db").exists()


def test_missing_postgres_database(tmp_path: Path, pg_server: str) -> None:
    from sqlalchemy.engine import make_url

    url = make_url(pg_server).set(password="hunter2", database="isogate_no_such_db")
    dsn = url.render_as_string(hide_password=False)
    for args in (("migrate",), ("serve", "--port", str(free_port()))):
        r = run(None, tmp_path, *args, "--data-dir", str(tmp_path / "d"), ISOGATE_DATABASE_URL=dsn)
        assert r.returncode != 0, r
        line = one_line(r.stderr)
        assert "isogate_no_such_db" in line and "does not exist" in line, line
        assert "hunter2" not in r.stderr + r.stdout and "***" in line, line


def test_misspelt_setting_variable(tmp_path: Path) -> None:
    r = run(None, tmp_path, "migrate", "--data-dir", str(tmp_path / "d"), ISOGATE_PROT="9000")
    assert r.returncode == 2, r
    line = one_line(r.stderr)
    assert "ISOGATE_PROT" in line and "ISOGATE_PORT" in line, line
    assert not (tmp_path / "d").exists()


def _help(tmp_path: Path, *args: str) -> str:
    r = run(None, tmp_path, *args, "--help")
    assert r.returncode == 0 and r.stderr == "", r
    return r.stdout


def test_keys_help_lists_and_describes_actions(tmp_path: Path) -> None:
    text = _help(tmp_path, "keys")
    for action, words in {
        "create": "secret",
        "list": "expiry",
        "renew": "lease",
        "revoke": "at once",
    }.items():
        line = next((x for x in text.splitlines() if x.strip().startswith(action + " ")), "")
        assert words in line, (action, text)


def test_deploy_help_describes_every_option(tmp_path: Path) -> None:
    text = _help(tmp_path, "deploy")
    for option in ("--env", "--route", "--timeout-ms", "--cpu-ms", "--public", "--url", "--json"):
        assert option in text, option
    lines = text.splitlines()
    for option in ("--env", "--route"):  # the repeatable ones say so
        at = next(i for i, x in enumerate(lines) if x.strip().startswith(option))
        assert "repeat" in " ".join(lines[at : at + 3]), (option, text)
    assert "repeat" not in " ".join(x for x in lines if "--timeout-ms" in x)


def test_help_has_no_rst_markup(tmp_path: Path) -> None:
    commands = [
        (),
        ("serve",),
        ("migrate",),
        ("tenant",),
        ("tenant", "create"),
        ("login",),
        ("deploy",),
        ("invoke",),
        ("functions",),
        ("functions", "rollback"),
        ("keys",),
        ("keys", "create"),
        ("keys", "renew"),
        ("logs",),
    ]
    for args in commands:
        text = _help(tmp_path, *args)
        assert "``" not in text, (args, text)
    top = _help(tmp_path)
    for code in ("0 ", "1 ", "2 ", "3 ", "130"):
        assert f"  {code}" in top, top
