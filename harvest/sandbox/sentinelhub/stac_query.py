"""STAC item search: parameters from a POST body or a GET query, evaluated over the Sentinel-2 view.

Results come in acquisition order; paging is an offset (`next`) as Sentinel Hub's catalog does.
A date-time filter compares with the millisecond `datetime` the items show.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import orjson
import shapely
from shapely.geometry import shape
from shapely.geometry.base import BaseGeometry

from harvest.sandbox.core import Sandbox
from harvest.sandbox.sentinelhub.cql2 import Comparison, filter_mask, parse_filter
from harvest.sandbox.sentinelhub.errors import PayloadError
from harvest.sandbox.sentinelhub.s2_names import row_of_item
from harvest.sandbox.sentinelhub.stac_fields import Fields, parse_fields
from harvest.sandbox.sentinelhub.stac_items import COLLECTION_ID, cloud_cover
from harvest.sandbox.world.geometry import split_geometry
from harvest.sandbox.world.sensors import SENSORS
from harvest.timestamps import InvalidTimestamp, parse_ns

DEFAULT_LIMIT = 10
MAX_LIMIT = 100
_PLATFORMS = np.array([s.platform for s in SENSORS])


@dataclass(frozen=True)
class StacQuery:
    """A parsed item search."""

    area: BaseGeometry | None
    interval: tuple[int | None, int | None] | None  # inclusive bounds, None for open ends
    ids: tuple[str, ...] | None
    filters: tuple[Comparison, ...]
    fields: Fields | None
    limit: int
    offset: int


def parse_datetime(value: Any) -> tuple[int | None, int | None]:
    """An RFC 3339 instant or interval; `..` or nothing marks an open end."""
    if not isinstance(value, str) or not value.strip():
        raise PayloadError("datetime", "must be a date-time or an interval like 2020-01-01T00:00:00Z/..")
    parts = value.strip().split("/")
    if len(parts) > 2:
        raise PayloadError("datetime", f"{value!r} has more than two ends")
    try:
        ends = [None if part in ("", "..") else parse_ns(part) for part in parts]
    except InvalidTimestamp as exc:
        raise PayloadError("datetime", str(exc)) from exc
    start, end = (ends[0], ends[0]) if len(ends) == 1 else (ends[0], ends[1])
    if len(ends) == 1 and start is None:
        raise PayloadError("datetime", "`..` is only an open end of an interval")
    if start is not None and end is not None and start > end:
        raise PayloadError("datetime", "the interval starts after it ends")
    return start, end


def _numbers(value: Any) -> list[float]:
    parts = value if isinstance(value, list) else str(value).split(",")
    try:
        return [float(p) for p in parts]
    except (TypeError, ValueError) as exc:
        raise PayloadError("bbox", f"must be 4 or 6 numbers, got {value!r}") from exc


def parse_bbox(value: Any) -> BaseGeometry:
    """[minLon, minLat, maxLon, maxLat] (or 6 numbers with heights); west > east crosses the antimeridian."""
    numbers = _numbers(value)
    if len(numbers) == 6:
        numbers = [numbers[0], numbers[1], numbers[3], numbers[4]]
    if len(numbers) != 4:
        raise PayloadError("bbox", f"must be 4 or 6 numbers, got {len(numbers)}")
    west, south, east, north = numbers
    if south > north:
        raise PayloadError("bbox", "the south edge is above the north edge")
    if west > east:
        return shapely.MultiPolygon([shapely.box(west, south, 180.0, north), shapely.box(-180.0, south, east, north)])
    return shapely.box(west, south, east, north)


def parse_intersects(value: Any) -> BaseGeometry:
    """A GeoJSON geometry (an object, or its JSON text in a GET query)."""
    try:
        geometry = shape(orjson.loads(value) if isinstance(value, str) else value)
    except (ValueError, TypeError, KeyError, AttributeError, shapely.errors.ShapelyError) as exc:
        raise PayloadError("intersects", f"is not a GeoJSON geometry: {exc}") from exc
    if geometry.is_empty:
        raise PayloadError("intersects", "is empty")
    minx, _, maxx, _ = geometry.bounds
    if minx < -180.0 or maxx > 180.0:
        geometry = split_geometry(geometry)
    return geometry if geometry.is_valid else shapely.make_valid(geometry)


def _integer(name: str, value: Any) -> int:
    if isinstance(value, bool):
        raise PayloadError(name, "must be an integer")
    try:
        number = int(str(value))
    except ValueError as exc:
        raise PayloadError(name, f"must be an integer, got {value!r}") from exc
    return number


def parse_limit(value: Any) -> int:
    """1..100, default 10; larger values are clamped, as STAC asks."""
    if value is None or value == "":
        return DEFAULT_LIMIT
    limit = _integer("limit", value)
    if limit < 1:
        raise PayloadError("limit", "must be at least 1")
    return min(limit, MAX_LIMIT)


def parse_next(value: Any) -> int:
    """The offset a previous page's `context.next` gave."""
    if value is None or value == "":
        return 0
    offset = _integer("next", value)
    if offset < 0:
        raise PayloadError("next", "must not be negative")
    return offset


