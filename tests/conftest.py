"""Fixtures shared by every test package: real PostgreSQL and SeaweedFS (S3) servers."""

from tests.fixtures.database import engine  # noqa: F401 - fixture
from tests.fixtures.postgres import (  # noqa: F401 - fixtures
    database_url,
    pg_database_factory,
    pg_server,
    pg_url,
)
from tests.fixtures.redis import redis_prefix, redis_server_factory, redis_url  # noqa: F401
from tests.fixtures.seaweedfs import s3_server, seaweedfs_factory  # noqa: F401 - fixtures
