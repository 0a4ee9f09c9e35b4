"""OneAtlas catalog items (and Sentinel Hub import results, which are OneAtlas features) as scenes."""

from __future__ import annotations

from collections.abc import Iterable

import pyarrow as pa

from harvest.catalog.normalize.acquisitions import acquisition_id
from harvest.catalog.normalize.columns import SceneColumns
from harvest.providers.oneatlas_wire import CatalogItem


def oneatlas_scenes(
    items: Iterable[CatalogItem],
    *,
    sandbox: bool,
    aoi_ids: list[str] | None = None,
    provider: str = "oneatlas",
) -> pa.RecordBatch:
    """Decoded opensearch items as one record batch; `provider` is "sentinelhub-import" for TPDI results."""
    rows = SceneColumns(provider, sandbox)
    aois = list(aoi_ids or [])
    for item in items:
        p = item.properties
        quicklook = item.links.quicklook
        rows.scene_id.append(p.id)
        rows.acquisition_id.append(
            acquisition_id(p.archiveIdentifier or p.parentIdentifier, p.platform, p.acquisitionDate)
        )
        rows.constellation.append(p.constellation)
        rows.platform.append(p.platform)
        rows.acquired.append(p.acquisitionDate)
        # older Living Library items carry no lastUpdateDate: their publication is their last change
        rows.updated.append(p.lastUpdateDate or p.publicationDate)
        rows.published.append(p.publicationDate)
        rows.cloud_cover.append(p.cloudCover)
        rows.snow_cover.append(p.snowCover)
        rows.incidence_angle.append(p.incidenceAngle)
        rows.gsd_m.append(p.resolution)
        rows.processing_level.append(p.processingLevel)
        rows.product_type.append(p.productType)
        rows.price_amount.append(None)  # the catalog has no price; quotes come from /prices
        rows.price_currency.append(None)
        rows.price_unit.append(None)
        rows.aoi_ids.append(aois)
        rows.quicklook_url.append(quicklook.href if quicklook else None)
        rows.geometry.append(item.geometry)
        rows.raw.append(item.raw)
    return rows.to_batch()
