"""Host data enters V8 only as source text (isogate/runtime/isolate.py, ``host_call``).

stpyv8 arms a crash in every context into which it converts a Python value
(``setattr`` on a JS object, a JS function called with Python arguments,
``JSContext(obj)``): when Python drops that context while its isolate lives on and
V8 collects it, a weak callback dereferences a cleared handle (SIGSEGV in
``v8::Context::Global``; DESIGN.md, "Memory and crashes"). This module keeps the
pattern out of the package: a static check of every module, and a crash test that
drives the runtime's own Sandbox through many dropped contexts with GC forced.
"""

from __future__ import annotations

import ast
import subprocess
import sys
import textwrap
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[2] / "isogate"


def _violations(tree: ast.AST) -> list[tuple[int, str]]:
    found: list[tuple[int, str]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            func = node.func
            # setattr(js_object, ...) converts a Python value into the context
            if isinstance(func, ast.Name) and func.id == "setattr":
                found.append((node.lineno, "setattr()"))
            # JSContext(obj): the object becomes the global, converted
            if (
                isinstance(func, ast.Attribute | ast.Name)
                and (func.attr if isinstance(func, ast.Attribute) else func.id) == "JSContext"
                and (node.args or node.keywords)
            ):
                found.append((node.lineno, "JSContext(<python value>)"))
        # ctx.locals / ctx.eval(...)(...) hand out JS objects that could then be called
        # with Python arguments or assigned to: nothing in the package needs them
        if isinstance(node, ast.Attribute) and node.attr == "locals":
            found.append((node.lineno, ".locals"))
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Call)
            and isinstance(node.func.func, ast.Attribute)
            and node.func.func.attr == "eval"
        ):
            found.append((node.lineno, "calling a JS value returned by eval()"))
    return found


def test_no_python_value_is_converted_into_a_context_anywhere_in_the_package() -> None:
    problems = []
    for path in sorted(PACKAGE.rglob("*.py")):
        for line, what in _violations(ast.parse(path.read_text(), str(path))):
            problems.append(f"{path.relative_to(PACKAGE.parent)}:{line}: {what}")
    assert problems == [], "host data must enter V8 only through host_call():\n" + "\n".join(
        problems
    )


def test_the_guard_catches_the_forbidden_patterns() -> None:
    bad = textwrap.dedent(
        """
        setattr(ctx.locals, "slot", value)
        STPyV8.JSContext(obj)
        ctx.eval("f")("python argument")
        """
    )
    whats = {what for _, what in _violations(ast.parse(bad))}
    assert whats == {
        "setattr()",
        ".locals",
        "JSContext(<python value>)",
        "calling a JS value returned by eval()",
    }


CHURN = textwrap.dedent(
    """
    import sys, threading
    import _STPyV8
    _STPyV8.JSEngine.setFlags("--expose-gc")  # this test only: gc() from JS
    from isogate.runtime.isolate import Host, Sandbox, check_source
    from isogate.runtime.types import InvokeRequest

    SRC = "export default { fetch(r) { return new Response('hi ' + r.url) } }"

    def main():
        host = Host()
        keeper = Sandbox(host, warm_up=False)  # keeps the isolate alive throughout
        for i in range(int(sys.argv[1])):
            sb = Sandbox(host, warm_up=False)
            sb.enter()
            try:
                sb.load(check_source(SRC), (("K", "v" * 64),), 1 << 20)
                body = ("x" * 1200).encode()
                r = sb.invoke(InvokeRequest("POST", f"http://t/{i}", (("a", "b"),), body))
                assert r.status == 200 and r.body == f"hi http://t/{i}".encode(), r
            finally:
                sb.leave()
            sb.close()  # the context is dropped while its isolate lives on
            if i % 25 == 24:
                keeper.enter()
                try:
                    keeper.eval_str("gc(); ''")  # V8 collects the dropped contexts
                finally:
                    keeper.leave()
        keeper.close()
        print("survived")

    threading.stack_size(16 << 20)
    t = threading.Thread(target=main)
    t.start()
    t.join()
    """
)


def test_many_dropped_contexts_with_forced_gc_do_not_crash() -> None:
    # Before the fix (setattr of each request) this died of SIGSEGV within seconds.
    proc = subprocess.run(
        [sys.executable, "-c", CHURN, "600"],
        capture_output=True,
        text=True,
        timeout=240,
        cwd=PACKAGE.parent,
    )
    assert proc.returncode == 0, (proc.returncode, proc.stderr[-2000:])
    assert proc.stdout.strip() == "survived"
