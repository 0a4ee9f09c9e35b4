"""The vocabulary of ordering, shared by the ledger, the provider order desks, placement and deliveries.

An order is named by a deterministic key (provider, scene, AOI, product options): the same wish
always has the same key, the ledger holds at most one order per key, and the key travels to the
provider as the customer reference wherever the provider keeps one, so an order whose response was
lost can be found again.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any

import orjson

from harvest.delivery.deliverable import Deliverable

KEY_PREFIX = "hv"


def order_key(provider: str, scene_id: str, aoi_id: str, options: Mapping[str, Any]) -> str:
    """The deterministic key of an order: `hv` and 24 base32 characters (letters and digits only,
    accepted as a customer reference by every provider)."""
    canonical = orjson.dumps(
        {"provider": provider, "scene_id": scene_id, "aoi_id": aoi_id, "options": dict(options)},
        option=orjson.OPT_SORT_KEYS,
    )
    digest = hashlib.blake2b(canonical, digest_size=15).digest()
    return KEY_PREFIX + base64.b32encode(digest).decode().lower()


class Unit(StrEnum):
    """What a quoted amount counts, kept as the provider quoted it."""

    EUR = "EUR"  # OneAtlas order.api (contract currency)
    CREDITS = "credits"  # OneAtlas data.api (Living Library credits)
    USD_CENTS = "USD cents"  # Arlula (integer US cents)
    KM2 = "km2"  # Sentinel Hub import quota (km² of the collection's quota)


@dataclass(frozen=True)
class OrderRequest:
    """What to buy: a scene over an AOI with product options, under its deterministic key."""

    key: str
    provider: str
    scene_id: str
    aoi_id: str
    aoi_geometry: Mapping[str, Any]  # GeoJSON, EPSG:4326
    options: Mapping[str, Any] = field(default_factory=dict)
    # facts about the scene from the catalog, not part of the key: Arlula quotes search the
    # acquisition day again, Sentinel Hub import orders name the constellation (PHR or SPOT)
    acquired: datetime | None = None  # UTC-aware
    constellation: str | None = None

    def __post_init__(self) -> None:
        if self.acquired is not None and self.acquired.tzinfo is None:
            raise ValueError(f"OrderRequest.acquired must be UTC-aware, got the naive {self.acquired.isoformat()}")

    @classmethod
    def build(
        cls,
        provider: str,
        scene_id: str,
        aoi_id: str,
        aoi_geometry: Mapping[str, Any],
        options: Mapping[str, Any] | None = None,
        *,
        acquired: datetime | None = None,
        constellation: str | None = None,
    ) -> OrderRequest:
        options = dict(options or {})
        return cls(
            order_key(provider, scene_id, aoi_id, options),
            provider,
            scene_id,
            aoi_id,
            aoi_geometry,
            options,
            acquired,
            constellation,
        )


@dataclass(frozen=True)
class Quote:
    """A provider's price for an OrderRequest, in the provider's own unit."""

    key: str
    amount: Decimal
    unit: Unit
    area_km2: float | None = None
    reference: str | None = None  # a provider-side quote id (a Sentinel Hub order created as a quote)
    raw: Mapping[str, Any] = field(default_factory=dict)


class ProviderStatus(StrEnum):
    """A provider order's state, in harvest's words."""

    ACCEPTED = "accepted"  # the provider has it and is producing it
    DELIVERED = "delivered"  # files can be downloaded
    FAILED = "failed"  # rejected, failed, cancelled or expired at the provider


@dataclass(frozen=True)
class ProviderOrder:
    """An order as its provider reports it."""

    provider: str
    order_id: str
    status: ProviderStatus
    detail: str = ""  # the provider's own status word
    deliverables: tuple[Deliverable, ...] = ()
    raw: Mapping[str, Any] = field(default_factory=dict)
