"""Search areas and what gets ordered from a scene: the overlap, enlarged to the supplier's minimum.

Since API 2020-12 every result is priced for the searched AOI, or for a minimum order containing it
(docs/providers.md#arlula-archive-search): a point grows into a square of the minimum order quantity (PONT), a too-small
intersection grows into a rectangle around it (ENLR), and suppliers without AOI orders sell whole
scenes (NAOI). Geometry is computed with continuous longitudes around each scene, so footprints
across the antimeridian need no special case.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import cached_property
from typing import cast

import numpy as np
import shapely
import shapely.wkt
from shapely.geometry import Point, Polygon
from shapely.geometry.base import BaseGeometry

from harvest.catalog.geodesy import area_km2
from harvest.sandbox.arlula.suppliers import Supplier
from harvest.sandbox.world.geometry import KM_PER_DEG_LAT, KM_PER_DEG_LON_EQUATOR, split_geometry

_WORLD = shapely.box(-180.0, -90.0, 180.0, 90.0)
_GROWTH = 1.12
_MAX_STEPS = 60


class AreaError(ValueError):
    """A search area the API refuses (HTTP 400)."""


def pont(moq: float) -> str:
    """The annotation of a point search enlarged to the minimum order."""
    return (
        "PONT: Your Point search was enlarged to an area centered on your search to meet the suppliers "
        f"Minimum Order Quantity of {moq:g}sqkm"
    )


def enlr(moq: float) -> str:
    """The annotation of an intersection enlarged to the minimum order."""
    return (
        "ENLR: The intersection of your search area and this scene was less than the suppliers minimum order "
        f"of {moq:g}sqkm, the AOI was enlarged to meet the minimum order"
    )


NAOI = "NAOI: This supplier does not support AOI imagery ordering"
COVR = "COVR: Your AOI covers this whole scene. Pricing is for the whole scene"


@dataclass(frozen=True)
class SearchArea:
    """A point or an area of interest."""

    geometry: BaseGeometry  # longitudes in [-180, 180], cut at the antimeridian: for the spatial index
    is_point: bool
    area_km2: float  # 0 for a point

    @cached_property
    def around(self) -> BaseGeometry:
        """The area repeated one turn east and west, so that it meets scenes drawn beyond ±180°."""
        return shapely.union_all([shapely.affinity.translate(self.geometry, xoff=dx) for dx in (-360, 0, 360)])


def _number(value: object, name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise AreaError(f"{name} must be a number")
    try:
        number = float(value)
    except ValueError as exc:
        raise AreaError(f"{name} must be a number, got {value!r}") from exc
    if not math.isfinite(number):
        raise AreaError(f"{name} must be a finite number")
    return number


def _latitude(value: object, name: str) -> float:
    number = _number(value, name)
    if not -90 <= number <= 90:
        raise AreaError(f"{name} must be between -90 and 90, got {number:g}")
    return number


def _longitude(value: object, name: str) -> float:
    number = _number(value, name)
    if not -180 <= number <= 180:
        raise AreaError(f"{name} must be between -180 and 180, got {number:g}")
    return number


def point_area(lat: object, long: object) -> SearchArea:
    """A point of interest."""
    return SearchArea(Point(_longitude(long, "longitude"), _latitude(lat, "latitude")), True, 0.0)


def bbox_area(north: object, south: object, east: object, west: object) -> SearchArea:
    """A bounding box; west > east means it crosses the antimeridian."""
    n, s = _latitude(north, "north"), _latitude(south, "south")
    e, w = _longitude(east, "east"), _longitude(west, "west")
    if s >= n:
        raise AreaError(f"south ({s:g}) must be below north ({n:g})")
    if w == e:
        raise AreaError("east and west must differ")
    box = shapely.box(w, s, e, n) if w < e else shapely.box(w, s, e + 360.0, n)
    return _polygonal(box)


def polygon_area(value: object) -> SearchArea:
    """A polygon given as a GeoJSON ring array `[[[long, lat], ...]]` or as WKT."""
    try:
        if isinstance(value, str):
            geometry = shapely.wkt.loads(value)
        elif isinstance(value, list) and value:
            rings = [[(float(x), float(y)) for x, y, *_ in ring] for ring in value]
            geometry = Polygon(rings[0], rings[1:])
        else:
            raise AreaError("polygon must be a ring array [[[long, lat], ...]] or a WKT string")
    except (TypeError, ValueError, shapely.errors.ShapelyError) as exc:
        raise AreaError(f"polygon is neither a ring array nor WKT: {exc}") from exc
    if geometry.geom_type not in ("Polygon", "MultiPolygon") or geometry.is_empty or geometry.area == 0:
        raise AreaError("polygon must be a non-empty Polygon or MultiPolygon")
    _, miny, _, maxy = geometry.bounds
    if miny < -90 or maxy > 90:
        raise AreaError("polygon latitudes must be between -90 and 90 ([long, lat] order)")
    return _polygonal(geometry if geometry.is_valid else geometry.buffer(0))


def _polygonal(geometry: BaseGeometry) -> SearchArea:
    minx, _, maxx, _ = geometry.bounds
    if minx < -180 or maxx > 180:
        geometry = split_geometry(geometry)
    return SearchArea(geometry, False, area_km2(geometry))


@dataclass(frozen=True)
class Overlap:
    """A result's overlap with the search, and what an order of it buys."""

    shown: Polygon  # overlap.polygon (continuous longitudes)
    shown_km2: float
    ordered: Polygon  # what gets delivered: `shown`, or the whole scene for NAOI suppliers
    ordered_km2: float
    scene_percent: float
    search_percent: float  # -1 for a point search
    annotations: tuple[str, ...]


