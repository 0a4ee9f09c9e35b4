"""Geodesic measures of footprints and AOIs on the WGS84 ellipsoid."""

from __future__ import annotations

import shapely
from pyproj import Geod
from shapely.geometry.base import BaseGeometry

_GEOD = Geod(ellps="WGS84")


def area_km2(geometry: BaseGeometry) -> float:
    """Geodesic area in square kilometres of a Polygon or MultiPolygon (longitude, latitude degrees)."""
    total = 0.0
    for part in getattr(geometry, "geoms", [geometry]):
        if part.geom_type == "Polygon" and not part.is_empty:
            area, _ = _GEOD.geometry_area_perimeter(shapely.geometry.polygon.orient(part))
            total += abs(area)
    return total / 1e6
