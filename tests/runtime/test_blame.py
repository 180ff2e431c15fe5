"""The crash-attribution rule (isogate/runtime/blame.py), as a unit."""

from __future__ import annotations

from isogate.runtime.blame import Attribution, crash_reason


def test_deaths_are_classified_by_cause() -> None:
    assert crash_reason(-11, False, []) == "signal"  # SIGSEGV: a native fault
    assert crash_reason(-6, False, ["abort"]) == "signal"
    assert (
        crash_reason(-6, False, ["# Fatal JavaScript out of memory: Reached heap limit"]) == "oom"
    )
    assert crash_reason(-9, True, []) == "killed"  # the supervisor killed it (wedged)
    assert crash_reason(70, False, ["over its memory limit"]) == "exit"


def test_a_runtime_fault_strikes_nobody_the_first_time() -> None:
    a = Attribution(window_seconds=600)
    alone = a.judge("signal", {"f@1"}, pid=100, now=0.0)
    assert alone.strike == set() and alone.suspects == set()
    several = a.judge("signal", {"g@1", "h@1"}, pid=101, now=1.0)
    assert several.strike == set() and several.suspects == set()


def test_a_function_at_faults_of_different_workers_is_struck() -> None:
    a = Attribution(window_seconds=600)
    assert a.judge("signal", {"f@1", "g@1"}, pid=100, now=0.0).strike == set()
    # the same process cannot die twice; a second fault in another process with f running
    assert a.judge("signal", {"f@1"}, pid=101, now=5.0).strike == {"f@1"}
    assert a.judge("signal", {"f@1"}, pid=102, now=6.0).strike == {"f@1"}
    # g was there once only: still a bystander
    assert a.judge("signal", {"g@1"}, pid=103, now=7.0 + 600).strike == set()


def test_implication_expires_with_the_window() -> None:
    a = Attribution(window_seconds=10)
    a.judge("signal", {"f@1"}, pid=100, now=0.0)
    assert a.judge("signal", {"f@1"}, pid=101, now=11.0).strike == set()


def test_tenant_kind_deaths_keep_the_solo_rule() -> None:
    a = Attribution(window_seconds=600)
    assert a.judge("oom", {"bomb@1"}, pid=1, now=0.0).strike == {"bomb@1"}
    v = a.judge("oom", {"bomb@1", "bystander@1"}, pid=2, now=1.0)
    assert v.strike == set() and v.suspects == {"bomb@1", "bystander@1"}
    assert a.judge("killed", {"wedge@1"}, pid=3, now=2.0).strike == {"wedge@1"}


def test_forget_drops_a_redeployed_functions_history() -> None:
    a = Attribution(window_seconds=600)
    a.judge("signal", {"f@1"}, pid=1, now=0.0)
    a.forget("f@")
    assert a.judge("signal", {"f@1"}, pid=2, now=1.0).strike == set()


def test_fault_histories_are_bounded_least_recently_implicated_first(monkeypatch) -> None:
    import isogate.runtime.blame as blame

    monkeypatch.setattr(blame, "IMPLICATED_ENTRIES", 2)
    a = Attribution(window_seconds=600)
    a.judge("signal", {"old"}, pid=1, now=0)
    a.judge("signal", {"kept"}, pid=1, now=1)
    a.judge("signal", {"kept"}, pid=2, now=2)  # kept: the most recently implicated
    a.judge("signal", {"new"}, pid=1, now=3)  # the bound is 2: "old" is forgotten
    assert a.judge("signal", {"old"}, pid=2, now=4).strike == set()  # its pid 1 fault is gone
    assert a.judge("signal", {"new"}, pid=2, now=5).strike == {"new"}
