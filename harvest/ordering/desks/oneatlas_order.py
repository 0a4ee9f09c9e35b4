"""OneAtlas order.api (pay-per-order) orders: EUR quotes, the key as `customerReference`, SAL sales orders.

The contract is the one whose `backendSource` sells the scene's constellation (`neo` for Pléiades
Neo, `legacy` for SPOT and Pléiades), and products are delivered into its `deliveryWorkspace`. SPOT
and Pléiades archive orders have no tracking endpoint
(docs/providers.md#oneatlas-pay-per-order-orders): such an order shows only as the product delivered
into the workspace, carrying `internalReference` (the SAL id) and `customerReference` (the key).
Pléiades Neo orders can also be tracked by `customerReference` with `POST /api/v2/orders/search`. So
`find` cannot see an undelivered SPOT/Pléiades order (`finds_undelivered` is False): after an
`OutcomeUnknown`, do not take "not found" for "not ordered" before the delivery time has passed.
"""

from __future__ import annotations

import functools
from decimal import Decimal
from typing import Any

from harvest.delivery.deliverable import Deliverable
from harvest.ordering.desks.base import ClientDesk, NotOrderable, OrderingError, StatusWords, check_quote
from harvest.ordering.desks.deliverables import probed
from harvest.ordering.desks.oneatlas_products import ProductOptions
from harvest.ordering.model import OrderRequest, ProviderOrder, ProviderStatus, Quote, Unit
from harvest.providers.errors import OutcomeUnknown
from harvest.providers.oneatlas import OneAtlasClient
from harvest.providers.oneatlas_wire import CatalogItem, Link

PRODUCT_TYPES = {"PHR": "PleiadesArchiveMono", "SPOT": "SpotArchiveMono", "PNEO": "PleiadesNeoArchiveMono"}
CATALOG = "PublicMOC"
PRIMARY_MARKET = "NQUAL"
AOI_ID = 1
# PNEO tracking words; "delivered" there still waits for the product to reach the workspace
TRACKING = StatusWords(
    "OneAtlas",
    {
        "in_progress": ProviderStatus.ACCEPTED,
        "delivered": ProviderStatus.ACCEPTED,
        "completed": ProviderStatus.ACCEPTED,
        "cancelled": ProviderStatus.FAILED,
        "canceled": ProviderStatus.FAILED,
        "failed": ProviderStatus.FAILED,
        "rejected": ProviderStatus.FAILED,
    },
)
AWAITING = "awaiting delivery"  # the detail of a SPOT/Pléiades order not in the workspace yet
IN_WORKSPACE = "delivered to the workspace"


