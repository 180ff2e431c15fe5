"""Tenant-name rules: a DNS label (RFC 1123), lower-case ASCII only."""

from __future__ import annotations

import re

from isogate.quota.errors import InvalidName

_LABEL = re.compile(r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?")


def check_tenant_name(name: object) -> str:
    """Return ``name`` if it is a valid DNS label, else raise :class:`InvalidName`."""
    if not isinstance(name, str) or len(name) > 63 or not _LABEL.fullmatch(name):
        raise InvalidName(
            "tenant name must be 1-63 characters of a-z, 0-9 and '-', "
            "starting and ending with a letter or digit"
        )
    return name
