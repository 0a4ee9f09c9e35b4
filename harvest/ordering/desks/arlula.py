"""Arlula archive orders: a bundle and license priced from a fresh search, orders reconciled through datasets.

An `orderingID` binds a scene to the area searched, so a quote searches the AOI again on the
scene's acquisition day (`OrderRequest.acquired`) and prices the chosen bundle and license with
the SDK's formula (docs/providers.md#arlula-prices), in integer US cents. Options: `bundle` (a bundle key, default the
result's first) and `license` (a license name or href, default the first). Arlula keeps no
customer reference, so `find` looks through the account's datasets for the scene, with the same
bundle, license href and orderingID (from the quote, or a new search); if the scene is no longer
offered, a dataset of the scene whose ordered area overlaps the AOI counts as the order (better a
purchase missed and visible than a scene paid twice).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC
from decimal import ROUND_CEILING, Decimal
from typing import Annotated, Any, ClassVar

from pydantic import Field
from shapely.geometry import Polygon, shape

from harvest.delivery.deliverable import Deliverable
from harvest.ordering.desks.base import (
    ClientDesk,
    InvalidOrderOptions,
    NotOrderable,
    OrderingError,
    StatusWords,
    StrictOptions,
    check_quote,
    checked_options,
)
from harvest.ordering.model import OrderRequest, ProviderOrder, ProviderStatus, Quote, Unit
from harvest.providers.arlula import ArlulaClient

Name = Annotated[str, Field(min_length=1)]


class ArlulaOptions(StrictOptions):
    """Arlula bundle key and license name; unset: the offer's first bundle and first (standard) license."""

    bundle: Name | None = None  # a bundle `key` of the offer, e.g. visual
    license: Name | None = None  # a license `name` of the offer, e.g. Standard

    hints: ClassVar[Mapping[str, str]] = {
        "bundle": "a bundle key the Arlula offer lists, e.g. visual, analytic, panchromatic",
        "license": "a license name the Arlula offer lists, e.g. Standard",
    }


DEFAULTS: dict[str, str | None] = ArlulaOptions.defaults()
_IN_PROGRESS = ("created", "pending", "processing", "post-processing", "manual", "pending-screen",
                "pending-approval", "rescheduled")  # fmt: skip
STATUS = StatusWords(
    "Arlula",
    {
        **dict.fromkeys(_IN_PROGRESS, ProviderStatus.ACCEPTED),
        "complete": ProviderStatus.DELIVERED,
        "rejected": ProviderStatus.FAILED,
        "failed": ProviderStatus.FAILED,
        "cancelled": ProviderStatus.FAILED,
    },
)
_MD5 = re.compile(r'^md5:"?([0-9a-fA-F]{32})"?$')


def price_cents(bundle_cents: int, loading_percent: float, loading_amount: float) -> int:
    """ceil((bundle × (1 + percent/100) + amount) / 100) × 100: whole dollars, in US cents.

    The formula of Arlula's SDK (docs/providers.md#arlula-prices).
    """
    cents = Decimal(bundle_cents) * (1 + Decimal(str(loading_percent)) / 100) + Decimal(str(loading_amount))
    return int((cents / 100).to_integral_value(rounding=ROUND_CEILING)) * 100


def md5_of(checksum: str | None) -> str | None:
    """The hex digest of a resource checksum `md5:"<hex>"`, lowercase; None for other algorithms."""
    match = _MD5.match((checksum or "").strip())
    return match.group(1).lower() if match else None


@dataclass(frozen=True)
class Offer:
    """One search result's offer for the AOI, with the bundle and license chosen."""

    scene_id: str
    ordering_id: str
    bundle_key: str
    license_name: str
    eula: str
    cents: int
    area_km2: float | None


def _choose(items: list[dict[str, Any]], wanted: str | None, fields: tuple[str, ...], what: str) -> dict[str, Any]:
    if not items:
        raise NotOrderable(f"the Arlula result offers no {what}s")
    if wanted is None:
        return items[0]
    for item in items:
        if wanted in (item.get(f) for f in fields):
            return item
    known = ", ".join(str(item.get(fields[0])) for item in items)
    raise InvalidOrderOptions(f"Arlula offers no {what} {wanted!r} for this scene; choose one of {known}")


def offer_of(result: dict[str, Any], options: dict[str, Any]) -> Offer:
    """The offer of a search result for the bundle and license in `options` (the first ones by default)."""
    bundle = _choose(result.get("bundles") or [], options["bundle"], ("key",), "bundle")
    license_ = _choose(
        result.get("licenses") or result.get("license") or [], options["license"], ("name", "href"), "license"
    )
    cents = price_cents(
        int(bundle.get("price", 0)), float(license_.get("loadingPercent", 0)), float(license_.get("loadingAmount", 0))
    )
    area = (result.get("overlap") or {}).get("area")
    return Offer(
        scene_id=str(result["sceneID"]),
        ordering_id=str(result.get("orderingID") or result.get("id")),
        bundle_key=str(bundle["key"]),
        license_name=str(license_.get("name", "")),
        eula=str(license_["href"]),
        cents=cents,
        area_km2=float(area) if area is not None else None,
    )


