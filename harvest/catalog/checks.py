"""Quality checks of harvested catalog files: the rules the Dagster asset checks report.

Each returns a CheckOutcome (passed, a one-line description, metadata for the UI), computed on
what was just written, so a failure names the file and the scenes at fault.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import shapely
from shapely.geometry.base import BaseGeometry

from harvest.catalog.column_values import strings
from harvest.catalog.geoparquet import read_geo_metadata
from harvest.catalog.schema import STORED_SCHEMA


@dataclass(frozen=True)
class CheckOutcome:
    """The result of one check."""

    passed: bool
    description: str
    metadata: dict[str, Any] = field(default_factory=dict)


def _examples(values: Sequence[str], limit: int = 5) -> str:
    return ", ".join(values[:limit]) + (f" (+{len(values) - limit} more)" if len(values) > limit else "")


def schema_matches(paths: Sequence[Path]) -> CheckOutcome:
    """Every file has the catalog's stored schema and GeoParquet 1.1 `geo` metadata."""
    wrong = []
    for path in paths:
        schema = pq.read_schema(path)
        geo = read_geo_metadata(path)
        if not schema.remove_metadata().equals(STORED_SCHEMA.remove_metadata()) or geo.get("version") != "1.1.0":
            wrong.append(path.name)
    if wrong:
        return CheckOutcome(False, f"{len(wrong)} file(s) do not have the catalog schema: {_examples(wrong)}")
    return CheckOutcome(True, f"{len(paths)} file(s) with the catalog schema and GeoParquet 1.1 metadata")


def unique_scenes(table: pa.Table) -> CheckOutcome:
    """No (provider, scene_id) appears twice."""
    counts = table.group_by(["provider", "scene_id"], use_threads=False).aggregate([("scene_id", "count")])
    twice = strings(counts.filter(pc.greater(counts.column("scene_id_count"), pa.scalar(1))).column("scene_id"))
    if twice:
        return CheckOutcome(
            False, f"{len(twice)} scene(s) appear more than once: {_examples(twice)}", {"duplicates": len(twice)}
        )
    return CheckOutcome(True, f"{len(table)} scenes, each once", {"duplicates": 0})


def valid_footprints(table: pa.Table) -> CheckOutcome:
    """Every footprint is a valid, non-empty polygonal geometry inside longitudes ±180 and latitudes ±90."""
    geometries = shapely.from_wkb(table.column("geometry").to_numpy(zero_copy_only=False), on_invalid="ignore")
    bounds = shapely.bounds(geometries)
    with np.errstate(invalid="ignore"):
        bad = (
            shapely.is_missing(geometries)
            | shapely.is_empty(geometries)
            | ~shapely.is_valid(geometries)
            | (shapely.area(geometries) <= 0)
            | (bounds[:, 0] < -180)
            | (bounds[:, 2] > 180)
            | (bounds[:, 1] < -90)
            | (bounds[:, 3] > 90)
        )
    scenes = strings(table.column("scene_id"))
    broken = [scenes[i] for i in np.flatnonzero(bad).tolist()]
    if broken:
        return CheckOutcome(False, f"{len(broken)} invalid footprint(s): {_examples(broken)}", {"invalid": len(broken)})
    return CheckOutcome(True, f"{len(table)} valid footprints", {"invalid": 0})


def footprints_meet_aois(table: pa.Table, aois: Mapping[str, BaseGeometry]) -> CheckOutcome:
    """Every scene's footprint intersects each AOI it is listed for."""
    geometries = shapely.from_wkb(table.column("geometry").to_numpy(zero_copy_only=False))
    scenes = table.column("scene_id").to_pylist()
    outside: list[str] = []
    for index, aoi_ids in enumerate(table.column("aoi_ids").to_pylist()):
        for aoi_id in aoi_ids or ():
            aoi = aois.get(aoi_id)
            if aoi is None or not geometries[index].intersects(aoi):
                outside.append(f"{scenes[index]}@{aoi_id}")
    if outside:
        return CheckOutcome(
            False, f"{len(outside)} footprint(s) miss their AOI: {_examples(outside)}", {"outside": len(outside)}
        )
    return CheckOutcome(True, "every footprint meets the AOIs it is listed for", {"outside": 0})


def fresh(newest: datetime | None, now: datetime, max_age: timedelta) -> CheckOutcome:
    """The newest harvested acquisition is no older than `max_age`."""
    if newest is None:
        return CheckOutcome(False, "no scene has been harvested yet", {"max_age_h": max_age.total_seconds() / 3600})
    age = now - newest
    metadata = {"newest_acquisition": newest.isoformat(), "age_h": round(age.total_seconds() / 3600, 1)}
    if age > max_age:
        return CheckOutcome(False, f"the newest scene was acquired {age} ago (more than {max_age})", metadata)
    return CheckOutcome(True, f"the newest scene was acquired {age} ago", metadata)
