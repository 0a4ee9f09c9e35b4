"""Ledger fixtures: every ledger test runs on SQLite and on PostgreSQL, with a stepping UTC clock."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from harvest.ordering.ledger import Ledger
from harvest_tests.ordering.clock import StepClock
from harvest_tests.ordering.databases import BACKENDS, database


@pytest.fixture(params=BACKENDS)
def ledger_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """An empty ledger database, once per backend."""
    with database(request.param, tmp_path) as url:
        yield url


@pytest.fixture
def ledger_clock() -> StepClock:
    """A clock one second further on each read, from 2026-11-01T00:00:00Z."""
    return StepClock()


@pytest.fixture
def ledger(ledger_url: str, ledger_clock: StepClock) -> Iterator[Ledger]:
    """An open ledger on an empty database."""
    with Ledger.open(ledger_url, clock=ledger_clock) as opened:
        yield opened
