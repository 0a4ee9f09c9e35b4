"""The satellites of the simulated world and how each of them images the ground."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

# Which provider family sells a sensor's acquisitions.
AIRBUS = "airbus"  # OneAtlas (all), Sentinel Hub import (PHR, SPOT) and Arlula's "airbus" supplier
ARLULA_ONLY = "arlula"  # other suppliers on the Arlula marketplace
SENTINEL2 = "sentinel2"  # the Sentinel Hub STAC catalog


@dataclass(frozen=True)
class Sensor:
    """One platform: its constellation, lifetime, resolution and scene geometry."""

    code: int
    platform: str  # OneAtlas `platform` / Arlula `platform` / STAC `platform`
    constellation: str  # OneAtlas `constellation` (PHR, PNEO, SPOT) or the supplier's own label
    family: str
    supplier: str  # Arlula supplier key, or "" when Arlula does not sell it
    active_from: date
    active_until: date | None
    gsd_m: float
    swath_km: float
    length_km: tuple[float, float]
    per_aoi_daily: float  # expected acquisitions per AOI per day at density 1
    background_daily: float  # expected acquisitions anywhere per day at density 1
    publication_delay_h: tuple[float, float]  # acquisition to catalog publication


SENSORS: tuple[Sensor, ...] = (
    Sensor(0, "PHR1A", "PHR", AIRBUS, "airbus", date(2011, 12, 17), None, 0.5, 20, (20, 60), 0.18, 4.0, (1, 8)),
    Sensor(1, "PHR1B", "PHR", AIRBUS, "airbus", date(2012, 12, 2), None, 0.5, 20, (20, 60), 0.17, 4.0, (1, 8)),
    Sensor(2, "PNEO3", "PNEO", AIRBUS, "airbus", date(2021, 5, 20), None, 0.3, 14, (14, 40), 0.13, 3.0, (1, 4)),
    Sensor(3, "PNEO4", "PNEO", AIRBUS, "airbus", date(2021, 9, 8), None, 0.3, 14, (14, 40), 0.12, 3.0, (1, 4)),
    Sensor(4, "SPOT6", "SPOT", AIRBUS, "airbus", date(2012, 9, 9), None, 1.5, 60, (60, 120), 0.18, 5.0, (2, 12)),
    Sensor(
        5,
        "SPOT7",
        "SPOT",
        AIRBUS,
        "airbus",
        date(2014, 6, 30),
        date(2023, 3, 17),
        1.5,
        60,
        (60, 120),
        0.17,
        5.0,
        (2, 12),
    ),
    Sensor(
        6,
        "SV1-01",
        "SuperView-1",
        ARLULA_ONLY,
        "siwei",
        date(2016, 12, 28),
        None,
        0.5,
        12,
        (12, 30),
        0.12,
        2.0,
        (6, 30),
    ),
    Sensor(
        7,
        "SV1-02",
        "SuperView-1",
        ARLULA_ONLY,
        "siwei",
        date(2016, 12, 28),
        None,
        0.5,
        12,
        (12, 30),
        0.12,
        2.0,
        (6, 30),
    ),
    Sensor(
        8,
        "TripleSat-1",
        "TripleSat",
        ARLULA_ONLY,
        "21at",
        date(2015, 7, 10),
        None,
        0.8,
        23,
        (23, 50),
        0.10,
        2.0,
        (6, 36),
    ),
    Sensor(
        9,
        "TripleSat-2",
        "TripleSat",
        ARLULA_ONLY,
        "21at",
        date(2015, 7, 10),
        None,
        0.8,
        23,
        (23, 50),
        0.10,
        2.0,
        (6, 36),
    ),
    Sensor(
        10,
        "landsat-8",
        "Landsat",
        ARLULA_ONLY,
        "landsat",
        date(2013, 4, 11),
        None,
        15.0,
        185,
        (170, 185),
        0.06,
        0.0,
        (4, 24),
    ),
    Sensor(
        11,
        "landsat-9",
        "Landsat",
        ARLULA_ONLY,
        "landsat",
        date(2021, 10, 31),
        None,
        15.0,
        185,
        (170, 185),
        0.06,
        0.0,
        (4, 24),
    ),
    Sensor(
        12, "sentinel-2a", "sentinel-2", SENTINEL2, "", date(2015, 6, 23), None, 10.0, 110, (110, 110), 0.0, 0.0, (2, 6)
    ),
    Sensor(
        13, "sentinel-2b", "sentinel-2", SENTINEL2, "", date(2017, 3, 7), None, 10.0, 110, (110, 110), 0.0, 0.0, (2, 6)
    ),
    Sensor(
        14, "sentinel-2c", "sentinel-2", SENTINEL2, "", date(2024, 9, 5), None, 10.0, 110, (110, 110), 0.0, 0.0, (2, 6)
    ),
)

SENSOR_BY_PLATFORM = {sensor.platform: sensor for sensor in SENSORS}

# Sentinel-2 revisits each tile every 10 days per satellite.
SENTINEL2_REPEAT_DAYS = 10

# The world's history starts here; nothing is acquired before.
HISTORY_START = date(2018, 1, 1)
