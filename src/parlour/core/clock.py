"""The one place Parlour asks what time it is. Domain functions take ``now`` from here so
that tests can move time with time-machine and the pure cores can take it as an argument."""

from datetime import UTC, datetime


def now() -> datetime:
    return datetime.now(UTC)
