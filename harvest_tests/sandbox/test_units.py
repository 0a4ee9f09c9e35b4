"""Small pure pieces of the sandbox: timestamps, ranges, ids, clock."""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np
import pytest

from harvest.sandbox.clock import ClockSpec, ClockSpecError, SandboxClock
from harvest.sandbox.oneatlas.ranges import RangeSyntaxError, parse_interval
from harvest.sandbox.world.ids import IdCodec
from harvest.timestamps import (
    InvalidTimestamp,
    format_millis,
    format_rfc3339_nano,
    from_datetime,
    parse_ns,
    to_datetime,
)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2021-11-19T07:50:32.93579542Z", 1637308232_935795420),
        ("2022-12-16T09:42:47.239952514Z", 1671183767_239952514),
        ("2017-11-22T10:54:33.987", 1511348073_987000000),  # no zone: UTC
        ("2018-12-03T16:26:12.119065+00:00", 1543854372_119065000),
        ("2026-01-01T01:00:00+01:00", 1767225600_000000000),
        ("2019-01-31", 1548892800_000000000),
    ],
)
def test_parse_every_provider_precision(text: str, expected: int) -> None:
    assert parse_ns(text) == expected


def test_formats_round_trip() -> None:
    ns = parse_ns("2022-12-16T09:42:47.239952514Z")
    assert format_rfc3339_nano(ns) == "2022-12-16T09:42:47.239952514Z"
    assert format_rfc3339_nano(parse_ns("2021-11-19T07:50:32.93579542Z")) == "2021-11-19T07:50:32.93579542Z"
    assert format_rfc3339_nano(parse_ns("2022-12-11T07:03:36Z")) == "2022-12-11T07:03:36Z"
    assert format_millis(ns) == "2022-12-16T09:42:47.239Z"
    assert to_datetime(ns).tzinfo is UTC and from_datetime(to_datetime(ns)) == ns - 514


@pytest.mark.parametrize("bad", ["", "yesterday", "2022-12-16T25:00:00Z", "2022-13-01", "[2022-01-08T00:00:000Z"])
def test_invalid_timestamps(bad: str) -> None:
    with pytest.raises(InvalidTimestamp):
        parse_ns(bad)


def test_naive_datetimes_are_refused() -> None:
    with pytest.raises(ValueError, match="naive"):
        from_datetime(datetime(2026, 1, 1))  # noqa: DTZ001


def test_interval_semantics() -> None:
    iso = parse_interval("[1,3[", float)
    documented = parse_interval("[1,3[", float, end_semantics="as_documented")
    assert iso.contains(2.9) and not iso.contains(3.0)
    assert documented.contains(3.0)
    values = np.array([0.0, 1.0, 2.0, 3.0])
    assert parse_interval("]1,3]", float).mask(values).tolist() == [False, False, True, True]
    with pytest.raises(RangeSyntaxError):
        parse_interval(",", float)


def test_id_codec_round_trips_and_rejects_foreign_ids() -> None:
    codec = IdCodec(7, "oneatlas-item")
    keys = np.arange(2024 * 10**7, 2024 * 10**7 + 1000)
    ids = codec.encode_many(keys)
    assert len(set(ids)) == 1000
    assert [codec.decode(i) for i in ids] == keys.tolist()
    assert IdCodec(8, "oneatlas-item").decode(ids[0]) is None
    assert codec.decode("dd2595dd-30c8-455a-aeb0-bf1237dee598") is None
    assert codec.decode("not-a-uuid") is None


def test_clock_specs() -> None:
    frozen = SandboxClock(ClockSpec.parse("frozen@2026-01-01T00:00:00Z"))
    assert frozen.now_ns() == frozen.now_ns() == parse_ns("2026-01-01T00:00:00Z")
    frozen.advance(90)
    assert frozen.now_ns() == parse_ns("2026-01-01T00:01:30Z")
    with pytest.raises(ValueError, match="back"):
        frozen.set_ns(parse_ns("2025-01-01T00:00:00Z"))
    fast = SandboxClock(ClockSpec.parse("2026-01-01T00:00:00Z*1000"))
    assert fast.now_ns() >= parse_ns("2026-01-01T00:00:00Z")
    real = SandboxClock(ClockSpec.parse("real"))
    assert abs(real.now_ns() / 1e9 - datetime.now(UTC).timestamp()) < 5
    for bad in ("frozen@never", "2026-01-01*0", "tomorrow"):
        with pytest.raises(ClockSpecError):
            ClockSpec.parse(bad)
