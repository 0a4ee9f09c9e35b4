"""Delivered products: copies of catalog items that appear in the contract's private workspace.

Both ordering flavours deliver this way (docs/providers.md#oneatlas-living-library-orders): once an
order's delivery instant has passed, its products are searchable in the workspace, carry
`internalReference` (the SAL id) and `customerReference`, and have `_links.download`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Self

import numpy as np
import orjson
import shapely
from shapely.geometry import shape
from shapely.geometry.base import BaseGeometry

from harvest.sandbox.core import Sandbox
from harvest.sandbox.oneatlas.items import PROCESSING_LEVELS, PRODUCT_TYPES, ItemFacts
from harvest.sandbox.oneatlas.render import Override
from harvest.sandbox.world.geometry import split_geometry
from harvest.sandbox.world.ids import stable_uuid4
from harvest.sandbox.world.world import View

PRIVATE_WORKSPACE_NAME = "sandbox-workspace"
_PRIVATE_CODE = 2

DATA_ORDERS = "oneatlas.data_orders"  # data.api `kind` orders
SALES_ORDERS = "oneatlas.sales_orders"  # order.api pay-per-order orders


def private_workspace_id(seed: int) -> str:
    return stable_uuid4(f"harvest-sandbox/oneatlas/workspace/{seed}")


def contract_id(seed: int) -> str:
    return stable_uuid4(f"harvest-sandbox/oneatlas/contract/{seed}")


def delivered_item_id(order_id: str, index: int) -> str:
    return stable_uuid4(f"harvest-sandbox/oneatlas/delivered/{order_id}/{index}")


@dataclass(frozen=True)
class DeliveredProduct:
    """One product of one order as it lands in the workspace."""

    item_id: str
    source_row: int
    delivered_ns: int
    aoi: dict[str, Any]
    product_type: str
    processing_level: str
    properties: dict[str, Any]


class DeliveredFacts(ItemFacts):
    """ItemFacts of delivered copies: their own ids, dates, workspace, footprint and references."""

    item_ids: list[str]
    overrides: list[Override]
    geometries: np.ndarray
    workspace_names: tuple[str, str]

    def categorical(self, name: str) -> tuple[np.ndarray, dict[str, int]] | None:
        if name == "workspace":
            name_, id_ = self.workspace_names
            return np.full(len(self), _PRIVATE_CODE, dtype=np.int8), {name_: _PRIVATE_CODE, id_: _PRIVATE_CODE}
        if name == "processingLevel":
            return np.array([PROCESSING_LEVELS[o.processing_level] for o in self.overrides], np.int8), PROCESSING_LEVELS
        if name == "productType":
            return np.array([PRODUCT_TYPES.get(o.product_type, 0) for o in self.overrides], np.int8), PRODUCT_TYPES
        if name == "productionStatus":
            return np.zeros(len(self), dtype=np.int8), {"IN_CLOUD": 0}
        return super().categorical(name)

    def text(self, name: str) -> list[str] | None:
        if name in ("internalReference", "customerReference", "commercialReference", "contractId"):
            return [str(o.extra_properties.get(name, "")) for o in self.overrides]
        return super().text(name)

    @property
    def album(self) -> np.ndarray:  # delivered products are never archive warm-up items
        return np.zeros(len(self), dtype=bool)

    def spatial_mask(self, geometries: tuple[BaseGeometry, ...], relation: str) -> np.ndarray:
        mask = np.ones(len(self), dtype=bool)
        for geometry in geometries:
            if relation == "disjoint":
                mask &= ~shapely.intersects(self.geometries, geometry)
            elif relation == "within":
                mask &= shapely.within(self.geometries, geometry)
            elif relation == "contains":
                mask &= shapely.contains(self.geometries, geometry)
            else:
                mask &= shapely.intersects(self.geometries, geometry)
        return mask

    @classmethod
    def _from_parts(cls, source: Self, index: np.ndarray, published: np.ndarray | None) -> Self:
        made = super()._from_parts(source, index, published)
        made.item_ids = [source.item_ids[i] for i in index.tolist()]
        made.overrides = [source.overrides[i] for i in index.tolist()]
        made.geometries = source.geometries[index]
        made.workspace_names = source.workspace_names
        return made


def _products(sandbox: Sandbox) -> list[DeliveredProduct]:
    products: list[DeliveredProduct] = []
    for collection in (DATA_ORDERS, SALES_ORDERS):
        for order in sandbox.state.all(collection):
            if order.get("failed"):
                continue
            products.extend(
                DeliveredProduct(
                    item_id=p["delivered_item_id"],
                    source_row=int(p["source_row"]),
                    delivered_ns=int(order["delivery_ns"]),
                    aoi=p["aoi"],
                    product_type=p.get("product_type", "bundle"),
                    processing_level=p.get("processing_level", "SENSOR"),
                    properties=p.get("workspace_properties", {}),
                )
                for p in order["products"]
            )
    return products


def delivered_items(sandbox: Sandbox, now_ns: int) -> tuple[int, DeliveredFacts | None]:
    """(revision, facts) of the delivered copies already visible at `now_ns`."""
    products: dict[int, list[DeliveredProduct]] = sandbox.cache("oneatlas.products", dict)  # by state revision
    revision = sandbox.state.revision
    if revision not in products:
        products.clear()
        products[revision] = _products(sandbox)
    cutoff = now_ns - sandbox.world.delay_ns
    visible = [p for p in products[revision] if p.delivered_ns <= cutoff]
    key = (revision, len(visible))
    built: dict[tuple[int, int], DeliveredFacts | None] = sandbox.cache("oneatlas.delivered", dict)
    if key not in built:
        built.clear()
        built[key] = _build(sandbox, visible)
    return hash(key) & 0x7FFFFFFF, built[key]


def _build(sandbox: Sandbox, products: list[DeliveredProduct]) -> DeliveredFacts | None:
    if not products:
        return None
    view: View = sandbox.world.oneatlas
    positions = view.position(np.array([p.source_row for p in products], dtype=np.int64))
    delivered = np.array([p.delivered_ns for p in products], dtype=np.int64)
    facts = DeliveredFacts(view, positions, np.ones(len(products), dtype=np.int8), delivered, delivered)
    footprints = sandbox.world.shapes[view.rows[positions]]
    geometries = []
    overrides = []
    workspace = (PRIVATE_WORKSPACE_NAME, private_workspace_id(sandbox.config.seed), "Sandbox workspace")
    data_url = sandbox.link("/oneatlas/data")
    for product, footprint in zip(products, footprints, strict=True):
        clipped = shapely.intersection(footprint, split_geometry(shape(product.aoi)))
        if clipped.is_empty:
            clipped = footprint
        geometries.append(clipped)
        download = f"{data_url}/api/v1/items/{product.item_id}/download"
        overrides.append(
            Override(
                item_id=product.item_id,
                workspace=workspace,
                published_ns=product.delivered_ns,
                geometry_json=orjson.dumps(shapely.geometry.mapping(clipped)).decode(),
                extra_properties=product.properties,
                download_links=[
                    {"href": download, "name": "Download", "type": "HTTP", "resourceId": product.item_id},
                    {
                        "href": f"{download}?direct=true",
                        "name": "Direct download",
                        "type": "HTTP",
                        "resourceId": product.item_id,
                    },
                ],
                processing_level=product.processing_level,
                product_type=product.product_type,
            )
        )
    facts.item_ids = [p.item_id for p in products]
    facts.overrides = overrides
    facts.geometries = np.array(geometries, dtype=object)
    facts.workspace_names = (workspace[0], workspace[1])
    return facts
