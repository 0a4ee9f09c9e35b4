"""TPDI orders: create (a quote), list, get, delete and confirm (docs/providers.md#sentinel-hub-tpdi-orders)."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import numpy as np
import shapely
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from harvest.catalog.geodesy import area_km2
from harvest.sandbox.core import Sandbox, sandbox_of
from harvest.sandbox.http import json_response
from harvest.sandbox.oneatlas.query import RESULT_WINDOW
from harvest.sandbox.sentinelhub.airbus import COLLECTIONS, AirbusInput, parse_input
from harvest.sandbox.sentinelhub.auth import refuse_unauthenticated
from harvest.sandbox.sentinelhub.body import json_object
from harvest.sandbox.sentinelhub.errors import PayloadError, bad_payload, boom
from harvest.sandbox.sentinelhub.ledger import (
    ORDERS,
    DeliveryRecord,
    OrderRecord,
    all_orders,
    delivery_id,
    load_order,
    new_collection_id,
    new_order_id,
    order_json,
    quota_used,
    save_order,
    status_of,
)
from harvest.sandbox.sentinelhub.lifecycle import ORDER_STATUSES
from harvest.sandbox.sentinelhub.paging import binding, decode_token, parse_count, view_links
from harvest.sandbox.sentinelhub.search import hits, sellable_item
from harvest.sandbox.world.sensors import SENSORS

ORDERS_PATH = "/sentinelhub/api/v1/dataimport/orders"
ORDER_PAGE_MAX = 100
_PRODUCTS = "input.data[0].products"


def _ordered_rows(sandbox: Sandbox, query: AirbusInput, now_ns: int) -> tuple[list[str], np.ndarray]:
    """Product ids and world rows of what the input orders: the listed products, or every match."""
    if query.product_ids is not None:
        rows = []
        for index, product_id in enumerate(query.product_ids):
            item = sellable_item(sandbox, product_id, now_ns)
            if item is None:
                raise PayloadError(f"{_PRODUCTS}[{index}].id", f"product {product_id} not found")
            if item.constellation != query.constellation:
                wrong = f"product {product_id} is {item.constellation}, not {query.constellation}"
                raise PayloadError(f"{_PRODUCTS}[{index}].id", wrong)
            rows.append(item.row)
        return list(query.product_ids), np.array(rows, dtype=np.int64)
    assert query.search is not None
    found = hits(sandbox, query.search, now_ns)
    if found.total > len(found.index):
        raise PayloadError("input.data[0].dataFilter", f"matches {found.total} products; at most {RESULT_WINDOW}")
    rows = sandbox.world.tpdi.rows[found.index]
    return sandbox.world.item_ids.encode_many(sandbox.world.acq.key[rows]), rows


def _deliveries(sandbox: Sandbox, order_id: str, query: AirbusInput, now_ns: int) -> list[DeliveryRecord]:
    """One delivery per ordered product that covers part of the AOI, with that part's area."""
    product_ids, rows = _ordered_rows(sandbox, query, now_ns)
    clipped = shapely.intersection(sandbox.world.shapes[rows], query.area) if len(rows) else []
    acq = sandbox.world.acq
    deliveries: list[DeliveryRecord] = []
    for index, (product_id, row, part) in enumerate(zip(product_ids, rows.tolist(), clipped, strict=True)):
        area = area_km2(part)
        if area <= 0:
            if query.product_ids is not None:
                raise PayloadError(f"{_PRODUCTS}[{index}].id", f"product {product_id} does not intersect the bounds")
            continue  # a query match that only touches the AOI
        deliveries.append(
            DeliveryRecord(
                id=delivery_id(order_id, len(deliveries)),
                productId=product_id,
                key=int(acq.key[row]),
                platform=SENSORS[int(acq.sensor[row])].platform,
                acquiredNs=int(acq.acquired_ns[row]),
                sqkm=round(area, 2),
            )
        )
    if not deliveries:
        raise PayloadError("input.data[0]", "no product matches the query within the bounds")
    return deliveries


def _collection_id(value: Any) -> str | None:
    if value is None:
        return None
    try:
        return str(uuid.UUID(str(value)))
    except ValueError as exc:
        raise PayloadError("collectionId", f"must be a BYOC collection UUID, got {value!r}") from exc


async def _slow_down(sandbox: Sandbox) -> None:
    """The order_timeout fault: the change is made, then the answer comes too late."""
    fault = sandbox.faults.decide(("order_timeout",), "sentinelhub.tpdi")
    if fault is not None:
        await asyncio.sleep(fault.param or 0.0)


async def create_order(request: Request) -> Response:
    """POST /orders: a CREATED order whose sqkm is max(area of AOI ∩ footprints, minimum)."""
    sandbox = sandbox_of(request)
    if (refused := refuse_unauthenticated(sandbox, request)) is not None:
        return refused
    try:
        body = await json_object(request)
        name = body.get("name", "")
        if not isinstance(name, str):
            raise PayloadError("name", "must be a string")
        collection_id = _collection_id(body.get("collectionId"))
        query = parse_input(body.get("input"), prefix="input", allow_products=True)
        now = sandbox.now_ns()
        order_id, sequence = new_order_id(sandbox)
        deliveries = _deliveries(sandbox, order_id, query, now)
    except PayloadError as exc:
        return bad_payload(exc)
    area = sum(d["sqkm"] for d in deliveries)
    order = OrderRecord(
        id=order_id,
        sequence=sequence,
        name=name,
        collectionId=collection_id,
        constellation=query.constellation,
        sqkm=round(max(area, sandbox.config.tpdi_min_order_sqkm), 2),
        createdNs=now,
        confirmedNs=None,
        deleted=False,
        input=body["input"],
        deliveries=deliveries,
    )
    save_order(sandbox, order)
    await _slow_down(sandbox)
    return json_response(order_json(sandbox, order, now))


