"""What both OneAtlas ordering flavours share: AOI checks, ordered areas, prices and deliveries."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import shapely
from shapely.geometry import shape
from shapely.geometry.base import BaseGeometry

from harvest.catalog.geodesy import area_km2
from harvest.sandbox.core import Sandbox
from harvest.sandbox.oneatlas.lookup import CatalogItem, public_item
from harvest.sandbox.oneatlas.workspace import delivered_item_id
from harvest.sandbox.products import Member, ProductStore, dimap_members
from harvest.sandbox.world.geometry import split_geometry
from harvest.timestamps import NS_PER_S

CREDITS_PER_KM2 = {"PHR": 10, "PNEO": 16, "SPOT": 3}  # data.api: 377 credits for 37.75 km² (seed 002)
EUR_PER_KM2 = {"PHR": 10.0, "PNEO": 16.0, "SPOT": 2.5}  # order.api: 250 EUR for a 25 km² minimum (seed 001)
MIN_AOI_KM2 = 0.1
MAX_AOI_KM2 = {"PHR": 400.0, "PNEO": 400.0, "SPOT": 3600.0}


class OrderRefused(ValueError):
    """A price or order request the API refuses, with the provider's message."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.status = status


def parse_aoi(value: Any) -> BaseGeometry:
    """A GeoJSON Polygon/MultiPolygon AOI, or OrderRefused."""
    try:
        geometry = shape(value)
    except (ValueError, TypeError, KeyError, AttributeError) as exc:
        raise OrderRefused(f"aoi is not a valid GeoJSON geometry: {exc}") from exc
    if geometry.geom_type not in ("Polygon", "MultiPolygon") or geometry.is_empty:
        raise OrderRefused("aoi must be a GeoJSON Polygon or MultiPolygon")
    if not geometry.is_valid:
        raise OrderRefused("aoi is not a valid polygon (self-intersecting or badly closed ring)")
    return geometry


def orderable_item(sandbox: Sandbox, item_id: str, now_ns: int) -> CatalogItem:
    item = public_item(sandbox, item_id, now_ns)
    if item is None:
        raise OrderRefused(f"Catalog item '{item_id}' not found", status=404)
    return item


def ordered_area_km2(sandbox: Sandbox, item: CatalogItem, aoi: BaseGeometry) -> float:
    """Area of the AOI over the item's footprint, checked against the documented AOI limits."""
    overlap = shapely.intersection(item.footprint(sandbox), split_geometry(aoi))
    area = area_km2(overlap)
    if area <= 0:
        raise OrderRefused(f"The aoi does not intersect the footprint of item '{item.item_id}'")
    if area < MIN_AOI_KM2:
        raise OrderRefused(f"The aoi covers {area:.3f} km² of the item; the minimum is {MIN_AOI_KM2} km²")
    limit = MAX_AOI_KM2[item.constellation]
    if area > limit:
        raise OrderRefused(
            f"The aoi covers {area:.1f} km² of the item; the maximum for {item.constellation} is {limit} km²"
        )
    return round(area, 2)


def delivery_ns(sandbox: Sandbox, created_ns: int) -> int:
    return created_ns + int(sandbox.config.oneatlas_delivery_s * NS_PER_S)


def delivered_product(
    order_id: str,
    index: int,
    item: CatalogItem,
    aoi: BaseGeometry,
    *,
    product_type: str,
    processing_level: str,
    workspace_properties: dict[str, Any],
) -> dict[str, Any]:
    """The stored description of one product an order will deliver into the workspace."""
    return {
        "source_item_id": item.item_id,
        "source_row": item.row,
        "platform": item.platform,
        "archive_identifier": item.archive_identifier,
        "delivered_item_id": delivered_item_id(order_id, index),
        "aoi": shapely.geometry.mapping(aoi),
        "product_type": product_type,
        "processing_level": processing_level,
        "workspace_properties": workspace_properties,
    }


def product_store(sandbox: Sandbox) -> ProductStore:
    return sandbox.cache(
        "products", lambda: ProductStore(Path(sandbox.config.state_dir) / "products", sandbox.config.seed)
    )


def product_members(product: dict[str, Any], size: int) -> list[Member]:
    stem = f"{product['archive_identifier']}_{product['delivered_item_id'][:8]}"
    return dimap_members(product["platform"], stem, size)


def credits_for(item: CatalogItem, area: float) -> int:
    return math.floor(area * CREDITS_PER_KM2[item.constellation])
