"""Token signing key in the data dir, token issue/verify, pinned algorithm."""

from __future__ import annotations

from pathlib import Path

import jwt
import pytest

from isogate.config import Settings
from isogate.gateway.auth import TokenIssuer, load_jwt_secret
from isogate.gateway.problems import Problem


def test_generated_secret_is_kept_0600(tmp_path: Path) -> None:
    s = Settings(data_dir=tmp_path / "d")
    first = load_jwt_secret(s)
    assert len(first) >= 32
    assert (tmp_path / "d" / "jwt_secret").stat().st_mode & 0o777 == 0o600
    assert load_jwt_secret(s) == first


def test_configured_secret(tmp_path: Path) -> None:
    assert load_jwt_secret(Settings(data_dir=tmp_path, jwt_secret="k" * 40)) == b"k" * 40
    with pytest.raises(ValueError, match="ISOGATE_JWT_SECRET"):
        load_jwt_secret(Settings(data_dir=tmp_path, jwt_secret="short"))


def test_issue_verify_and_refusals() -> None:
    issuer = TokenIssuer(b"s" * 64, 60)
    token = issuer.issue("acme")
    assert issuer.verify(token) == "acme"
    other = TokenIssuer(b"t" * 64, 60)
    with pytest.raises(Problem) as info:
        other.verify(token)
    assert info.value.status == 401
    expired = TokenIssuer(b"s" * 64, -120).issue("acme")
    with pytest.raises(Problem, match="expired"):
        issuer.verify(expired)
    hs512 = jwt.encode(
        {"sub": "acme", "iat": 1, "exp": 2**40, "iss": "isogate"}, b"s" * 64, algorithm="HS512"
    )
    with pytest.raises(Problem):
        issuer.verify(hs512)
