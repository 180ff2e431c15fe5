"""Redis settings: defaults, env vars, validation naming the key."""

from __future__ import annotations

import pytest

from isogate.config import SettingsError, load_settings


def test_redis_defaults_and_env(monkeypatch: pytest.MonkeyPatch) -> None:
    s = load_settings()
    assert (s.redis_url, s.redis_prefix, s.redis_failure_mode) == (None, "isogate:", "open")
    assert s.redis_timeout_seconds == 2.0  # bounded, yet above a loaded host's loop delay
    monkeypatch.setenv("ISOGATE_REDIS_URL", "redis://127.0.0.1:6379/3")
    monkeypatch.setenv("ISOGATE_REDIS_FAILURE_MODE", "closed")
    s = load_settings()
    assert (s.redis_url, s.redis_failure_mode) == ("redis://127.0.0.1:6379/3", "closed")


@pytest.mark.parametrize(
    ("env", "value", "named"),
    [
        ("ISOGATE_REDIS_URL", "http://localhost", "redis_url"),
        ("ISOGATE_REDIS_FAILURE_MODE", "maybe", "redis_failure_mode"),
        ("ISOGATE_REDIS_TIMEOUT_SECONDS", "0", "redis_timeout_seconds"),
    ],
)
def test_bad_redis_settings_are_named(
    monkeypatch: pytest.MonkeyPatch, env: str, value: str, named: str
) -> None:
    monkeypatch.setenv(env, value)
    with pytest.raises(SettingsError) as info:
        load_settings()
    assert named in str(info.value)
