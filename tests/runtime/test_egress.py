"""Egress policy decisions as pure functions: nothing here connects anywhere."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from isogate.config.egress import EgressSettings
from isogate.runtime.egress import EgressPolicy


def policy(allow=(), deny=(), listen=(), local=()) -> EgressPolicy:
    return EgressPolicy(EgressSettings(allow=list(allow), deny=list(deny)), listen, local)


REFUSED = [
    ("127.0.0.1", "loopback"),
    ("127.0.0.2", "loopback"),
    ("::1", "loopback"),
    ("0.0.0.0", "unspecified"),
    ("::", "unspecified"),
    ("10.1.2.3", "private"),
    ("172.16.0.1", "private"),
    ("172.31.255.255", "private"),
    ("192.168.1.1", "private"),
    ("169.254.169.254", "link-local"),
    ("fe80::1", "link-local"),
    ("fe80::1%eth0", "link-local"),
    ("100.64.0.1", "CGNAT"),
    ("fc00::1", "unique local"),
    ("fd12:3456::1", "unique local"),
    ("224.0.0.1", "multicast"),
    ("239.255.255.250", "multicast"),
    ("ff02::1", "multicast"),
    ("255.255.255.255", "reserved"),
    ("240.0.0.1", "reserved"),
    ("192.0.2.1", "documentation"),
    ("::ffff:127.0.0.1", "loopback"),
    ("::ffff:169.254.169.254", "link-local"),
    ("::ffff:10.0.0.1", "private"),
    ("64:ff9b::7f00:1", "NAT64"),
    ("64:ff9b::a9fe:a9fe", "NAT64"),
    ("2002:7f00:1::", "6to4"),
    ("::127.0.0.1", "reserved"),
]


@pytest.mark.parametrize(("ip", "word"), REFUSED)
def test_refused_by_default(ip: str, word: str) -> None:
    d = policy().check_address("example.com", ip, 80)
    assert not d.allowed
    assert word in d.reason
    assert ip not in d.reason  # the resolved address is not told to the tenant


@pytest.mark.parametrize(
    "ip",
    [
        "93.184.215.14",
        "1.1.1.1",
        "8.8.8.8",
        "2606:4700::1111",
        "::ffff:1.1.1.1",
        "64:ff9b::101:101",
        "172.32.0.1",
        "100.128.0.1",
    ],
)
def test_public_allowed(ip: str) -> None:
    assert policy().check_address("example.com", ip, 443).allowed


def test_localhost_names_refused_before_resolving() -> None:
    p = policy(allow=["127.0.0.1"])
    for name in ("localhost", "LOCALHOST.", "api.localhost"):
        d = p.check_host(name)
        assert not d.allowed and "localhost" in d.reason
    assert p.check_host("example.com").allowed
    assert p.check_host("127.0.0.1").allowed  # literals are decided by check_address
    assert policy(allow=["localhost"]).check_host("localhost").allowed


def test_allow_widens_deny_narrows_and_wins() -> None:
    p = policy(
        allow=["10.0.0.0/8", "internal.corp", "*.svc.local"], deny=["10.9.0.0/16", "bad.svc.local"]
    )
    assert p.check_address("x", "10.1.1.1", 80).allowed
    assert not p.check_address("x", "10.9.1.1", 80).allowed
    assert "denied" in p.check_address("x", "10.9.1.1", 80).reason
    assert p.check_address("internal.corp", "192.168.5.5", 80).allowed  # by name
    assert p.check_address("a.svc.local", "192.168.5.5", 80).allowed
    assert not p.check_address("svc.local", "192.168.5.5", 80).allowed  # wildcard: below only
    assert not p.check_host("bad.svc.local").allowed
    assert not p.check_address("bad.svc.local", "1.1.1.1", 80).allowed
    assert not p.check_address("x", "192.168.5.5", 80).allowed
    # an allowed IPv4 covers its IPv4-mapped spelling; a denied one too
    assert p.check_address("x", "::ffff:10.1.1.1", 80).allowed
    assert not p.check_address("x", "::ffff:10.9.1.1", 80).allowed


def test_deny_public() -> None:
    p = policy(deny=["1.1.1.0/24", "*.example.com", "2606:4700::/32"])
    assert not p.check_address("x", "1.1.1.1", 443).allowed
    assert not p.check_host("www.example.com").allowed
    assert p.check_host("example.com").allowed
    assert not p.check_address("x", "2606:4700::1111", 443).allowed


def test_own_address_always_refused() -> None:
    p = policy(allow=["127.0.0.1", "10.0.0.0/8"], listen=[("127.0.0.1", 8000)])
    assert not p.check_address("x", "127.0.0.1", 8000).allowed
    assert "own" in p.check_address("x", "127.0.0.1", 8000).reason
    assert not p.check_address("x", "::ffff:127.0.0.1", 8000).allowed
    assert p.check_address("x", "127.0.0.1", 8001).allowed
    p = policy(
        allow=["0.0.0.0/0", "::/0"], listen=[("0.0.0.0", 8000)], local=["10.0.0.5", "203.0.114.7"]
    )
    for ip in (
        "127.0.0.1",
        "127.5.5.5",
        "::1",
        "0.0.0.0",
        "10.0.0.5",
        "203.0.114.7",
        "::ffff:10.0.0.5",
    ):
        assert not p.check_address("x", ip, 8000).allowed, ip
    assert p.check_address("x", "10.0.0.6", 8000).allowed
    assert p.check_address("x", "203.0.114.7", 443).allowed
    assert (
        not policy(allow=["0.0.0.0/0"], listen=[("::", 9)])
        .check_address("x", "127.0.0.1", 9)
        .allowed
    )


@pytest.mark.parametrize(
    "bad", ["http://x", "10.0.0.1/8", "host:80", "*.", "a..b", "", "exa mple.com"]
)
def test_bad_entries_named(bad: str) -> None:
    with pytest.raises(ValidationError) as exc:
        EgressSettings(allow=[bad])
    assert repr(bad) in str(exc.value)


def test_env_var(monkeypatch, tmp_path) -> None:
    from isogate.config import load_settings

    monkeypatch.setenv("ISOGATE_EGRESS__ALLOW", '["127.0.0.1"]')
    monkeypatch.setenv("ISOGATE_EGRESS__MAX_SUBREQUESTS", "7")
    s = load_settings(data_dir=tmp_path)
    assert s.egress.allow == ["127.0.0.1"] and s.egress.max_subrequests == 7