class OrderApiDesk(ClientDesk[OneAtlasClient]):
    """Orders through OneAtlas order.api, paid in the contract's currency (EUR)."""

    provider = "oneatlas"
    flavour = "order"
    finds_undelivered = False  # see the module docstring

    def __init__(self, client: OneAtlasClient, *, notification_email: str) -> None:
        super().__init__(client)
        self.notification_email = notification_email

    @functools.cached_property
    def _contracts(self) -> list[dict[str, Any]]:
        return self.client.contracts()

    def _contract(self, constellation: str) -> dict[str, Any]:
        backend = "neo" if constellation == "PNEO" else "legacy"
        for contract in self._contracts:
            if contract.get("backendSource", "legacy") == backend:
                return contract
        raise NotOrderable(f"no OneAtlas order.api contract of this account sells {constellation} (backend {backend})")

    def _workspaces(self) -> list[str]:
        found = (d.get("deliveryWorkspace") for c in self._contracts for d in c.get("delivery") or [])
        return list(dict.fromkeys(w for w in found if w))

    def _item(self, request: OrderRequest) -> CatalogItem:
        page = self.client.search_page({"id": request.scene_id}, 1, 1)
        if not page.items:
            raise NotOrderable(f"OneAtlas has no catalog item {request.scene_id} (order {request.key})")
        return page.items[0]

    def _body(self, request: OrderRequest) -> dict[str, Any]:
        options = ProductOptions.of(request).order_api_options()
        item = self._item(request)
        constellation = item.properties.constellation or ""
        if constellation not in PRODUCT_TYPES:
            raise NotOrderable(f"order.api sells {', '.join(PRODUCT_TYPES)} archive data, not {constellation!r}")
        product_type = PRODUCT_TYPES[constellation]
        contract = self._contract(constellation)
        strips = [item.properties.archiveIdentifier] if item.properties.archiveIdentifier else []
        body: dict[str, Any] = {
            "contractId": contract["contractId"],
            "customerReference": request.key,
            "primaryMarket": PRIMARY_MARKET,
            "aoi": [{"id": AOI_ID, "name": request.aoi_id, "geometry": dict(request.aoi_geometry)}],
            "items": [
                {
                    "productTypeId": product_type,
                    "dataSourceIds": [{"catalogId": CATALOG, "catalogItemId": request.scene_id}],
                    "datastripIds": strips,
                    "aoiId": AOI_ID,
                }
            ],
            "optionsPerProductType": [{"productTypeId": product_type, "options": options}],
            "endUsers": [{}],
        }
        workspaces = [d.get("deliveryWorkspace") for d in contract.get("delivery") or [] if d.get("deliveryWorkspace")]
        if workspaces:
            body["delivery"] = {"type": "network", "workspace": workspaces[0], "platformId": CATALOG}
        if constellation == "PNEO":
            events = [{"name": "DELIVERY"}, {"name": "SALES_ORDER"}]
            channel = {"type": "email", "parameters": {"addresses": [self.notification_email]}}
            body["notifications"] = [{"name": request.key, "channels": [channel], "filter": {"events": events}}]
        else:
            body["notificationEmails"] = [self.notification_email]
        return body

    def quote(self, request: OrderRequest) -> Quote:
        priced = self.client.quote(self._body(request))
        if priced.get("currency", "EUR") != "EUR" or priced.get("totalAmount") is None:
            raise OrderingError(
                f"OneAtlas order.api priced order {request.key} as {priced.get('totalAmount')!r} "
                f"{priced.get('currency')!r}; harvest keeps order.api prices in EUR"
            )
        areas = [float(t["areaKm2"]) for t in priced.get("productTypes") or [] if t.get("areaKm2") is not None]
        return Quote(
            request.key,
            Decimal(str(priced["totalAmount"])),
            Unit.EUR,
            area_km2=sum(areas) if areas else None,
            raw=priced,
        )

    def place(self, request: OrderRequest, quote: Quote) -> ProviderOrder:
        check_quote(request, quote)
        placed = self.client.place_sales_order(self._body(request))
        order_id = placed.get("salesOrderId") or placed.get("quotationId")
        if not order_id:
            # something was accepted, but not an order harvest can follow: as good as a lost answer
            raise OutcomeUnknown(
                "OneAtlas", f"order.api accepted order {request.key} without a salesOrderId or quotationId"
            )
        return ProviderOrder(self.provider, str(order_id), ProviderStatus.ACCEPTED, AWAITING, (), placed)

    def find(self, request: OrderRequest) -> ProviderOrder | None:
        for workspace in self._workspaces():
            for item in self.client.workspace_items(workspace, customerReference=request.key):
                if item.properties.customerReference == request.key and item.properties.internalReference:
                    return self.status(
                        ProviderOrder(self.provider, item.properties.internalReference, ProviderStatus.ACCEPTED)
                    )
        for tracked in self.client.track_orders(f"(customerReference:{request.key})"):
            if tracked.get("customerReference") == request.key and tracked.get("salesOrderId"):
                return self.status(ProviderOrder(self.provider, str(tracked["salesOrderId"]), ProviderStatus.ACCEPTED))
        return None

    def status(self, order: ProviderOrder) -> ProviderOrder:
        delivered = [
            item
            for workspace in self._workspaces()
            for item in self.client.workspace_items(workspace, internalReference=order.order_id)
            if item.properties.internalReference == order.order_id
        ]
        if delivered:
            files = tuple(self._deliverable(item) for item in delivered)
            return ProviderOrder(self.provider, order.order_id, ProviderStatus.DELIVERED, IN_WORKSPACE, files)
        for tracked in self.client.track_orders(f"(salesOrderId:{order.order_id})"):
            if tracked.get("salesOrderId") == order.order_id:
                word = str(tracked.get("status", ""))
                return ProviderOrder(self.provider, order.order_id, TRACKING(word), word, (), tracked)
        return ProviderOrder(self.provider, order.order_id, ProviderStatus.ACCEPTED, AWAITING)

    def _deliverable(self, item: CatalogItem) -> Deliverable:
        link = item.links.download
        first = link[0] if isinstance(link, list) and link else link
        if not isinstance(first, Link):
            raise OrderingError(f"OneAtlas workspace item {item.id} has no download link")
        return probed(self.client.http, first.href, f"{item.id}.zip")