def _square(centre: Point, side_km: float) -> Polygon:
    half_lat = side_km / 2 / KM_PER_DEG_LAT
    half_lon = side_km / 2 / (KM_PER_DEG_LON_EQUATOR * max(math.cos(math.radians(centre.y)), 0.01))
    return shapely.box(centre.x - half_lon, centre.y - half_lat, centre.x + half_lon, centre.y + half_lat)


def _rounded(geometry: BaseGeometry) -> Polygon:
    """One canonical polygon, coordinates rounded to 1e-6° (what orderingIDs carry and prices are for)."""
    polygons = [g for g in getattr(geometry, "geoms", [geometry]) if g.geom_type == "Polygon" and not g.is_empty]
    if not polygons:
        return Polygon()
    polygon = polygons[0] if len(polygons) == 1 else shapely.convex_hull(shapely.union_all(polygons))
    # canonical ring start, and counter-clockwise exteriors (RFC 7946), whatever the input's drawing
    polygon = shapely.geometry.polygon.orient(cast(Polygon, shapely.normalize(polygon)), 1.0)  # a polygon stays one
    return shapely.transform(polygon, lambda xy: np.round(xy, 6))


def _enlarge(core: BaseGeometry, centre: Point, scene: Polygon, moq: float) -> Polygon:
    """The smallest grown rectangle around `core` whose part inside the scene reaches the minimum."""
    side = math.sqrt(moq) * 1.01
    for _ in range(_MAX_STEPS):
        grown = shapely.box(*shapely.union(core, _square(centre, side)).bounds)
        candidate = _rounded(shapely.intersection(grown, scene))
        if not candidate.is_empty and area_km2(candidate) >= moq:
            return candidate
        if grown.covers(scene):
            break
        side *= _GROWTH
    return _rounded(scene)


def _nearest_copy(point: Point, scene: Polygon) -> Point:
    turns = round((scene.centroid.x - point.x) / 360.0)
    return Point(point.x + 360.0 * turns, point.y)


def _point_overlap(area: SearchArea, scene: Polygon, supplier: Supplier) -> tuple[Polygon, list[str]]:
    if not supplier.aoi_orders:
        return _rounded(scene), [NAOI]
    assert isinstance(area.geometry, Point), "a point search area holds a Point"
    centre = _nearest_copy(area.geometry, scene)
    return _enlarge(centre, centre, scene, supplier.moq_km2), [pont(supplier.moq_km2)]


def _area_overlap(area: SearchArea, scene: Polygon, supplier: Supplier) -> tuple[Polygon, list[str]]:
    if area.around.covers(scene):
        return _rounded(scene), ([COVR] if supplier.aoi_orders else [NAOI, COVR])
    core = shapely.intersection(area.around, scene)
    inside = _rounded(core)
    if not supplier.aoi_orders:
        return (inside if not inside.is_empty else _rounded(scene)), [NAOI]
    if not inside.is_empty and area_km2(inside) >= supplier.moq_km2:
        return inside, []
    centre = (core if not core.is_empty else scene).centroid
    return _enlarge(core, centre, scene, supplier.moq_km2), [enlr(supplier.moq_km2)]


def compute_overlap(area: SearchArea, scene: Polygon, scene_km2: float, supplier: Supplier) -> Overlap:
    """What a search area and a scene have in common, and what ordering the result would buy."""
    if area.is_point:
        shown, annotations = _point_overlap(area, scene, supplier)
    else:
        shown, annotations = _area_overlap(area, scene, supplier)
    shown_km2 = area_km2(shown)
    ordered = shown if supplier.aoi_orders else _rounded(scene)
    return Overlap(
        shown=shown,
        shown_km2=shown_km2,
        ordered=ordered,
        ordered_km2=shown_km2 if ordered is shown else area_km2(ordered),
        scene_percent=min(100.0, shown_km2 / scene_km2 * 100.0) if scene_km2 else 0.0,
        search_percent=-1.0 if area.is_point else shown_km2 / area.area_km2 * 100.0,
        annotations=tuple(annotations),
    )
