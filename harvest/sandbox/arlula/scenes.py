"""What Arlula says about a world row: its supplier scene id, platform and measurements.

Filters and rendered results read the same functions, so a scene can never be found by one value
and shown with another. Airbus scenes are the acquisitions OneAtlas sells, under the same
`archiveIdentifier` (the DS_... string).
"""

from __future__ import annotations

import weakref
from dataclasses import dataclass

import numpy as np
import shapely
from shapely.geometry import Polygon

from harvest.catalog.geodesy import area_km2
from harvest.sandbox.arlula.suppliers import Supplier, supplier_of
from harvest.sandbox.oneatlas.items import ItemFacts
from harvest.sandbox.world.generate import Acquisitions
from harvest.sandbox.world.geometry import wrap_lon
from harvest.sandbox.world.sensors import SENSORS
from harvest.sandbox.world.world import World
from harvest.timestamps import NS_PER_DAY

SUPPLIER_KEYS = np.array([s.supplier for s in SENSORS])
_GSD = np.array([s.gsd_m for s in SENSORS])
_LANDSAT = np.array([s.supplier == "landsat" for s in SENSORS])


def supplier_keys(world: World, rows: np.ndarray) -> np.ndarray:
    """Arlula supplier key per world row."""
    return SUPPLIER_KEYS[world.acq.sensor[rows]]


def gsd(world: World, rows: np.ndarray) -> np.ndarray:
    """Ground sample distance in metres per world row."""
    return _GSD[world.acq.sensor[rows]]


def cloud(world: World, rows: np.ndarray) -> np.ndarray:
    """Cloud cover in percent, as shown (two decimals)."""
    return np.round(world.acq.cloud[rows].astype(np.float64), 2)


def off_nadir(world: World, rows: np.ndarray) -> np.ndarray:
    """Off-nadir angle in degrees, as shown; Landsat always looks straight down."""
    angle = np.round(world.acq.incidence[rows].astype(np.float64), 2)
    return np.where(_LANDSAT[world.acq.sensor[rows]], 0.0, angle)


def _stamps(ns: np.ndarray) -> list[str]:
    return np.datetime_as_string(ns.astype("datetime64[ns]"), unit="s").tolist()


