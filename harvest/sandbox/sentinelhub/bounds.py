"""Request `bounds` (bbox and/or GeoJSON geometry in a CRS given by URL) as a CRS84 geometry."""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any

import numpy as np
import shapely
from pyproj import Transformer
from pyproj.exceptions import CRSError
from shapely.geometry import shape
from shapely.geometry.base import BaseGeometry

from harvest.sandbox.sentinelhub.errors import PayloadError
from harvest.sandbox.world.geometry import split_geometry

CRS84 = "http://www.opengis.net/def/crs/OGC/1.3/CRS84"
_EPSG_URL = re.compile(r"^https?://www\.opengis\.net/def/crs/EPSG/0/(\d+)$")
_POLYGONAL = ("Polygon", "MultiPolygon")


def _epsg_of(crs: Any, parameter: str) -> int:
    if crs == CRS84:
        return 4326
    match = _EPSG_URL.match(str(crs))
    if match is None:
        raise PayloadError(
            parameter, f"unsupported CRS {crs!r}; use {CRS84} or http://www.opengis.net/def/crs/EPSG/0/<code>"
        )
    return int(match.group(1))


@lru_cache(maxsize=32)
def _to_crs84(epsg: int) -> Transformer:
    return Transformer.from_crs(epsg, 4326, always_xy=True)


def _reproject(geometry: BaseGeometry, epsg: int, parameter: str) -> BaseGeometry:
    try:
        transformer = _to_crs84(epsg)
    except CRSError as exc:
        raise PayloadError(parameter, f"unknown CRS EPSG:{epsg}") from exc
    dense = shapely.segmentize(geometry, max_segment_length=1_000.0)

    def transform(coords: np.ndarray) -> np.ndarray:
        x, y = transformer.transform(coords[:, 0], coords[:, 1])
        return np.column_stack([x, y])

    return shapely.transform(dense, transform)


def _bbox(value: Any, parameter: str) -> BaseGeometry:
    if not isinstance(value, list) or len(value) != 4 or not all(isinstance(v, int | float) for v in value):
        raise PayloadError(parameter, "must be [minX, minY, maxX, maxY]")
    minx, miny, maxx, maxy = (float(v) for v in value)
    if miny >= maxy or minx == maxx:
        raise PayloadError(parameter, "is empty: minY must be below maxY and minX differ from maxX")
    if minx > maxx:  # crosses the antimeridian
        return shapely.MultiPolygon([shapely.box(minx, miny, 180.0, maxy), shapely.box(-180.0, miny, maxx, maxy)])
    return shapely.box(minx, miny, maxx, maxy)


def _geometry(value: Any, parameter: str) -> BaseGeometry:
    if not isinstance(value, dict) or value.get("type") not in _POLYGONAL:
        raise PayloadError(parameter, "must be a GeoJSON Polygon or MultiPolygon")
    try:
        geometry = shape(value)
    except (ValueError, TypeError, KeyError, AttributeError, shapely.errors.ShapelyError) as exc:
        raise PayloadError(parameter, f"is not valid GeoJSON: {exc}") from exc
    return geometry if geometry.is_valid else shapely.make_valid(geometry)


def parse_bounds(bounds: Any, parameter: str = "bounds") -> BaseGeometry:
    """The area of `bounds` in CRS84, cut at the antimeridian; geometry wins over bbox."""
    if not isinstance(bounds, dict):
        raise PayloadError(parameter, "is required: an object with bbox and/or geometry")
    properties = bounds.get("properties") or {}
    if not isinstance(properties, dict):
        raise PayloadError(f"{parameter}.properties", "must be an object")
    epsg = _epsg_of(properties.get("crs", CRS84), f"{parameter}.properties.crs")
    if bounds.get("geometry") is not None:
        area = _geometry(bounds["geometry"], f"{parameter}.geometry")
    elif bounds.get("bbox") is not None:
        area = _bbox(bounds["bbox"], f"{parameter}.bbox")
    else:
        raise PayloadError(parameter, "needs a bbox or a geometry")
    if epsg != 4326:
        area = _reproject(area, epsg, f"{parameter}.properties.crs")
    minx, _, maxx, _ = area.bounds
    if minx < -180.0 or maxx > 180.0:
        area = split_geometry(area)
    if area.is_empty or area.area <= 0:
        raise PayloadError(parameter, "has no area")
    return area
