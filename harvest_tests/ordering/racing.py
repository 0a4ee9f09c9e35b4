"""A worker for the concurrency tests: reserves a list of orders as fast as it can (run in a spawned process)."""

from __future__ import annotations

import time
from collections import Counter
from multiprocessing.queues import Queue
from multiprocessing.synchronize import Barrier

from harvest.ordering.ledger import AlreadyOrdered, BudgetExceeded, Budgets, Ledger


def reserve_each(
    url: str, keys: list[str], budgets: Budgets, month: str, start: Barrier, results: Queue[dict[str, float]]
) -> None:
    """Wait for the other racers, reserve every key, report how many were reserved, refused or already taken.

    `started`/`ended` (system-wide monotonic seconds) let the test check that the racers really overlapped.
    """
    outcome: Counter[str] = Counter()
    with Ledger.open(url) as ledger:
        start.wait(timeout=60)
        started = time.monotonic()
        for key in keys:
            try:
                ledger.reserve(key, budgets=budgets, month=month, actor="race")
            except BudgetExceeded:
                outcome["refused"] += 1
            except AlreadyOrdered:
                outcome["already"] += 1
            else:
                outcome["reserved"] += 1
        ended = time.monotonic()
    results.put({**outcome, "started": started, "ended": ended})
