"""Collecting scene rows column by column, and turning them into one SCENE_SCHEMA record batch."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import orjson
import pyarrow as pa
import pyarrow.compute as pc
import shapely

from harvest.catalog.footprints import footprints_from_geojson, footprints_to_wkb
from harvest.catalog.schema import SCENE_SCHEMA, TIMESTAMP
from harvest.timestamps import InvalidTimestamp, parse_ns

_HAS_ZONE = r"(Z|z|[+-]\d\d:?\d\d)$"
_DATE_ONLY = r"^\d{4}-\d{2}-\d{2}$"


def instants(values: Sequence[str | None]) -> pa.Array[Any]:
    """Provider timestamp strings as UTC nanoseconds, vectorised; no zone means UTC (OneAtlas processingDate)."""
    text: pa.Array[Any] = pa.array(values, type=pa.string())
    text = pc.if_else(pc.match_substring_regex(text, _DATE_ONLY), _suffixed(text, "T00:00:00Z"), text)
    text = pc.if_else(pc.match_substring_regex(text, _HAS_ZONE), text, _suffixed(text, "Z"))
    try:
        return pc.cast(text, TIMESTAMP)
    except pa.ArrowInvalid:
        # a form Arrow does not read (e.g. a comma before the fraction): the slower, wider parser
        parsed = [None if v is None else parse_ns(v) for v in values]
        return pa.array(parsed, type=pa.int64()).cast(TIMESTAMP)


def _suffixed(text: pa.Array[Any], suffix: str) -> pa.Array[Any]:
    # pyarrow-stubs 20 declare no overload for (array, str, separator); Arrow accepts it
    return pc.binary_join_element_wise(text, suffix, "")  # type: ignore[call-overload,no-any-return]


def numbers(values: Sequence[Any]) -> pa.Array[Any]:
    """Numbers that may arrive as numbers, numeric strings or nothing."""
    try:
        return pa.array(values, type=pa.float64())
    except (pa.ArrowInvalid, pa.ArrowTypeError):
        pass  # strings among them: the forgiving path
    out = np.full(len(values), np.nan)
    present = np.zeros(len(values), dtype=bool)
    for index, value in enumerate(values):
        if value is None or value == "":
            continue
        try:
            out[index] = float(value)
            present[index] = True
        except (TypeError, ValueError):
            continue
    return pa.array(out, type=pa.float64(), mask=~present)


@dataclass
class SceneColumns:
    """Scene rows of one provider, gathered column by column before becoming a record batch."""

    provider: str
    sandbox: bool
    scene_id: list[str] = field(default_factory=list)
    acquisition_id: list[str] = field(default_factory=list)
    constellation: list[str | None] = field(default_factory=list)
    platform: list[str | None] = field(default_factory=list)
    acquired: list[str | None] = field(default_factory=list)
    updated: list[str | None] = field(default_factory=list)
    published: list[str | None] = field(default_factory=list)
    cloud_cover: list[Any] = field(default_factory=list)
    snow_cover: list[Any] = field(default_factory=list)
    incidence_angle: list[Any] = field(default_factory=list)
    gsd_m: list[Any] = field(default_factory=list)
    processing_level: list[str | None] = field(default_factory=list)
    product_type: list[str | None] = field(default_factory=list)
    price_amount: list[Any] = field(default_factory=list)
    price_currency: list[str | None] = field(default_factory=list)
    price_unit: list[str | None] = field(default_factory=list)
    aoi_ids: list[list[str]] = field(default_factory=list)
    quicklook_url: list[str | None] = field(default_factory=list)
    geometry: list[Mapping[str, Any]] = field(default_factory=list)
    raw: list[bytes] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.scene_id)

    def to_batch(self) -> pa.RecordBatch:
        """The rows as a SCENE_SCHEMA record batch (footprints cut at ±180° and validated)."""
        n = len(self)
        footprints = footprints_from_geojson(self.geometry)
        unusable = [self.scene_id[i] for i in np.flatnonzero(shapely.is_missing(footprints)).tolist()]
        if unusable:
            raise ValueError(f"{self.provider}: scenes without a usable footprint: {', '.join(unusable[:5])}")
        columns: dict[str, pa.Array[Any]] = {
            "provider": pa.array([self.provider] * n, type=pa.string()),
            "scene_id": pa.array(self.scene_id, type=pa.string()),
            "acquisition_id": pa.array(self.acquisition_id, type=pa.string()),
            "constellation": pa.array(self.constellation, type=pa.string()),
            "platform": pa.array(self.platform, type=pa.string()),
            "acquired": instants(self.acquired),
            "updated": instants(self.updated),
            "published": instants(self.published),
            "cloud_cover": numbers(self.cloud_cover),
            "snow_cover": numbers(self.snow_cover),
            "incidence_angle": numbers(self.incidence_angle),
            "gsd_m": numbers(self.gsd_m),
            "processing_level": pa.array(self.processing_level, type=pa.string()),
            "product_type": pa.array(self.product_type, type=pa.string()),
            "price_amount": numbers(self.price_amount),
            "price_currency": pa.array(self.price_currency, type=pa.string()),
            "price_unit": pa.array(self.price_unit, type=pa.string()),
            "aoi_ids": pa.array(self.aoi_ids, type=pa.list_(pa.string())),
            "quicklook_url": pa.array(self.quicklook_url, type=pa.string()),
            "sandbox": pa.array([self.sandbox] * n, type=pa.bool_()),
            "geometry": footprints_to_wkb(footprints),
            "raw": pa.array(self.raw, type=pa.binary()).cast(pa.string()),
        }
        return pa.RecordBatch.from_arrays([columns[f.name] for f in SCENE_SCHEMA], schema=SCENE_SCHEMA)


def raw_json(value: Any) -> bytes:
    return orjson.dumps(value)


def link_href(links: Mapping[str, Any] | None, name: str) -> str | None:
    """`_links[name].href` whether the provider sent one link object or a list of them.

    OneAtlas sends either (docs/providers.md#oneatlas-catalog-search).
    """
    link = (links or {}).get(name)
    if isinstance(link, list):
        link = link[0] if link else None
    return link.get("href") if isinstance(link, Mapping) else None


__all__ = ["InvalidTimestamp", "SceneColumns", "instants", "link_href", "numbers", "raw_json"]
