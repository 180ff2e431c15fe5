"""Tenants and credentials, API-key leases, rate limits and usage quotas.

Interfaces (:class:`~isogate.quota.tenants.TenantStore`, :class:`~isogate.quota.keys.KeyStore`,
:class:`~isogate.quota.key_cache.KeyCache`, :class:`~isogate.quota.limiter.Limiter`) have
embedded implementations here (SQL via SQLAlchemy, in-process cache and limiter).
"""
