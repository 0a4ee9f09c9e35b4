"""Readying conformed scene tables for storage: geometry checks, the `bbox` covering, and the sort key.

Rows are stored sorted by acquisition day, then by the Hilbert index of the covering's centre
(cheaper than a centroid, and right for footprints cut at ±180°, whose planar centroid lands
mid-globe), then by (provider, scene_id), then by arrival, so the order is total and depends on
content, not on how the rows were batched.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import shapely
from numpy.typing import NDArray

from harvest.catalog.bounds import ExtentAccumulator, covering_bounds
from harvest.catalog.hilbert import hilbert_index
from harvest.catalog.polygons import is_oriented_counterclockwise
from harvest.catalog.schema import BBOX_COLUMN, BBOX_TYPE
from harvest.catalog.validation import CatalogSchemaError
from harvest.timestamps import NS_PER_DAY

SORT_KEY = "__sort_key"
SEQUENCE = "__sequence"
SORT_COLUMNS = (SORT_KEY, "provider", "scene_id", SEQUENCE)
"""The total order of stored rows; the two internal columns are dropped when the file is written."""

_TYPE_NAMES = {
    shapely.GeometryType.POINT.value: "Point",
    shapely.GeometryType.LINESTRING.value: "LineString",
    shapely.GeometryType.LINEARRING.value: "LineString",  # WKB has no ring type
    shapely.GeometryType.POLYGON.value: "Polygon",
    shapely.GeometryType.MULTIPOINT.value: "MultiPoint",
    shapely.GeometryType.MULTILINESTRING.value: "MultiLineString",
    shapely.GeometryType.MULTIPOLYGON.value: "MultiPolygon",
    shapely.GeometryType.GEOMETRYCOLLECTION.value: "GeometryCollection",
}


class GeometrySummary:
    """What the `geo` metadata must say about every geometry of a file: types, extent, orientation."""

    def __init__(self) -> None:
        self.types: set[str] = set()
        self.extent = ExtentAccumulator()
        self.counterclockwise = True
        self.rows = 0

    def add(self, geometries: NDArray[np.object_], boxes: NDArray[np.float64]) -> None:
        """Account for one batch of geometries and their covering boxes."""
        ids = shapely.get_type_id(geometries)
        with_z = shapely.has_z(geometries)
        for kind, z in set(zip(ids.tolist(), with_z.tolist(), strict=True)):
            self.types.add(_TYPE_NAMES[kind] + (" Z" if z else ""))
        self.extent.add(boxes)
        if self.counterclockwise:
            self.counterclockwise = is_oriented_counterclockwise(geometries)
        self.rows += len(geometries)


def prepare(table: pa.Table, *, first_sequence: int, summary: GeometrySummary) -> pa.Table:
    """A SCENE_SCHEMA table with its `bbox` covering and the two sort columns appended."""
    geometries = shapely.from_wkb(table.column("geometry").to_numpy(zero_copy_only=False), on_invalid="ignore")
    broken = shapely.is_missing(geometries) | shapely.is_empty(geometries)
    if broken.any():
        row = int(np.argmax(broken))
        raise CatalogSchemaError(
            f"column 'geometry' of scene {_scene(table, row)} is not a non-empty WKB geometry; "
            "build it with harvest.catalog.footprints"
        )
    boxes = covering_bounds(geometries)
    bbox = covering(geometries, boxes, summary)
    acquired = pc.cast(table.column("acquired"), pa.int64()).to_numpy()
    sort_key = _sort_key(acquired, boxes)
    sequence = np.arange(first_sequence, first_sequence + len(table), dtype=np.int64)
    return (
        table.append_column(pa.field(BBOX_COLUMN, BBOX_TYPE, nullable=False), pa.chunked_array([bbox]))
        .append_column(SORT_KEY, pa.array(sort_key))
        .append_column(SEQUENCE, pa.array(sequence))
    )


def covering(geometries: NDArray[np.object_], boxes: NDArray[np.float64], summary: GeometrySummary) -> pa.StructArray:
    """The `bbox` covering column of these geometries (their boxes), accounted for in `summary`."""
    summary.add(geometries, boxes)
    return pa.StructArray.from_arrays([pa.array(boxes[:, i], pa.float64()) for i in range(4)], fields=list(BBOX_TYPE))


def with_covering(table: pa.Table, summary: GeometrySummary) -> pa.Table:
    """`table` (a WKB `geometry` column) with its `bbox` covering column appended, accounted for in `summary`."""
    geometries = shapely.from_wkb(table.column("geometry").to_numpy(zero_copy_only=False))
    bbox = covering(geometries, covering_bounds(geometries), summary)
    return table.append_column(pa.field(BBOX_COLUMN, BBOX_TYPE, nullable=False), pa.chunked_array([bbox]))


def _sort_key(acquired_ns: NDArray[np.int64], boxes: NDArray[np.float64]) -> NDArray[np.int64]:
    """Acquisition day (UTC) in the high bits, the Hilbert index of the box centre (32 bits) in the low ones."""
    west, east = boxes[:, 0], boxes[:, 2]
    centre = np.where(west <= east, (west + east) / 2, (west + east + 360.0) / 2)
    centre = np.where(centre > 180.0, centre - 360.0, centre)
    day = np.floor_divide(acquired_ns, NS_PER_DAY)
    return day * (1 << 32) + hilbert_index(centre, (boxes[:, 1] + boxes[:, 3]) / 2)


def _scene(table: pa.Table, row: int) -> str:
    return f"{table.column('provider')[row].as_py()}/{table.column('scene_id')[row].as_py()} (row {row})"
