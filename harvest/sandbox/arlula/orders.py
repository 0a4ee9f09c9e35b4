"""Orders and their datasets in the sandbox's persistent state; progress derives from the clock.

An Order (API 2024-07) is the purchase envelope; each ordered scene is a Dataset with its own
resources. The 2020-12 seed's "order" is what is now a dataset, so both APIs read the same
documents. Nothing is mutated as time passes: status, completion and expiration are computed from
`created_ns` and the stage durations stored with each dataset (docs/providers.md#arlula-orders-datasets-and-resources).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from harvest.sandbox.arlula.files import resource_specs
from harvest.sandbox.arlula.ordering_ids import OrderingGrant
from harvest.sandbox.arlula.scenes import Scene, ring_json
from harvest.sandbox.arlula.suppliers import Bundle, License
from harvest.sandbox.core import Sandbox
from harvest.timestamps import NS_PER_DAY, NS_PER_S

ORDERS = "arlula.orders"
DATASETS = "arlula.datasets"
RESOURCES = "arlula.resources"

STATUSES = ("pending", "processing", "post-processing", "complete")
_STAGES = len(STATUSES) - 1


@dataclass(frozen=True)
class Purchase:
    """One validated line of an order: a scene, its area, bundle and license."""

    scene: Scene
    grant: OrderingGrant
    ordering_id: str
    bundle: Bundle
    license: License
    eula: str
    total: int  # US cents
    seats: int | None = None  # 2020-12 orders only


@dataclass(frozen=True)
class Progress:
    """Where a dataset or an order stands at one instant."""

    status: str
    updated_ns: int
    completed_ns: int | None
    expiration_ns: int | None

    @property
    def complete(self) -> bool:
        """Whether the resources can be downloaded."""
        return self.status == "complete"


def dataset_progress(dataset: dict[str, Any], now_ns: int) -> Progress:
    """A dataset's status: each stage lasts `stage_ns`; instant suppliers are complete at once."""
    created = int(dataset["created_ns"])
    stage = int(dataset["stage_ns"])
    done_at = created if dataset["instant"] else created + _STAGES * stage
    if now_ns >= done_at:
        expiry = dataset["expiry_ns"]
        return Progress("complete", done_at, done_at, None if expiry is None else done_at + int(expiry))
    reached = min(max((now_ns - created) // stage, 0), _STAGES - 1)
    return Progress(STATUSES[reached], created + reached * stage, None, None)


def order_progress(datasets: list[dict[str, Any]], now_ns: int, created_ns: int) -> Progress:
    """An order's status is its least advanced dataset's; it completes with the last one."""
    each = [dataset_progress(d, now_ns) for d in datasets]
    if not each:
        return Progress("pending", created_ns, None, None)
    status = STATUSES[min(STATUSES.index(p.status) for p in each)]
    completed = max(p.completed_ns or 0 for p in each) if status == "complete" else None
    return Progress(status, max(p.updated_ns for p in each), completed, None)


def create_order(
    sandbox: Sandbox,
    purchases: list[Purchase],
    *,
    webhooks: list[str],
    emails: list[str],
    team: str | None = None,
    payment: str | None = None,
    api: str = "2024-07",
) -> dict[str, Any]:
    """Persist a new order and its datasets and resources; returns the order document."""
    now = sandbox.now_ns()
    config = sandbox.config
    order_id = str(uuid.uuid4())
    dataset_ids = []
    for purchase in purchases:
        dataset_id = str(uuid.uuid4())
        scene, supplier = purchase.scene, purchase.scene.supplier
        resources: list[dict[str, Any]] = [
            {
                "id": str(uuid.uuid5(uuid.NAMESPACE_URL, f"harvest-sandbox/arlula/{dataset_id}/{spec.name}")),
                "dataset": dataset_id,
                "name": spec.name,
                "type": spec.type,
                "format": spec.format,
                "roles": list(spec.roles),
                "size": spec.size,
            }
            for spec in resource_specs(scene.scene_id, supplier.key, config.product_size_bytes)
        ]
        polygon = purchase.grant.polygon()
        dataset = {
            "id": dataset_id,
            "order": order_id,
            "created_ns": now,
            "stage_ns": int(config.arlula_stage_s * NS_PER_S),
            "instant": supplier.fulfillment_h == 0,
            "expiry_ns": None if supplier.public else int(config.arlula_expiry_days * NS_PER_DAY),
            "supplier": supplier.key,
            "platform": scene.platform,
            "sceneID": scene.scene_id,
            "scene_key": scene.key,
            "orderingID": purchase.ordering_id,
            "bundle": purchase.bundle.key,
            "license": purchase.license.name,
            "eula": purchase.eula,
            "total": purchase.total,
            "seats": purchase.seats,
            "aoi": [ring_json(ring.coords) for ring in (polygon.exterior, *polygon.interiors)],
            "acquired_ns": scene.acquired_ns,
            "resources": resources,
        }
        sandbox.state.put(DATASETS, dataset_id, dataset, now)
        for resource in resources:
            sandbox.state.put(RESOURCES, resource["id"], {"id": resource["id"], "dataset": dataset_id}, now)
        dataset_ids.append(dataset_id)
    order = {
        "id": order_id,
        "created_ns": now,
        "datasets": dataset_ids,
        "webhooks": webhooks,
        "emails": emails,
        "team": team,
        "payment": payment,
        "api": api,
    }
    sandbox.state.put(ORDERS, order_id, order, now)  # last: an order never names a missing dataset
    return order


def datasets_of(sandbox: Sandbox, order: dict[str, Any]) -> list[dict[str, Any]]:
    """The dataset documents of an order, in order."""
    found = (sandbox.state.get(DATASETS, dataset_id) for dataset_id in order["datasets"])
    return [d for d in found if d is not None]


def find_resource(sandbox: Sandbox, resource_id: str) -> tuple[dict[str, Any], dict[str, Any]] | None:
    """(dataset, resource) of a resource id, if it exists."""
    link = sandbox.state.get(RESOURCES, resource_id)
    dataset = None if link is None else sandbox.state.get(DATASETS, link["dataset"])
    if dataset is None:
        return None
    resource = next((r for r in dataset["resources"] if r["id"] == resource_id), None)
    return None if resource is None else (dataset, resource)


def newest_first(documents: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Documents sorted by creation, newest first (ties by id)."""
    return sorted(documents, key=lambda d: (-int(d["created_ns"]), d["id"]))
