"""Egress policy: which hosts and addresses a tenant's ``fetch`` may reach.

Pure decisions, no I/O. The fetcher (:mod:`isogate.runtime.fetcher`) calls
:meth:`EgressPolicy.check_host` with the URL's host before resolving it, then
:meth:`EgressPolicy.check_address` with each resolved address, and connects only to an
address that was allowed. The exact rules are in docs/operations.md, "Egress".

Reasons are shown to tenants: they name a category ("private address"), never the
resolved address (that would let a tenant map internal DNS) nor Python text.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from dataclasses import dataclass

from isogate.config.egress import EgressSettings, IPNetwork, parse_entry

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

_n = ipaddress.ip_network

# Refused unless egress.allow names them (by address or by hostname). Order matters only
# for the reason given: the first containing network names it.
_DEFAULT_REFUSED: tuple[tuple[IPNetwork, str], ...] = (
    # IPv4
    (_n("0.0.0.0/8"), "unspecified address"),  # "this network"; 0.0.0.0 reaches the host
    (_n("127.0.0.0/8"), "loopback address"),
    (_n("10.0.0.0/8"), "private address"),
    (_n("172.16.0.0/12"), "private address"),
    (_n("192.168.0.0/16"), "private address"),
    (_n("100.64.0.0/10"), "shared address space (CGNAT)"),
    (_n("169.254.0.0/16"), "link-local address"),  # cloud metadata 169.254.169.254
    (_n("192.0.0.0/24"), "reserved address"),  # IETF protocol assignments
    (_n("192.0.2.0/24"), "documentation address"),
    (_n("198.51.100.0/24"), "documentation address"),
    (_n("203.0.113.0/24"), "documentation address"),
    (_n("192.88.99.0/24"), "reserved address"),  # former 6to4 relay anycast
    (_n("198.18.0.0/15"), "benchmarking address"),
    (_n("224.0.0.0/4"), "multicast address"),
    (_n("240.0.0.0/4"), "reserved address"),  # 255.255.255.255 (broadcast) included
    # IPv6 (IPv4-mapped ::ffff:0:0/96 is checked as the IPv4 address it stands for)
    (_n("::1/128"), "loopback address"),
    (_n("::/128"), "unspecified address"),
    (_n("::/96"), "reserved address"),  # deprecated IPv4-compatible addresses
    (_n("64:ff9b:1::/48"), "reserved address"),  # local-use NAT64 (RFC 8215)
    (_n("100::/64"), "reserved address"),  # discard-only
    (_n("2001::/32"), "reserved address"),  # Teredo: tunnels to an embedded IPv4
    (_n("2001:2::/48"), "benchmarking address"),
    (_n("2001:10::/28"), "reserved address"),  # ORCHID
    (_n("2001:20::/28"), "reserved address"),  # ORCHIDv2
    (_n("2001:db8::/32"), "documentation address"),
    (_n("3fff::/20"), "documentation address"),
    (_n("5f00::/16"), "reserved address"),  # SRv6 SIDs
    (_n("fc00::/7"), "unique local address"),
    (_n("fe80::/10"), "link-local address"),
    (_n("fec0::/10"), "site-local address"),  # deprecated, still routed by some stacks
    (_n("ff00::/8"), "multicast address"),
)

# Addresses that carry an IPv4 address a gateway translates to: refused when that IPv4
# address is refused (64:ff9b::7f00:1 is 127.0.0.1 behind a NAT64 gateway).
_NAT64 = _n("64:ff9b::/96")
_6TO4 = _n("2002::/16")

_WILDCARD_HOSTS = frozenset({"", "0.0.0.0", "::", "*"})


@dataclass(frozen=True, slots=True)
class Decision:
    """The answer of a policy check; ``reason`` is plain text safe to show a tenant."""

    allowed: bool
    reason: str


ALLOWED = Decision(True, "allowed")


def normalize_host(hostname: str) -> str:
    """The form of a URL host that rules are matched against: lower case, no trailing
    dot, IPv6 literals without brackets."""
    host = hostname.strip().lower()
    if host.startswith("[") and host.endswith("]"):
        host = host[1:-1]
    return host.removesuffix(".")


def parse_ip(text: str | IPAddress) -> IPAddress | None:
    """An address from a resolver or a URL; ``None`` when it is none. An IPv6 zone
    (``fe80::1%eth0``) is dropped: the address is link-local and refused anyway."""
    if isinstance(text, ipaddress.IPv4Address | ipaddress.IPv6Address):
        return text
    try:
        return ipaddress.ip_address(normalize_host(text).split("%", 1)[0])
    except ValueError:
        return None


def _unmap(ip: IPAddress) -> IPAddress:
    """``::ffff:a.b.c.d`` is the IPv4 address a.b.c.d to the kernel: check it as such."""
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    return ip


def _embedded_ipv4(ip: IPAddress) -> ipaddress.IPv4Address | None:
    if not isinstance(ip, ipaddress.IPv6Address):
        return None
    if ip in _NAT64:
        return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    if ip.sixtofour is not None:
        return ip.sixtofour
    return None


def _default_refusal(ip: IPAddress) -> str | None:
    """Why ``ip`` (already unmapped) is refused by default, or ``None`` when public."""
    for net, reason in _DEFAULT_REFUSED:
        if ip.version == net.version and ip in net:
            return reason
    inner = _embedded_ipv4(ip)
    if inner is not None:
        inner_reason = _default_refusal(inner)
        if inner_reason is not None:
            return f"{inner_reason} (behind {'NAT64' if ip in _NAT64 else '6to4'})"
    return None


def _name_matches(host: str, patterns: Iterable[str]) -> bool:
    for pattern in patterns:
        if pattern.startswith("*."):
            if host.endswith(pattern[1:]):  # "*.example.com": a name below example.com
                return True
        elif host == pattern:
            return True
    return False


class _Rules:
    """One list (allow or deny) split into hostname patterns and networks."""

    __slots__ = ("names", "nets")

    def __init__(self, entries: Iterable[str]) -> None:
        self.names: list[str] = []
        self.nets: list[IPNetwork] = []
        for entry in entries:
            parsed = parse_entry(entry)
            if isinstance(parsed, str):
                self.names.append(parsed)
            else:
                self.nets.append(parsed)

    def has_name(self, host: str) -> bool:
        return _name_matches(host, self.names)

    def has_ip(self, ip: IPAddress) -> bool:
        # an entry of either spelling matches: 127.0.0.1 matches ::ffff:127.0.0.1 too
        for candidate in {ip, _unmap(ip)}:
            for net in self.nets:
                if candidate.version == net.version and candidate in net:
                    return True
        return False


class EgressPolicy:
    """Decisions of one gateway process, from its settings and its listening sockets.

    ``listen``: the gateway's own ``(host, port)`` pairs. A specific IP refuses that IP and
    port; ``0.0.0.0``, ``::``, an empty host or a hostname means every local address:
    that port is refused on loopback and on each of ``local_addresses`` (the host's
    interface addresses: :func:`isogate.runtime.fetcher.local_addresses` reads them).
    ``0.0.0.0``/``::`` as a destination reach the local host: refused on every listening
    port. These refusals hold whatever ``allow`` says.
    """

    def __init__(
        self,
        settings: EgressSettings,
        listen: Iterable[tuple[str, int]] = (),
        local_addresses: Iterable[str] = (),
    ) -> None:
        self.settings = settings
        self._allow = _Rules(settings.allow)
        self._deny = _Rules(settings.deny)
        self._own: set[tuple[IPAddress, int]] = set()
        self._own_ports: set[int] = set()  # ports bound on every local address
        self._all_ports: set[int] = set()
        for host, port in listen:
            self._all_ports.add(port)
            ip = None if normalize_host(host) in _WILDCARD_HOSTS else parse_ip(host)
            if ip is None or ip.is_unspecified:  # wildcard, or a name: assume every address
                self._own_ports.add(port)
            else:
                self._own.add((_unmap(ip), port))
        self._local: set[IPAddress] = set()
        for text in local_addresses:
            ip = parse_ip(text)
            if ip is not None:
                self._local.add(_unmap(ip))

    def check_host(self, hostname: str) -> Decision:
        """Before resolving: the deny list by name, and ``localhost`` names.

        An IP literal passes here; :meth:`check_address` decides it.
        """
        host = normalize_host(hostname)
        if not host:
            return Decision(False, "no host")
        if parse_ip(host) is not None:
            return ALLOWED
        if self._deny.has_name(host):
            return Decision(False, "host denied by the operator")
        if (host == "localhost" or host.endswith(".localhost")) and not self._allow.has_name(host):
            return Decision(False, "localhost is not reachable")
        return ALLOWED

    def check_address(self, hostname: str, ip: str | IPAddress, port: int) -> Decision:
        """After resolving ``hostname`` to ``ip``: may a connection to ``ip:port`` be made?"""
        host = normalize_host(hostname)
        addr = parse_ip(ip)
        if addr is None:
            return Decision(False, "not an IP address")
        plain = _unmap(addr)
        if self._is_own(plain, port):
            return Decision(False, "the gateway's own address")
        if self._deny.has_ip(addr) or (host and self._deny.has_name(host)):
            return Decision(False, "address denied by the operator")
        reason = _default_refusal(plain)
        if reason is None:
            return ALLOWED
        if self._allow.has_ip(addr) or (host and self._allow.has_name(host)):
            return ALLOWED
        return Decision(False, reason)

    def _is_own(self, ip: IPAddress, port: int) -> bool:
        if (ip, port) in self._own:
            return True
        if ip.is_unspecified and port in self._all_ports:  # 0.0.0.0:P reaches a local P
            return True
        if port in self._own_ports:
            return ip.is_loopback or ip in self._local
        return False
