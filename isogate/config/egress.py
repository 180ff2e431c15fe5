"""Settings of outbound ``fetch`` from tenant functions (docs/operations.md, "Egress")."""

from __future__ import annotations

import ipaddress
import re
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

# One DNS label: letters, digits, hyphens, not starting or ending with a hyphen.
_LABEL = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)$")


def _is_ip(text: str) -> bool:
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return False
    return True


def parse_entry(entry: str) -> IPNetwork | str:
    """An allow/deny entry as a network (IP or CIDR) or a hostname pattern.

    Hostname patterns are lower-case ASCII (IDN names in their ``xn--`` form), without a
    trailing dot; ``*.example.com`` matches every name below ``example.com`` but not
    ``example.com`` itself. Raises :class:`ValueError` whose message names the entry.
    """
    raw = entry
    text = entry.strip().lower()
    if text.startswith("[") and text.endswith("]"):  # a bracketed IPv6 literal
        text = text[1:-1]
    if not text:
        raise ValueError(f"entry {raw!r} is empty")
    if "/" in text and _is_ip(text.split("/", 1)[0]):
        try:
            return ipaddress.ip_network(text, strict=True)
        except ValueError as exc:
            try:
                hint = f"; did you mean {ipaddress.ip_network(text, strict=False)}?"
            except ValueError:
                hint = ""
            raise ValueError(f"entry {raw!r} is not a valid CIDR ({exc}){hint}") from None
    try:
        addr = ipaddress.ip_address(text)
    except ValueError:
        pass
    else:
        return ipaddress.ip_network(addr)
    name = text.removesuffix(".")
    labels = name.split(".")
    if labels[0] == "*":
        labels = labels[1:]
        if not labels:
            raise ValueError(f"entry {raw!r}: a wildcard needs a domain, e.g. '*.example.com'")
    if not all(_LABEL.match(label) for label in labels) or len(name) > 253:
        raise ValueError(
            f"entry {raw!r} is not a hostname, '*.domain' wildcard, IP address or CIDR"
            " (hostnames: ASCII letters, digits, hyphens and dots; IDN names in xn-- form;"
            " no port, scheme or path)"
        )
    return name


def _check_entry(entry: str) -> str:
    """Validate one entry at start-up; the policy parses it again (same function)."""
    parse_entry(entry)
    return entry.strip()


Entry = Annotated[str, AfterValidator(_check_entry)]


class EgressSettings(BaseModel):
    """What tenant functions may reach with ``fetch``. Env vars: ``ISOGATE_EGRESS__<FIELD>``.

    Public addresses are reachable by default; loopback, private, link-local, CGNAT,
    multicast and reserved addresses are refused unless ``allow`` names them; ``deny``
    narrows and wins over ``allow``. The gateway's own listening addresses are always
    refused. Exact rules: docs/operations.md, "Egress".
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    allow: list[Entry] = Field(
        default_factory=list,
        description=(
            "hostnames ('api.internal', '*.corp.example'), IPs or CIDRs a function may reach"
            " although they are refused by default (private, loopback...); e.g. '10.0.0.0/8'"
        ),
    )
    deny: list[Entry] = Field(
        default_factory=list,
        description=(
            "hostnames, '*.domain' wildcards, IPs or CIDRs a function may never reach;"
            " wins over allow"
        ),
    )
    max_subrequests: int = Field(
        50, ge=0, le=100_000, description="fetch calls one invocation may make (0: no fetch)"
    )
    max_response_bytes: int = Field(
        8 << 20,
        ge=1,
        description="bytes of one fetched response body (after decompression); more: TypeError",
    )
    max_redirects: int = Field(
        20, ge=0, le=100, description="redirects one fetch follows (redirect: 'follow')"
    )
    timeout_ms: int = Field(
        30000,
        ge=1,
        description=(
            "upper bound of one fetch, redirects and body included (also bounded by the"
            " invocation's remaining time)"
        ),
    )
