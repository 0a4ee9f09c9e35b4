"""OneAtlas data.api (Living Library): me, contract, prices, `kind` orders and product download."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from harvest.sandbox.core import Sandbox, sandbox_of
from harvest.sandbox.http import file_response, json_response, read_json
from harvest.sandbox.oneatlas.auth import refuse_unauthenticated
from harvest.sandbox.oneatlas.errors import CORRELATION_HEADER, api_error
from harvest.sandbox.oneatlas.ordering import (
    OrderRefused,
    credits_for,
    delivered_product,
    delivery_ns,
    orderable_item,
    ordered_area_km2,
    parse_aoi,
    product_members,
    product_store,
)
from harvest.sandbox.oneatlas.workspace import (
    DATA_ORDERS,
    PRIVATE_WORKSPACE_NAME,
    SALES_ORDERS,
    contract_id,
    private_workspace_id,
)
from harvest.sandbox.world.ids import stable_uuid4
from harvest.timestamps import format_micros_offset

KINDS = ("order.data.product", "order.product", "order.data.gb.product")
PRODUCT_TYPES = ("bundle", "pansharpened", "panchromatic", "multiSpectral", "bundle-fs", "pansharpened-fs")
IMAGE_FORMATS = ("image/jp2", "image/geotiff")
RADIOMETRIC = ("REFLECTANCE", "DISPLAY")
USER_ID = "75e0cc0b-bece-47bb-fa1c-0644d3fe3cf6"


def _contract(sandbox: Sandbox) -> dict[str, Any]:
    cid = contract_id(sandbox.config.seed)
    base = sandbox.link(f"/oneatlas/data/api/v1/contracts/{cid}")
    spent = sum(int(order["price"]) for order in sandbox.state.all(DATA_ORDERS))
    return {
        "_links": {
            "self": {"href": base},
            "orders": {"href": f"{base}/orders"},
            "payments": {"href": f"{base}/payments"},
            "subscriptions": {"href": f"{base}/subscriptions"},
            "deliveries": {"href": f"{base}/deliveries"},
            "reports": {"href": f"{base}/reports"},
        },
        "id": cid,
        "status": "created",
        "createdAt": "2021-07-07T08:01:07Z",
        "offers": ["order.data.product", "order.product"],
        "companyName": "harvest sandbox",
        "amountUnit": "credits",
        "balanceUnit": "credits",
        "kind": "contract.oneatlas",
        "name": "harvest sandbox contract",
        "balance": sandbox.config.oneatlas_balance_credits - spent,
        "workspaceId": private_workspace_id(sandbox.config.seed),
        "workspaceName": PRIVATE_WORKSPACE_NAME,
    }


async def me(request: Request) -> Response:
    sandbox = sandbox_of(request)
    if (refused := refuse_unauthenticated(sandbox, request)) is not None:
        return refused
    return json_response(
        {
            "_links": {
                "self": {"href": sandbox.link("/oneatlas/data/api/v1/me")},
                "licenses": {"href": sandbox.link("/oneatlas/data/api/v1/licenseAgreements")},
            },
            "id": USER_ID,
            "status": "created",
            "createdAt": "2022-08-19T12:19:43Z",
            "roles": ["user"],
            "contract": _contract(sandbox),
        }
    )


async def contract(request: Request) -> Response:
    sandbox = sandbox_of(request)
    if (refused := refuse_unauthenticated(sandbox, request)) is not None:
        return refused
    if request.path_params["contract_id"] != contract_id(sandbox.config.seed):
        return api_error(404, "Contract not found", request=request)
    return json_response(_contract(sandbox))


async def subscriptions(request: Request) -> Response:
    sandbox = sandbox_of(request)
    if (refused := refuse_unauthenticated(sandbox, request)) is not None:
        return refused
    cid = contract_id(sandbox.config.seed)
    if request.path_params["contract_id"] != cid:
        return api_error(404, "Contract not found", request=request)
    subscription = stable_uuid4(f"harvest-sandbox/oneatlas/subscription/{sandbox.config.seed}")
    base = sandbox.link("/oneatlas/data/api/v1")
    item = {
        "_links": {
            "self": {"href": f"{base}/subscriptions/{subscription}"},
            "contract": {"href": f"{base}/contracts/{cid}"},
            "reports": {"href": f"{base}/subscriptions/{subscription}/reports"},
            "deliveries": {"href": f"{base}/deliveries?subscriptionId={subscription}"},
            "payments": {"href": f"{base}/payments?subscriptionId={subscription}"},
            "orders": {"href": f"{base}/orders?subscriptionId={subscription}"},
        },
        "id": subscription,
        "status": "active",
        "startedAt": "2021-07-07T08:01:07.000000+00:00",
        "endedAt": "2031-07-07T00:00:00+00:00",
        "service": "data",
        "isAmountEstimated": "false",
        "kind": "subscription.oneatlas",
        "title": "OneAtlas",
        "workspaceId": private_workspace_id(sandbox.config.seed),
        "offers": ["order.data.product"],
    }
    return json_response({"startIndex": 0, "totalResults": 1, "itemsPerPage": 10, "items": [item]})


def _priced_products(sandbox: Sandbox, body: Any, now_ns: int) -> tuple[list[dict[str, Any]], list[Any]]:
    """Validate a prices/orders body; return its deliveries (price per product) and catalog items."""
    if not isinstance(body, dict):
        raise OrderRefused("The body must be a JSON object with `kind` and `products`")
    if body.get("kind") not in KINDS:
        raise OrderRefused(f"kind must be one of {', '.join(KINDS)}")
    products = body.get("products")
    if not isinstance(products, list) or not products:
        raise OrderRefused("products must be a non-empty list")
    deliveries, items = [], []
    for product in products:
        if not isinstance(product, dict):
            raise OrderRefused("each product must be an object")
        item_id = product.get("id") or ""
        if not item_id:
            raise OrderRefused("each product needs the catalog item `id`")
        if product.get("productType") not in PRODUCT_TYPES:
            raise OrderRefused(f"productType must be one of {', '.join(PRODUCT_TYPES)}")
        if product.get("imageFormat", "image/jp2") not in IMAGE_FORMATS:
            raise OrderRefused(f"imageFormat must be one of {', '.join(IMAGE_FORMATS)}")
        if product.get("radiometricProcessing", "REFLECTANCE") not in RADIOMETRIC:
            raise OrderRefused(f"radiometricProcessing must be one of {', '.join(RADIOMETRIC)}")
        item = orderable_item(sandbox, item_id, now_ns)
        if item.is_album:
            raise OrderRefused(f"Item '{item_id}' has processingLevel ALBUM; only SENSOR items can be ordered")
        aoi = parse_aoi(product.get("aoi"))
        area = ordered_area_km2(sandbox, item, aoi)
        deliveries.append(
            {
                "datas": {**product, "sourceId": item.archive_identifier},
                "id": stable_uuid4(f"{item_id}/{area}/{product.get('productType')}"),
                "price": credits_for(item, area),
                "areaKm2": area,
            }
        )
        items.append((item, aoi, product))
    return deliveries, items


def _price_body(body: dict[str, Any], deliveries: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "payload": body,
        "deliveries": deliveries,
        "price": {
            "credits": sum(d["price"] for d in deliveries),
            "areaKm2": round(sum(d["areaKm2"] for d in deliveries), 2),
        },
        "feasibility": "automatic",
        "orderable": "ok",
    }


async def prices(request: Request) -> Response:
    sandbox = sandbox_of(request)
    if (refused := refuse_unauthenticated(sandbox, request)) is not None:
        return refused
    try:
        body = await read_json(request)
        deliveries, _ = _priced_products(sandbox, body, sandbox.now_ns())
    except ValueError as exc:
        return api_error(getattr(exc, "status", 400), str(exc), request=request)
    return json_response(_price_body(body, deliveries))


def _order_view(sandbox: Sandbox, order: dict[str, Any], now_ns: int) -> dict[str, Any]:
    delivered = now_ns >= order["delivery_ns"] + sandbox.world.delay_ns
    link = sandbox.link(f"/oneatlas/data/api/v1/orders/{order['id']}")
    view = {
        "_links": {
            "self": {"href": link},
            "contract": {"href": sandbox.link(f"/oneatlas/data/api/v1/contracts/{order['contractId']}")},
            "payments": {"href": f"{link}/payments"},
        },
        "id": order["id"],
        "kind": order["kind"],
        "createdAt": order["createdAt"],
        "createdBy": USER_ID,
        "status": "delivered" if delivered else "ordered",
        "contractId": order["contractId"],
        "price": order["price"],
        "payload": order["payload"],
    }
    if order.get("customerRef"):
        view["customerRef"] = order["customerRef"]
    if delivered:
        view["deliveries"] = [
            {
                "id": product["delivered_item_id"],
                "status": "delivered",
                "itemId": product["delivered_item_id"],
                "sourceId": product["archive_identifier"],
                "_links": {
                    "download": {
                        "href": sandbox.link(f"/oneatlas/data/api/v1/items/{product['delivered_item_id']}/download")
                    }
                },
            }
            for product in order["products"]
        ]
    return view


async def create_order(request: Request) -> Response:
    sandbox = sandbox_of(request)
    if (refused := refuse_unauthenticated(sandbox, request)) is not None:
        return refused
    now = sandbox.now_ns()
    try:
        body = await read_json(request)
        deliveries, items = _priced_products(sandbox, body, now)
    except ValueError as exc:
        return api_error(getattr(exc, "status", 400), str(exc), request=request)
    price = sum(d["price"] for d in deliveries)
    balance = _contract(sandbox)["balance"]
    if price > balance:
        return api_error(
            403, f"Insufficient balance: the order costs {price} credits, {balance} remain", request=request
        )
    order_id = str(uuid.uuid4())
    reference = str(body.get("customerRef") or "")
    order = {
        "id": order_id,
        "kind": body["kind"],
        "createdAt": format_micros_offset(now),
        "created_ns": now,
        "delivery_ns": delivery_ns(sandbox, now),
        "contractId": contract_id(sandbox.config.seed),
        "price": price,
        "payload": body,
        "customerRef": reference,
        "products": [
            delivered_product(
                order_id,
                index,
                item,
                aoi,
                product_type={"multiSpectral": "multispectral"}.get(product["productType"], product["productType"]),
                processing_level="SENSOR",
                workspace_properties={
                    "customerReference": reference,
                    "internalReference": order_id,
                    "contractId": contract_id(sandbox.config.seed),
                },
            )
            for index, (item, aoi, product) in enumerate(items)
        ],
    }
    sandbox.state.put(DATA_ORDERS, order_id, order, now)
    fault = sandbox.faults.decide(("order_timeout",), "oneatlas.data")
    if fault is not None:
        await asyncio.sleep(fault.param or 0.0)  # the order exists; the caller hears nothing in time
    return json_response(_order_view(sandbox, order, now), 201, {CORRELATION_HEADER: str(uuid.uuid4())})


async def list_orders(request: Request) -> Response:
    sandbox = sandbox_of(request)
    if (refused := refuse_unauthenticated(sandbox, request)) is not None:
        return refused
    params = request.query_params
    try:
        page = int(params.get("page", 1))
        per_page = int(params.get("itemsPerPage", 10))
    except ValueError:
        return api_error(400, "page and itemsPerPage must be integers", request=request)
    if page < 1 or not 1 <= per_page <= 100:
        return api_error(400, "page starts at 1 and itemsPerPage is 1..100", request=request)
    now = sandbox.now_ns()
    orders = [_order_view(sandbox, o, now) for o in sandbox.state.all(DATA_ORDERS)]
    if status := params.get("status"):
        orders = [o for o in orders if o["status"] == status]
    if kind := params.get("kind"):
        orders = [o for o in orders if o["kind"] == kind]
    if reference := params.get("customerRef"):
        orders = [o for o in orders if o.get("customerRef") == reference]
    orders.sort(key=lambda o: o["createdAt"], reverse=True)
    start = (page - 1) * per_page
    return json_response(
        {
            "startIndex": start,
            "totalResults": len(orders),
            "itemsPerPage": per_page,
            "items": orders[start : start + per_page],
        }
    )


async def get_order(request: Request) -> Response:
    sandbox = sandbox_of(request)
    if (refused := refuse_unauthenticated(sandbox, request)) is not None:
        return refused
    order = sandbox.state.get(DATA_ORDERS, request.path_params["order_id"])
    if order is None:
        return api_error(404, "Order not found", request=request)
    return json_response(_order_view(sandbox, order, sandbox.now_ns()))


def _delivered(sandbox: Sandbox, item_id: str, now_ns: int) -> dict[str, Any] | None:
    """The stored product behind a workspace item id, if it has been delivered by now."""
    for collection in (DATA_ORDERS, SALES_ORDERS):
        for order in sandbox.state.all(collection):
            if now_ns < order["delivery_ns"] + sandbox.world.delay_ns:
                continue
            for product in order["products"]:
                if product["delivered_item_id"] == item_id:
                    return product
    return None


async def download(request: Request) -> Response:
    sandbox = sandbox_of(request)
    if (refused := refuse_unauthenticated(sandbox, request)) is not None:
        return refused
    product = _delivered(sandbox, request.path_params["item_id"], sandbox.now_ns())
    if product is None:
        return api_error(403, "permission denied: the item is not in your workspace", request=request)
    store = product_store(sandbox)
    path = store.archive(product["delivered_item_id"], product_members(product, sandbox.config.product_size_bytes))
    checksum = store.md5(path)
    fault = sandbox.faults.decide(("truncate", "corrupt"), "oneatlas.data") if request.method == "GET" else None
    return file_response(
        request,
        path,
        media_type="application/zip",
        headers={
            "X-Ads-Checksum-Method": "md5",
            "X-Ads-Checksum-Value": checksum,
            "Content-Disposition": f'attachment; filename="{product["delivered_item_id"]}.zip"',
        },
        fault=fault.kind if fault else None,
    )


def routes() -> list[Route]:
    return [
        Route("/api/v1/me", me, methods=["GET"]),
        Route("/api/v1/contracts/{contract_id}", contract, methods=["GET"]),
        Route("/api/v1/contracts/{contract_id}/subscriptions", subscriptions, methods=["GET"]),
        Route("/api/v1/prices", prices, methods=["POST"]),
        Route("/api/v1/orders", create_order, methods=["POST"]),
        Route("/api/v1/orders", list_orders, methods=["GET"]),
        Route("/api/v1/orders/{order_id}", get_order, methods=["GET"]),
        Route("/api/v1/items/{item_id}/download", download, methods=["GET", "HEAD"]),
    ]
