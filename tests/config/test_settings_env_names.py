"""Unknown ``ISOGATE_*`` environment variables are refused like a typo in the TOML file."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from isogate.config import SettingsError, load_settings
from isogate.config.settings import NON_SETTING_ENV, setting_env_names, unknown_env

ROOT = Path(__file__).resolve().parents[2]


def test_misspelt_variable_is_refused_with_a_suggestion(monkeypatch, tmp_path) -> None:
    monkeypatch.setenv("ISOGATE_PROT", "9000")
    with pytest.raises(SettingsError) as exc:
        load_settings(data_dir=tmp_path)
    message = str(exc.value)
    assert "ISOGATE_PROT" in message and "did you mean ISOGATE_PORT" in message
    assert "\n" not in message


def test_nested_names() -> None:
    names = setting_env_names()
    assert names["ISOGATE_RUNTIME__WORKERS"] == "runtime.workers"
    assert names["ISOGATE_DEFAULT_RATE_LIMIT__BURST"] == "default_rate_limit.burst"
    assert "ISOGATE_RUNTIME" in names  # a whole table as JSON is a setting too
    assert unknown_env({"ISOGATE_RUNTIME__WORKERS": "2", "isogate_port": "1"}) == []
    (msg,) = unknown_env({"ISOGATE_RUNTIME__WORKRS": "2"})
    assert "did you mean ISOGATE_RUNTIME__WORKERS (runtime.workers)" in msg
    (msg,) = unknown_env({"ISOGATE_RUNTIME_WORKERS": "2"})  # one underscore instead of two
    assert "ISOGATE_RUNTIME__WORKERS" in msg
    (msg,) = unknown_env({"ISOGATE_XYZZY": "1"})
    assert msg == "ISOGATE_XYZZY is not a setting"
    assert unknown_env({"PATH": "/bin", "OTHER_PORT": "1"}) == []


def test_non_setting_names_are_accepted() -> None:
    assert unknown_env(dict.fromkeys(NON_SETTING_ENV, "1")) == []
    assert not NON_SETTING_ENV & set(setting_env_names())


def test_every_name_the_repository_uses_is_accepted() -> None:
    """Tests, scripts, the chart, the image and the docs set only names that load."""
    pattern = re.compile(r"\bISOGATE_[A-Z0-9_]*[A-Z0-9]\b")
    # ISOGATE_EXTRAS is a Docker build argument (pip extras), never seen by isogate
    not_runtime = {"ISOGATE_EXTRAS"}
    # the typos the tests and the README use on purpose
    not_runtime |= {"ISOGATE_PROT", "ISOGATE_RUNTIME__WORKRS", "ISOGATE_RUNTIME_WORKERS"}
    not_runtime |= {"ISOGATE_XYZZY"}
    found: dict[str, str] = {}
    for folder in ("tests", "scripts", "helm", "docs", "bench", ".ci"):
        for path in (ROOT / folder).rglob("*"):
            if path.is_file() and path.suffix in {
                ".py",
                ".sh",
                ".yaml",
                ".yml",
                ".tpl",
                ".md",
                ".txt",
                ".json",
                "",
            }:
                for name in pattern.findall(path.read_text(errors="replace")):
                    found.setdefault(name, str(path.relative_to(ROOT)))
    for path in (ROOT / "Dockerfile", ROOT / "README.md"):
        for name in pattern.findall(path.read_text()):
            found.setdefault(name, path.name)
    used = {n: where for n, where in found.items() if n not in not_runtime and n != "ISOGATE_S"}
    assert len(used) > 20, used
    problems = unknown_env(dict.fromkeys(used, "1"))
    assert problems == [], [(p, used[p.split()[0]]) for p in problems]
