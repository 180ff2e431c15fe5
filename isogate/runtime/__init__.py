"""The JavaScript runtime: pre-warmed V8 isolates in executor threads of worker processes.

Importing this package does not import V8: only runtime worker processes do.
"""

from .errors import RuntimeStartError
from .supervisor import Runtime
from .types import (
    FunctionRef,
    InvokeRequest,
    InvokeResult,
    JSErrorInfo,
    Outcome,
    RuntimeStats,
    Timings,
    ValidationResult,
)

__all__ = [
    "FunctionRef",
    "InvokeRequest",
    "InvokeResult",
    "JSErrorInfo",
    "Outcome",
    "Runtime",
    "RuntimeStartError",
    "RuntimeStats",
    "Timings",
    "ValidationResult",
]
