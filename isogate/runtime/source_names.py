"""The names the load wrapper, the syntax walk and the linker share, and their error.

source.py wraps a tenant's code in a function whose variables these name; the syntax
walk (module_syntax.py) rewrites ``export default`` and ``import.meta`` into those same
variables, and linker.py declares them in each linked module. All three refuse code
with :class:`SourceError`. A module of its own so that the walk and the wrapper, which
imports the walk, need not import each other for them.
"""

from __future__ import annotations

from .types import JSErrorInfo

#: the name V8 reports the tenant's code under (in positions and stack frames)
SCRIPT_NAME = "worker.js"
#: the wrapper's variable that receives the default export. Exactly as long as ``export``
#: so that rewriting ``export default`` moves no column of the tenant's code.
EXPORT_VAR = "__ig$d"
#: ``import.meta`` becomes this variable: exactly as long as ``import.meta``
META_VAR = "__ig$import"
#: what ``import.meta.url`` is for the main module
MODULE_URL = "file:///worker.js"
#: how the runtime evaluates the wrapped code (``Sandbox.load``); the deploy check
#: compiles the very same text, so what deploys, loads
LOAD_CALL = "__isogate.load("


class SourceError(Exception):
    """The source cannot be loaded; ``info`` names the line and column (1-based)."""

    def __init__(self, info: JSErrorInfo) -> None:
        super().__init__(info.message)
        self.info = info
