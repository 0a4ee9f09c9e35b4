"""Synthetic scenes of SCENE_SCHEMA for catalog tests: deterministic, vectorised, any number of rows."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pyarrow as pa
import shapely

from harvest.catalog.footprints import footprints_from_geojson, footprints_to_wkb
from harvest.catalog.schema import SCENE_SCHEMA
from harvest.timestamps import NS_PER_DAY, from_datetime

START = datetime(2026, 11, 1, tzinfo=UTC)
PROVIDERS = ("oneatlas", "arlula", "sentinelhub-catalog")


def make_scenes(
    count: int,
    *,
    seed: int = 0,
    first: int = 0,
    start: datetime = START,
    days: int = 1,
    providers: Sequence[str] = PROVIDERS,
    lon: tuple[float, float] = (-170.0, 170.0),
    lat: tuple[float, float] = (-60.0, 60.0),
    size_deg: float = 0.2,
    raw_bytes: int = 120,
    updated_offset_s: int = 0,
) -> pa.Table:
    """`count` scenes numbered from `first`, each a function of (seed, number): `size_deg` boxes over `days` days."""
    index = np.arange(first, first + count)
    centre_x = _uniform(index, seed, 1, *lon)
    centre_y = _uniform(index, seed, 2, *lat)
    half = size_deg / 2
    geometry = shapely.to_wkb(shapely.box(centre_x - half, centre_y - half, centre_x + half, centre_y + half))
    acquired = from_datetime(start) + (_uniform(index, seed, 3, 0, 1) * days * NS_PER_DAY).astype(np.int64)
    provider = np.asarray(providers, dtype=object)[index % len(providers)]
    scene_id = np.char.add("scene-", index.astype(str)).astype(object)
    filler = "x" * max(0, raw_bytes - 40)
    raw = [f'{{"id":"scene-{i}","n":{i},"pad":"{filler}"}}' for i in index.tolist()]
    columns = {
        "provider": pa.array(provider, pa.string()),
        "scene_id": pa.array(scene_id, pa.string()),
        "acquisition_id": pa.array(np.char.add("acq-", (index // 2).astype(str)).astype(object), pa.string()),
        "constellation": pa.array(np.where(index % 2, "PHR", "PNEO").astype(object), pa.string()),
        "platform": pa.array(np.where(index % 2, "PHR1A", "PNEO3").astype(object), pa.string()),
        "acquired": pa.array(acquired, pa.int64()).cast(SCENE_SCHEMA.field("acquired").type),
        "updated": pa.array(acquired + updated_offset_s * 1_000_000_000, pa.int64()).cast(
            SCENE_SCHEMA.field("updated").type
        ),
        "published": pa.nulls(count, SCENE_SCHEMA.field("published").type),
        "cloud_cover": pa.array(_uniform(index, seed, 4, 0, 100)),
        "snow_cover": pa.array(_uniform(index, seed, 5, 0, 10)),
        "incidence_angle": pa.array(_uniform(index, seed, 6, 0, 30)),
        "gsd_m": pa.array(np.where(index % 2, 0.5, 0.3)),
        "processing_level": pa.array(["SENSOR"] * count, pa.string()),
        "product_type": pa.array(["bundle"] * count, pa.string()),
        "price_amount": pa.array(_uniform(index, seed, 7, 100, 2000)),
        "price_currency": pa.array(["EUR"] * count, pa.string()),
        "price_unit": pa.array(["scene"] * count, pa.string()),
        "aoi_ids": pa.array([[f"aoi-{i % 5}"] for i in index.tolist()], pa.list_(pa.string())),
        "quicklook_url": pa.array([f"https://example.test/ql/{i}.jpg" for i in index.tolist()], pa.string()),
        "sandbox": pa.array(np.ones(count, dtype=bool)),
        "geometry": pa.array(geometry, pa.binary()),
        "raw": pa.array(raw, pa.string()),
    }
    return pa.Table.from_pydict(columns, schema=SCENE_SCHEMA)


def scene_batches(total: int, batch_rows: int, **options: object) -> Iterator[pa.Table]:
    """`total` scenes in tables of `batch_rows`, generated as they are consumed."""
    for first in range(0, total, batch_rows):
        yield make_scenes(min(batch_rows, total - first), first=first, **options)  # type: ignore[arg-type]


def with_geometry(table: pa.Table, wkb: Sequence[bytes]) -> pa.Table:
    """The table with its `geometry` column replaced."""
    index = table.schema.get_field_index("geometry")
    return table.set_column(index, table.schema.field(index), pa.array(wkb, pa.binary()))


def _uniform(index: np.ndarray, seed: int, salt: int, low: float, high: float) -> np.ndarray:
    """Pseudo-random numbers in [low, high) that depend only on (seed, salt, index): splitmix64, vectorised."""
    z = index.astype(np.uint64) + np.uint64((seed * 1_000_003 + salt) * 0x9E3779B97F4A7C15 % 2**64)
    z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    z = z ^ (z >> np.uint64(31))
    return low + (z >> np.uint64(11)).astype(np.float64) / 2.0**53 * (high - low)


def fiji_scenes(count: int, *, first: int = 900_000, **options: object) -> pa.Table:
    """Scenes whose footprint crosses the antimeridian near Fiji, cut into two parts at ±180°."""
    ring = [[179.5, -17], [-179.7, -17], [-179.7, -16], [179.5, -16], [179.5, -17]]
    folded = {"type": "Polygon", "coordinates": [ring]}
    wkb = footprints_to_wkb(footprints_from_geojson([folded] * count))
    return with_geometry(make_scenes(count, first=first, **options), wkb.to_pylist())  # type: ignore[arg-type]


def files_in(directory: Path) -> list[str]:
    """Every file and directory under `directory`, hidden ones included, relative and sorted."""
    return sorted(str(path.relative_to(directory)) for path in directory.rglob("*"))
