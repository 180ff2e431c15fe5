"""A non-root user runs the README's `isogate serve` and gets working Intl.

Before isogate started V8 itself (isogate/runtime/icu.py), stpyv8's import copied its ICU
data to /usr/share/stpyv8 when it could (root) and to ~/.local/share/stpyv8 otherwise;
V8 then read the ~/.local copy and every Intl.DateTimeFormat aborted the process, so the
runtime's self-test refused to start for any non-root user.

This test reproduces a machine where root never imported stpyv8: in a private mount
namespace /usr/share/stpyv8 is an empty root-owned folder (nothing else on the machine
sees that), and the gateway runs as the unprivileged user ``nobody`` with a fresh HOME,
from a fresh virtualenv made by the system Python whose packages are this checkout's
(a .pth file; reinstalling every dependency from the registry would only test pip).
Setting that up needs root (runuser, a mount namespace), so the test is skipped when not
run as root: CI runs as root.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import sysconfig
import tempfile
import time
from pathlib import Path

import httpx
import pytest

pytestmark = [
    pytest.mark.timeout(240),
    pytest.mark.skipif(
        os.geteuid() != 0,
        reason="needs root to run as another user (runuser) in a private mount namespace",
    ),
]

USER = "nobody"
INTL = (
    "export default { fetch() { return new Response("
    "new Intl.DateTimeFormat('en-US', {timeZone: 'UTC', dateStyle: 'long'}).format(new Date(0))"
    " + '|' + (1234.5).toLocaleString('de-DE')) } };"
)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def system_python() -> str:
    """The system's python3.X of this minor version (this venv's may live under /root)."""
    name = f"python{sys.version_info.major}.{sys.version_info.minor}"
    for candidate in (f"/usr/bin/{name}", f"/usr/local/bin/{name}"):
        if os.access(candidate, os.X_OK):
            return candidate
    raise AssertionError(f"no system {name} for the non-root user")


def as_user(*cmd: str, **kw) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["runuser", "-u", USER, "--", *cmd], capture_output=True, text=True, timeout=120, **kw
    )


def _open_traversal(paths: list[str]) -> list[tuple[Path, int]]:
    """Let others traverse the folders above ``paths`` (a clone under ``mktemp -d`` is
    0700): the non-root user must reach this checkout and its virtualenv. Returns the
    modes changed, to restore afterwards."""
    changed = []
    for path in paths:
        for folder in Path(path).resolve().parents:
            mode = folder.stat().st_mode & 0o7777
            if not mode & 0o001:
                folder.chmod(mode | 0o001)
                changed.append((folder, mode))
    return changed


def test_serve_as_non_root_user_with_intl() -> None:
    for tool in ("unshare", "runuser", "mount"):
        assert shutil.which(tool), f"{tool} is missing"
    opened = _open_traversal([sysconfig.get_paths()["purelib"], __file__])
    try:
        _serve_as_non_root_user_with_intl()
    finally:
        for folder, mode in opened:
            folder.chmod(mode)


def _serve_as_non_root_user_with_intl() -> None:
    root = Path(tempfile.mkdtemp(prefix="isogate-nonroot-", dir="/tmp"))
    root.chmod(0o755)
    shutil.chown(root, USER)
    proc: subprocess.Popen[str] | None = None
    try:
        for d in ("home", "data"):
            (root / d).mkdir()
            shutil.chown(root / d, USER)
        venv = root / "venv"
        r = as_user(system_python(), "-m", "venv", "--without-pip", str(venv))
        assert r.returncode == 0, r.stderr
        site = venv / "lib" / f"python{sys.version_info.major}.{sys.version_info.minor}"
        ours = sysconfig.get_paths()["purelib"]
        (site / "site-packages" / "isogate-checkout.pth").write_text(
            f"import site; site.addsitedir({ours!r})\n"
        )
        r = as_user(str(venv / "bin" / "python"), "-c", "import isogate, STPyV8")
        assert r.returncode == 0, f"this checkout is not readable by {USER}: {r.stderr}"

        port = free_port()
        env = {k: v for k, v in os.environ.items() if not k.startswith("ISOGATE_")}
        env.pop("PYTHONPATH", None)
        serve = (
            f"env HOME={root / 'home'} ISOGATE_RUNTIME__PREWARM_ISOLATES=1 "
            f"ISOGATE_LOG_LEVEL=warning {venv / 'bin' / 'python'} -m isogate.cli "
            f"serve --port {port} --data-dir {root / 'data'}"
        )
        script = (
            "set -e; if [ -d /usr/share/stpyv8 ]; then "
            "mount -t tmpfs -o mode=0755 tmpfs /usr/share/stpyv8; fi; "
            "test ! -e /usr/share/stpyv8/icudtl.dat; "
            f"exec runuser -u {USER} -- {serve}"
        )
        proc = subprocess.Popen(
            ["unshare", "--mount", "--propagation", "private", "sh", "-c", script],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            start_new_session=True,
        )
        url = f"http://127.0.0.1:{port}"
        for _ in range(1200):
            assert proc.poll() is None, proc.communicate()
            try:
                if httpx.get(url + "/readyz", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        else:
            raise AssertionError("the gateway never became ready")

        with httpx.Client(base_url=url, timeout=60) as c:
            creds = {"name": "nonroot", "password": "correct-horse"}
            assert c.post("/v1/tenants", json=creds).status_code == 201
            token = c.post("/v1/auth/token", json=creds).json()["access_token"]
            r = c.put(
                "/v1/functions/intl",
                json={"code": INTL, "public": True},
                headers={"authorization": f"Bearer {token}"},
            )
            assert r.status_code == 201, r.text
            r = c.get("/fn/intl")
        assert r.status_code == 200 and r.text == "January 1, 1970|1.234,5", r.text
        # nothing was copied into the user's HOME (that copy is what broke Intl)
        assert not list((root / "home").rglob("icudtl.dat"))
    finally:
        if proc is not None:
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGTERM)
                try:
                    proc.wait(60)
                except subprocess.TimeoutExpired:
                    os.killpg(proc.pid, signal.SIGKILL)
                    proc.wait()
            proc.communicate()
        shutil.rmtree(root, ignore_errors=True)
