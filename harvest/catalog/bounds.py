"""Bounding boxes: the per-row covering (plain, west <= east) and the file-level extent.

Coverings are plain so that third-party bbox filters stay correct. The file-level `bbox` of the
`geo` metadata is built from them (it wraps, RFC 7946 §5.2, only for boxes that already do).
"""

from __future__ import annotations

import numpy as np
import shapely
from numpy.typing import NDArray

from harvest.catalog.polygons import Geometries

_EDGE = 180.0


def covering_bounds(geometries: Geometries) -> NDArray[np.float64]:
    """(n, 4) xmin, ymin, xmax, ymax per geometry: the plain planar box (west <= east).

    A footprint cut at ±180° gets the box -180..180. That costs row-group pruning for those few
    scenes, but every tool reads the covering right: geopandas' `read_parquet(bbox=...)` and GDAL's
    spatial filter assume west <= east and would silently miss a wrapped (RFC 7946 §5.2) box.
    """
    return shapely.bounds(geometries)


def circular_extent(intervals: NDArray[np.float64], *, wrap_below: float = 360.0) -> tuple[float, float]:
    """Narrowest (west, east) over sorted disjoint longitude intervals; wraps (west > east) if under `wrap_below`°."""
    starts, ends = intervals[:, 0], intervals[:, 1]
    inner_gaps = starts[1:] - ends[:-1]
    wrap_gap = starts[0] + 360.0 - ends[-1]
    if inner_gaps.size and inner_gaps.max() > wrap_gap:
        widest = int(np.argmax(inner_gaps))
        west, east = float(starts[widest + 1]), float(ends[widest])
        if 360.0 - inner_gaps[widest] < wrap_below:
            return west, east
    return float(starts[0]), float(ends[-1])


def _merged(starts: NDArray[np.float64], ends: NDArray[np.float64]) -> NDArray[np.float64]:
    """Intervals merged where they overlap or touch, sorted by start: (m, 2)."""
    order = np.argsort(starts, kind="stable")
    starts, ends = starts[order], ends[order]
    reach = np.maximum.accumulate(ends)
    first = np.concatenate([[True], starts[1:] > reach[:-1]])
    heads = np.flatnonzero(first)
    return np.column_stack([starts[heads], np.maximum.reduceat(ends, heads)])


class ExtentAccumulator:
    """The file-level bbox of covering boxes seen so far, kept as merged longitude intervals."""

    def __init__(self) -> None:
        self._intervals = np.empty((0, 2))
        self._south = np.inf
        self._north = -np.inf

    def add(self, boxes: NDArray[np.float64]) -> None:
        """Take in (n, 4) covering boxes, wrapped ones included."""
        if not len(boxes):
            return
        wraps = boxes[:, 0] > boxes[:, 2]
        plain = boxes[~wraps]
        starts = np.concatenate([self._intervals[:, 0], plain[:, 0], boxes[wraps, 0], np.full(wraps.sum(), -_EDGE)])
        ends = np.concatenate([self._intervals[:, 1], plain[:, 2], np.full(wraps.sum(), _EDGE), boxes[wraps, 2]])
        self._intervals = _merged(starts, ends)
        self._south = min(self._south, float(boxes[:, 1].min()))
        self._north = max(self._north, float(boxes[:, 3].max()))

    def bbox(self) -> list[float] | None:
        """[west, south, east, north] (west > east across the antimeridian), or None before any box."""
        if not len(self._intervals):
            return None
        west, east = circular_extent(self._intervals)
        return [west, self._south, east, self._north]
