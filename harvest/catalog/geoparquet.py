"""The GeoParquet 1.1 contract of every file harvest writes: the `geo` metadata, and the one way to write a file.

`write_table` writes a whole table; `geoparquet_writer` is the same file written in pieces (the
catalog's sorted writer streams row groups through it). Both give the file its `geo` metadata,
the shared Parquet options (zstd, page index) and appear at their path whole or not at all.

Every file says, under the `geo` key of its Parquet footer:

    {"version": "1.1.0", "primary_column": "geometry",
     "columns": {"geometry": {
         "encoding": "WKB",
         "geometry_types": ["MultiPolygon", "Polygon"],    # exactly those present
         "crs": {...PROJJSON of EPSG:4326...},
         "orientation": "counterclockwise",                # only when every ring was checked
         "bbox": [west, south, east, north],               # RFC 7946: west > east across ±180°
         "covering": {"bbox": {"xmin": ["bbox", "xmin"], "ymin": ["bbox", "ymin"],
                               "xmax": ["bbox", "xmax"], "ymax": ["bbox", "ymax"]}}}}}

Edges are planar (the default, so not written). Longitude comes first whatever the CRS says.
"""

from __future__ import annotations

import contextlib
import json
import os
from collections.abc import Iterable, Iterator, Sequence
from functools import cache
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from harvest.catalog.atomic import atomic_output
from harvest.catalog.ingest import GeometrySummary, with_covering
from harvest.catalog.schema import BBOX_COLUMN, BBOX_FIELDS

GEOPARQUET_VERSION = "1.1.0"
PRIMARY_COLUMN = "geometry"
GEO_KEY = b"geo"
PARQUET_OPTIONS: dict[str, Any] = {"compression": "zstd", "write_page_index": True}


@cache
def crs_projjson() -> dict[str, Any]:
    """PROJJSON of EPSG:4326, the CRS of every footprint (GeoParquet reads it longitude first)."""
    import pyproj  # a geopandas dependency; imported late as it loads the PROJ database

    return pyproj.CRS.from_epsg(4326).to_json_dict()


def geo_metadata(
    *, geometry_types: Iterable[str], bbox: Sequence[float] | None, counterclockwise: bool
) -> dict[str, Any]:
    """The `geo` metadata of a catalog file with these geometry types and file bbox."""
    column: dict[str, Any] = {
        "encoding": "WKB",
        "geometry_types": sorted(set(geometry_types)),
        "crs": crs_projjson(),
        "covering": {"bbox": {name: [BBOX_COLUMN, name] for name in BBOX_FIELDS}},
    }
    if counterclockwise:
        column["orientation"] = "counterclockwise"
    if bbox is not None:
        column["bbox"] = [float(value) for value in bbox]
    return {"version": GEOPARQUET_VERSION, "primary_column": PRIMARY_COLUMN, "columns": {PRIMARY_COLUMN: column}}


def encode_geo_metadata(metadata: dict[str, Any]) -> dict[bytes, bytes]:
    """Schema metadata carrying the `geo` key."""
    return {GEO_KEY: json.dumps(metadata, separators=(",", ":")).encode()}


def read_geo_metadata(path: str | Path) -> dict[str, Any]:
    """The `geo` metadata of a Parquet file; ValueError if it has none."""
    metadata = pq.read_metadata(path).metadata or {}
    if GEO_KEY not in metadata:
        raise ValueError(f"{path} has no GeoParquet `geo` metadata")
    geo: dict[str, Any] = json.loads(metadata[GEO_KEY])
    return geo


@contextlib.contextmanager
def geoparquet_writer(
    path: str | os.PathLike[str], schema: pa.Schema, summary: GeometrySummary, **options: Any
) -> Iterator[pq.ParquetWriter]:
    """A Parquet writer of one GeoParquet file whose `geo` metadata says what `summary` saw; atomic at `path`.

    `options` go to `pyarrow.parquet.ParquetWriter` over PARQUET_OPTIONS. The file appears only when
    the block ends without an exception (written beside it, fsynced, renamed).
    """
    metadata = geo_metadata(
        geometry_types=summary.types,
        bbox=summary.extent.bbox(),
        counterclockwise=summary.counterclockwise and summary.rows > 0,
    )
    schema = schema.with_metadata({**(schema.metadata or {}), **encode_geo_metadata(metadata)})
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    with (
        atomic_output(target) as temporary,
        pq.ParquetWriter(temporary, schema, **{**PARQUET_OPTIONS, **options}) as writer,
    ):
        yield writer


def write_table(path: str | os.PathLike[str], table: pa.Table, **options: Any) -> Path:
    """Write a table with a WKB `geometry` column as one GeoParquet 1.1 file (its `bbox` covering added), atomically."""
    summary = GeometrySummary()
    table = with_covering(table, summary)
    with geoparquet_writer(path, table.schema, summary, **options) as writer:
        writer.write_table(table)
    return Path(path)
