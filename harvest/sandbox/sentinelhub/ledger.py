"""TPDI orders as persisted documents, and their JSON as the API shows them at one instant.

Only what a client did is stored (creation, confirmation, deletion, archive requests); statuses
are derived from those instants and the clock by `lifecycle`.
"""

from __future__ import annotations

import uuid
from typing import Any, TypedDict, cast

from harvest.sandbox.core import Sandbox
from harvest.sandbox.sentinelhub.airbus import COLLECTIONS, PROVIDER
from harvest.sandbox.sentinelhub.lifecycle import DeliveryProgress, delivery_progress, failure_stage, order_status
from harvest.timestamps import NS_PER_S, format_millis

ORDERS = "sentinelhub.orders"
ARCHIVES = "sentinelhub.archives"


class DeliveryRecord(TypedDict):
    """One ordered product, stored inside its order."""

    id: str
    productId: str
    key: int  # world row key of the product
    platform: str
    acquiredNs: int
    sqkm: float


class OrderRecord(TypedDict):
    """An order as stored."""

    id: str
    sequence: int  # creation order (many orders share one instant on a frozen clock)
    name: str
    collectionId: str | None
    constellation: str
    sqkm: float
    createdNs: int
    confirmedNs: int | None
    deleted: bool
    input: dict[str, Any]
    deliveries: list[DeliveryRecord]


class ArchiveRecord(TypedDict):
    """A requested zip archive of one delivery."""

    deliveryId: str
    orderId: str
    format: str
    requestedNs: int


def _uuid(seed: int, *parts: object) -> str:
    return str(uuid.uuid5(uuid.NAMESPACE_URL, "harvest-sandbox/sentinelhub/" + "/".join(map(str, (seed, *parts)))))


def account_id(sandbox: Sandbox) -> str:
    """The sandbox user's account (and user) id."""
    return _uuid(sandbox.config.seed, "account")


def new_order_id(sandbox: Sandbox) -> tuple[str, int]:
    """A fresh order id and its sequence number, deterministic for a given seed and order count."""
    sequence = sandbox.state.next_counter("sentinelhub.orders")
    return _uuid(sandbox.config.seed, "order", sequence), sequence


def delivery_id(order_id: str, index: int) -> str:
    """The id of the delivery of the `index`-th product of an order."""
    return str(uuid.uuid5(uuid.UUID(order_id), f"delivery/{index}"))


def tile_id(delivery: str) -> str:
    """The id of the single BYOC tile a delivery is ingested as."""
    return str(uuid.uuid5(uuid.UUID(delivery), "tile"))


def new_collection_id(sandbox: Sandbox, order_id: str) -> str:
    """The BYOC collection created when an order without collectionId is confirmed."""
    return _uuid(sandbox.config.seed, "byoc", order_id)


def load_order(sandbox: Sandbox, order_id: str) -> OrderRecord | None:
    """The stored order, deleted ones included."""
    return cast(OrderRecord | None, sandbox.state.get(ORDERS, order_id))


def save_order(sandbox: Sandbox, order: OrderRecord) -> None:
    sandbox.state.put(ORDERS, order["id"], cast(dict[str, Any], order), order["createdNs"])


def all_orders(sandbox: Sandbox) -> list[OrderRecord]:
    """Every stored order, oldest first."""
    return sorted(cast(list[OrderRecord], sandbox.state.all(ORDERS)), key=lambda order: order["sequence"])


def progress(sandbox: Sandbox, order: OrderRecord, now_ns: int) -> list[DeliveryProgress]:
    """Where each delivery of `order` stands at `now_ns`."""
    config = sandbox.config
    stage_ns = int(config.tpdi_stage_s * NS_PER_S)
    return [
        delivery_progress(
            confirmed_ns=order["confirmedNs"],
            index=index,
            now_ns=now_ns,
            stage_ns=stage_ns,
            fails_at=failure_stage(config.seed, delivery["id"], config.tpdi_failure_rate),
        )
        for index, delivery in enumerate(order["deliveries"])
    ]


def status_of(sandbox: Sandbox, order: OrderRecord, now_ns: int) -> str:
    return order_status(order["confirmedNs"] is not None, progress(sandbox, order, now_ns))


def order_json(sandbox: Sandbox, order: OrderRecord, now_ns: int) -> dict[str, Any]:
    """The Order object (seed 003; `userId` too, as sentinelhub-js types it)."""
    account = account_id(sandbox)
    return {
        "id": order["id"],
        "name": order["name"],
        "userId": account,
        "accountId": account,
        "collectionId": order["collectionId"],
        "status": status_of(sandbox, order, now_ns),
        "sqkm": order["sqkm"],
        "created": format_millis(order["createdNs"]),
        "input": order["input"],
    }


def delivery_json(delivery: DeliveryRecord, state: DeliveryProgress) -> dict[str, Any]:
    """The OrderAirbusDelivery object."""
    return {
        "provider": PROVIDER,
        "id": delivery["id"],
        "sqkm": delivery["sqkm"],
        "status": state.status,
        "errorMessage": state.error_message,
        "productId": delivery["productId"],
    }


def quota_used(sandbox: Sandbox) -> dict[str, float]:
    """Square kilometres consumed per TPDI collection: every confirmed order counts, deleted or not."""
    used = dict.fromkeys(COLLECTIONS.values(), 0.0)
    for order in all_orders(sandbox):
        if order["confirmedNs"] is not None:
            collection = COLLECTIONS[order["constellation"]]
            used[collection] = round(used[collection] + order["sqkm"], 6)
    return used
