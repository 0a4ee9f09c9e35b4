"""A Hilbert curve over longitude/latitude: nearby points get nearby indices, so sorted rows cluster in space."""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray

ORDER = 16
"""Bits per axis: a 65,536 x 65,536 grid over the globe (cells of about 0.0055° x 0.0027°), indices below 2**32."""


def hilbert_index(lon: ArrayLike, lat: ArrayLike, *, order: int = ORDER) -> NDArray[np.int64]:
    """Position along the Hilbert curve of each (lon, lat) point; values outside the globe are clamped onto it."""
    side = 1 << order
    x = _grid(np.asarray(lon, dtype=np.float64), -180.0, 360.0, side)
    y = _grid(np.asarray(lat, dtype=np.float64), -90.0, 180.0, side)
    return hilbert_distance(x, y, order=order)


def hilbert_distance(x: NDArray[np.int64], y: NDArray[np.int64], *, order: int) -> NDArray[np.int64]:
    """Position along the Hilbert curve of integer cells (0 <= x, y < 2**order), vectorised over arrays."""
    x = np.array(x, dtype=np.int64, copy=True)
    y = np.array(y, dtype=np.int64, copy=True)
    last = (1 << order) - 1
    distance = np.zeros(x.shape, dtype=np.int64)
    s = 1 << (order - 1)
    while s > 0:
        rx = (x & s) > 0
        ry = (y & s) > 0
        distance += s * s * ((3 * rx.astype(np.int64)) ^ ry.astype(np.int64))
        # rotate the quadrant so the curve inside it starts and ends where the next level expects
        flip = ~ry & rx
        x = np.where(flip, last - x, x)
        y = np.where(flip, last - y, y)
        swap = ~ry
        x, y = np.where(swap, y, x), np.where(swap, x, y)
        s >>= 1
    return distance


def _grid(values: NDArray[np.float64], origin: float, span: float, side: int) -> NDArray[np.int64]:
    cells = np.floor((np.nan_to_num(values, nan=origin) - origin) / span * side)
    return np.clip(cells, 0, side - 1).astype(np.int64)
