"""Sentinel Hub: third-party import features (OneAtlas features passed through) and STAC catalog items."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import pyarrow as pa

from harvest.catalog.normalize.acquisitions import acquisition_id
from harvest.catalog.normalize.columns import SceneColumns, raw_json
from harvest.catalog.normalize.oneatlas import oneatlas_scenes
from harvest.providers.oneatlas_wire import CatalogItem


def import_scenes(items: Iterable[CatalogItem], *, sandbox: bool, aoi_ids: list[str] | None = None) -> pa.RecordBatch:
    """TPDI search results: OneAtlas's own features, so OneAtlas's normaliser under the import's provider name."""
    return oneatlas_scenes(items, sandbox=sandbox, aoi_ids=aoi_ids, provider="sentinelhub-import")


def catalog_scenes(
    items: Iterable[Mapping[str, Any]], *, sandbox: bool, aoi_ids: list[str] | None = None
) -> pa.RecordBatch:
    """STAC items of the Sentinel Hub catalog (e.g. sentinel-2-l2a)."""
    rows = SceneColumns("sentinelhub-catalog", sandbox)
    aois = list(aoi_ids or [])
    for item in items:
        p = item.get("properties") or {}
        platform = p.get("platform")
        thumbnail = ((item.get("assets") or {}).get("thumbnail") or {}).get("href")
        rows.scene_id.append(item["id"])
        rows.acquisition_id.append(acquisition_id(None, platform, p.get("datetime")))
        rows.constellation.append(p.get("constellation"))
        rows.platform.append(platform)
        rows.acquired.append(p.get("datetime"))
        rows.updated.append(p.get("updated"))
        rows.published.append(p.get("created"))
        rows.cloud_cover.append(p.get("eo:cloud_cover"))
        rows.snow_cover.append(p.get("eo:snow_cover"))
        rows.incidence_angle.append(p.get("view:off_nadir"))
        rows.gsd_m.append(p.get("gsd"))
        rows.processing_level.append(p.get("processing:level") or _level(item.get("collection")))
        rows.product_type.append(item.get("collection"))
        rows.price_amount.append(None)
        rows.price_currency.append(None)
        rows.price_unit.append(None)
        rows.aoi_ids.append(aois)
        rows.quicklook_url.append(thumbnail)
        rows.geometry.append(item["geometry"])
        rows.raw.append(raw_json({k: v for k, v in item.items() if k not in ("links",)}))
    return rows.to_batch()


def _level(collection: str | None) -> str | None:
    if collection and collection.endswith("-l2a"):
        return "L2A"
    if collection and collection.endswith("-l1c"):
        return "L1C"
    return None
