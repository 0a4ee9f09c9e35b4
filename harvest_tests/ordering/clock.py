"""A deterministic UTC clock for ledger tests."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

START = datetime(2026, 11, 1, tzinfo=UTC)


class StepClock:
    """A clock that moves one second forward each time it is read."""

    def __init__(self, start: datetime = START) -> None:
        self.now = start

    def __call__(self) -> datetime:
        self.now += timedelta(seconds=1)
        return self.now
