"""The CLI's tests run, like the gateway's, without ISOGATE_* settings from the caller."""

from tests.gateway.conftest import _clean_env  # noqa: F401  (autouse fixture)
