"""Settings of the PostgreSQL and S3 backends: env vars, TOML, URL forms, errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from isogate.config import SettingsError, load_settings


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    import os

    for k in list(os.environ):
        if k.startswith("ISOGATE_"):
            monkeypatch.delenv(k)


def test_database_url_forms(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ISOGATE_DATABASE_URL", "postgresql://u:p@db:5432/isogate")
    s = load_settings()
    assert s.effective_database_url == "postgresql+asyncpg://u:p@db:5432/isogate"
    s = load_settings(database_url=f"sqlite:///{tmp_path}/x.db")
    assert s.effective_database_url == f"sqlite+aiosqlite:///{tmp_path}/x.db"
    with pytest.raises(SettingsError, match="database_url"):
        load_settings(database_url="mysql://db/x")


def test_s3_settings_from_env_and_toml(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    cfg = tmp_path / "isogate.toml"
    cfg.write_text(
        'database_url = "postgresql://postgres@127.0.0.1/isogate"\n'
        's3_endpoint = "http://127.0.0.1:8333"\n'
        's3_bucket = "code"\n'
        's3_prefix = "prod/"\n'
        "s3_create_bucket = false\n"
    )
    s = load_settings(cfg)
    assert s.database_url == "postgresql://postgres@127.0.0.1/isogate"
    assert (s.s3_endpoint, s.s3_bucket, s.s3_prefix) == ("http://127.0.0.1:8333", "code", "prod/")
    assert s.s3_create_bucket is False and s.s3_access_key is None
    monkeypatch.setenv("ISOGATE_S3_BUCKET", "other")
    monkeypatch.setenv("ISOGATE_S3_REGION", "eu-west-1")
    monkeypatch.setenv("ISOGATE_S3_ACCESS_KEY", "AK")
    monkeypatch.setenv("ISOGATE_S3_SECRET_KEY", "SK")
    s = load_settings(cfg)
    assert (s.s3_bucket, s.s3_region) == ("other", "eu-west-1")
    assert s.s3_secret_key is not None and s.s3_secret_key.get_secret_value() == "SK"
    assert "SK" not in repr(s)
    monkeypatch.delenv("ISOGATE_S3_BUCKET")
    with pytest.raises(SettingsError, match="s3_endpoint and s3_bucket"):
        load_settings(s3_endpoint="http://x")
