"""Orders, datasets and resources as JSON: API 2024-07 and the 2020-12 seed.

The shapes: docs/providers.md#arlula-orders-datasets-and-resources.

Resources exist only once their dataset is complete ("Completed orders will have at least one
resource"); their size and md5 come from the delivered files.
"""

from __future__ import annotations

from typing import Any

from harvest.sandbox.arlula.files import resource_md5
from harvest.sandbox.arlula.orders import Progress, dataset_progress, datasets_of, order_progress
from harvest.sandbox.core import Sandbox
from harvest.timestamps import format_millis


def _instant(ns: int | None) -> str | None:
    return None if ns is None else format_millis(ns)


def resource_json(sandbox: Sandbox, resource: dict[str, Any], progress: Progress) -> dict[str, Any]:
    """A Resource (2024-07): the file's name, type, format, roles, size and `md5:"<hex>"` checksum."""
    return {
        "id": resource["id"],
        "createdAt": _instant(progress.completed_ns),
        "updatedAt": _instant(progress.completed_ns),
        "dataset": resource["dataset"],
        "name": resource["name"],
        "type": resource["type"],
        "format": resource["format"],
        "roles": resource["roles"],
        "size": resource["size"],
        "checksum": f'md5:"{resource_md5(sandbox, resource)}"',
    }


def dataset_json(
    sandbox: Sandbox, dataset: dict[str, Any], now_ns: int, *, with_resources: bool = True
) -> dict[str, Any]:
    """A Dataset (2024-07); lists leave out `resources`."""
    progress = dataset_progress(dataset, now_ns)
    body: dict[str, Any] = {
        "id": dataset["id"],
        "createdAt": format_millis(dataset["created_ns"]),
        "updatedAt": format_millis(progress.updated_ns),
        "type": "archive",
        "status": progress.status,
        "supplier": dataset["supplier"],
        "platform": dataset["platform"],
        "orderingID": dataset["orderingID"],
        "sceneID": dataset["sceneID"],
        "bundle": dataset["bundle"],
        "eula": dataset["eula"],
        "total": dataset["total"],
        "discount": 0,
        "tax": 0,
        "refunded": 0,
        "order": dataset["order"],
        "campaign": None,
        "aoi": dataset["aoi"],
        "datetime": format_millis(dataset["acquired_ns"]),
        "expiration": _instant(progress.expiration_ns),
    }
    if with_resources:
        body["resources"] = (
            [resource_json(sandbox, r, progress) for r in dataset["resources"]] if progress.complete else []
        )
    return body


def order_json(sandbox: Sandbox, order: dict[str, Any], now_ns: int, *, nested: bool = True) -> dict[str, Any]:
    """An Order (2024-07): the purchase envelope; lists leave out `campaigns` and `datasets`."""
    datasets = datasets_of(sandbox, order)
    progress = order_progress(datasets, now_ns, order["created_ns"])
    body: dict[str, Any] = {
        "id": order["id"],
        "createdAt": format_millis(order["created_ns"]),
        "updatedAt": format_millis(progress.updated_ns),
        "status": progress.status,
        "total": sum(int(d["total"]) for d in datasets),
        "discount": 0,
        "tax": 0,
        "refunded": 0,
        "paymentMethod": order.get("payment"),
    }
    if nested:
        body["campaigns"] = []
        body["datasets"] = [dataset_json(sandbox, d, now_ns) for d in datasets]
    return body


def legacy_order_json(sandbox: Sandbox, dataset: dict[str, Any], now_ns: int, *, detailed: bool) -> dict[str, Any]:
    """The seed's Order (list entry) or Detailed Order: one ordered scene, i.e. a 2024-07 dataset."""
    progress = dataset_progress(dataset, now_ns)
    body: dict[str, Any] = {"id": dataset["id"]}
    if detailed:
        body["createdAt"] = format_millis(dataset["created_ns"])
        body["updatedAt"] = format_millis(progress.updated_ns)
    body.update(
        {
            "supplier": dataset["supplier"],
            "imageryID": dataset["orderingID"],
            "sceneID": dataset["sceneID"],
            "status": progress.status,
            "total": dataset["total"],
            "type": "archive",
            "expiration": _instant(progress.expiration_ns),
        }
    )
    if detailed:
        body["resources"] = (
            [
                {
                    "id": r["id"],
                    "createdAt": _instant(progress.completed_ns),
                    "updatedAt": _instant(progress.completed_ns),
                    "order": dataset["id"],
                    "name": r["name"],
                    "type": r["type"],
                }
                for r in dataset["resources"]
            ]
            if progress.complete
            else []
        )
    return body
