"""Where the catalog lives: one GeoParquet file per provider and acquisition day.

    $HARVEST_DATA_DIR/catalog/<provider>/<YYYY-MM-DD>.parquet
    $HARVEST_DATA_DIR/catalog/scene_catalog/<YYYY-MM-DD>.parquet   (all providers, one day)

A day's file is rewritten whole, atomically, every time the day is harvested, so re-running a
day is idempotent and a reader never sees half a file.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.dataset as ds
import pyarrow.parquet as pq

from harvest.catalog.schema import SCENE_SCHEMA
from harvest.catalog.writer import WriteSummary, write_catalog
from harvest.paths import data_dir

UNIFIED = "scene_catalog"


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
        """A provider-day's scenes (SCENE_SCHEMA columns), empty if never harvested."""
        path = self.path(provider, day)
        if not path.exists():
            return SCENE_SCHEMA.empty_table()
        return pq.read_table(path, columns=SCENE_SCHEMA.names).cast(SCENE_SCHEMA)

    def days(self, provider: str) -> list[date]:
        """The days a provider has a file for, in order."""
        folder = self.root / provider
        if not folder.is_dir():
            return []
        return sorted(date.fromisoformat(p.stem) for p in folder.glob("*.parquet") if not p.name.startswith("."))

    def locate(self, provider: str, scene_ids: Iterable[str]) -> dict[str, date]:
        """The acquisition day of each of these scenes the provider's catalog holds (the others are absent)."""
        wanted = sorted(set(scene_ids))
        files = [str(p) for p in self.files(provider)]
        if not wanted or not files:
            return {}
        table = ds.dataset(files, format="parquet").to_table(
            columns=["scene_id", "__filename"],
            filter=pc.field("scene_id").isin(wanted),
        )
        return {
            scene_id: date.fromisoformat(Path(file).stem)
            for scene_id, file in zip(
                table.column("scene_id").to_pylist(), table.column("__filename").to_pylist(), strict=True
            )
        }

    def files(self, provider: str | None = None) -> Iterator[Path]:
        folders = [self.root / provider] if provider else [p for p in sorted(self.root.glob("*")) if p.is_dir()]
        for folder in folders:
            yield from sorted(p for p in folder.glob("*.parquet") if not p.name.startswith("."))
