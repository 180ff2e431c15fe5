"""What the SQL store tests of this folder share besides the migrated ``engine``
(tests/fixtures/database.py): a settable clock."""

from __future__ import annotations


class Clock:
    """A clock the test moves by setting ``now`` (seconds), handed to a store."""

    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now
