"""The in-process Engine starts V8 with the wheel's ICU data too (isogate/runtime/icu.py)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from .test_runtime import _poisoned_home

SCRIPT = """
from isogate.runtime.engine import Engine
from isogate.runtime.types import InvokeRequest
with Engine() as e:
    e.load("export default { fetch() { return new Response(new Intl.DateTimeFormat("
           "'en-US', {timeZone: 'UTC', dateStyle: 'long'}).format(new Date(0))) } }")
    print(e.invoke(InvokeRequest('GET', 'http://x.test/')).body.decode())
"""


def test_engine_intl_with_icu_data_in_home(tmp_path: Path) -> None:
    # a HOME holding the copy that made Intl abort the process (a non-root import writes it)
    _poisoned_home(tmp_path)
    env = {**os.environ, "HOME": str(tmp_path)}
    r = subprocess.run(
        [sys.executable, "-c", SCRIPT], env=env, capture_output=True, text=True, timeout=120
    )
    assert r.returncode == 0, r.stderr[-2000:]
    assert r.stdout == "January 1, 1970\n"
