"""Search results as JSON: the current shape and the 2020-12 seed's Search Result.

The shapes: docs/providers.md#arlula-archive-search.
"""

from __future__ import annotations

from typing import Any

from harvest.sandbox.arlula.catalog import Result, thumbnail_codec
from harvest.sandbox.arlula.scenes import ring_json
from harvest.sandbox.arlula.suppliers import BANDS, bundle_bands, bundle_price, seat_pricing
from harvest.sandbox.core import Sandbox
from harvest.timestamps import format_millis


def _polygon_json(result: Result) -> list[list[list[float]]]:
    shown = result.overlap.shown
    return [ring_json(ring.coords) for ring in (shown.exterior, *shown.interiors)]


def thumbnail_url(sandbox: Sandbox, key: int) -> str:
    """The public URL of a scene's thumbnail JPEG."""
    return sandbox.link(f"/arlula/api/archive/thumbnail?id={thumbnail_codec(sandbox).encode(key)}")


def _common(sandbox: Sandbox, result: Result) -> dict[str, Any]:
    scene, overlap = result.scene, result.overlap
    return {
        "date": format_millis(scene.acquired_ns),
        "thumbnail": thumbnail_url(sandbox, scene.key),
        "cloud": scene.cloud,
        "area": round(scene.area_km2, 3),
        "center": {"lat": round(scene.lat, 6), "long": round(scene.lon, 6)},
        "overlap": {
            "area": round(overlap.shown_km2, 3),
            "percent": {"scene": round(overlap.scene_percent, 2), "search": round(overlap.search_percent, 2)},
            "polygon": _polygon_json(result),
        },
        "annotations": list(overlap.annotations),
    }


def current_json(sandbox: Sandbox, result: Result) -> dict[str, Any]:
    """A result of `/api/archive/search`, 2024-07 shape."""
    scene = result.scene
    supplier = scene.supplier
    return {
        "sceneID": scene.scene_id,
        "supplier": supplier.key,
        "platform": scene.platform,
        **_common(sandbox, result),
        "offNadir": scene.off_nadir,
        "gsd": scene.gsd,
        "bands": [band.json() for band in BANDS[scene.constellation]],
        "bounding": [scene.bounding()],
        "fulfillmentTime": supplier.fulfillment_h,
        "orderingID": result.ordering_id,
        "bundles": [
            {
                "name": bundle.name,
                "key": bundle.key,
                "bands": bundle_bands(scene.constellation, bundle),
                "price": bundle_price(scene.constellation, bundle, result.grant.area_km2),
            }
            for bundle in supplier.bundles
        ],
        "licenses": [
            {
                "name": lic.name,
                "href": sandbox.link(lic.path(supplier.key)),
                "loadingPercent": lic.loading_percent,
                "loadingAmount": lic.loading_amount,
            }
            for lic in supplier.licenses
        ],
    }


def legacy_json(sandbox: Sandbox, result: Result) -> dict[str, Any]:
    """A result of the seed's `/api/search` (2020-12): `id`, `eula`, `price`, single-ring polygons."""
    scene = result.scene
    supplier = scene.supplier
    cents = bundle_price(scene.constellation, supplier.bundles[0], result.grant.area_km2)
    base, seats = seat_pricing(supplier, cents)
    common = _common(sandbox, result)
    common["overlap"]["polygon"] = common["overlap"]["polygon"][0]
    return {
        "supplier": supplier.key,
        "eula": sandbox.link(supplier.licenses[0].path(supplier.key)),
        "id": result.ordering_id,
        "sceneID": scene.scene_id,
        **common,
        "bounding": scene.bounding(),
        "price": {"base": base, "seats": seats},
        "fulfillment": supplier.fulfillment_h,
        "resolution": scene.gsd,
    }
