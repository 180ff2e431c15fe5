"""Settings: defaults, env vars (nested), TOML file, precedence, errors naming the key."""

from __future__ import annotations

from pathlib import Path

import pytest

from isogate.config import Settings, SettingsError, load_settings


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    import os

    for k in list(os.environ):
        if k.startswith("ISOGATE_"):
            monkeypatch.delenv(k)


def test_defaults() -> None:
    s = load_settings()
    assert s.host == "127.0.0.1"
    assert s.port == 8000
    assert s.data_dir == Path("./isogate-data")
    assert s.database_url is None and s.redis_url is None and s.s3_endpoint is None
    assert s.effective_database_url.startswith("sqlite+aiosqlite:///")
    assert s.runtime.workers >= 1


def test_env_vars_and_nested(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ISOGATE_PORT", "9100")
    monkeypatch.setenv("ISOGATE_OPEN_REGISTRATION", "false")
    monkeypatch.setenv("ISOGATE_RUNTIME__WORKERS", "3")
    monkeypatch.setenv("ISOGATE_ADMIN_TOKEN", "s3cret")
    s = load_settings()
    assert s.port == 9100
    assert s.open_registration is False
    assert s.runtime.workers == 3
    assert s.admin_token is not None and s.admin_token.get_secret_value() == "s3cret"
    assert "s3cret" not in repr(s)


def test_toml_file_and_precedence(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    cfg = tmp_path / "isogate.toml"
    cfg.write_text('port = 9001\nhost = "0.0.0.0"\n[runtime]\nworkers = 2\nmax_queue = 7\n')
    monkeypatch.setenv("ISOGATE_RUNTIME__MAX_QUEUE", "9")
    s = load_settings(cfg, host="127.0.0.2")
    assert s.port == 9001  # from the file
    assert s.host == "127.0.0.2"  # override beats file
    assert s.runtime.workers == 2  # file, merged with env for the same table
    assert s.runtime.max_queue == 9  # env beats file
    monkeypatch.setenv("ISOGATE_CONFIG", str(cfg))
    assert load_settings().port == 9001


@pytest.mark.parametrize(
    ("env", "value", "named"),
    [
        ("ISOGATE_PORT", "not-a-port", "ISOGATE_PORT"),
        ("ISOGATE_PORT", "70000", "ISOGATE_PORT"),
        ("ISOGATE_RUNTIME__WORKERS", "0", "ISOGATE_RUNTIME__WORKERS"),
        ("ISOGATE_TOKEN_TTL_SECONDS", "1", "ISOGATE_TOKEN_TTL_SECONDS"),
        ("ISOGATE_DATABASE_URL", "mysql://x", "database_url"),
    ],
)
def test_bad_setting_names_key(
    monkeypatch: pytest.MonkeyPatch, env: str, value: str, named: str
) -> None:
    monkeypatch.setenv(env, value)
    with pytest.raises(SettingsError) as info:
        load_settings()
    assert named in str(info.value)


def test_unknown_toml_key_and_missing_file(tmp_path: Path) -> None:
    cfg = tmp_path / "c.toml"
    cfg.write_text("prot = 1\n")
    with pytest.raises(SettingsError, match="prot"):
        load_settings(cfg)
    with pytest.raises(SettingsError, match="no file"):
        load_settings(tmp_path / "missing.toml")
    bad = tmp_path / "bad.toml"
    bad.write_text("port = = 1")
    with pytest.raises(SettingsError):
        load_settings(bad)


def test_settings_frozen() -> None:
    s = Settings()
    with pytest.raises(ValueError):
        s.port = 1  # type: ignore[misc]
