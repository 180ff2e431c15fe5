"""Functions: metadata and immutable versions (SQL), code blobs (local folder), code cache.

Seams for the production backends: :class:`~isogate.registry.blobs.BlobStore` (S3 next),
:class:`~isogate.registry.code_cache.CodeCache` (Redis next),
:class:`~isogate.registry.functions.FunctionStore` (same SQL on PostgreSQL).
"""
