"""OneAtlas range syntax: `[a,b]`, `]a,b[`, `[a,`, `,b]`, `[a`, `b]` and plain values.

The search reference says a trailing `[` *includes* the end, while the tasking API of the same
spec uses ISO/French notation where `b[` *excludes* it. harvest takes the ISO reading by default,
with the documented one behind a switch (docs/providers.md#oneatlas-range-syntax says why); every
client seen sends `[a,b]` anyway.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Generic, TypeVar

import numpy as np

T = TypeVar("T", int, float)


class RangeSyntaxError(ValueError):
    """A range value that cannot be parsed."""


@dataclass(frozen=True)
class Interval(Generic[T]):
    """A closed, open or half-open interval; None bounds are infinite."""

    low: T | None = None
    low_inclusive: bool = True
    high: T | None = None
    high_inclusive: bool = True

    def mask(self, values: np.ndarray) -> np.ndarray:
        result = np.ones(len(values), dtype=bool)
        if self.low is not None:
            result &= values >= self.low if self.low_inclusive else values > self.low
        if self.high is not None:
            result &= values <= self.high if self.high_inclusive else values < self.high
        return result

    def contains(self, value: T) -> bool:
        if self.low is not None and (value < self.low if self.low_inclusive else value <= self.low):
            return False
        return not (self.high is not None and (value > self.high if self.high_inclusive else value >= self.high))

    def key(self) -> tuple[T | None, bool, T | None, bool]:
        return (self.low, self.low_inclusive, self.high, self.high_inclusive)


def parse_interval(text: str, parse_value: Callable[[str], T], *, end_semantics: str = "iso") -> Interval[T]:
    """Parse one range expression; raises RangeSyntaxError with a message fit for an ApiError."""
    raw = str(text).strip()
    if not raw:
        raise RangeSyntaxError("empty range")

    def value(part: str) -> T:
        try:
            return parse_value(part.strip())
        except ValueError as exc:
            raise RangeSyntaxError(f"invalid value {part.strip()!r} in range {raw!r}") from exc

    def end_inclusive(bracket: str) -> bool:
        if end_semantics == "as_documented":
            return bracket == "["
        return bracket == "]"

    if "," in raw:
        start, end = raw.split(",", 1)
        start, end = start.strip(), end.strip()
        low_inclusive = not start.startswith("]")
        start = start.lstrip("[]")
        high_inclusive = True
        if end and end[-1] in "[]":
            high_inclusive = end_inclusive(end[-1])
            end = end[:-1]
        if not start and not end:
            raise RangeSyntaxError(f"range {raw!r} has neither a start nor an end")
        return Interval(
            low=value(start) if start else None,
            low_inclusive=low_inclusive,
            high=value(end) if end else None,
            high_inclusive=high_inclusive,
        )
    if raw[0] in "[]":
        return Interval(low=value(raw[1:]), low_inclusive=raw[0] == "[")
    if raw[-1] in "[]":
        return Interval(high=value(raw[:-1]), high_inclusive=end_inclusive(raw[-1]))
    exact = value(raw)
    return Interval(low=exact, high=exact)
