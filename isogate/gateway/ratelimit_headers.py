"""Rate-limit response headers from a limiter decision.

``RateLimit-Policy`` / ``RateLimit`` follow the IETF httpapi ratelimit-headers draft
(structured-field lists of named policies: ``"rate";q=10;w=60`` and ``"rate";r=9;t=6``);
``X-RateLimit-Limit/Remaining/Reset`` carry the rate policy for older clients.
"""

from __future__ import annotations

from isogate.quota.models import Decision


def rate_headers(d: Decision) -> dict[str, str]:
    """Headers describing every policy of the key."""
    policies = [f'"rate";q={d.limit};w={d.window_seconds}']
    states = [f'"rate";r={d.remaining};t={d.reset_seconds}']
    if d.quota_limit is not None:
        policies.append(f'"quota";q={d.quota_limit};w={d.quota_window_seconds}')
        states.append(f'"quota";r={d.quota_remaining};t={d.quota_reset_seconds}')
    headers = {
        "RateLimit-Policy": ", ".join(policies),
        "RateLimit": ", ".join(states),
        "X-RateLimit-Limit": str(d.limit),
        "X-RateLimit-Remaining": str(d.remaining),
        "X-RateLimit-Reset": str(d.reset_seconds),
    }
    if d.uses_remaining is not None:
        headers["X-Uses-Remaining"] = str(d.uses_remaining)
    return headers
