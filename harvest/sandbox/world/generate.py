"""Deterministic generation of acquisitions, one calendar year at a time.

A year's scenes depend only on (seed, year, density, AOIs), so a sandbox started on any day, or
restarted, sees the same history, and a long-running one can extend into a new year.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import date

import numpy as np

from harvest.aois import Aoi
from harvest.sandbox.world.geometry import footprint_corners
from harvest.sandbox.world.sensors import (
    AIRBUS,
    HISTORY_START,
    SENSORS,
    SENTINEL2,
    SENTINEL2_REPEAT_DAYS,
    Sensor,
)
from harvest.timestamps import NS_PER_DAY, NS_PER_S, day_start_ns

NEVER = np.iinfo(np.int64).max
UPDATE_SLOTS = 4
_H = 3600 * NS_PER_S
_PUBLICATION_BATCH_NS = 10 * 60 * NS_PER_S  # OneAtlas publishes in batches sharing one instant
_CAMPAIGN_EVERY_DAYS = 45


@dataclass
class Acquisitions:
    """Column arrays, one row per acquisition, sorted by acquisition time within a year."""

    key: np.ndarray  # int64, year * 10**7 + row within the year
    sensor: np.ndarray  # int16 index into SENSORS
    acquired_ns: np.ndarray  # int64
    lon: np.ndarray  # centre, folded into [-180, 180)
    lat: np.ndarray
    corners: np.ndarray  # (N, 4, 2), continuous longitudes around the centre
    cloud: np.ndarray  # float32, percent
    snow: np.ndarray
    incidence: np.ndarray
    incidence_across: np.ndarray
    incidence_along: np.ndarray
    azimuth: np.ndarray
    sun_azimuth: np.ndarray
    sun_elevation: np.ndarray
    published_ns: np.ndarray  # first appearance in the seller's catalog
    updates_ns: np.ndarray  # (N, UPDATE_SLOTS) re-publication instants, ascending, NEVER when unused
    deleted_ns: np.ndarray  # NEVER when never deleted
    album: np.ndarray  # bool: OneAtlas archive "ALBUM" item until its first re-publication
    on_arlula: np.ndarray  # bool: offered on the Arlula marketplace
    noise: np.ndarray  # uint32 per-row randomness for cosmetic fields

    def __len__(self) -> int:
        return len(self.key)

    def take(self, rows: np.ndarray) -> Acquisitions:
        return Acquisitions(**{f.name: getattr(self, f.name)[rows] for f in fields(self)})

    @classmethod
    def concat(cls, blocks: list[Acquisitions]) -> Acquisitions:
        return cls(**{f.name: np.concatenate([getattr(b, f.name) for b in blocks]) for f in fields(cls)})


def _rng(seed: int, year: int, stream: str) -> np.random.Generator:
    return np.random.default_rng([seed & 0xFFFFFFFF, year, *stream.encode()])


def _active_days(sensor: Sensor, year: int) -> tuple[int, int]:
    start = max(date(year, 1, 1), sensor.active_from, HISTORY_START)
    end = min(date(year, 12, 31), sensor.active_until or date(year, 12, 31))
    return day_start_ns(start) // NS_PER_DAY, day_start_ns(end) // NS_PER_DAY


def _solar_morning_ns(rng: np.random.Generator, day: np.ndarray, lon: np.ndarray) -> np.ndarray:
    # sun-synchronous morning passes: about 10:30 local solar time
    local_hours = 10.5 + rng.normal(0.0, 0.25, size=len(day))
    utc_hours = local_hours - lon / 15.0
    return day * NS_PER_DAY + (utc_hours * _H).astype(np.int64) + rng.integers(0, 10**9, size=len(day))


def _centres_near(rng: np.random.Generator, aoi: Aoi, sensor: Sensor, n: int) -> tuple[np.ndarray, np.ndarray]:
    minx, miny, maxx, maxy = aoi.bounds
    cos_lat = np.cos(np.radians((miny + maxy) / 2))
    reach_lon = sensor.swath_km / 3 / (111.32 * cos_lat)
    reach_lat = sensor.length_km[0] / 3 / 110.574
    lon = rng.uniform(minx - reach_lon, maxx + reach_lon, n)
    lat = rng.uniform(miny - reach_lat, maxy + reach_lat, n)
    return lon, lat


def _optical_sensor_rows(
    seed: int, year: int, sensor: Sensor, aois: list[Aoi], density: float
) -> dict[str, np.ndarray]:
    first_day, last_day = _active_days(sensor, year)
    if last_day < first_day:
        return {}
    rng = _rng(seed, year, f"sensor:{sensor.platform}")
    n_days = last_day - first_day + 1
    lons, lats = [], []
    for aoi in aois:
        n = int(rng.poisson(sensor.per_aoi_daily * density * n_days))
        lon, lat = _centres_near(rng, aoi, sensor, n)
        lons.append(lon)
        lats.append(lat)
    n_bg = int(rng.poisson(sensor.background_daily * density * n_days))
    lons.append(rng.uniform(-180.0, 180.0, n_bg))
    lats.append(np.degrees(np.arcsin(rng.uniform(np.sin(np.radians(-56)), np.sin(np.radians(71)), n_bg))))
    lon = np.concatenate(lons)
    lat = np.concatenate(lats)
    n = len(lon)
    day = rng.integers(first_day, last_day + 1, size=n)
    acquired = _solar_morning_ns(rng, day, lon)
    heading = 180.0 + 12.0 + rng.normal(0.0, 1.5, n)
    width = sensor.swath_km * rng.uniform(0.92, 1.0, n)
    length = rng.uniform(*sensor.length_km, n)
    return {
        "sensor": np.full(n, sensor.code, dtype=np.int16),
        "acquired_ns": acquired,
        "lon": lon,
        "lat": lat,
        "heading": heading,
        "width": width,
        "length": length,
    }


def _sentinel2_rows(seed: int, year: int, sensor: Sensor, aois: list[Aoi]) -> dict[str, np.ndarray]:
    first_day, last_day = _active_days(sensor, year)
    if last_day < first_day:
        return {}
    out: dict[str, list[np.ndarray]] = {k: [] for k in ("acquired_ns", "lon", "lat")}
    for aoi in aois:
        # each AOI sits in one fixed tile; the tile's phase in the repeat cycle is fixed per satellite
        tile_rng = np.random.default_rng([seed & 0xFFFFFFFF, *aoi.id.encode()])
        cx, cy = aoi.centroid
        tile_lon = cx + tile_rng.uniform(-0.25, 0.25)
        tile_lat = cy + tile_rng.uniform(-0.25, 0.25)
        phase = int(tile_rng.integers(0, SENTINEL2_REPEAT_DAYS)) + 5 * (sensor.code - 12)
        days = np.arange(first_day, last_day + 1)
        days = days[(days - phase) % SENTINEL2_REPEAT_DAYS == 0]
        rng = _rng(seed, year, f"s2:{sensor.platform}:{aoi.id}")
        out["acquired_ns"].append(_solar_morning_ns(rng, days, np.full(len(days), tile_lon)))
        out["lon"].append(np.full(len(days), tile_lon))
        out["lat"].append(np.full(len(days), tile_lat))
    lon = np.concatenate(out["lon"]) if out["lon"] else np.empty(0)
    n = len(lon)
    return {
        "sensor": np.full(n, sensor.code, dtype=np.int16),
        "acquired_ns": np.concatenate(out["acquired_ns"]) if n else np.empty(0, np.int64),
        "lon": lon,
        "lat": np.concatenate(out["lat"]) if n else np.empty(0),
        "heading": np.zeros(n),
        "width": np.full(n, sensor.swath_km),
        "length": np.full(n, sensor.length_km[0]),
    }


def generate_year(seed: int, year: int, aois: list[Aoi], density: float) -> Acquisitions:
    """All acquisitions of one calendar year, for every sensor."""
    parts = []
    for sensor in SENSORS:
        if sensor.family == SENTINEL2:
            rows = _sentinel2_rows(seed, year, sensor, aois)
        else:
            rows = _optical_sensor_rows(seed, year, sensor, aois, density)
        if rows and len(rows["lon"]):
            parts.append(rows)
    if not parts:
        return _empty()
    cols = {k: np.concatenate([p[k] for p in parts]) for k in parts[0]}
    # a 10:30 local pass far east or west can fall on the neighbouring UTC day; keep every scene
    # of this block inside its UTC year, so a row key's year is its acquisition year
    year_start, next_year = day_start_ns(date(year, 1, 1)), day_start_ns(date(year + 1, 1, 1))
    acquired = cols["acquired_ns"]
    acquired = np.where(acquired < year_start, acquired + NS_PER_DAY, acquired)
    acquired = np.where(acquired >= next_year, acquired - NS_PER_DAY, acquired)
    # providers show acquisition times to the millisecond: keep no more, so filters and display agree
    cols["acquired_ns"] = acquired // 1_000_000 * 1_000_000
    order = np.argsort(cols["acquired_ns"], kind="stable")
    cols = {k: v[order] for k, v in cols.items()}
    n = len(order)
    rng = _rng(seed, year, "attributes")
    sensor_codes = cols["sensor"]
    families = np.array([s.family for s in SENSORS])[sensor_codes]
    airbus = families == AIRBUS

    corners = footprint_corners(cols["lon"], cols["lat"], cols["heading"], cols["width"], cols["length"])
    cloud = _cloud_cover(rng, n)
    snow = np.where(rng.random(n) < 0.9, 0.0, rng.uniform(0, 30, n)).astype(np.float32)
    max_incidence = np.where(np.isin(sensor_codes, [2, 3]), 40.0, 30.0)
    incidence = (rng.beta(1.6, 3.0, n) * max_incidence).astype(np.float32)
    incidence[families == SENTINEL2] = rng.uniform(2, 10, int((families == SENTINEL2).sum()))
    split = rng.uniform(0, np.pi / 2, n)
    across = incidence * np.cos(split) * rng.choice([-1.0, 1.0], n)
    along = incidence * np.sin(split) * rng.choice([-1.0, 1.0], n)
    season = np.cos(2 * np.pi * ((cols["acquired_ns"] // NS_PER_DAY) % 365 - 172) / 365)
    # noon elevation, lowered a little for a 10:30 pass
    sun_elevation = np.clip(90 - np.abs(cols["lat"] - 23.4 * season) - rng.uniform(3, 10, n), 5, 85)
    sun_azimuth = np.where(cols["lat"] >= 0, 145.0, 35.0) + rng.normal(0, 12, n)

    published, updates, deleted = _publication_history(seed, year, rng, cols, sensor_codes, airbus)
    arlula_supplier = np.array([s.supplier != "" for s in SENSORS])[sensor_codes]
    resold = airbus & (rng.random(n) < 0.7)
    on_arlula = np.where(airbus, resold, arlula_supplier)
    album = airbus & (np.array([s.constellation == "SPOT" for s in SENSORS])[sensor_codes]) & (rng.random(n) < 0.3)

    return Acquisitions(
        key=np.int64(year) * 10**7 + np.arange(n, dtype=np.int64),
        sensor=sensor_codes,
        acquired_ns=cols["acquired_ns"],
        lon=((cols["lon"] + 180.0) % 360.0) - 180.0,
        lat=cols["lat"],
        corners=corners,
        cloud=cloud,
        snow=snow,
        incidence=incidence,
        incidence_across=across.astype(np.float32),
        incidence_along=along.astype(np.float32),
        azimuth=rng.uniform(0, 360, n).astype(np.float32),
        sun_azimuth=sun_azimuth.astype(np.float32),
        sun_elevation=sun_elevation.astype(np.float32),
        published_ns=published,
        updates_ns=updates,
        deleted_ns=deleted,
        album=album,
        on_arlula=on_arlula,
        noise=rng.integers(0, 2**32, n, dtype=np.uint32),
    )


def _cloud_cover(rng: np.random.Generator, n: int) -> np.ndarray:
    kind = rng.random(n)
    cloud = np.where(
        kind < 0.45,
        rng.uniform(0, 5, n),
        np.where(kind < 0.75, rng.uniform(5, 40, n), rng.uniform(40, 100, n)),
    )
    cloud[rng.random(n) < 0.08] = 0.0
    return cloud.astype(np.float32)


def _publication_history(
    seed: int,
    year: int,
    rng: np.random.Generator,
    cols: dict[str, np.ndarray],
    sensor_codes: np.ndarray,
    airbus: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    n = len(sensor_codes)
    acquired = cols["acquired_ns"]
    delay_lo = np.array([s.publication_delay_h[0] for s in SENSORS])[sensor_codes]
    delay_hi = np.array([s.publication_delay_h[1] for s in SENSORS])[sensor_codes]
    ready = acquired + (rng.uniform(delay_lo, delay_hi) * _H).astype(np.int64)
    # OneAtlas publishes per constellation in batches: every item of a batch shares one instant,
    # down to the nanosecond, which is what makes lastUpdateDate ties common.
    constellation = np.array([s.constellation for s in SENSORS])[sensor_codes]
    batch = -(-ready // _PUBLICATION_BATCH_NS)
    jitter = _batch_jitter(seed, batch, constellation)
    published = np.where(airbus, batch * _PUBLICATION_BATCH_NS + jitter, ready)

    updates = np.full((n, UPDATE_SLOTS), NEVER, dtype=np.int64)
    first = airbus & (rng.random(n) < 0.12)
    updates[first, 0] = published[first] + (rng.uniform(1, 400 * 24, int(first.sum())) * _H).astype(np.int64)
    second = first & (rng.random(n) < 0.3)
    updates[second, 1] = updates[second, 0] + (rng.uniform(1, 200 * 24, int(second.sum())) * _H).astype(np.int64)
    _reprocessing_campaigns(seed, year, updates, acquired, published, constellation, airbus)
    updates.sort(axis=1)

    deleted = np.full(n, NEVER, dtype=np.int64)
    gone = airbus & (rng.random(n) < 0.008)
    deleted[gone] = published[gone] + (rng.uniform(24, 600 * 24, int(gone.sum())) * _H).astype(np.int64)
    # updates after a deletion never happen
    updates[updates >= deleted[:, None]] = NEVER
    return published, updates, deleted


def _batch_jitter(seed: int, batch: np.ndarray, constellation: np.ndarray) -> np.ndarray:
    code = np.zeros(len(batch), dtype=np.uint64)
    for index, name in enumerate(("PHR", "PNEO", "SPOT")):
        code[constellation == name] = index + 1
    with np.errstate(over="ignore"):
        z = batch.astype(np.uint64) * np.uint64(0x9E3779B97F4A7C15) + code * np.uint64(0xBF58476D1CE4E5B9)
        z ^= np.uint64(seed & 0xFFFFFFFF) * np.uint64(0x94D049BB133111EB)
        z ^= z >> np.uint64(31)
        z *= np.uint64(0xD6E8FEB86659FD93)
        z ^= z >> np.uint64(32)
    return (z % np.uint64(60 * NS_PER_S)).astype(np.int64)


def _reprocessing_campaigns(
    seed: int,
    year: int,
    updates: np.ndarray,
    acquired: np.ndarray,
    published: np.ndarray,
    constellation: np.ndarray,
    airbus: np.ndarray,
) -> None:
    """Airbus reprocesses a month of one constellation at once: hundreds of items re-published
    at the very same instant."""
    rng = _rng(seed, year, "campaigns")
    year_start = day_start_ns(date(year, 1, 1))
    for k in range(366 // _CAMPAIGN_EVERY_DAYS + 1):
        when = year_start + int((k * _CAMPAIGN_EVERY_DAYS + rng.uniform(5, 40)) * NS_PER_DAY)
        when += int(rng.integers(0, NS_PER_S))
        target = ("PHR", "PNEO", "SPOT")[int(rng.integers(0, 3))]
        month = int(rng.integers(1, 13))
        month_start = day_start_ns(date(year, month, 1))
        month_end = day_start_ns(date(year + (month == 12), month % 12 + 1, 1))
        if month_end > when:
            continue
        rows = airbus & (constellation == target) & (acquired >= month_start) & (acquired < month_end)
        rows &= published < when
        slot = UPDATE_SLOTS - 1
        updates[rows, slot] = np.minimum(updates[rows, slot], when)


def _empty() -> Acquisitions:
    z = np.empty(0)
    return Acquisitions(
        key=np.empty(0, np.int64),
        sensor=np.empty(0, np.int16),
        acquired_ns=np.empty(0, np.int64),
        lon=z,
        lat=z,
        corners=np.empty((0, 4, 2)),
        cloud=np.empty(0, np.float32),
        snow=np.empty(0, np.float32),
        incidence=np.empty(0, np.float32),
        incidence_across=np.empty(0, np.float32),
        incidence_along=np.empty(0, np.float32),
        azimuth=np.empty(0, np.float32),
        sun_azimuth=np.empty(0, np.float32),
        sun_elevation=np.empty(0, np.float32),
        published_ns=np.empty(0, np.int64),
        updates_ns=np.empty((0, UPDATE_SLOTS), np.int64),
        deleted_ns=np.empty(0, np.int64),
        album=np.empty(0, bool),
        on_arlula=np.empty(0, bool),
        noise=np.empty(0, np.uint32),
    )
