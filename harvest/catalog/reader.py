"""Reading the scene catalog: one file or a tree of them, filtered, with row groups skipped by their statistics.

    read_catalog("catalog", CatalogQuery.build(bbox=(1.2, 43.4, 1.6, 43.8), start=..., end=..., max_cloud=20))

Row groups whose statistics rule the filters out are never read (`plan_scan` shows which are);
rows are then filtered on the covering, the time, provider and cloud columns, and finally on the
exact footprint and the AOIs. A directory's files that cannot be Parquet (empty, truncated) are
left out with a warning; a file that fails to read raises DamagedFileError naming it.
"""

from __future__ import annotations

import contextlib
import logging
import os
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, overload

import geopandas as gpd
import pyarrow as pa
import pyarrow.dataset as ds
import shapely

from harvest.catalog.damage import damage
from harvest.catalog.query import CatalogQuery
from harvest.catalog.schema import SCENE_SCHEMA, STORED_SCHEMA
from harvest.catalog.store import find_damaged

DEFAULT_BATCH_SIZE = 65_536
CRS = "EPSG:4326"

Source = str | os.PathLike[str] | Sequence[str | os.PathLike[str]]  # a file, a directory, or a list of files
log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ScanPlan:
    """The row groups a query will read, out of all those in the catalog files."""

    files: tuple[Path, ...]
    row_groups_total: int
    fragments: tuple[ds.ParquetFileFragment, ...]  # one per selected row group (or per whole file, unfiltered)
    query: CatalogQuery

    @property
    def row_groups_selected(self) -> int:
        """How many row groups the scan reads."""
        return sum(fragment.num_row_groups for fragment in self.fragments)

    def dataset(self) -> ds.FileSystemDataset:
        """The selected row groups as one dataset of the stored schema."""
        return ds.FileSystemDataset(list(self.fragments), STORED_SCHEMA, ds.ParquetFileFormat())


def catalog_files(source: Source) -> tuple[Path, ...]:
    """The catalog's Parquet files: `source` itself, every visible *.parquet under it (sorted), or the files listed."""
    if not isinstance(source, str | os.PathLike):
        return tuple(Path(path) for path in source)
    root = Path(source)
    if root.is_file():
        return (root,)
    if not root.is_dir():
        raise FileNotFoundError(f"no catalog file or directory at {root}")
    return tuple(
        sorted(
            path
            for path in root.rglob("*.parquet")
            if path.is_file()
            and not any(part.startswith((".", "_")) for part in path.relative_to(root).parts)
            and _looks_whole(path)
        )
    )


def _looks_whole(path: Path) -> bool:
    """Whether a file found in a directory can be Parquet; a warning names it when not."""
    reason = damage(path)
    if reason is not None:
        log.warning("catalog: %s %s; left out", path, reason)
    return reason is None


@contextlib.contextmanager
def _naming_damaged(files: Sequence[Path]) -> Iterator[None]:
    """Turn a failed read of these files into a DamagedFileError naming the file at fault."""
    try:
        yield
    except (pa.ArrowException, OSError) as exc:
        found = find_damaged(files, exc)
        if found is None:
            raise
        raise found from exc


def plan_scan(source: Source, query: CatalogQuery | None = None) -> ScanPlan:
    """Which row groups of the catalog could hold rows for `query`, judged by their statistics."""
    query = query or CatalogQuery()
    files = catalog_files(source)
    expression = query.expression()
    total = 0
    fragments: list[ds.ParquetFileFragment] = []
    with _naming_damaged(files):
        dataset = ds.dataset([str(path) for path in files], schema=STORED_SCHEMA, format="parquet")
        for fragment in dataset.get_fragments():
            total += fragment.num_row_groups
            if expression is None:
                fragments.append(fragment)
            else:
                fragments.extend(fragment.split_by_row_group(expression, schema=STORED_SCHEMA))
    return ScanPlan(files, total, tuple(fragments), query)


def iter_catalog_batches(
    source: Source,
    query: CatalogQuery | None = None,
    *,
    columns: Iterable[str] | None = None,
    batch_size: int = DEFAULT_BATCH_SIZE,
) -> Iterator[pa.RecordBatch]:
    """Stream the scenes `query` matches (every scene without one) as record batches of `columns` (default: all)."""
    query = query or CatalogQuery()
    wanted = _columns(columns)
    read = [*wanted, *(name for name in query.refinement_columns() if name not in wanted)]
    plan = plan_scan(source, query)
    if not plan.fragments:
        return
    with _naming_damaged(plan.files):
        for batch in plan.dataset().to_batches(columns=read, filter=query.expression(), batch_size=batch_size):
            if batch.num_rows:
                refined = query.refine(batch)
                if refined.num_rows:
                    yield refined.select(wanted)


@overload
def read_catalog(
    source: Source,
    query: CatalogQuery | None = None,
    *,
    columns: Iterable[str] | None = None,
    as_geodataframe: Literal[True] = True,
) -> gpd.GeoDataFrame: ...


@overload
def read_catalog(
    source: Source,
    query: CatalogQuery | None = None,
    *,
    columns: Iterable[str] | None = None,
    as_geodataframe: Literal[False],
) -> pa.Table: ...


def read_catalog(
    source: Source,
    query: CatalogQuery | None = None,
    *,
    columns: Iterable[str] | None = None,
    as_geodataframe: bool = True,
) -> gpd.GeoDataFrame | pa.Table:
    """The matching scenes as a GeoDataFrame in EPSG:4326 (always with `geometry`), or as an Arrow table."""
    wanted = _columns(columns)
    if as_geodataframe and "geometry" not in wanted:
        wanted.append("geometry")
    batches = iter_catalog_batches(source, query, columns=wanted)
    table = pa.Table.from_batches(list(batches), schema=pa.schema([STORED_SCHEMA.field(name) for name in wanted]))
    return to_geodataframe(table) if as_geodataframe else table


def to_geodataframe(table: pa.Table) -> gpd.GeoDataFrame:
    """A catalog table as a GeoDataFrame whose `geometry` column holds shapely footprints in EPSG:4326."""
    position = table.schema.get_field_index("geometry")
    geometries = shapely.from_wkb(table.column("geometry").to_numpy(zero_copy_only=False))
    frame = table.drop_columns(["geometry"]).to_pandas()
    frame.insert(position, "geometry", gpd.GeoSeries(geometries, index=frame.index, crs=CRS))
    return gpd.GeoDataFrame(frame, geometry="geometry", crs=CRS)


def _columns(columns: Iterable[str] | None) -> list[str]:
    wanted = list(SCENE_SCHEMA.names if columns is None else columns)
    unknown = [name for name in wanted if name not in STORED_SCHEMA.names]
    if unknown:
        raise ValueError(f"column {unknown[0]!r} is not a catalog column; choose from {', '.join(STORED_SCHEMA.names)}")
    return wanted
