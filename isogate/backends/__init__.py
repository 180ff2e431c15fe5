"""Backend plumbing: the metadata database (engine, migrations runner), Redis clients and
the shared parts swapped in when ``redis_url`` is set, cross-replica invalidation."""
