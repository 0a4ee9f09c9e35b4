"""UTM zones, their EPSG codes and MGRS 100 km squares, as Sentinel-2 tile names use them."""

from __future__ import annotations

from functools import lru_cache

import numpy as np
from pyproj import Transformer

_BANDS = "CDEFGHJKLMNPQRSTUVWX"  # 8° latitude bands from 80°S
_COLUMN_LETTERS = ("ABCDEFGH", "JKLMNPQR", "STUVWXYZ")  # by zone modulo 3
_ROW_LETTERS = "ABCDEFGHJKLMNPQRSTUV"


def utm_epsg(lon: float, lat: float) -> int:
    """EPSG code of the WGS 84 / UTM zone containing a point (no Norway/Svalbard exceptions)."""
    zone = int((lon + 180.0) // 6.0) % 60 + 1
    return (32600 if lat >= 0 else 32700) + zone


@lru_cache(maxsize=128)
def _from_crs84(epsg: int) -> Transformer:
    return Transformer.from_crs(4326, epsg, always_xy=True)


def to_utm(epsg: int, lon: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Easting and northing of CRS84 points in the UTM zone `epsg`."""
    x, y = _from_crs84(epsg).transform(np.asarray(lon, dtype=float), np.asarray(lat, dtype=float))
    return np.asarray(x), np.asarray(y)


def mgrs_tile(lon: float, lat: float) -> str:
    """The MGRS 100 km square of a point, e.g. "31TCJ" for Toulouse."""
    epsg = utm_epsg(lon, lat)
    zone = epsg % 100
    easting, northing = to_utm(epsg, np.array([lon]), np.array([lat]))
    band = _BANDS[min(max(int((lat + 80.0) // 8.0), 0), len(_BANDS) - 1)]
    column = _COLUMN_LETTERS[(zone - 1) % 3][min(max(int(easting[0] // 100_000) - 1, 0), 7)]
    row = _ROW_LETTERS[(int(northing[0] // 100_000) + (5 if zone % 2 == 0 else 0)) % len(_ROW_LETTERS)]
    return f"{zone:02d}{band}{column}{row}"
