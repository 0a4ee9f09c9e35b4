"""Sentinel-2 L2A product names for world rows, e.g. S2A_MSIL2A_20240105T103321_N0510_R108_T31TCJ_20240105T121533.

The name is the STAC item id of the Sentinel Hub catalog: mission, sensing start, processing
baseline (by processing date), relative orbit, MGRS tile and product discriminator.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import numpy as np

from harvest.sandbox.core import Sandbox
from harvest.sandbox.sentinelhub.utm import mgrs_tile, utm_epsg
from harvest.sandbox.world.sensors import SENSORS
from harvest.sandbox.world.world import World
from harvest.timestamps import NS_PER_S, day_start_ns

RELATIVE_ORBITS = 143
_BASELINES = (
    (date(2018, 1, 1), "N0206"),
    (date(2018, 5, 23), "N0208"),
    (date(2019, 7, 8), "N0213"),
    (date(2020, 1, 28), "N0214"),
    (date(2021, 3, 30), "N0300"),
    (date(2021, 6, 30), "N0301"),
    (date(2022, 1, 25), "N0400"),
    (date(2022, 12, 6), "N0509"),
    (date(2023, 12, 13), "N0510"),
    (date(2024, 7, 23), "N0511"),
)
_BASELINE_STARTS = np.array([day_start_ns(day) for day, _ in _BASELINES], dtype=np.int64)


@dataclass(frozen=True)
class S2Names:
    """Per row: product name, MGRS tile, UTM EPSG code and relative orbit."""

    ids: list[str]
    tiles: list[str]
    epsg: list[int]
    relative_orbits: list[int]


def _compact(ns: np.ndarray) -> list[str]:
    text = np.datetime_as_string(ns.astype("datetime64[ns]"), unit="s")
    return [t.replace("-", "").replace(":", "") for t in text.tolist()]


def s2_names(world: World, rows: np.ndarray) -> S2Names:
    """Names of the Sentinel-2 acquisitions at `rows` of the world."""
    acq = world.acq
    rows = np.asarray(rows, dtype=np.int64)
    lon, lat = acq.lon[rows], acq.lat[rows]
    processed = acq.published_ns[rows] - (acq.noise[rows].astype(np.int64) % 1800) * NS_PER_S
    baselines = np.searchsorted(_BASELINE_STARTS, processed, side="right") - 1
    tile_cache: dict[tuple[float, float], tuple[str, int, int]] = {}
    ids, tiles, epsgs, orbits = [], [], [], []
    for x, y in zip(lon.tolist(), lat.tolist(), strict=True):
        if (x, y) not in tile_cache:  # a Sentinel-2 tile of the world has one fixed centre
            orbit = 1 + (round((x + 180.0) * 1000) * 7919) % RELATIVE_ORBITS
            tile_cache[(x, y)] = (mgrs_tile(x, y), utm_epsg(x, y), orbit)
        tile, epsg, orbit = tile_cache[(x, y)]
        tiles.append(tile)
        epsgs.append(epsg)
        orbits.append(orbit)
    sensing = _compact(acq.acquired_ns[rows])
    discriminators = _compact(processed)
    for i, row in enumerate(rows.tolist()):
        mission = "S2" + SENSORS[int(acq.sensor[row])].platform[-1].upper()
        baseline = _BASELINES[max(int(baselines[i]), 0)][1]
        ids.append(f"{mission}_MSIL2A_{sensing[i]}_{baseline}_R{orbits[i]:03d}_T{tiles[i]}_{discriminators[i]}")
    return S2Names(ids=ids, tiles=tiles, epsg=epsgs, relative_orbits=orbits)


def _catalog_index(sandbox: Sandbox) -> dict[str, int]:
    rows = sandbox.world.stac.rows
    return dict(zip(s2_names(sandbox.world, rows).ids, rows.tolist(), strict=True))


def row_of_item(sandbox: Sandbox, item_id: str) -> int | None:
    """The world row a catalog item id names (Sandbox.now_ns drops the index when the world grows)."""
    index = sandbox.cache("sentinelhub.stac_index", lambda: _catalog_index(sandbox))
    assert isinstance(index, dict)
    row: int | None = index.get(item_id)
    return row
