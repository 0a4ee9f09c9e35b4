"""The token bucket, timed with a fake clock."""

from __future__ import annotations

import threading

import pytest

from harvest.providers.ratelimit import RateLimiter


class FakeTime:
    """A clock that only moves when something sleeps (or the test advances it)."""

    def __init__(self) -> None:
        self.now = 0.0
        self.slept: list[float] = []

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


def test_burst_then_steady_rate() -> None:
    t = FakeTime()
    limiter = RateLimiter(2.0, burst=2, clock=t.clock, sleep=t.sleep)
    waits = [limiter.acquire() for _ in range(5)]
    assert waits == [0.0, 0.0, 0.5, 0.5, 0.5]
    assert t.now == 1.5


def test_idle_time_refills_up_to_the_burst_only() -> None:
    t = FakeTime()
    limiter = RateLimiter(1.0, burst=3, clock=t.clock, sleep=t.sleep)
    for _ in range(3):
        limiter.acquire()
    t.now += 100.0
    assert [limiter.acquire() for _ in range(4)] == [0.0, 0.0, 0.0, 1.0]


def test_partial_refill() -> None:
    t = FakeTime()
    limiter = RateLimiter(4.0, burst=1, clock=t.clock, sleep=t.sleep)
    limiter.acquire()
    t.now += 0.1  # 0.4 of a token back
    assert limiter.acquire() == pytest.approx(0.15)


def test_concurrent_callers_queue_their_reservations() -> None:
    t = FakeTime()
    lock = threading.Lock()

    def sleep(seconds: float) -> None:  # record but do not move the clock: all callers arrive at t=0
        with lock:
            t.slept.append(seconds)

    limiter = RateLimiter(1.0, burst=1, clock=t.clock, sleep=sleep)
    waits: list[float] = []

    def call() -> None:
        wait = limiter.acquire()
        with lock:
            waits.append(wait)

    threads = [threading.Thread(target=call) for _ in range(10)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(waits) == [float(n) for n in range(10)]


@pytest.mark.parametrize(("rate", "burst"), [(0.0, 1), (-1.0, 1), (1.0, 0)])
def test_invalid_settings(rate: float, burst: int) -> None:
    with pytest.raises(ValueError, match="must be"):
        RateLimiter(rate, burst)
