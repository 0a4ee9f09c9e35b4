"""Which acquisition days changed at a provider: the reasoning behind the sensors, without Dagster.

OneAtlas has an update time: everything updated since the cursor (minus an overlap, for scenes
that become searchable late) is read, and the days of the scenes not seen before change. The other
providers have none: a recent capture window is searched again and each day's fingerprint (its
scenes, prices and cloud) is compared with the last one.
"""

from __future__ import annotations

import base64
import hashlib
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime

import orjson
import pyarrow as pa
import pyarrow.compute as pc

from harvest.catalog.column_values import datetimes, integers, strings
from harvest.timestamps import format_rfc3339_nano, parse_ns

CURSOR_VERSION = 1


def short_digest(text: str, size: int = 9) -> str:
    """A short, URL-safe digest of `text` (run keys and cursor entries)."""
    return base64.urlsafe_b64encode(hashlib.blake2b(text.encode(), digest_size=size).digest()).decode()


def acquisition_days(table: pa.Table) -> list[date]:
    """The UTC acquisition day of every row."""
    days = pc.cast(pc.floor_temporal(table.column("acquired"), unit="day"), pa.timestamp("s", tz="UTC"))
    return [moment.date() for moment in datetimes(days)]


@dataclass
class UpdateCursor:
    """Where a provider's update feed was read up to (OneAtlas lastUpdateDate, kept raw to the nanosecond).

    `recent` remembers, by a short digest, the (scene, update) pairs read within the overlap, so a
    scene read again in the next tick's overlap is not a change, while a late one still is.
    """

    since: str
    deleted_since: str
    recent: dict[str, int] = field(default_factory=dict)  # digest of (id, updated) -> updated ns
    gone: dict[str, int] = field(default_factory=dict)  # digest of (id, deleted) -> deleted ns

    def to_json(self) -> str:
        return orjson.dumps(
            {
                "v": CURSOR_VERSION,
                "since": self.since,
                "deleted_since": self.deleted_since,
                "recent": self.recent,
                "gone": self.gone,
            }
        ).decode()

    @classmethod
    def from_json(cls, text: str | None, *, start: datetime) -> UpdateCursor:
        """The stored cursor, or a fresh one starting at `start` (also when the format is older)."""
        if text:
            data = orjson.loads(text)
            if data.get("v") == CURSOR_VERSION:
                return cls(
                    data["since"], data["deleted_since"], dict(data.get("recent", {})), dict(data.get("gone", {}))
                )
        moment = format_rfc3339_nano(int(start.astimezone(UTC).timestamp() * 1e9))
        return cls(moment, moment)

    def overlap_start(self, overlap_ns: int) -> str:
        """Where the next read of the update feed starts: the cursor minus the overlap."""
        return format_rfc3339_nano(parse_ns(self.since) - overlap_ns)

    def deleted_overlap_start(self, overlap_ns: int) -> str:
        """Where the next read of the deleted feed starts."""
        return format_rfc3339_nano(parse_ns(self.deleted_since) - overlap_ns)


@dataclass(frozen=True)
class Changes:
    """The days that changed in one read of an update feed, and the cursor after it."""

    days: dict[date, str]  # day -> a key naming this change of it (for run keys)
    cursor: UpdateCursor
    scenes_read: int
    new_scenes: int


def updated_days(
    batches: Iterable[pa.RecordBatch], cursor: UpdateCursor, *, overlap_ns: int, first_day: date
) -> Changes:
    """Fold one read of the update feed (from `cursor.overlap_start`) into changed days and a new cursor."""
    per_day: dict[date, list[str]] = defaultdict(list)
    recent = dict(cursor.recent)
    newest = parse_ns(cursor.since)
    read = new = 0
    for batch in batches:
        table = pa.Table.from_batches([batch])
        ids = strings(table.column("scene_id"))
        updated = integers(pc.cast(table.column("updated"), pa.int64()))
        for scene_id, moment, day in zip(ids, updated, acquisition_days(table), strict=True):
            read += 1
            newest = max(newest, moment)
            digest = short_digest(f"{scene_id}@{moment}")
            if digest in recent:
                continue
            recent[digest] = moment
            new += 1
            if day >= first_day:
                per_day[day].append(digest)
    horizon = newest - overlap_ns
    kept = {digest: moment for digest, moment in recent.items() if moment >= horizon}
    days = {day: short_digest("|".join(sorted(digests))) for day, digests in per_day.items()}
    return Changes(days, UpdateCursor(format_rfc3339_nano(newest), cursor.deleted_since, kept, cursor.gone), read, new)


@dataclass(frozen=True)
class Deletions:
    """The scenes newly deleted in one read of the deleted feed, and the cursor after it."""

    scene_ids: list[str]
    cursor: UpdateCursor


def new_deletions(tombstones: Iterable[Mapping[str, str]], cursor: UpdateCursor, *, overlap_ns: int) -> Deletions:
    """Fold tombstones ({id, deletedDate}, read from `cursor.deleted_since` minus the overlap) into new ones."""
    gone = dict(cursor.gone)
    newest = parse_ns(cursor.deleted_since)
    fresh: list[str] = []
    for tombstone in tombstones:
        moment = parse_ns(tombstone["deletedDate"])
        newest = max(newest, moment)
        digest = short_digest(f"{tombstone['id']}@{moment}")
        if digest not in gone:
            gone[digest] = moment
            fresh.append(tombstone["id"])
    kept = {digest: moment for digest, moment in gone.items() if moment >= newest - overlap_ns}
    return Deletions(fresh, UpdateCursor(cursor.since, format_rfc3339_nano(newest), cursor.recent, kept))


EMPTY = "empty"


def day_fingerprints(table: pa.Table) -> dict[date, str]:
    """Per acquisition day, a fingerprint of its scenes, their prices and cloud cover."""
    rows: dict[date, list[str]] = defaultdict(list)
    columns = [table.column(name).to_pylist() for name in ("scene_id", "price_amount", "cloud_cover", "updated")]
    for day, scene, price, cloud, updated in zip(acquisition_days(table), *columns, strict=True):
        rows[day].append(f"{scene}|{price}|{cloud}|{updated}")
    return {day: short_digest("\n".join(sorted(values))) for day, values in rows.items()}


def changed_fingerprints(
    current: Mapping[date, str], previous: Mapping[date, str], window_days: Iterable[date]
) -> dict[date, str]:
    """Days of the window whose fingerprint differs from the previous one (a day that emptied counts too)."""
    changed = {}
    for day in window_days:
        now = current.get(day, EMPTY)
        if previous.get(day, EMPTY) != now:
            changed[day] = now
    return changed
