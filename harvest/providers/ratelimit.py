"""A thread-safe token bucket that paces requests to a provider."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable


class RateLimiter:
    """Token bucket: `rate_per_s` tokens a second, at most `burst` banked; `acquire()` waits for one.

    Callers reserve their token under a lock and sleep outside it, so concurrent callers queue in
    arrival order and none of them holds the lock while waiting.
    """

    def __init__(
        self,
        rate_per_s: float,
        burst: int = 1,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if rate_per_s <= 0:
            raise ValueError(f"rate_per_s must be positive, got {rate_per_s}")
        if burst < 1:
            raise ValueError(f"burst must be at least 1, got {burst}")
        self.rate_per_s = rate_per_s
        self.burst = burst
        self._clock = clock
        self._sleep = sleep
        self._lock = threading.Lock()
        self._tokens = float(burst)
        self._updated = clock()

    def acquire(self) -> float:
        """Take one token, sleeping until it is available; returns the seconds waited."""
        with self._lock:
            now = self._clock()
            self._tokens = min(float(self.burst), self._tokens + (now - self._updated) * self.rate_per_s)
            self._updated = now
            self._tokens -= 1.0  # may go negative: a reservation that later callers queue behind
            wait = -self._tokens / self.rate_per_s if self._tokens < 0 else 0.0
        if wait > 0:
            self._sleep(wait)
        return wait