def _wrs2(lon: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    # WRS-2: path 1 near 64.6°W counting westwards, row 60 on the equator on descending passes
    path = (((-64.6 - lon) % 360.0) / 360.0 * 233).astype(np.int64) + 1
    row = np.round(60 - lat / 1.4486).astype(np.int64)
    return path, row


class _LandsatLags:
    """Days from acquisition to Collection 2 processing, unique within a (mission, path, row, day).

    The world may hold two acquisitions of one sensor in the same WRS-2 cell on the same day; the
    later one gets the next processing date, so that product ids never collide.
    """

    def __init__(self, acq: Acquisitions) -> None:
        self.acq = weakref.ref(acq)
        rows = np.nonzero(_LANDSAT[acq.sensor])[0]
        path, wrs_row = _wrs2(acq.lon[rows], acq.lat[rows])
        day = acq.acquired_ns[rows] // NS_PER_DAY
        sensor = acq.sensor[rows]
        order = np.lexsort((acq.acquired_ns[rows], wrs_row, path, day, sensor))
        keys = np.stack([sensor, day, path, wrs_row], axis=1)[order]
        starts = np.ones(len(order), dtype=bool)
        starts[1:] = np.any(keys[1:] != keys[:-1], axis=1)
        group_start = np.maximum.accumulate(np.where(starts, np.arange(len(order)), 0))
        base = 1 + acq.noise[rows][order].astype(np.int64) % 16
        lags = np.empty(len(rows), dtype=np.int64)
        lags[order] = base[group_start] + np.arange(len(order)) - group_start
        self.rows = rows
        self.lags = lags

    def of(self, rows: np.ndarray) -> np.ndarray:
        """Lags in days of Landsat world rows."""
        return self.lags[np.searchsorted(self.rows, rows)]


_LAGS: dict[int, _LandsatLags] = {}


def _landsat_lags(acq: Acquisitions, rows: np.ndarray) -> np.ndarray:
    lags = _LAGS.get(id(acq))
    if lags is None or lags.acq() is not acq:
        for stale in [k for k, v in _LAGS.items() if v.acq() is None]:
            del _LAGS[stale]  # the world was rebuilt (a new year): forget the old arrays
        lags = _LAGS[id(acq)] = _LandsatLags(acq)
    return lags.of(rows)


def _landsat_ids(acq: Acquisitions, rows: np.ndarray) -> list[str]:
    path, wrs_row = _wrs2(acq.lon[rows], acq.lat[rows])
    acquired = acq.acquired_ns[rows]
    processed = acquired + _landsat_lags(acq, rows) * NS_PER_DAY
    days = np.datetime_as_string(acquired.astype("datetime64[ns]"), unit="D").tolist()
    processed_days = np.datetime_as_string(processed.astype("datetime64[ns]"), unit="D").tolist()
    return [
        f"{'LC09' if SENSORS[sensor].platform.endswith('9') else 'LC08'}_L1TP_{p:03d}{r:03d}_"
        f"{day.replace('-', '')}_{done.replace('-', '')}_02_T1"
        for sensor, p, r, day, done in zip(
            acq.sensor[rows].tolist(), path.tolist(), wrs_row.tolist(), days, processed_days, strict=True
        )
    ]


def _other_id(platform: str, noise: int, acquired: str) -> str:
    day = acquired[:10].replace("-", "")
    if platform.startswith("SV1"):
        return f"{platform}_{day}_L1B{noise % 10**10:010d}"
    moment = day + acquired[11:19].replace(":", "")
    return f"TRIPLESAT_{platform[-1]}_PMS_L1_{moment}_{noise % 0xFFFFFF:06X}VI_{noise % 1000:03d}"


def scene_ids(world: World, rows: np.ndarray) -> list[str]:
    """The `sceneID` Arlula shows for each world row."""
    rows = np.asarray(rows, dtype=np.int64)
    acq = world.acq
    out = [""] * len(rows)
    keys = SUPPLIER_KEYS[acq.sensor[rows]]
    airbus = np.nonzero(keys == "airbus")[0]
    if len(airbus):
        view = world.oneatlas
        zeros = np.zeros(len(airbus), dtype=np.int64)
        facts = ItemFacts(view, view.position(rows[airbus]), zeros.astype(np.int8), zeros)
        for slot, identifier in zip(airbus.tolist(), facts.identifiers[0], strict=True):
            out[slot] = identifier
    landsat = np.nonzero(keys == "landsat")[0]
    if len(landsat):
        for slot, identifier in zip(landsat.tolist(), _landsat_ids(acq, rows[landsat]), strict=True):
            out[slot] = identifier
    others = np.nonzero((keys != "airbus") & (keys != "landsat"))[0]
    if len(others):
        picked = rows[others]
        acquired = _stamps(acq.acquired_ns[picked])
        for slot, sensor, noise, when in zip(
            others.tolist(), acq.sensor[picked].tolist(), acq.noise[picked].tolist(), acquired, strict=True
        ):
            out[slot] = _other_id(SENSORS[sensor].platform, noise, when)
    return out


@dataclass(frozen=True)
class Scene:
    """One sellable scene, with everything a search result or an order needs."""

    row: int
    key: int
    scene_id: str
    supplier: Supplier
    platform: str
    constellation: str
    gsd: float
    acquired_ns: int
    cloud: float
    off_nadir: float
    lon: float
    lat: float
    footprint: Polygon  # continuous longitudes around the centre (may leave [-180, 180])
    area_km2: float

    def bounding(self) -> list[list[float]]:
        """The footprint's closed ring as [long, lat] pairs, longitudes folded into [-180, 180)."""
        return ring_json(self.footprint.exterior.coords)


def ring_json(coords: object) -> list[list[float]]:
    """A coordinate sequence as [long, lat] pairs with folded longitudes, rounded for output."""
    points = np.asarray(coords, dtype=np.float64)[:, :2]
    points[:, 0] = wrap_lon(points[:, 0])
    return np.round(points, 6).tolist()


def scenes(world: World, rows: np.ndarray) -> list[Scene]:
    """Scene facts for world rows, in the order given."""
    rows = np.asarray(rows, dtype=np.int64)
    acq = world.acq
    ids = scene_ids(world, rows)
    clouds = cloud(world, rows).tolist()
    angles = off_nadir(world, rows).tolist()
    footprints = shapely.polygons(acq.corners[rows])
    out = []
    for i, row in enumerate(rows.tolist()):
        sensor = SENSORS[int(acq.sensor[row])]
        out.append(
            Scene(
                row=row,
                key=int(acq.key[row]),
                scene_id=ids[i],
                supplier=supplier_of(sensor.code),
                platform=sensor.platform,
                constellation=sensor.constellation,
                gsd=sensor.gsd_m,
                acquired_ns=int(acq.acquired_ns[row]),
                cloud=clouds[i],
                off_nadir=angles[i],
                lon=float(acq.lon[row]),
                lat=float(acq.lat[row]),
                footprint=footprints[i],
                area_km2=area_km2(world.shapes[row]),
            )
        )
    return out


def scene_of_key(world: World, key: int) -> Scene | None:
    """The scene of a world key, if Arlula sells it."""
    row = world.row_of_key(key)
    if row is None or not bool(world.arlula.contains(np.array([row]))[0]):
        return None
    return scenes(world, np.array([row]))[0]