def _overlaps(rings: Any, aoi: dict[str, Any]) -> bool:
    """Whether a dataset's ordered area (`aoi` rings) shares area with the request's AOI."""
    try:
        ordered = Polygon(rings[0], rings[1:])
        return ordered.intersection(shape(aoi)).area > 0
    except (TypeError, ValueError, IndexError):
        return False


class ArlulaDesk(ClientDesk[ArlulaClient]):
    """Orders Arlula archive imagery through the current API (orders, datasets, resources)."""

    provider = "arlula"

    def __init__(self, client: ArlulaClient) -> None:
        super().__init__(client)
        self._offers: dict[str, Offer] = {}  # the last offer quoted per key, for `find`

    def _offer(self, request: OrderRequest) -> Offer | None:
        """The scene's current offer for the AOI, from a search of its acquisition day (None if gone)."""
        options = checked_options(request, DEFAULTS)
        if request.acquired is None:
            raise OrderingError(
                f"Arlula order {request.key}: quoting searches the scene's acquisition day again; "
                "build the OrderRequest with acquired=<the catalog's UTC acquisition time>"
            )
        day = request.acquired.astimezone(UTC).date()
        results = self.client.search(start=day, end=day, geometry=shape(dict(request.aoi_geometry)))
        result = next((r for r in results if r.get("sceneID") == request.scene_id), None)
        if result is None:
            return None
        offer = offer_of(result, options)
        self._offers[request.key] = offer
        return offer

    def quote(self, request: OrderRequest) -> Quote:
        offer = self._offer(request)
        if offer is None:
            raise NotOrderable(
                f"Arlula no longer offers scene {request.scene_id} over AOI {request.aoi_id} (order {request.key})"
            )
        raw = {
            "sceneID": offer.scene_id,
            "orderingID": offer.ordering_id,
            "bundleKey": offer.bundle_key,
            "license": offer.license_name,
            "eula": offer.eula,
        }
        return Quote(
            request.key,
            Decimal(offer.cents),
            Unit.USD_CENTS,
            area_km2=offer.area_km2,
            reference=offer.ordering_id,
            raw=raw,
        )

    def place(self, request: OrderRequest, quote: Quote) -> ProviderOrder:
        """Order the quoted offer; a quote kept without its offer (e.g. read back from the ledger) is
        matched with the current offer, which must still cost what was quoted."""
        check_quote(request, quote)
        ordering_id, eula, bundle = quote.reference, quote.raw.get("eula"), quote.raw.get("bundleKey")
        if not (ordering_id and eula and bundle):
            offer = self._offers.get(request.key) or self._offer(request)
            if offer is None:
                raise NotOrderable(f"Arlula no longer offers scene {request.scene_id} over AOI {request.aoi_id}")
            if Decimal(offer.cents) != quote.amount:
                raise OrderingError(
                    f"Arlula order {request.key}: the offer now costs {offer.cents} US cents, it was quoted at "
                    f"{quote.amount}; quote it again"
                )
            ordering_id, eula, bundle = offer.ordering_id, offer.eula, offer.bundle_key
        order = self.client.order(ordering_id, eula=eula, bundle_key=bundle)
        return self._provider_order(order)

    def find(self, request: OrderRequest) -> ProviderOrder | None:
        datasets = [d for d in self.client.datasets() if d.get("sceneID") == request.scene_id]
        if not datasets:
            return None
        offer = self._offers.get(request.key)
        if offer is None and request.acquired is not None:
            offer = self._offer(request)
        for dataset in datasets:
            if offer is not None and (dataset.get("bundle"), dataset.get("eula")) != (offer.bundle_key, offer.eula):
                continue
            same_id = offer is not None and dataset.get("orderingID") == offer.ordering_id
            if same_id or _overlaps(dataset.get("aoi"), dict(request.aoi_geometry)):
                return self.status(ProviderOrder(self.provider, str(dataset["order"]), ProviderStatus.ACCEPTED))
        return None

    def status(self, order: ProviderOrder) -> ProviderOrder:
        return self._provider_order(self.client.order_detail(order.order_id))

    def _provider_order(self, order: dict[str, Any]) -> ProviderOrder:
        status = STATUS(order.get("status"))
        deliverables: tuple[Deliverable, ...] = ()
        if status is ProviderStatus.DELIVERED:
            datasets = order.get("datasets") or []
            deliverables = tuple(self._deliverable(r) for dataset in datasets for r in self._resources(dataset))
        return ProviderOrder(self.provider, str(order["id"]), status, str(order.get("status", "")), deliverables, order)

    def _resources(self, dataset: dict[str, Any]) -> list[dict[str, Any]]:
        if "resources" in dataset:
            return list(dataset["resources"] or [])
        return list(self.client.dataset(str(dataset["id"])).get("resources") or [])

    def _deliverable(self, resource: dict[str, Any]) -> Deliverable:
        size = resource.get("size")
        return Deliverable(
            url=f"{self.client.settings.url}/api/resource/{resource['id']}/data",
            filename=str(resource.get("name") or resource["id"]),
            size=int(size) if size is not None else None,
            md5=md5_of(resource.get("checksum")),
        )