def _matches(order: OrderRecord, search: str) -> bool:
    """`a|b&c`: any alternative whose words all occur in the name or id (case-insensitive)."""
    text = f"{order['name']} {order['id']}".lower()
    return any(
        all(word.strip() in text for word in alternative.lower().split("&") if word.strip())
        for alternative in search.split("|")
    )


async def list_orders(request: Request) -> Response:
    """GET /orders?status=&collectionId=&count=&viewtoken=&search=&deleted=."""
    sandbox = sandbox_of(request)
    if (refused := refuse_unauthenticated(sandbox, request)) is not None:
        return refused
    params = request.query_params
    filters = {name: params[name] for name in ("status", "collectionId", "search", "deleted") if name in params}
    try:
        if filters.get("status") not in (None, *ORDER_STATUSES):
            raise PayloadError("status", f"must be one of {', '.join(ORDER_STATUSES)}")
        deleted = filters.get("deleted", "false").lower()
        if deleted not in ("true", "false"):
            raise PayloadError("deleted", "must be true or false")
        count = parse_count(params.get("count"), ORDER_PAGE_MAX)
        bound_to = binding(filters)
        offset = decode_token(params["viewtoken"], bound_to) if params.get("viewtoken") else 0
    except PayloadError as exc:
        return bad_payload(exc)
    now = sandbox.now_ns()
    orders = [o for o in all_orders(sandbox) if o["deleted"] == (deleted == "true")]
    if "collectionId" in filters:
        orders = [o for o in orders if o["collectionId"] == filters["collectionId"]]
    if filters.get("search"):
        orders = [o for o in orders if _matches(o, filters["search"])]
    shown = [order_json(sandbox, o, now) for o in orders]
    if "status" in filters:
        shown = [o for o in shown if o["status"] == filters["status"]]
    links = view_links(
        sandbox.link(ORDERS_PATH), filters, offset=offset, count=count, total=len(shown), bound_to=bound_to
    )
    return json_response({"data": shown[offset : offset + count], "links": links})


def _find(sandbox: Sandbox, request: Request, *, include_deleted: bool = True) -> OrderRecord | Response:
    order = load_order(sandbox, request.path_params["order_id"])
    if order is None or (order["deleted"] and not include_deleted):
        return boom(404, f"Order {request.path_params['order_id']} not found")
    return order


async def get_order(request: Request) -> Response:
    """GET /orders/{orderId}; deleted orders stay available here."""
    sandbox = sandbox_of(request)
    if (refused := refuse_unauthenticated(sandbox, request)) is not None:
        return refused
    order = _find(sandbox, request)
    if isinstance(order, Response):
        return order
    return json_response(order_json(sandbox, order, sandbox.now_ns()))


async def delete_order(request: Request) -> Response:
    """DELETE /orders/{orderId}: CREATED ones vanish, final ones are hidden, running ones stay (409)."""
    sandbox = sandbox_of(request)
    if (refused := refuse_unauthenticated(sandbox, request)) is not None:
        return refused
    order = _find(sandbox, request, include_deleted=False)
    if isinstance(order, Response):
        return order
    status = status_of(sandbox, order, sandbox.now_ns())
    if status in ("RUNNING", "PARTIAL"):
        return boom(409, f"Order {order['id']} is {status} and cannot be deleted")
    if status == "CREATED":
        sandbox.state.delete(ORDERS, order["id"])
    else:
        order["deleted"] = True
        save_order(sandbox, order)
    return Response(status_code=204)


async def confirm_order(request: Request) -> Response:
    """POST /orders/{orderId}/confirm: quota is consumed, a BYOC collection assigned, RUNNING begins."""
    sandbox = sandbox_of(request)
    if (refused := refuse_unauthenticated(sandbox, request)) is not None:
        return refused
    order = _find(sandbox, request, include_deleted=False)
    if isinstance(order, Response):
        return order
    now = sandbox.now_ns()
    status = status_of(sandbox, order, now)
    if status != "CREATED":
        return boom(409, f"Only orders with status CREATED can be confirmed; order {order['id']} is {status}")
    collection = COLLECTIONS[order["constellation"]]
    available = round(sandbox.config.tpdi_quota_sqkm - quota_used(sandbox)[collection], 6)
    if order["sqkm"] > available:
        return boom(
            403,
            f"QuotaExceededError: the order needs {order['sqkm']} sqkm of {collection} quota, {available} remain",
            errors={"availableQuota": available, "requiredQuota": order["sqkm"]},
        )
    order["confirmedNs"] = now
    order["collectionId"] = order["collectionId"] or new_collection_id(sandbox, order["id"])
    save_order(sandbox, order)
    await _slow_down(sandbox)
    return json_response(order_json(sandbox, order, now))


def routes() -> list[BaseRoute]:
    """Order routes, relative to /api/v1/dataimport."""
    return [
        Route("/orders", create_order, methods=["POST"]),
        Route("/orders", list_orders, methods=["GET"]),
        Route("/orders/{order_id}", get_order, methods=["GET"]),
        Route("/orders/{order_id}", delete_order, methods=["DELETE"]),
        Route("/orders/{order_id}/confirm", confirm_order, methods=["POST"]),
    ]
