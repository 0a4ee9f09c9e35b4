"""What the ledger hands back: orders, their events and their landed files, as frozen dataclasses."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import RowMapping

from harvest.delivery.deliverable import Deliverable
from harvest.ordering.ledger.states import OrderState
from harvest.ordering.model import OrderRequest, ProviderStatus, Quote, Unit


@dataclass(frozen=True)
class StoredFile:
    """One file of a delivery as the ledger records it (verified, at its final path)."""

    path: str
    size: int
    md5: str | None = None


@dataclass(frozen=True)
class LedgerEvent:
    """One line of an order's history."""

    key: str
    at: datetime
    kind: str
    actor: str
    detail: Mapping[str, Any]


@dataclass(frozen=True)
class OrderRow:
    """An order as the ledger knows it."""

    key: str
    provider: str
    scene_id: str
    aoi_id: str
    options: Mapping[str, Any]
    aoi_geometry: Mapping[str, Any]
    acquired: datetime | None
    constellation: str | None
    state: OrderState
    quote: Quote
    quoted_at: datetime
    approved_by: str | None
    approved_at: datetime | None
    month: str | None
    provider_order_id: str | None
    provider_status: ProviderStatus | None
    deliverables: tuple[Deliverable, ...]
    manifest_path: str | None
    error: str | None
    created_at: datetime
    updated_at: datetime

    def request(self) -> OrderRequest:
        """The OrderRequest this order was quoted for."""
        return OrderRequest(
            self.key,
            self.provider,
            self.scene_id,
            self.aoi_id,
            self.aoi_geometry,
            self.options,
            acquired=self.acquired,
            constellation=self.constellation,
        )


def deliverables_json(deliverables: tuple[Deliverable, ...] | list[Deliverable]) -> list[dict[str, Any]]:
    """Deliverables as JSON-ready dicts."""
    return [asdict(deliverable) for deliverable in deliverables]


def order_from_row(row: RowMapping) -> OrderRow:
    """An OrderRow from a row of the `orders` table."""
    quote = Quote(
        key=row["key"],
        amount=row["quote_amount"],
        unit=Unit(row["quote_unit"]),
        area_km2=row["quote_area_km2"],
        reference=row["quote_reference"],
    )
    status = row["provider_status"]
    return OrderRow(
        key=row["key"],
        provider=row["provider"],
        scene_id=row["scene_id"],
        aoi_id=row["aoi_id"],
        options=row["options"],
        aoi_geometry=row["aoi_geometry"],
        acquired=row["acquired"],
        constellation=row["constellation"],
        state=OrderState(row["state"]),
        quote=quote,
        quoted_at=row["quoted_at"],
        approved_by=row["approved_by"],
        approved_at=row["approved_at"],
        month=row["month"],
        provider_order_id=row["provider_order_id"],
        provider_status=ProviderStatus(status) if status else None,
        deliverables=tuple(Deliverable(**item) for item in row["deliverables"] or ()),
        manifest_path=row["manifest_path"],
        error=row["error"],
        created_at=row["created_at"],
        updated_at=row["updated_at"],
    )


def event_from_row(row: RowMapping) -> LedgerEvent:
    """A LedgerEvent from a row of the `events` table."""
    return LedgerEvent(key=row["key"], at=row["at"], kind=row["kind"], actor=row["actor"], detail=row["detail"])
