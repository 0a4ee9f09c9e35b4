"""Sentinel Hub third-party import (AIRBUS) orders: the unconfirmed order is the quote, confirming it places it.

A quote is an import order created under the request's key as its `name`; its `sqkm` is the price in
km² of the collection's quota and its id is `Quote.reference`, so `place` confirms that very order.
Quoting again reuses a still-unconfirmed order of the same name instead of creating another. Only
CREATED orders can be confirmed (a second confirm is refused with 409,
docs/providers.md#sentinel-hub-tpdi-orders), so confirming can never spend twice: `place` turns that
409 into the order's current state. `find` looks orders up by name, deleted ones too, and skips
unconfirmed ones: a quote is no order. An order is delivered when DONE, or PARTIAL with the files of
its successful deliveries.
"""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import shapely
from shapely.geometry import shape

from harvest.delivery.deliverable import Deliverable
from harvest.ordering.desks.base import (
    ClientDesk,
    OrderingError,
    StatusWords,
    StrictOptions,
    check_quote,
    checked_options,
)
from harvest.ordering.desks.deliverables import probed
from harvest.ordering.model import OrderRequest, ProviderOrder, ProviderStatus, Quote, Unit
from harvest.providers.errors import Conflict
from harvest.providers.sentinelhub import CRS84, SentinelHubClient

CONSTELLATIONS = ("PHR", "SPOT")
STATUS = StatusWords(
    "Sentinel Hub",
    {
        "created": ProviderStatus.ACCEPTED,  # only seen on a quote that was never confirmed
        "running": ProviderStatus.ACCEPTED,
        "done": ProviderStatus.DELIVERED,
        "partial": ProviderStatus.DELIVERED,
        "failed": ProviderStatus.FAILED,
        "cancelled": ProviderStatus.FAILED,
    },
)
FILES_READY = frozenset({"DELIVERED", "PREPARING", "INGESTING", "DONE", "IMPORT_FAILED", "NON_INGESTIBLE"})


class SentinelHubImportOptions(StrictOptions):
    """Sentinel Hub's AIRBUS import takes no product options (productBundle is Planet's, not Airbus's)."""


class SentinelHubImportDesk(ClientDesk[SentinelHubClient]):
    """Orders Airbus products through Sentinel Hub's third-party data import, paid in quota km²."""

    provider = "sentinelhub-import"

    def _body(self, request: OrderRequest) -> dict[str, Any]:
        checked_options(request, {})
        constellation = (request.constellation or "").upper()
        if constellation not in CONSTELLATIONS:
            raise OrderingError(
                f"Sentinel Hub import order {request.key} needs the scene's constellation, one of "
                f"{', '.join(CONSTELLATIONS)}, got {request.constellation!r}: build the OrderRequest with it"
            )
        geometry = shapely.geometry.mapping(shape(dict(request.aoi_geometry)))
        return {
            "name": request.key,
            "input": {
                "provider": "AIRBUS",
                "bounds": {"geometry": geometry, "properties": {"crs": CRS84}},
                "data": [{"constellation": constellation, "products": [{"id": request.scene_id}]}],
            },
        }

    def _named(self, key: str, **filters: str) -> Iterator[dict[str, Any]]:
        """Orders whose name is exactly `key` (the list's `search` matches words, so check)."""
        return (order for order in self.client.orders(search=key, **filters) if order.get("name") == key)

    def quote(self, request: OrderRequest) -> Quote:
        body = self._body(request)
        order = next(self._named(request.key, status="CREATED"), None) or self.client.create_order(body)
        return Quote(
            request.key,
            Decimal(str(order["sqkm"])),
            Unit.KM2,
            area_km2=float(order["sqkm"]),
            reference=str(order["id"]),
            raw=order,
        )

    def place(self, request: OrderRequest, quote: Quote) -> ProviderOrder:
        check_quote(request, quote)
        if not quote.reference:
            raise OrderingError(f"the quote of Sentinel Hub order {request.key} names no import order to confirm")
        try:
            order = self.client.confirm_order(quote.reference)
        except Conflict:  # not CREATED any more: confirmed already (an earlier answer was lost) or cancelled
            order = self.client.order(quote.reference)
        return self._provider_order(order)

    def find(self, request: OrderRequest) -> ProviderOrder | None:
        for deleted in ("false", "true"):
            for order in self._named(request.key, deleted=deleted):
                if order.get("status") != "CREATED":
                    return self._provider_order(order)
        return None

    def status(self, order: ProviderOrder) -> ProviderOrder:
        return self._provider_order(self.client.order(order.order_id))

    def _provider_order(self, order: dict[str, Any]) -> ProviderOrder:
        status = STATUS(order.get("status"))
        order_id = str(order["id"])
        deliverables: tuple[Deliverable, ...] = ()
        if status is ProviderStatus.DELIVERED:
            deliverables = tuple(
                probed(self.client.http, self.client.delivery_file_url(order_id, delivery["id"], path), path)
                for delivery in self.client.deliveries(order_id)
                if delivery.get("status") in FILES_READY
                for path in self.client.delivery_files(order_id, delivery["id"])
            )
        return ProviderOrder(self.provider, order_id, status, str(order.get("status", "")), deliverables, order)
