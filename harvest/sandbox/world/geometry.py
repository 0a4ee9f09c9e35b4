"""Footprint construction and antimeridian handling for the simulated world (areas: harvest.catalog.geodesy)."""

from __future__ import annotations

from typing import cast

import numpy as np
import shapely
from shapely.geometry.base import BaseGeometry

KM_PER_DEG_LAT = 110.574
KM_PER_DEG_LON_EQUATOR = 111.320
_WORLD = shapely.box(-180.0, -90.0, 180.0, 90.0)


def footprint_corners(
    lon: np.ndarray, lat: np.ndarray, heading_deg: np.ndarray, width_km: np.ndarray, length_km: np.ndarray
) -> np.ndarray:
    """Counter-clockwise corners (N, 4, 2) of scenes oriented along their ground track.

    Longitudes are continuous around each centre (they may leave [-180, 180]); `wrap_lon` folds
    them back for output, `split_antimeridian` makes geometries for spatial predicates.
    """
    heading = np.radians(heading_deg)
    along = np.stack([np.sin(heading), np.cos(heading)], axis=-1)  # east, north
    across = np.stack([np.cos(heading), -np.sin(heading)], axis=-1)
    half_l = (length_km / 2)[:, None]
    half_w = (width_km / 2)[:, None]
    # start-left, end-left, end-right, start-right: counter-clockwise for a southbound pass
    offsets = np.stack(
        [
            -along * half_l - across * half_w,
            along * half_l - across * half_w,
            along * half_l + across * half_w,
            -along * half_l + across * half_w,
        ],
        axis=1,
    )
    km_per_deg_lon = KM_PER_DEG_LON_EQUATOR * np.cos(np.radians(lat))[:, None]
    corners = np.empty_like(offsets)
    corners[..., 0] = lon[:, None] + offsets[..., 0] / km_per_deg_lon
    corners[..., 1] = np.clip(lat[:, None] + offsets[..., 1] / KM_PER_DEG_LAT, -89.9, 89.9)
    # make every ring counter-clockwise whatever the heading
    x, y = corners[..., 0], corners[..., 1]
    signed = np.sum(x * np.roll(y, -1, axis=1) - np.roll(x, -1, axis=1) * y, axis=1)
    clockwise = signed < 0
    corners[clockwise] = corners[clockwise][:, ::-1]
    return corners


def wrap_lon(lon: np.ndarray | float) -> np.ndarray | float:
    """Fold longitudes into [-180, 180)."""
    return (np.asarray(lon) + 180.0) % 360.0 - 180.0


def split_antimeridian(corners: np.ndarray) -> np.ndarray:
    """Shapely geometries for footprints; those crossing ±180° become MultiPolygons cut there."""
    rings = np.concatenate([corners, corners[:, :1]], axis=1)
    polygons = cast("np.ndarray", shapely.polygons(rings))  # an array for an array of rings
    lons = corners[..., 0]
    crossing = np.nonzero((lons.min(axis=1) < -180.0) | (lons.max(axis=1) > 180.0))[0]
    for index in crossing.tolist():
        polygons[index] = split_geometry(polygons[index])
    return polygons


def split_geometry(geometry: BaseGeometry) -> BaseGeometry:
    """Cut a geometry drawn with continuous longitudes at the antimeridian, folding both sides back."""
    parts: list[BaseGeometry] = []
    for shift in (-360.0, 0.0, 360.0):
        moved = shapely.affinity.translate(geometry, xoff=shift) if shift else geometry
        piece = shapely.intersection(moved, _WORLD)
        if not piece.is_empty and piece.area > 0:
            parts.extend(getattr(piece, "geoms", [piece]))
    polygons = [p for p in parts if isinstance(p, shapely.Polygon)]
    return polygons[0] if len(polygons) == 1 else shapely.MultiPolygon(polygons)


def bbox_of(corners: np.ndarray) -> np.ndarray:
    """(N, 4) minx, miny, maxx, maxy of continuous-longitude corners."""
    return np.stack(
        [corners[..., 0].min(1), corners[..., 1].min(1), corners[..., 0].max(1), corners[..., 1].max(1)], axis=1
    )
