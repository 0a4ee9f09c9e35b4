"""UTC instants as integer nanoseconds, and the text forms the providers use for them.

Providers publish timestamps at every precision from seconds to nanoseconds (OneAtlas
`lastUpdateDate` has up to nine fractional digits, `processingDate` sometimes no zone at all).
Python's `datetime` holds microseconds, so anything used as a cursor is kept as nanoseconds.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta

NS_PER_S = 1_000_000_000
NS_PER_DAY = 86_400 * NS_PER_S
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)

_ISO = re.compile(
    r"^(?P<date>\d{4}-\d{2}-\d{2})"
    r"(?:[T ](?P<h>\d{2}):(?P<m>\d{2})(?::(?P<s>\d{2})(?:[.,](?P<frac>\d{1,9})\d*)?)?"
    r"(?P<tz>Z|z|[+-]\d{2}:?\d{2})?)?$"
)


class InvalidTimestamp(ValueError):
    """A text that is not an ISO 8601 / RFC 3339 instant."""


def parse_ns(text: str) -> int:
    """Parse an ISO 8601 date or date-time into UTC nanoseconds; a missing zone means UTC."""
    match = _ISO.match(text.strip())
    if match is None:
        raise InvalidTimestamp(f"not an ISO 8601 instant: {text!r}")
    try:
        day = date.fromisoformat(match["date"])
    except ValueError as exc:
        raise InvalidTimestamp(f"not an ISO 8601 instant: {text!r}") from exc
    hour, minute, second = int(match["h"] or 0), int(match["m"] or 0), int(match["s"] or 0)
    if hour > 23 or minute > 59 or second > 60:
        raise InvalidTimestamp(f"not an ISO 8601 instant: {text!r}")
    frac = match["frac"] or ""
    nanos = int(frac.ljust(9, "0")) if frac else 0
    offset_s = 0
    tz = match["tz"]
    if tz and tz not in ("Z", "z"):
        sign = -1 if tz[0] == "-" else 1
        digits = tz[1:].replace(":", "")
        offset_s = sign * (int(digits[:2]) * 3600 + int(digits[2:]) * 60)
    days = (day - _EPOCH.date()).days
    seconds = days * 86_400 + hour * 3600 + minute * 60 + second - offset_s
    return seconds * NS_PER_S + nanos


def to_datetime(ns: int) -> datetime:
    """UTC-aware datetime for nanoseconds (truncated to microseconds)."""
    return _EPOCH + timedelta(microseconds=ns // 1000)


def from_datetime(moment: datetime) -> int:
    """Nanoseconds for an aware datetime; naive datetimes are refused rather than guessed."""
    if moment.tzinfo is None:
        raise ValueError(f"naive datetime {moment!r}: harvest uses UTC-aware datetimes only")
    delta = moment - _EPOCH
    return (delta.days * 86_400 + delta.seconds) * NS_PER_S + delta.microseconds * 1000


def _split(ns: int) -> tuple[datetime, int]:
    seconds, nanos = divmod(ns, NS_PER_S)
    return _EPOCH + timedelta(seconds=seconds), nanos


def format_rfc3339_nano(ns: int) -> str:
    """Go's RFC3339Nano: trailing zeros trimmed, no fraction at all on whole seconds."""
    moment, nanos = _split(ns)
    base = moment.strftime("%Y-%m-%dT%H:%M:%S")
    if nanos == 0:
        return base + "Z"
    return f"{base}.{nanos:09d}".rstrip("0") + "Z"


def format_millis(ns: int, *, zone: str = "Z") -> str:
    """Millisecond precision, e.g. 2022-12-16T07:50:55.374Z."""
    moment, nanos = _split(ns)
    return f"{moment.strftime('%Y-%m-%dT%H:%M:%S')}.{nanos // 1_000_000:03d}{zone}"


def format_micros_offset(ns: int) -> str:
    """Microseconds with an explicit +00:00 offset, as OneAtlas data.api writes createdAt."""
    moment, nanos = _split(ns)
    return f"{moment.strftime('%Y-%m-%dT%H:%M:%S')}.{nanos // 1000:06d}+00:00"


def format_seconds(ns: int) -> str:
    """Whole seconds, e.g. 2023-12-11T07:03:36Z."""
    moment, _ = _split(ns)
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def day_start_ns(day: date) -> int:
    """UTC midnight of a calendar day."""
    return (day - _EPOCH.date()).days * NS_PER_DAY


def ns_to_date(ns: int) -> date:
    """The UTC calendar day an instant falls on."""
    return (_EPOCH + timedelta(days=ns // NS_PER_DAY)).date()
