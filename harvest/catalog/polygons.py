"""Polygon housekeeping for footprints: keeping the polygonal part, and RFC 7946 ring orientation.

Every function takes and returns numpy object arrays of shapely geometries (None for a missing
one) and works on the whole array at once.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import shapely
from numpy.typing import NDArray
from shapely.geometry.base import BaseGeometry

Geometries = NDArray[np.object_]

POLYGON = shapely.GeometryType.POLYGON.value
MULTIPOLYGON = shapely.GeometryType.MULTIPOLYGON.value
COLLECTION = shapely.GeometryType.GEOMETRYCOLLECTION.value


def as_geometry_array(geometries: Iterable[BaseGeometry | None]) -> Geometries:
    """A new 1-d object array of the geometries (a copy, so callers may assign into it)."""
    items = list(geometries)
    array = np.empty(len(items), dtype=object)
    array[:] = items
    return array


def polygonal(geometries: Geometries) -> Geometries:
    """Only the areas: Polygons and MultiPolygons kept, collections reduced to their polygons, the rest empty."""
    out = geometries.copy()
    types = shapely.get_type_id(out)
    mixed = np.flatnonzero(types == COLLECTION)
    other = (types != POLYGON) & (types != MULTIPOLYGON) & (types != COLLECTION) & (types >= 0)
    out[other] = shapely.from_wkt("POLYGON EMPTY")
    if mixed.size:
        out[mixed] = _polygons_of_collections(out[mixed])
    return out


def _polygons_of_collections(collections: Geometries) -> Geometries:
    parts, owner = shapely.get_parts(collections, return_index=True)
    while True:  # collections inside collections, and multipolygons, are opened one level at a time
        types = shapely.get_type_id(parts)
        nested = (types == MULTIPOLYGON) | (types == COLLECTION)
        if not nested.any():
            break
        inner, inner_owner = shapely.get_parts(parts[nested], return_index=True)
        parts = np.concatenate([parts[~nested], inner])
        owner = np.concatenate([owner[~nested], owner[nested][inner_owner]])
    keep = (shapely.get_type_id(parts) == POLYGON) & ~shapely.is_empty(parts)
    return multipolygons_by_owner(parts[keep], owner[keep], len(collections))


def multipolygons_by_owner(parts: Geometries, owner: NDArray[np.intp], count: int) -> Geometries:
    """Gather polygons into `count` geometries by owner index: one part stays a Polygon, none is empty."""
    out = np.full(count, shapely.from_wkt("POLYGON EMPTY"), dtype=object)
    if not len(parts):
        return out
    order = np.argsort(owner, kind="stable")
    parts, owner = parts[order], owner[order]
    owners, counts = np.unique(owner, return_counts=True)
    single = owners[counts == 1]
    starts = np.concatenate([[0], np.cumsum(counts)[:-1]])
    out[single] = parts[starts[counts == 1]]
    several = np.isin(owner, owners[counts > 1])
    if several.any():
        _, dense = np.unique(owner[several], return_inverse=True)
        out[owners[counts > 1]] = shapely.multipolygons(parts[several], indices=dense)
    return out


def orient_counterclockwise(geometries: Geometries) -> Geometries:
    """Exterior rings counter-clockwise and holes clockwise (RFC 7946 §3.1.6); None stays None."""
    out = geometries.copy()
    types = shapely.get_type_id(out)
    simple = (types == POLYGON) & (shapely.get_num_interior_rings(out) == 0)
    clockwise = simple & ~shapely.is_ccw(shapely.get_exterior_ring(out))
    out[clockwise] = shapely.reverse(out[clockwise])
    complex_ = ((types == MULTIPOLYGON) | ((types == POLYGON) & ~simple)) & ~shapely.is_empty(out)
    if complex_.any():
        out[complex_] = shapely.orient_polygons(out[complex_], exterior_cw=False)
    return out


def is_oriented_counterclockwise(geometries: Geometries) -> bool:
    """Whether every polygon has a counter-clockwise exterior and clockwise holes."""
    types = shapely.get_type_id(geometries)
    simple = (types == POLYGON) & (shapely.get_num_interior_rings(geometries) == 0)
    if not shapely.is_ccw(shapely.get_exterior_ring(geometries[simple])).all():
        return False
    rest = geometries[~simple & ((types == POLYGON) | (types == MULTIPOLYGON))]
    if not len(rest):
        return True
    parts = shapely.get_parts(rest)
    holes = shapely.get_num_interior_rings(parts)
    rings = shapely.get_rings(parts)
    exterior = np.zeros(len(rings), dtype=bool)
    exterior[np.concatenate([[0], np.cumsum(holes + 1)[:-1]])] = True
    return bool(np.array_equal(shapely.is_ccw(rings), exterior))
