"""The scene schema: one row per (provider, scene), whatever the provider.

`scene_id` is what you order with; `acquisition_id` names the acquisition itself, so the same
Pléiades strip sold by OneAtlas, Sentinel Hub and Arlula can be recognised. Times are UTC
nanoseconds because providers publish update times with nanosecond precision.
"""

from __future__ import annotations

from dataclasses import dataclass

import pyarrow as pa

TIMESTAMP = pa.timestamp("ns", tz="UTC")

# what a price is for
PRICE_UNITS = ("scene", "aoi", "km2")

COLUMNS: tuple[tuple[str, pa.DataType, bool, str], ...] = (
    ("provider", pa.string(), False, "oneatlas, arlula, sentinelhub-import or sentinelhub-catalog"),
    ("scene_id", pa.string(), False, "the provider's id for the scene: what you order with"),
    ("acquisition_id", pa.string(), False, "the acquisition itself, the same across providers and resellers"),
    ("constellation", pa.string(), True, "PHR, PNEO, SPOT, sentinel-2, SuperView-1, ..."),
    ("platform", pa.string(), True, "the satellite, e.g. PHR1A, PNEO3, SPOT7, sentinel-2b"),
    ("acquired", TIMESTAMP, False, "acquisition time (UTC)"),
    ("updated", TIMESTAMP, True, "last change of the provider's record (OneAtlas lastUpdateDate), when known"),
    ("published", TIMESTAMP, True, "first publication in the provider's catalog, when known"),
    ("cloud_cover", pa.float64(), True, "percent of the scene, as the provider estimates it"),
    ("snow_cover", pa.float64(), True, "percent of the scene"),
    ("incidence_angle", pa.float64(), True, "degrees off nadir"),
    ("gsd_m", pa.float64(), True, "ground sample distance in metres"),
    ("processing_level", pa.string(), True, "SENSOR, ALBUM, ORTHO, L2A, ..."),
    ("product_type", pa.string(), True, "bundle, mono, ..."),
    ("price_amount", pa.float64(), True, "list price as the provider quotes it"),
    ("price_currency", pa.string(), True, "EUR, credits, USD cents, km2 of quota"),
    ("price_unit", pa.string(), True, "what the price is for: scene, aoi or km2"),
    ("aoi_ids", pa.list_(pa.string()), False, "the AOIs this scene was harvested for"),
    ("quicklook_url", pa.string(), True, "a preview image, if the provider offers one"),
    ("sandbox", pa.bool_(), False, "true when harvested from the offline sandbox, not the real service"),
    ("geometry", pa.binary(), False, "footprint, WKB, EPSG:4326, cut at the antimeridian"),
    ("raw", pa.string(), False, "the provider's own properties, as JSON"),
)

SCENE_SCHEMA = pa.schema([pa.field(name, kind, nullable=nullable) for name, kind, nullable, _ in COLUMNS])
DESCRIPTIONS = {name: description for name, _, _, description in COLUMNS}
KEY = ("provider", "scene_id")

# The GeoParquet 1.1 bbox covering the writer adds to every file, after the scene columns.
BBOX_COLUMN = "bbox"
BBOX_FIELDS = ("xmin", "ymin", "xmax", "ymax")
BBOX_TYPE = pa.struct([pa.field(name, pa.float64(), nullable=False) for name in BBOX_FIELDS])
STORED_SCHEMA = SCENE_SCHEMA.append(pa.field(BBOX_COLUMN, BBOX_TYPE, nullable=False))
BBOX_DESCRIPTION = (
    "bounds of the footprint (GeoParquet 1.1 covering); -180..180 for a footprint cut at the antimeridian"
)


@dataclass(frozen=True)
class ColumnInfo:
    """One catalog column, described without any Arrow or Dagster type."""

    name: str
    type: str
    nullable: bool
    description: str


def describe_columns(*, stored: bool = False) -> tuple[ColumnInfo, ...]:
    """The scene columns (with the `bbox` covering when `stored`) as plain descriptions, e.g. for a table schema."""
    columns = [ColumnInfo(name, str(kind), nullable, text) for name, kind, nullable, text in COLUMNS]
    if stored:
        columns.append(ColumnInfo(BBOX_COLUMN, str(BBOX_TYPE), False, BBOX_DESCRIPTION))
    return tuple(columns)
