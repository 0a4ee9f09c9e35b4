"""Harvesting acquisition days into the catalog: the work behind the catalog assets and the CLI backfill.

Each day is harvested whole, for every AOI, and written as one file: a re-run rewrites the same
file with the provider's current answer (idempotent), and a day that failed leaves the previous
file untouched. Without any AOI nothing is searched and nothing written.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import numpy as np
import pyarrow as pa

from harvest.aois import Aoi, NoUsableAoiError
from harvest.catalog.store import CatalogStore
from harvest.harvesting.changes import acquisition_days
from harvest.harvesting.sources import SceneSource, Window
from harvest.providers.http import RequestStats

# consecutive days searched at once (then split by acquisition day)
CHUNK_DAYS = 31


@dataclass(frozen=True)
class DayResult:
    """One harvested day."""

    day: date
    scenes: int
    path: Path


@dataclass
class HarvestReport:
    """What a harvest of some days did."""

    provider: str
    sandbox: bool
    days: list[DayResult] = field(default_factory=list)
    requests: RequestStats = field(default_factory=RequestStats)

    @property
    def scenes(self) -> int:
        return sum(d.scenes for d in self.days)


def day_window(day: date) -> Window:
    start = datetime(day.year, day.month, day.day, tzinfo=UTC)
    return Window(start, start + timedelta(days=1))


def days_between(first: date, last: date) -> list[date]:
    """Every day from `first` to `last`, both included."""
    if last < first:
        raise ValueError(f"the end {last} is before the start {first}")
    return [first + timedelta(days=n) for n in range((last - first).days + 1)]


def chunks(days: Iterable[date], max_days: int) -> list[list[date]]:
    """Consecutive days grouped into runs of at most `max_days`."""
    groups: list[list[date]] = []
    for day in sorted(set(days)):
        if groups and (day - groups[-1][-1]).days == 1 and len(groups[-1]) < max_days:
            groups[-1].append(day)
        else:
            groups.append([day])
    return groups


def harvest_days(
    source: SceneSource,
    aois: Sequence[Aoi],
    days: Iterable[date],
    store: CatalogStore,
    *,
    on_day: Callable[[DayResult], None] | None = None,
    chunk_days: int = CHUNK_DAYS,
) -> HarvestReport:
    """Harvest each day over every AOI and replace its file; `on_day` hears about each day done.

    Consecutive days are searched together, up to `chunk_days` at a time, and split by acquisition
    day: a year costs a few dozen searches per AOI instead of hundreds, and each day's file is
    still exactly that day's scenes.
    """
    if not aois:
        raise NoUsableAoiError(
            f"no AOI to search for {source.provider}; a harvest needs at least one, or every day would be "
            "replaced by an empty answer"
        )
    before = source.stats()
    report = HarvestReport(source.provider, source.sandbox)
    for group in chunks(days, chunk_days):
        window = Window(day_window(group[0]).start, day_window(group[-1]).end)
        scenes = source.scenes(aois, window)
        acquired_on = np.asarray(acquisition_days(scenes), dtype="datetime64[D]")
        for day in group:
            rows = scenes.filter(pa.array(acquired_on == np.datetime64(day, "D"))) if len(scenes) else scenes
            summary = store.write_day(source.provider, day, rows)
            result = DayResult(day, summary.rows, summary.path)
            report.days.append(result)
            if on_day is not None:
                on_day(result)
    report.requests = source.stats() - before
    return report
