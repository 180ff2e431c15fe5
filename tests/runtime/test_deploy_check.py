"""The deploy check (Runtime.validate): compiled in the runtime's own wrapper, top level
run once in a throwaway isolate of a check process, positions in the tenant's code."""

from __future__ import annotations

import asyncio

import pytest

from isogate.config.runtime import RuntimeSettings
from isogate.runtime import Runtime


@pytest.fixture
async def checker():
    # validate() needs no running worker: the check processes start on demand
    rt = Runtime(RuntimeSettings(workers=1, validation_processes=2))
    try:
        yield rt
    finally:
        await rt.close()


async def test_positions_are_in_the_uploaded_code(checker: Runtime) -> None:
    cases = {
        # a syntax error on line 1 (the wrapper opens on line 1: its offset must not leak)
        "export default { fetch() { return 1 +; } }": ("SyntaxError", 1, 38),
        "let a = ;": ("SyntaxError", 1, 9),
        # strict only in the wrapper a module loads in
        "export default { fetch() {} }\nwith (Math) { PI }": ("SyntaxError", 2, 1),
        "export default { fetch() {} }\nconst o = 010;": ("SyntaxError", 2, 11),
        # `export` and `default` on different lines: no line moves
        "export\ndefault\n{ fetch() {} }\n\nlet y = ;": ("SyntaxError", 5, 9),
        # top-level failures, found by running it once
        "throw new Error('boom at top')\nexport default { fetch() {} }": ("Error", 1, 7),
        "export default { fetch() {} }\n  const x = notDefinedAnywhere + 1": (
            "ReferenceError",
            2,
            13,
        ),
        "const x = 1;": ("TypeError", None, None),  # no handler at all
    }
    for source, (name, line, column) in cases.items():
        v = await checker.validate(source)
        assert not v.ok and v.error is not None and v.reason == "invalid", source
        assert (v.error.name, v.error.line, v.error.column) == (name, line, column), (source, v)


async def test_service_worker_bindings_are_globals_at_the_check_too(checker: Runtime) -> None:
    source = "const x = SECRET + 1;\naddEventListener('fetch', e => e.respondWith(new Response(x)))"
    assert (await checker.validate(source, (("SECRET", "s"),))).ok
    v = await checker.validate(source)
    assert not v.ok and v.error.name == "ReferenceError"


async def test_a_sloppy_script_keeps_sloppy_syntax(checker: Runtime) -> None:
    source = "with (Math) { PI }\naddEventListener('fetch', e => e.respondWith(new Response('')))"
    assert (await checker.validate(source)).ok


async def test_nesting_too_deep_to_parse_is_a_js_error(checker: Runtime) -> None:
    v = await checker.validate("[" * 100_000 + "]" * 100_000)
    assert not v.ok and v.error.name == "RangeError"
    assert "nested too deeply" in v.error.message


async def test_a_top_level_over_its_time_limit_is_refused(checker: Runtime) -> None:
    v = await checker.validate("for (;;) {}\nexport default { fetch() {} }", timeout_ms=200)
    assert not v.ok and v.reason == "timeout" and "200 ms" in v.error.message


async def test_a_heap_bomb_kills_only_its_check_process(checker: Runtime) -> None:
    bomb = "const a = []; for (;;) a.push(new Array(1e6).fill(1));\nexport default { fetch() {} }"
    # the longest time limit: memory, never the clock, stops it
    results = await asyncio.gather(*(checker.validate(bomb, timeout_ms=30000) for _ in range(3)))
    for v in results:
        assert not v.ok and v.reason == "crashed"
        assert v.error.message == "the code exhausted memory at load"
    assert checker.validation_crashes == 3
    # the next check gets a fresh process
    assert (await checker.validate("export default { fetch() {} }")).ok
