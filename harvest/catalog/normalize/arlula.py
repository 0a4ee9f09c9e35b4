"""Arlula archive search results (current API and 2020-12) as scenes.

Arlula orders with an `orderingID` bound to the searched area, and prices that area (enlarged to
the supplier's minimum order), so a scene's offer differs per AOI: the row's `scene_id` is the
supplier's `sceneID`, its price the cheapest AOI offer, and every AOI's offer is kept in
`raw["aoi_offers"]` for quoting and ordering.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import pyarrow as pa

from harvest.catalog.normalize.acquisitions import acquisition_id
from harvest.catalog.normalize.columns import SceneColumns, raw_json

_CONSTELLATIONS = {"PHR": "PHR", "PNEO": "PNEO", "SPOT": "SPOT", "SV1": "SuperView-1", "TripleSat": "TripleSat",
                   "landsat": "Landsat"}  # fmt: skip


def _constellation(platform: str | None, supplier: str | None) -> str | None:
    for prefix, name in _CONSTELLATIONS.items():
        if platform and platform.startswith(prefix):
            return name
    return supplier


def _ring(bounding: Any) -> dict[str, Any]:
    """GeoJSON Polygon from Arlula's `bounding` ([[[lon, lat], ...]] since 2020-12; a bare ring in seed 004)."""
    if bounding and isinstance(bounding[0][0], int | float):
        bounding = [bounding]
    return {"type": "Polygon", "coordinates": bounding}


def offer(result: Mapping[str, Any]) -> dict[str, Any]:
    """What one search result offers for the searched AOI: ordering id, area, bundles, licenses, price."""
    bundles = result.get("bundles") or []
    legacy = int((result.get("price") or {}).get("base", 0))  # 2020-12: price {base, seats}
    price = min(int(b.get("price", 0)) for b in bundles) if bundles else legacy
    return {
        "orderingID": result.get("orderingID") or result.get("id"),
        "area_km2": (result.get("overlap") or {}).get("area"),
        "price_us_cents": price,
        "bundles": bundles,
        "licenses": result.get("licenses") or result.get("license") or [],
        "eula": result.get("eula"),
        "annotations": result.get("annotations") or [],
    }


def arlula_scenes(
    results_by_aoi: Iterable[tuple[str, Iterable[Mapping[str, Any]]]], *, sandbox: bool
) -> pa.RecordBatch:
    """Search results per AOI id, merged into one row per scene with every AOI's offer."""
    merged: dict[str, tuple[Mapping[str, Any], list[str], dict[str, Any]]] = {}
    for aoi_id, results in results_by_aoi:
        for result in results:
            scene = result["sceneID"]
            _first, aois, offers = merged.setdefault(scene, (result, [], {}))
            if aoi_id not in aois:
                aois.append(aoi_id)
            offers[aoi_id] = offer(result)
    rows = SceneColumns("arlula", sandbox)
    for scene, (result, aois, offers) in merged.items():
        platform = result.get("platform")
        supplier = result.get("supplier")
        prices = [o["price_us_cents"] for o in offers.values()]
        rows.scene_id.append(scene)
        rows.acquisition_id.append(acquisition_id(scene, platform or supplier, result.get("date")))
        rows.constellation.append(_constellation(platform, supplier))
        rows.platform.append(platform)
        rows.acquired.append(result.get("date"))
        rows.updated.append(None)
        rows.published.append(None)
        rows.cloud_cover.append(result.get("cloud"))
        rows.snow_cover.append(None)
        rows.incidence_angle.append(abs(result["offNadir"]) if result.get("offNadir") is not None else None)
        rows.gsd_m.append(result.get("gsd", result.get("resolution")))
        rows.processing_level.append(None)
        rows.product_type.append(None)
        rows.price_amount.append(min(prices) if prices else None)
        rows.price_currency.append("USD cents")
        rows.price_unit.append("aoi")
        rows.aoi_ids.append(aois)
        rows.quicklook_url.append(result.get("thumbnail"))
        rows.geometry.append(_ring(result.get("bounding")))
        rows.raw.append(raw_json({**{k: v for k, v in result.items() if k not in ("orderingID", "id")},
                                  "supplier": supplier, "aoi_offers": offers}))  # fmt: skip
    return rows.to_batch()
