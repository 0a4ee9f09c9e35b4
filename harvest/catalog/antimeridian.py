"""Footprints across the antimeridian: finding them, and cutting them there (RFC 7946 §3.1.9).

Providers draw such footprints two ways: with folded longitudes, a ring jumping from 179.9 to
-179.8, or with continuous ones that leave [-180, 180] (179.9 to 180.2). Either way an edge whose
longitude changes by more than 180° is taken to cross ±180° the short way round, which holds for
every footprint narrower than half the globe. A ring that comes back shifted by 360° winds round a
pole, and is closed over it.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable
from dataclasses import dataclass
from typing import cast

import numpy as np
import shapely
from numpy.typing import NDArray
from shapely.geometry import LinearRing
from shapely.geometry.base import BaseGeometry

from harvest.catalog.polygons import Geometries, as_geometry_array, multipolygons_by_owner, polygonal

_HALF_TURN = 180.0


def crosses_antimeridian(geometry: BaseGeometry) -> bool:
    """Whether a polygonal geometry crosses ±180°: a ring jumps by more than 180°, or leaves [-180, 180]."""
    return bool(_crossing(as_geometry_array([geometry]))[0])


def antimeridian_crossings(geometries: Iterable[BaseGeometry | None]) -> NDArray[np.bool_]:
    """`crosses_antimeridian` for each of many geometries at once (False for None)."""
    return _crossing(geometries if isinstance(geometries, np.ndarray) else as_geometry_array(geometries))


def _crossing(geometries: Geometries) -> NDArray[np.bool_]:
    out = np.zeros(len(geometries), dtype=bool)
    bounds = shapely.bounds(geometries)
    with np.errstate(invalid="ignore"):  # None and empty geometries have NaN bounds
        candidate = (
            (bounds[:, 2] - bounds[:, 0] > _HALF_TURN) | (bounds[:, 0] < -_HALF_TURN) | (bounds[:, 2] > _HALF_TURN)
        )
    # the fast path: a geometry narrower than 180° inside [-180, 180] cannot jump by more than 180°
    suspects = np.flatnonzero(candidate)
    if suspects.size:
        rings = _Rings.of(geometries[suspects])
        out[suspects] = rings.geometry_flags(rings.crossing())
    return out


def cut_at_antimeridian(geometries: Geometries) -> Geometries:
    """Geometries with every crossing one made valid and cut at ±180° into parts inside [-180, 180]."""
    out = geometries.copy()
    crossing = np.flatnonzero(_crossing(geometries))
    if crossing.size:
        out[crossing] = _cut(geometries[crossing])
    return out


def _cut(geometries: Geometries) -> Geometries:
    rings = _Rings.of(geometries)
    parts, owner = rings.unwrapped_parts()
    parts = shapely.make_valid(parts, method="structure", keep_collapsed=False)
    pieces, piece_owner = [], []
    for turn in (-1, 0, 1):
        west = -_HALF_TURN + 360.0 * turn
        piece = shapely.clip_by_rect(parts, west, -90.0, west + 360.0, 90.0)
        if turn:
            piece = shapely.transform(piece, functools.partial(_shifted_west, turns=turn))
        kept = ~shapely.is_empty(piece)
        pieces.append(piece[kept])
        piece_owner.append(owner[kept])
    flat, index = shapely.get_parts(polygonal(np.concatenate(pieces)), return_index=True)
    flat_owner = np.concatenate(piece_owner)[index]
    keep = (shapely.get_type_id(flat) == shapely.GeometryType.POLYGON.value) & (shapely.area(flat) > 0)
    cut = multipolygons_by_owner(flat[keep], flat_owner[keep], len(geometries))
    invalid = ~shapely.is_valid(cut)  # a polar cap comes back as two halves sharing the seam
    if invalid.any():
        cut[invalid] = polygonal(shapely.make_valid(cut[invalid], method="structure", keep_collapsed=False))
    return cut


@dataclass(frozen=True)
class _Rings:
    """The rings of polygonal geometries, flattened, with the coordinates of all of them in one array."""

    part_owner: NDArray[np.intp]  # geometry of each polygon part
    ring_part: NDArray[np.intp]  # polygon part of each ring
    xy: NDArray[np.float64]  # coordinates of all rings, ring after ring
    coord_ring: NDArray[np.intp]  # ring of each coordinate
    starts: NDArray[np.intp]  # first coordinate of each ring
    count: int  # geometries

    @classmethod
    def of(cls, geometries: Geometries) -> _Rings:
        """The rings of these geometries."""
        parts, part_owner = shapely.get_parts(geometries, return_index=True)
        rings, ring_part = shapely.get_rings(parts, return_index=True)
        xy, coord_ring = shapely.get_coordinates(rings, return_index=True)
        starts = np.searchsorted(coord_ring, np.arange(len(rings)))
        return cls(part_owner, ring_part, xy, coord_ring, starts, len(geometries))

    def _steps(self) -> NDArray[np.float64]:
        """+360 or -360 where an edge jumps by more than 180° (the shift that undoes it), else 0."""
        dx = np.diff(self.xy[:, 0])
        same_ring = self.coord_ring[1:] == self.coord_ring[:-1]
        return np.where(same_ring & (dx > _HALF_TURN), -360.0, 0.0) + np.where(
            same_ring & (dx < -_HALF_TURN), 360.0, 0.0
        )

    def crossing(self) -> NDArray[np.bool_]:
        """Per ring: whether it jumps across ±180° or leaves [-180, 180]."""
        jumps = self.coord_ring[1:][self._steps() != 0]
        outside = self.coord_ring[np.abs(self.xy[:, 0]) > _HALF_TURN]
        flags = np.zeros(len(self.ring_part), dtype=bool)
        flags[jumps] = True
        flags[outside] = True
        return flags

    def geometry_flags(self, ring_flags: NDArray[np.bool_]) -> NDArray[np.bool_]:
        """Per geometry: whether any of its rings is flagged."""
        out = np.zeros(self.count, dtype=bool)
        out[self.part_owner[self.ring_part[ring_flags]]] = True
        return out

    def unwrapped_parts(self) -> tuple[Geometries, NDArray[np.intp]]:
        """Each polygon part redrawn with continuous longitudes around [-180, 180], and its geometry."""
        x = self.xy[:, 0].copy()
        shift = np.concatenate([[0.0], np.cumsum(self._steps())])
        shift -= shift[self.starts][self.coord_ring]
        x += shift
        ends = np.append(self.starts[1:], len(x))
        winding = shift[ends - 1] != 0  # came back 360° away: the ring goes round a pole

        # bring each exterior ring's middle into [-180, 180) and each hole next to its exterior
        middle = (np.minimum.reduceat(x, self.starts) + np.maximum.reduceat(x, self.starts)) / 2
        exterior = np.concatenate([[True], self.ring_part[1:] != self.ring_part[:-1]])
        shell = np.flatnonzero(exterior)[np.cumsum(exterior) - 1]
        shell_shift = -360.0 * np.floor((middle + _HALF_TURN) / 360.0)
        hole_shift = 360.0 * np.round((middle[shell] + shell_shift[shell] - middle) / 360.0)
        x += np.where(exterior, shell_shift, hole_shift)[self.coord_ring]

        xy = np.column_stack([x, self.xy[:, 1]])
        # shapely's stubs type the vectorised constructors as "one geometry or an array": with
        # `indices` they always return an array
        rings = cast("Geometries", shapely.linearrings(xy, indices=self.coord_ring))
        for ring in np.flatnonzero(winding).tolist():
            rings[ring] = _closed_over_pole(xy[self.starts[ring] : ends[ring]])
        parts = cast("Geometries", shapely.polygons(rings, indices=self.ring_part))
        return parts, self.part_owner


def _shifted_west(xy: NDArray[np.float64], turns: int) -> NDArray[np.float64]:
    return xy - np.array([360.0 * turns, 0.0], dtype=np.float64)


def _closed_over_pole(xy: NDArray[np.float64]) -> LinearRing:
    pole = 90.0 if xy[:, 1].mean() >= 0 else -90.0
    detour = np.array([[xy[-1, 0], pole], [xy[0, 0], pole], xy[0]])
    return LinearRing(np.vstack([xy, detour]))
