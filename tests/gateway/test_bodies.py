"""Which requests read a body: RFC 9112 framing for HTTP/1, always for HTTP/2."""

from __future__ import annotations

import pytest

from isogate.gateway.bodies import has_no_body


def scope(version: str, *headers: tuple[bytes, bytes]) -> dict:
    return {"type": "http", "http_version": version, "headers": [(b"host", b"x"), *headers]}


@pytest.mark.parametrize(
    ("s", "bodiless"),
    [
        (scope("1.1"), True),
        (scope("1.0"), True),
        (scope("1.1", (b"content-length", b"0")), False),
        (scope("1.1", (b"content-length", b"5")), False),
        (scope("1.1", (b"transfer-encoding", b"chunked")), False),
        # HTTP/2 and 3 may carry a body with neither header: it must be read
        (scope("2"), False),
        (scope("3"), False),
    ],
)
def test_only_unframed_http1_requests_skip_the_body_read(s: dict, bodiless: bool) -> None:
    assert has_no_body(s) is bodiless
