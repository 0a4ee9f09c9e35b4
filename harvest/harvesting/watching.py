"""What the catalog sensors do on each tick, without Dagster: find the acquisition days that changed.

A tick returns `Span`s of consecutive changed days, each with a key naming exactly this change (the
sensor's run key), and the cursor to keep. Nothing here writes to the catalog: the runs it leads to do.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

import pyarrow as pa

from harvest.aois import Aoi
from harvest.catalog.store import CatalogStore
from harvest.harvesting.changes import (
    UpdateCursor,
    changed_fingerprints,
    day_fingerprints,
    new_deletions,
    short_digest,
    updated_days,
)
from harvest.harvesting.days import days_between
from harvest.harvesting.sources import OneAtlasSource, SceneSource, Window
from harvest.providers.http import RequestStats

# scenes can become searchable some time after their lastUpdateDate: re-read this much before the cursor
UPDATE_OVERLAP = timedelta(minutes=10)
# where a sensor that has never run starts reading OneAtlas's update feed
FIRST_LOOKBACK = timedelta(days=3)
# the capture window re-searched by the sensors of providers without an update time
RECENT_DAYS = 7
# the longest span one run harvests
MAX_SPAN_DAYS = 31


@dataclass(frozen=True)
class Span:
    """Consecutive changed acquisition days, harvested by one run."""

    first: date
    last: date
    key: str  # names this change of these days: the same change never runs twice

    @property
    def days(self) -> int:
        return (self.last - self.first).days + 1


@dataclass(frozen=True)
class Tick:
    """The outcome of one sensor tick."""

    spans: list[Span]
    cursor: str | None
    summary: str
    requests: RequestStats


def spans_of(changed: Mapping[date, str], provider: str, max_days: int = MAX_SPAN_DAYS) -> list[Span]:
    """Group changed days (day -> change key) into runs of consecutive days."""
    spans: list[Span] = []
    group: list[date] = []
    for day in sorted(changed):
        if group and ((day - group[-1]).days != 1 or len(group) >= max_days):
            spans.append(_span(group, changed, provider))
            group = []
        group.append(day)
    if group:
        spans.append(_span(group, changed, provider))
    return spans


def _span(days: list[date], changed: Mapping[date, str], provider: str) -> Span:
    key = short_digest("|".join(f"{day.isoformat()}={changed[day]}" for day in days))
    return Span(days[0], days[-1], f"{provider}:{days[0].isoformat()}..{days[-1].isoformat()}:{key}")


def _ns(delta: timedelta) -> int:
    return int(delta.total_seconds() * 1e9)


def oneatlas_tick(
    source: OneAtlasSource,
    aois: Sequence[Aoi],
    store: CatalogStore,
    cursor_text: str | None,
    now: datetime,
    *,
    first_day: date,
) -> Tick:
    """Read OneAtlas's update and deleted feeds from the cursor (minus the overlap); the days they touch."""
    overlap = _ns(UPDATE_OVERLAP)
    cursor = UpdateCursor.from_json(cursor_text, start=now - FIRST_LOOKBACK)
    before = source.stats()
    batches = source.changed_since(cursor.overlap_start(overlap), aois=aois)
    changes = updated_days(batches, cursor, overlap_ns=overlap, first_day=first_day)
    deletions = new_deletions(
        source.deleted_since(cursor.deleted_overlap_start(overlap)), changes.cursor, overlap_ns=overlap
    )
    located = store.locate(source.provider, deletions.scene_ids)
    changed = dict(changes.days)
    for scene_id, day in sorted(located.items()):
        changed[day] = short_digest(f"{changed.get(day, '')}|deleted:{scene_id}")
    spans = spans_of(changed, source.provider)
    summary = (
        f"read {changes.scenes_read} update(s) since {cursor.overlap_start(overlap)}, {changes.new_scenes} new; "
        f"{len(deletions.scene_ids)} deletion(s), {len(located)} of them in the catalog; "
        f"{len(changed)} acquisition day(s) changed"
    )
    return Tick(spans, deletions.cursor.to_json(), summary, source.stats() - before)


def recapture_tick(
    source: SceneSource,
    aois: Sequence[Aoi],
    store: CatalogStore,
    now: datetime,
    *,
    first_day: date,
    recent_days: int = RECENT_DAYS,
) -> Tick:
    """Search the recent capture window again; the days whose scenes, prices or cloud differ from the catalog."""
    today = now.astimezone(UTC).date()
    window_days = [d for d in days_between(today - timedelta(days=recent_days), today) if d >= first_day]
    if not window_days or not aois:
        return Tick([], None, "no AOI or no day to search", RequestStats())
    start = datetime(window_days[0].year, window_days[0].month, window_days[0].day, tzinfo=UTC)
    before = source.stats()
    current = day_fingerprints(source.scenes(aois, Window(start, start + timedelta(days=len(window_days)))))
    stored = day_fingerprints(pa.concat_tables([store.read_day(source.provider, day) for day in window_days]))
    changed = changed_fingerprints(current, stored, window_days)
    summary = (
        f"searched {window_days[0]}..{window_days[-1]} over {len(aois)} AOI(s): "
        f"{len(changed)} of {len(window_days)} day(s) differ from the catalog"
    )
    return Tick(spans_of(changed, source.provider), None, summary, source.stats() - before)
