"""The sandbox's single clock: real time, frozen, started at an instant, or accelerated.

Everything that changes with time (publication, visibility delays, token expiry, order progress)
reads this clock, so a test can freeze it and move it forward on purpose.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass

from harvest.timestamps import NS_PER_S, InvalidTimestamp, format_rfc3339_nano, parse_ns

CLOCK_HELP = (
    "real (default) | frozen | frozen@<ISO instant> | <ISO instant> (starts there, runs in real time) "
    "| <ISO instant>*<speed> (runs <speed> times faster)"
)


class ClockSpecError(ValueError):
    """A --clock value that cannot be understood."""


@dataclass(frozen=True)
class ClockSpec:
    """What `--clock` asked for."""

    frozen: bool
    start_ns: int | None  # None: the wall clock's current time
    speed: float = 1.0

    @classmethod
    def parse(cls, text: str) -> ClockSpec:
        """Parse a --clock value (see CLOCK_HELP)."""
        value = text.strip()
        try:
            if value in ("", "real"):
                return cls(frozen=False, start_ns=None)
            if value == "frozen":
                return cls(frozen=True, start_ns=None)
            if value.startswith("frozen@"):
                return cls(frozen=True, start_ns=parse_ns(value.removeprefix("frozen@")))
            instant, _, speed = value.partition("*")
            factor = float(speed) if speed else 1.0
            if factor <= 0:
                raise ClockSpecError(f"clock speed must be positive, got {speed!r}")
            return cls(frozen=False, start_ns=parse_ns(instant), speed=factor)
        except (InvalidTimestamp, ValueError) as exc:
            raise ClockSpecError(f"--clock {text!r} is not understood ({exc}); use {CLOCK_HELP}") from exc


class SandboxClock:
    """Monotonic sandbox time in UTC nanoseconds; `advance` and `set` move it for tests."""

    def __init__(self, spec: ClockSpec, *, wall_ns: int | None = None) -> None:
        now_wall = time.time_ns() if wall_ns is None else wall_ns
        self._lock = threading.Lock()
        self._frozen = spec.frozen
        self._speed = spec.speed
        self._anchor_wall = time.monotonic_ns()
        self._anchor_sim = spec.start_ns if spec.start_ns is not None else now_wall
        self.spec = spec

    @property
    def frozen(self) -> bool:
        return self._frozen

    def now_ns(self) -> int:
        """The current sandbox instant."""
        with self._lock:
            if self._frozen:
                return self._anchor_sim
            elapsed = time.monotonic_ns() - self._anchor_wall
            return self._anchor_sim + int(elapsed * self._speed)

    def now_s(self) -> float:
        return self.now_ns() / NS_PER_S

    def advance(self, seconds: float) -> int:
        """Move the clock forward (never backward) and return the new instant."""
        if seconds < 0:
            raise ValueError("the sandbox clock only moves forward")
        return self.set_ns(self.now_ns() + int(seconds * NS_PER_S))

    def set_ns(self, instant_ns: int) -> int:
        """Jump to an instant at or after the current one."""
        with self._lock:
            current = self._anchor_sim
            if not self._frozen:
                current += int((time.monotonic_ns() - self._anchor_wall) * self._speed)
            if instant_ns < current:
                raise ValueError(
                    f"cannot move the sandbox clock back from {format_rfc3339_nano(current)} "
                    f"to {format_rfc3339_nano(instant_ns)}"
                )
            self._anchor_sim = instant_ns
            self._anchor_wall = time.monotonic_ns()
            return instant_ns

    def describe(self) -> dict[str, object]:
        return {
            "now": format_rfc3339_nano(self.now_ns()),
            "frozen": self._frozen,
            "speed": self._speed,
        }
