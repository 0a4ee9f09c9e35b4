"""OneAtlas catalog features (and Sentinel Hub import features, which are OneAtlas features) as scenes."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import pyarrow as pa

from harvest.catalog.normalize.acquisitions import acquisition_id
from harvest.catalog.normalize.columns import SceneColumns, link_href, raw_json


def oneatlas_scenes(
    features: Iterable[Mapping[str, Any]],
    *,
    sandbox: bool,
    aoi_ids: list[str] | None = None,
    provider: str = "oneatlas",
) -> pa.RecordBatch:
    """Opensearch features as one record batch; `provider` is "sentinelhub-import" for TPDI results."""
    rows = SceneColumns(provider, sandbox)
    aois = list(aoi_ids or [])
    for feature in features:
        p = feature["properties"]
        platform = p.get("platform")
        acquired = p.get("acquisitionDate")
        rows.scene_id.append(p["id"])
        rows.acquisition_id.append(
            acquisition_id(p.get("archiveIdentifier") or p.get("parentIdentifier"), platform, acquired)
        )
        rows.constellation.append(p.get("constellation"))
        rows.platform.append(platform)
        rows.acquired.append(acquired)
        # older Living Library items carry no lastUpdateDate: their publication is their last change
        rows.updated.append(p.get("lastUpdateDate") or p.get("publicationDate"))
        rows.published.append(p.get("publicationDate"))
        rows.cloud_cover.append(p.get("cloudCover"))
        rows.snow_cover.append(p.get("snowCover"))
        rows.incidence_angle.append(p.get("incidenceAngle"))
        rows.gsd_m.append(p.get("resolution"))
        rows.processing_level.append(p.get("processingLevel"))
        rows.product_type.append(p.get("productType"))
        rows.price_amount.append(None)  # the catalog has no price; quotes come from /prices
        rows.price_currency.append(None)
        rows.price_unit.append(None)
        rows.aoi_ids.append(aois)
        rows.quicklook_url.append(link_href(feature.get("_links"), "quicklook"))
        rows.geometry.append(feature["geometry"])
        rows.raw.append(raw_json(p))
    return rows.to_batch()
