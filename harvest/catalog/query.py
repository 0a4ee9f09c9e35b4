"""What to read from the catalog: filters as a pyarrow expression row-group statistics can prune, then exact tests.

The bbox test runs on the `bbox` covering. A covering that wraps the antimeridian has xmin > xmax
and, being narrower than 180° (the writer guarantees it), xmin > 0 > xmax; it meets a query
[west, east] when its eastern part reaches the query (xmin <= east, and then xmax < east - 180)
or its western part does (xmax >= west, and then xmin > west + 180). Written that way every term
compares one column with a value, so statistics can refute it, and no plain box (xmin <= xmax)
can satisfy it. Rows that pass the covering test are then intersected exactly with the query box.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import TypeVar

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import shapely
from numpy.typing import NDArray
from shapely.geometry.base import BaseGeometry

from harvest.catalog.schema import BBOX_COLUMN, TIMESTAMP
from harvest.timestamps import from_datetime

Data = TypeVar("Data", pa.RecordBatch, pa.Table)


@dataclass(frozen=True)
class CatalogQuery:
    """Which scenes to read; every filter is optional and all given ones must hold."""

    bbox: tuple[float, float, float, float] | None = None  # west, south, east, north; west > east crosses ±180°
    start: datetime | None = None  # acquired at or after (UTC-aware)
    end: datetime | None = None  # acquired before (UTC-aware)
    providers: tuple[str, ...] | None = None
    max_cloud: float | None = None  # cloud_cover <= this; scenes of unknown cloud cover are left out
    aoi_ids: tuple[str, ...] | None = None  # harvested for any of these AOIs

    @classmethod
    def build(
        cls,
        *,
        bbox: Iterable[float] | None = None,
        start: datetime | None = None,
        end: datetime | None = None,
        providers: str | Iterable[str] | None = None,
        max_cloud: float | None = None,
        aoi_ids: str | Iterable[str] | None = None,
    ) -> CatalogQuery:
        """A checked query; ValueError says which argument is wrong (naive datetimes are refused)."""
        box = _checked_bbox(bbox) if bbox is not None else None
        for name, moment in (("start", start), ("end", end)):
            if moment is not None and (not isinstance(moment, datetime) or moment.tzinfo is None):
                raise ValueError(
                    f"{name}={moment!r} is a naive datetime or not a datetime; harvest compares UTC-aware datetimes "
                    "only, e.g. datetime(2026, 11, 1, tzinfo=UTC)"
                )
        if start is not None and end is not None and end < start:
            raise ValueError(f"end {end.isoformat()} is before start {start.isoformat()}")
        if max_cloud is not None and (isinstance(max_cloud, bool) or not math.isfinite(max_cloud)):
            raise ValueError(f"max_cloud must be a finite percentage, not {max_cloud!r}")
        return cls(box, start, end, _names(providers), None if max_cloud is None else float(max_cloud), _names(aoi_ids))

    def expression(self) -> pc.Expression | None:
        """The filters row-group statistics can prune on (bbox covering, acquired, provider, cloud_cover)."""
        terms: list[pc.Expression] = []
        if self.bbox is not None:
            terms.append(_covering_meets(self.bbox))
        if self.start is not None:
            terms.append(pc.field("acquired") >= pa.scalar(from_datetime(self.start), TIMESTAMP))
        if self.end is not None:
            terms.append(pc.field("acquired") < pa.scalar(from_datetime(self.end), TIMESTAMP))
        if self.providers is not None:
            terms.append(pc.field("provider").isin(list(self.providers)))
        if self.max_cloud is not None:
            terms.append(pc.field("cloud_cover") <= self.max_cloud)
        if not terms:
            return None
        combined = terms[0]
        for term in terms[1:]:
            combined = combined & term
        return combined

    def refinement_columns(self) -> tuple[str, ...]:
        """Columns `refine` needs besides those asked for."""
        return (*(("geometry",) if self.bbox is not None else ()), *(("aoi_ids",) if self.aoi_ids is not None else ()))

    def refine(self, data: Data) -> Data:
        """The rows (already through `expression`) whose footprint meets the bbox and whose AOIs match."""
        keep: NDArray[np.bool_] = np.ones(data.num_rows, dtype=np.bool_)
        if self.bbox is not None and data.num_rows:
            geometries = shapely.from_wkb(data.column("geometry").to_numpy(zero_copy_only=False))
            keep &= shapely.intersects(geometries, self.bbox_geometry())
        if self.aoi_ids is not None and data.num_rows:
            lists = data.column("aoi_ids")
            hits = pc.is_in(pc.list_flatten(lists), value_set=pa.array(self.aoi_ids, pa.string()))
            parents = pc.list_parent_indices(lists).to_numpy()
            keep &= np.bincount(parents[hits.to_numpy(zero_copy_only=False)], minlength=data.num_rows) > 0
        return data if keep.all() else data.filter(pa.array(keep))

    def bbox_geometry(self) -> BaseGeometry:
        """The query box as a geometry: two boxes when it crosses the antimeridian."""
        assert self.bbox is not None
        return shapely.union_all([shapely.box(*part) for part in _split(self.bbox)])


def _checked_bbox(bbox: Iterable[float]) -> tuple[float, float, float, float]:
    values = tuple(float(value) for value in bbox)
    if len(values) != 4 or not all(math.isfinite(value) for value in values):
        raise ValueError(f"bbox must be 4 finite numbers (west, south, east, north), not {values!r}")
    west, south, east, north = values
    if not (-180 <= west <= 180 and -180 <= east <= 180 and -90 <= south <= north <= 90):
        raise ValueError(
            f"bbox {values!r} is not (west, south, east, north) in EPSG:4326: longitudes in [-180, 180], "
            "latitudes in [-90, 90] with south <= north (west > east crosses the antimeridian)"
        )
    return west, south, east, north


def _names(value: str | Iterable[str] | None) -> tuple[str, ...] | None:
    if value is None:
        return None
    return (value,) if isinstance(value, str) else tuple(value)


def _split(bbox: tuple[float, float, float, float]) -> list[tuple[float, float, float, float]]:
    west, south, east, north = bbox
    if west <= east:
        return [bbox]
    return [(west, south, 180.0, north), (-180.0, south, east, north)]


def _covering_meets(bbox: tuple[float, float, float, float]) -> pc.Expression:
    xmin, ymin, xmax, ymax = (pc.field(BBOX_COLUMN, name) for name in ("xmin", "ymin", "xmax", "ymax"))
    _, south, _, north = bbox
    across = None
    for west, _, east, _ in _split(bbox):
        plain = (xmin <= east) & (xmax >= west)
        eastern_part_meets = (xmin <= east) & (xmax < east - 180)
        western_part_meets = (xmax >= west) & (xmin > west + 180)
        wrapped = (xmin > 0) & (xmax < 0) & (eastern_part_meets | western_part_meets)
        term = plain | wrapped
        across = term if across is None else across | term
    assert across is not None
    return across & (ymin <= north) & (ymax >= south)
