"""Writing the scene catalog: a streaming, sorted, atomic GeoParquet 1.1 writer.

    with CatalogWriter("catalog/oneatlas/2026-11-01.parquet") as writer:
        for batch in batches:            # Arrow data of SCENE_SCHEMA
            writer.write(batch)
    # closed: the file is complete, or (on an exception) untouched

Memory holds about one buffer of rows (`buffer_rows`, a row group by default), whatever the
total: larger inputs are sorted externally in a hidden scratch directory beside the file. The
file appears under its name only when complete (temporary file, fsync, `os.replace`); nothing
temporary survives an exception.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import TypeAlias, TypedDict, Unpack

import pyarrow as pa

from harvest.catalog.atomic import scratch_directory
from harvest.catalog.external_sort import ExternalSorter
from harvest.catalog.geoparquet import geoparquet_writer
from harvest.catalog.ingest import SEQUENCE, SORT_COLUMNS, SORT_KEY, GeometrySummary, prepare
from harvest.catalog.schema import BBOX_COLUMN, BBOX_FIELDS, SCENE_SCHEMA, STORED_SCHEMA
from harvest.catalog.validation import conform

DEFAULT_ROW_GROUP_SIZE = 32_768
DEFAULT_BUFFER_ROWS = 16_384  # rows sorted in memory before spilling: bounds the peak at a few times this
DEFAULT_MERGE_FAN_IN = 32

# low-cardinality columns, worth a dictionary; `raw`, `geometry` and ids would only overflow one
_DICTIONARY_COLUMNS = [
    "provider",
    "constellation",
    "platform",
    "processing_level",
    "product_type",
    "price_currency",
    "price_unit",
    "aoi_ids.list.element",
]
# statistics on every column but the two blobs, whose min/max would only bloat the footer
_STATISTICS_COLUMNS = [
    *(name for name in SCENE_SCHEMA.names if name not in ("raw", "geometry", "aoi_ids")),
    "aoi_ids.list.element",
    *(f"{BBOX_COLUMN}.{name}" for name in BBOX_FIELDS),
]

DataLike: TypeAlias = pa.RecordBatch | pa.Table


@dataclass(frozen=True)
class WriteSummary:
    """What a finished write produced."""

    path: Path
    rows: int
    row_groups: int
    bytes: int
    geometry_types: tuple[str, ...]
    bbox: tuple[float, float, float, float] | None  # west > east when it crosses the antimeridian
    spilled_runs: int  # 0: sorted in memory


class CatalogWriter:
    """Stream scene batches into one GeoParquet file, sorted for locality and replaced atomically on close."""

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        row_group_size: int = DEFAULT_ROW_GROUP_SIZE,
        buffer_rows: int | None = None,
        spill_batch_rows: int | None = None,
        merge_fan_in: int = DEFAULT_MERGE_FAN_IN,
        compression_level: int | None = None,
    ) -> None:
        if row_group_size < 1:
            raise ValueError(f"row_group_size must be positive, not {row_group_size}")
        self.path = Path(path)
        self._row_group_size = row_group_size
        self._compression_level = compression_level
        buffer_rows = buffer_rows or min(row_group_size, DEFAULT_BUFFER_ROWS)
        self._stack = contextlib.ExitStack()
        self._scratch: Path | None = None
        self._sorter = ExternalSorter(
            SORT_COLUMNS,
            scratch=self._scratch_directory,
            buffer_rows=buffer_rows,
            batch_rows=spill_batch_rows or max(1024, buffer_rows // 64),
            fan_in=merge_fan_in,
        )
        self._summary = GeometrySummary()
        self._rows = 0
        self._closed = False

    def write(self, data: DataLike) -> None:
        """Add scenes (Arrow data of SCENE_SCHEMA, any `bbox` is recomputed); CatalogSchemaError names a bad column."""
        if self._closed:
            raise ValueError(f"the writer of {self.path} is already closed")
        table = conform(data)
        if not len(table):
            return
        prepared = prepare(table, first_sequence=self._rows, summary=self._summary)
        self._rows += len(table)
        self._sorter.add(prepared)

    def close(self) -> WriteSummary:
        """Sort, write and atomically publish the file; the scratch directory is removed either way."""
        if self._closed:
            raise ValueError(f"the writer of {self.path} is already closed")
        self._closed = True
        with self._stack:
            summary = self._summary
            bbox = summary.extent.bbox()
            row_groups = self._write_file()
            return WriteSummary(
                path=self.path,
                rows=self._rows,
                row_groups=row_groups,
                bytes=self.path.stat().st_size,
                geometry_types=tuple(sorted(summary.types)),
                bbox=(bbox[0], bbox[1], bbox[2], bbox[3]) if bbox else None,
                spilled_runs=self._sorter.spilled_runs,
            )

    def abort(self) -> None:
        """Give up: nothing is written and the scratch directory is removed; the file keeps any previous version."""
        self._closed = True
        self._stack.close()

    def __enter__(self) -> CatalogWriter:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, traceback: TracebackType | None
    ) -> None:
        if kind is not None:
            self.abort()
        elif not self._closed:
            self.close()

    def _scratch_directory(self) -> Path:
        if self._scratch is None:
            self._scratch = self._stack.enter_context(scratch_directory(self.path))
        return self._scratch

    def _write_file(self) -> int:
        """Stream the sorted rows into the file in row groups of `row_group_size`; the number of row groups."""
        size = self._row_group_size
        row_groups = 0
        with geoparquet_writer(
            self.path,
            STORED_SCHEMA,
            self._summary,
            compression_level=self._compression_level,
            use_dictionary=_DICTIONARY_COLUMNS,
            write_statistics=_STATISTICS_COLUMNS,
        ) as writer:
            pending: list[pa.Table] = []
            pending_rows = 0
            for table in self._sorter.sorted_tables():
                pending.append(table.drop_columns([SORT_KEY, SEQUENCE]))
                pending_rows += len(table)
                del table
                while pending_rows >= size:
                    rows = pa.concat_tables(pending)
                    writer.write_table(rows.slice(0, size), row_group_size=size)
                    row_groups += 1
                    pending = [rows.slice(size)] if pending_rows > size else []
                    pending_rows -= size
                    del rows
            if pending_rows:
                writer.write_table(pa.concat_tables(pending), row_group_size=size)
                row_groups += 1
        return row_groups


class WriterOptions(TypedDict, total=False):
    """CatalogWriter's tuning knobs, for functions that pass them on."""

    row_group_size: int
    buffer_rows: int | None
    spill_batch_rows: int | None
    merge_fan_in: int
    compression_level: int | None


def write_catalog(
    path: str | os.PathLike[str], data: DataLike | Iterable[DataLike], **options: Unpack[WriterOptions]
) -> WriteSummary:
    """Write scenes (a table, a batch, or an iterable of them) to one catalog file; see CatalogWriter for options."""
    with CatalogWriter(path, **options) as writer:
        for item in [data] if isinstance(data, DataLike) else data:
            writer.write(item)
        return writer.close()
