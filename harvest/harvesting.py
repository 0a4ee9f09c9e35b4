"""Harvesting acquisition days into the catalog: the work behind the catalog assets and the CLI backfill.

Each day is harvested whole, for every AOI, and written as one file: a re-run rewrites the same
file with the provider's current answer (idempotent), and a day that failed leaves the previous
file untouched.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from harvest.aois import Aoi
from harvest.catalog.store import CatalogStore
from harvest.providers.http import RequestStats
from harvest.sources import SceneSource, Window


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


def harvest_days(
    source: SceneSource,
    aois: Sequence[Aoi],
    days: Iterable[date],
    store: CatalogStore,
    *,
    on_day: Callable[[DayResult], None] | None = None,
) -> HarvestReport:
    """Harvest each day over every AOI and replace its file; `on_day` hears about each day done."""
    before = source.stats()
    report = HarvestReport(source.provider, source.sandbox)
    for day in days:
        scenes = source.scenes(aois, day_window(day))
        summary = store.write_day(source.provider, day, scenes)
        result = DayResult(day, summary.rows, summary.path)
        report.days.append(result)
        if on_day is not None:
            on_day(result)
    report.requests = source.stats() - before
    return report
