"""OneAtlas data.api (Living Library) orders: credits from `POST /api/v1/prices`, the key as `customerRef`.

Orders go `ordered` → `delivered` (docs/providers.md#oneatlas-living-library-orders); failure words
are undocumented, so `failed`, `rejected` and `cancelled` are taken as failures and anything else as
still in progress. Each delivery is one zip at `deliveries[]._links.download`, whose md5 a HEAD
reports up front.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from harvest.delivery.deliverable import Deliverable
from harvest.ordering.desks.base import ClientDesk, OrderingError, StatusWords, check_quote
from harvest.ordering.desks.deliverables import probed
from harvest.ordering.desks.oneatlas_products import ProductOptions
from harvest.ordering.model import OrderRequest, ProviderOrder, ProviderStatus, Quote, Unit
from harvest.providers.oneatlas import OneAtlasClient

KIND = "order.data.product"
STATUS = StatusWords(
    "OneAtlas",
    {
        "ordered": ProviderStatus.ACCEPTED,
        "delivered": ProviderStatus.DELIVERED,
        "failed": ProviderStatus.FAILED,
        "rejected": ProviderStatus.FAILED,
        "cancelled": ProviderStatus.FAILED,
        "canceled": ProviderStatus.FAILED,
    },
)


def _reference(order: dict[str, Any]) -> str | None:
    """The customerRef an order carries (on the order, or in its request echo)."""
    return order.get("customerRef") or (order.get("payload") or {}).get("customerRef")


class DataApiDesk(ClientDesk[OneAtlasClient]):
    """Orders through OneAtlas data.api, paid in Living Library credits."""

    provider = "oneatlas"
    flavour = "data"

    def _body(self, request: OrderRequest) -> dict[str, Any]:
        product = ProductOptions.of(request).data_api_product(request.scene_id, request.aoi_geometry)
        return {"kind": KIND, "products": [product], "customerRef": request.key}

    def quote(self, request: OrderRequest) -> Quote:
        priced = self.client.price(self._body(request))
        price = priced.get("price") or {}
        if price.get("credits") is None:
            raise OrderingError(f"OneAtlas priced order {request.key} without a credits amount: {price!r}")
        area = price.get("areaKm2")
        return Quote(
            request.key,
            Decimal(str(price["credits"])),
            Unit.CREDITS,
            area_km2=float(area) if area is not None else None,
            raw=priced,
        )

    def place(self, request: OrderRequest, quote: Quote) -> ProviderOrder:
        check_quote(request, quote)
        return self._provider_order(self.client.place_data_order(self._body(request)))

    def find(self, request: OrderRequest) -> ProviderOrder | None:
        for order in self.client.data_orders(customer_ref=request.key):
            if _reference(order) == request.key:  # a server that ignored the filter lists others too
                return self._provider_order(order)
        return None

    def status(self, order: ProviderOrder) -> ProviderOrder:
        return self._provider_order(self.client.data_order(order.order_id))

    def _provider_order(self, order: dict[str, Any]) -> ProviderOrder:
        status = STATUS(order.get("status"))
        deliverables: tuple[Deliverable, ...] = ()
        if status is ProviderStatus.DELIVERED:
            deliverables = tuple(
                probed(self.client.http, delivery["_links"]["download"]["href"], f"{_item_id(delivery)}.zip")
                for delivery in order.get("deliveries") or []
            )
        return ProviderOrder(self.provider, str(order["id"]), status, str(order.get("status", "")), deliverables, order)


def _item_id(delivery: dict[str, Any]) -> str:
    """The delivered item's id: downloads are named after it (a zip)."""
    return str(delivery.get("itemId") or delivery.get("id"))