def _ids(value: Any) -> tuple[str, ...] | None:
    if value is None or value == "":
        return None
    parts = value if isinstance(value, list) else str(value).split(",")
    return tuple(str(p).strip() for p in parts if str(p).strip())


def _collections(value: Any) -> None:
    names = value if isinstance(value, list) else [p for p in str(value or "").split(",") if p]
    if len(names) != 1:
        raise PayloadError("collections", "must list exactly 1 collection")
    if names[0] != COLLECTION_ID:
        raise PayloadError("collections", f"unknown collection {names[0]!r}; this deployment has {COLLECTION_ID}")


def parse_query(params: Mapping[str, Any], *, collection: str | None = None) -> StacQuery:
    """A search from a POST body or GET parameters; `collection` is set for /collections/{id}/items."""
    if collection is None:
        _collections(params.get("collections"))
        if params.get("datetime") in (None, ""):
            raise PayloadError("datetime", "is required")
    if params.get("bbox") not in (None, "") and params.get("intersects") not in (None, ""):
        raise PayloadError("bbox", "give bbox or intersects, not both")
    area = None
    if params.get("bbox") not in (None, ""):
        area = parse_bbox(params["bbox"])
    elif params.get("intersects") not in (None, ""):
        area = parse_intersects(params["intersects"])
    has_time = params.get("datetime") not in (None, "")
    return StacQuery(
        area=area,
        interval=parse_datetime(params["datetime"]) if has_time else None,
        ids=_ids(params.get("ids")),
        filters=parse_filter(params.get("filter"), params.get("filter-lang")),
        fields=parse_fields(params.get("fields")),
        limit=parse_limit(params.get("limit")),
        offset=parse_next(params.get("next")),
    )


def matching_rows(sandbox: Sandbox, query: StacQuery, now_ns: int) -> np.ndarray:
    """World rows of every visible item matching `query`, in (datetime, row key) order."""
    world = sandbox.world
    view = world.stac
    if query.area is not None:
        rows = world.rows_intersecting(query.area)
        positions = view.position(rows[view.contains(rows)])
    else:
        positions = np.arange(len(view))
    positions = positions[view.state(now_ns).visible[positions]]
    rows = view.rows[positions]
    acquired = world.acq.acquired_ns[rows] // 1_000_000 * 1_000_000
    keep = np.ones(len(rows), dtype=bool)
    if query.interval is not None:
        start, end = query.interval
        if start is not None:
            keep &= acquired >= start
        if end is not None:
            keep &= acquired <= end
    if query.ids is not None:
        wanted = [row_of_item(sandbox, item_id) for item_id in query.ids]
        keep &= np.isin(rows, [r for r in wanted if r is not None])
    if query.filters:
        columns = {
            "eo:cloud_cover": cloud_cover(sandbox, rows),
            "gsd": np.full(len(rows), 10.0),
            "platform": _PLATFORMS[world.acq.sensor[rows]],
            "constellation": np.full(len(rows), "sentinel-2"),
        }
        keep &= filter_mask(query.filters, columns)
    rows, acquired = rows[keep], acquired[keep]
    ordered: np.ndarray = rows[np.lexsort([world.acq.key[rows], acquired])]
    return ordered
