"""Where the catalog lives: one GeoParquet file per provider and acquisition day.

    $HARVEST_DATA_DIR/catalog/<provider>/<YYYY-MM-DD>.parquet
    $HARVEST_DATA_DIR/catalog/scene_catalog/<YYYY-MM-DD>.parquet   (all providers, one day)

A day's file is rewritten whole, atomically, every time the day is harvested, so re-running a
day is idempotent and a reader never sees half a file. Anything else in a folder (a stray file
not named by its day, or a day file damaged by hand or by a disk) is left out of the listings with
a warning naming it, and reading a damaged day raises DamagedFileError saying how to get it back:
a damaged day is never taken for an empty one.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.dataset as ds
import pyarrow.parquet as pq

from harvest.catalog.column_values import strings
from harvest.catalog.damage import STRAY, DamagedFileError, damage, day_of, unreadable
from harvest.catalog.schema import SCENE_SCHEMA
from harvest.catalog.writer import WriteSummary, write_catalog
from harvest.paths import data_dir

UNIFIED = "scene_catalog"
log = logging.getLogger(__name__)


@dataclass(frozen=True)
class SkippedFile:
    """A file in a catalog folder that is not a readable day: a stray (`day` None) or a damaged day."""

    path: Path
    reason: str
    day: date | None

    def __str__(self) -> str:
        fix = "" if self.day is None else f": {repair(self.path)}"
        return f"{self.path} {self.reason}; left out{fix}"

    def error(self) -> DamagedFileError:
        """The error a read of this file raises."""
        return DamagedFileError(self.path, self.reason, repair(self.path))


@dataclass(frozen=True)
class DayListing:
    """The day files of one folder, by day in order, and the files left out."""

    days: dict[date, Path]
    skipped: tuple[SkippedFile, ...]


def repair(path: Path) -> str:
    """How to get back the day a damaged catalog file held."""
    day = day_of(path)
    if day is None:
        return "delete it or move it out of the catalog (its files are named YYYY-MM-DD.parquet)"
    provider = "" if path.parent.name == UNIFIED else f" --provider {path.parent.name}"
    return f"delete it and re-run `harvest backfill{provider} --start {day} --end {day}`"


def damaged(path: Path, error: Exception) -> DamagedFileError:
    """The error for a catalog file whose read failed with `error`."""
    return DamagedFileError(path, unreadable(path, error), repair(path))


def find_damaged(paths: Sequence[Path], error: Exception) -> DamagedFileError | None:
    """Which of these files a read of them all failed on (`error`), as a DamagedFileError; None if none is found."""
    named = [path for path in paths if str(path) in str(error)]
    for path in [*named, *paths]:
        reason = damage(path)
        if reason is not None:
            return DamagedFileError(path, reason, repair(path))
        try:
            pq.read_metadata(path)
        except (pa.ArrowException, OSError) as exc:
            return damaged(path, exc)
    return damaged(named[0], error) if named else None


@dataclass(frozen=True)
class CatalogStore:
    """The catalog directory tree under one root."""

    root: Path

    @classmethod
    def default(cls) -> CatalogStore:
        return cls(data_dir() / "catalog")

    def path(self, provider: str, day: date) -> Path:
        return self.root / provider / f"{day.isoformat()}.parquet"

    def write_day(self, provider: str, day: date, scenes: pa.Table) -> WriteSummary:
        """Replace one provider-day file with these scenes (an empty day still gets its file)."""
        return write_catalog(self.path(provider, day), scenes)

    def read_day(self, provider: str, day: date) -> pa.Table:
        """A provider-day's scenes (SCENE_SCHEMA columns), empty if never harvested; DamagedFileError if damaged."""
        path = self.path(provider, day)
        if not path.exists():
            return SCENE_SCHEMA.empty_table()
        reason = damage(path)
        if reason is not None:
            raise DamagedFileError(path, reason, repair(path))
        try:
            return pq.read_table(path, columns=SCENE_SCHEMA.names).cast(SCENE_SCHEMA)
        except (pa.ArrowException, OSError) as exc:
            raise damaged(path, exc) from exc

    def check_day(self, provider: str, day: date) -> None:
        """DamagedFileError if the day's file (when there is one) is not whole Parquet; reads only its footer."""
        path = self.path(provider, day)
        if not path.exists():
            return
        reason = damage(path)
        if reason is not None:
            raise DamagedFileError(path, reason, repair(path))
        try:
            pq.read_metadata(path)
        except (pa.ArrowException, OSError) as exc:
            raise damaged(path, exc) from exc

    def listing(self, provider: str) -> DayListing:
        """A provider's day files, and the stray or damaged files of its folder (without warning about them)."""
        folder = self.root / provider
        if not folder.is_dir():
            return DayListing({}, ())
        days: dict[date, Path] = {}
        skipped: list[SkippedFile] = []
        for path in sorted(p for p in folder.glob("*.parquet") if not p.name.startswith(".")):
            day = day_of(path)
            reason = STRAY if day is None else damage(path)
            if reason is None and day is not None:
                days[day] = path
            else:
                skipped.append(SkippedFile(path, reason or STRAY, day))
        return DayListing(dict(sorted(days.items())), tuple(skipped))

    def days(self, provider: str) -> list[date]:
        """The days a provider has a readable-looking file for, in order (others are skipped with a warning)."""
        return list(self._listed(provider).days)

    def locate(self, provider: str, scene_ids: Iterable[str]) -> dict[str, date]:
        """The acquisition day of each of these scenes the provider's catalog holds (the others are absent)."""
        wanted = sorted(set(scene_ids))
        paths = list(self.files(provider))
        if not wanted or not paths:
            return {}
        try:
            table = ds.dataset([str(p) for p in paths], format="parquet").to_table(
                columns=["scene_id", "__filename"],
                filter=pc.field("scene_id").isin(wanted),
            )
        except (pa.ArrowException, OSError) as exc:
            found = find_damaged(paths, exc)
            if found is None:
                raise
            raise found from exc
        return {
            scene_id: date.fromisoformat(Path(file).stem)
            for scene_id, file in zip(
                strings(table.column("scene_id")), strings(table.column("__filename")), strict=True
            )
        }

    def files(self, provider: str | None = None) -> Iterator[Path]:
        """The day files of a provider (or of every folder), by day; stray or damaged files skipped with a warning."""
        names = [provider] if provider else [p.name for p in sorted(self.root.glob("*")) if p.is_dir()]
        for name in names:
            yield from self._listed(name).days.values()

    def _listed(self, provider: str) -> DayListing:
        listing = self.listing(provider)
        for skipped in listing.skipped:
            log.warning("catalog: %s", skipped)
        return listing
