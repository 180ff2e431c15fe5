"""Start V8 with the ICU data shipped in the stpyv8 wheel, for any user, root or not.

``import STPyV8`` initialises V8 and its ICU (``Intl``, ``toLocaleString``) from the first
of ``~/.local/share/stpyv8/icudtl.dat`` and ``/usr/share/stpyv8/icudtl.dat`` that exists,
after copying the wheel's data to both places it can write. Measured (stpyv8 13.1.201.22,
DESIGN.md): with the data found under ``~/.local`` every ``Intl.DateTimeFormat`` aborts
the process ("Fatal process out of memory: DateTimePatternGeneratorCache"); only
``/usr/share/stpyv8`` works, and only root can write there. A non-root install therefore
crashed on Intl.

When neither file exists, V8 reads ``icudtl.dat`` next to the path the platform was
created with. So :func:`start_v8` creates the platform itself, naming the wheel's own
``stpyv8-icu/icudtl.dat``, while ``HOME`` points at an empty folder holding only
stpyv8's version stamp: V8 then reads the packaged data (verified as a non-root user
with no ``/usr/share/stpyv8``, and with a poisoned ``~/.local`` copy present), and the
import's copying step finds the stamp and writes nothing. A system copy in
``/usr/share/stpyv8`` (the container image makes one) still takes precedence and works.
The runtime's start-up self-test checks Intl either way.
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
from importlib import resources
from pathlib import Path


def packaged_data() -> Path | None:
    """The wheel's ``stpyv8-icu/icudtl.dat``, or None when it is not a plain file."""
    try:
        path = Path(str(resources.files("stpyv8-icu") / "icudtl.dat"))
    except (ModuleNotFoundError, TypeError):
        return None
    return path if path.is_file() else None


def start_v8() -> None:
    """Initialise V8 (its platform and ICU) and import STPyV8; call before any other use.

    Set V8 flags (``_STPyV8.JSEngine.setFlags``) before calling this. Once STPyV8 has been
    imported V8 is initialised for good, so a later call does nothing.
    """
    if "STPyV8" in sys.modules:
        return
    import _STPyV8

    data = packaged_data()
    home = tempfile.mkdtemp(prefix="isogate-icu-")
    stamp = Path(home, ".local", "share", "stpyv8")
    stamp.mkdir(parents=True)
    # the version string stpyv8's copying step compares with (STPyV8.__version__)
    (stamp / "stpyv8-version.txt").write_text(_STPyV8.JSEngine.version)
    old_home = os.environ.get("HOME")
    # HOME is switched only while V8 starts, once per process, before the executor
    # threads exist (the worker) or while the caller waits on it (engine.py).
    os.environ["HOME"] = home
    try:
        if data is not None:
            _STPyV8.JSPlatform(str(data)).init()
        import STPyV8  # noqa: F401  (its platform init is now a no-op)
    finally:
        if old_home is None:
            os.environ.pop("HOME", None)
        else:
            os.environ["HOME"] = old_home
        shutil.rmtree(home, ignore_errors=True)
