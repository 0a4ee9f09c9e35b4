"""Provider footprints (GeoJSON) turned into catalog geometries: valid, polygonal, counter-clockwise, cut at ±180°.

Providers send Polygons with one ring almost always, so those take a fast path that builds all of
a batch's rings from one coordinate array; anything else goes through GEOS's GeoJSON reader. The
rest is array-at-a-time shapely: a harvest writes tens of thousands of scenes a second.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import numpy as np
import orjson
import pyarrow as pa
import shapely
from shapely.geometry.base import BaseGeometry

from harvest.catalog.antimeridian import antimeridian_crossings, crosses_antimeridian, cut_at_antimeridian
from harvest.catalog.polygons import Geometries, as_geometry_array, orient_counterclockwise, polygonal

__all__ = [
    "InvalidFootprint",
    "antimeridian_crossings",
    "crosses_antimeridian",
    "footprint_from_geojson",
    "footprints_from_geojson",
    "footprints_to_wkb",
    "normalize_footprints",
]


class InvalidFootprint(ValueError):
    """A provider geometry that yields no usable footprint."""


def footprint_from_geojson(geometry: Mapping[str, Any]) -> BaseGeometry:
    """One GeoJSON geometry (or Feature) as a catalog footprint; raises InvalidFootprint when it has no area."""
    [footprint] = footprints_from_geojson([geometry])
    if not isinstance(footprint, BaseGeometry):
        kind = geometry.get("type") if isinstance(geometry, Mapping) else type(geometry).__name__
        raise InvalidFootprint(
            f"footprint of type {kind!r} is not valid GeoJSON or has no area inside latitudes [-90, 90] once repaired"
        )
    return footprint


def footprints_from_geojson(geometries: Sequence[Mapping[str, Any]]) -> Geometries:
    """GeoJSON geometries (or Features) as footprints, in one pass; None where one is unusable."""
    return normalize_footprints(_parse(geometries))


def normalize_footprints(geometries: Iterable[BaseGeometry | None]) -> Geometries:
    """Shapely geometries made footprints: 2D, polygonal, cut at ±180°, valid, counter-clockwise; None if unusable."""
    out = geometries.copy() if isinstance(geometries, np.ndarray) else as_geometry_array(geometries)
    has_z = shapely.has_z(out)
    if has_z.any():
        out[has_z] = shapely.force_2d(out[has_z])
    out = polygonal(out)
    crossing = antimeridian_crossings(out)
    if crossing.any():
        out[crossing] = cut_at_antimeridian(out[crossing])
    invalid = ~crossing & ~shapely.is_valid(out) & ~shapely.is_missing(out)
    if invalid.any():
        out[invalid] = polygonal(shapely.make_valid(out[invalid], method="structure", keep_collapsed=False))
    out = orient_counterclockwise(out)
    bounds = shapely.bounds(out)
    with np.errstate(invalid="ignore"):
        unusable = shapely.is_empty(out) | shapely.is_missing(out) | (bounds[:, 1] < -90) | (bounds[:, 3] > 90)
    out[unusable] = None
    return out


def footprints_to_wkb(geometries: Iterable[BaseGeometry | None]) -> pa.BinaryArray:
    """Footprints as the catalog's `geometry` column: little-endian 2D WKB; a missing or empty one is an error."""
    array = geometries if isinstance(geometries, np.ndarray) else as_geometry_array(geometries)
    missing = shapely.is_missing(array) | shapely.is_empty(array)
    if missing.any():
        raise InvalidFootprint(f"footprint #{int(np.argmax(missing))} is missing or empty; each scene needs one")
    return pa.array(shapely.to_wkb(array, output_dimension=2, byte_order=1), type=pa.binary())


def _parse(geometries: Sequence[Mapping[str, Any]]) -> Geometries:
    """Shapely geometries for GeoJSON dicts, None where a dict is not GeoJSON."""
    items = list(geometries)
    simple: list[int] = []
    rings: list[Any] = []
    for index, item in enumerate(items):
        try:
            if item["type"] == "Feature":
                item = items[index] = item["geometry"]
            if item["type"] == "Polygon":
                coordinates = item["coordinates"]
                if len(coordinates) == 1 and len(coordinates[0]) >= 4:
                    simple.append(index)
                    rings.append(coordinates[0])
        except (KeyError, TypeError, IndexError):
            continue
    out = np.full(len(items), None, dtype=object)
    built = _simple_polygons(rings) if rings else None
    if built is None:
        simple = []
    else:
        out[simple] = built
    rest = np.ones(len(items), dtype=bool)
    rest[simple] = False
    if rest.any():
        out[rest] = shapely.from_geojson([_dumps(items[i]) for i in np.flatnonzero(rest).tolist()], on_invalid="ignore")
    return out


def _simple_polygons(rings: list[Any]) -> Geometries | None:
    """One-ring Polygons built from a single coordinate array, or None when their coordinates are not all 2D."""
    try:
        xy = np.asarray([point for ring in rings for point in ring], dtype=np.float64)
    except (TypeError, ValueError):  # mixed 2D/3D points, or not numbers at all
        return None
    if xy.ndim != 2 or xy.shape[1] != 2 or not np.isfinite(xy).all():
        return None
    lengths = np.fromiter((len(ring) for ring in rings), dtype=np.intp, count=len(rings))
    ends = np.cumsum(lengths)
    starts = ends - lengths
    unclosed = np.any(xy[starts] != xy[ends - 1], axis=1)
    if unclosed.any():  # GeoJSON rings repeat their first point; close the few that forget
        xy = np.insert(xy, ends[unclosed], xy[starts[unclosed]], axis=0)
        ends = np.cumsum(lengths + unclosed)
    ring_offsets = np.concatenate([[0], ends])
    polygon_offsets = np.arange(len(rings) + 1)
    return shapely.from_ragged_array(shapely.GeometryType.POLYGON, xy, (ring_offsets, polygon_offsets))


def _dumps(item: Any) -> str | None:
    try:
        return orjson.dumps(item, option=orjson.OPT_SERIALIZE_NUMPY).decode()
    except TypeError:
        return None
