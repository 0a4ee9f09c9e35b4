"""OneAtlas order.api (pay-per-order): contracts, product types, options, prices, SAL orders, tracking."""

from __future__ import annotations

import asyncio
import re
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from harvest.sandbox.core import Sandbox, sandbox_of
from harvest.sandbox.http import json_response, read_json
from harvest.sandbox.oneatlas.auth import refuse_unauthenticated
from harvest.sandbox.oneatlas.errors import order_api_error
from harvest.sandbox.oneatlas.ordering import (
    EUR_PER_KM2,
    OrderRefused,
    delivered_product,
    delivery_ns,
    orderable_item,
    ordered_area_km2,
    parse_aoi,
)
from harvest.sandbox.oneatlas.workspace import SALES_ORDERS, private_workspace_id
from harvest.timestamps import format_seconds

LEGACY_CONTRACT = "CTR-SANDBOX-LEGACY"
NEO_CONTRACT = "CTR-SANDBOX-NEO"
CUSTOMER_ID = "AC0000042"

# archive product types: which constellation each one sells and its minimum order area (km²)
PRODUCT_TYPES: dict[str, tuple[str, str, float]] = {
    "PleiadesArchiveMono": ("PHR", LEGACY_CONTRACT, 25.0),
    "SpotArchiveMono": ("SPOT", LEGACY_CONTRACT, 100.0),
    "PleiadesNeoArchiveMono": ("PNEO", NEO_CONTRACT, 25.0),
}
OPTIONS: dict[str, tuple[str, ...]] = {
    "spectral_processing": ("bundle", "pansharpened", "pansharpened_natural_color", "pansharpened_false_color",
                            "panchromatic", "multispectral", "full_bundle", "full_pms", "full_ms"),
    "radiometric_processing": ("basic", "reflectance", "display"),
    "image_format": ("dimap_jpeg2000_optimized", "dimap_jpeg2000_regular", "dimap_geotiff"),
    "pixel_coding": ("8bits", "12bits"),
    "processing_level": ("ortho", "projected", "primary"),
    "priority": ("standard", "rush"),
    "licence": ("standard", "background_layer", "stand_background_layer"),
    "delivery_method": ("on_the_flow", "at_the_end"),
}  # fmt: skip
REQUIRED = ("contractId", "aoi", "items", "customerReference", "optionsPerProductType", "endUsers", "primaryMarket")


def _credit_remaining(sandbox: Sandbox) -> float:
    spent = sum(float(o["totalAmount"]) for o in sandbox.state.all(SALES_ORDERS))
    return round(sandbox.config.oneatlas_credit_eur - spent, 2)


async def contracts(request: Request) -> Response:
    sandbox = sandbox_of(request)
    if (refused := refuse_unauthenticated(sandbox, request, order_api=True)) is not None:
        return refused
    workspace = private_workspace_id(sandbox.config.seed)
    credit = f"{_credit_remaining(sandbox):.1f}"
    return json_response(
        {
            "contracts": [
                {
                    "contractId": contract,
                    "customerId": CUSTOMER_ID,
                    "name": name,
                    "tradeAgreementUrl": "https://www.intelligence-airbusds.com/cgf/",
                    "creditRemaining": credit,
                    "currency": "EUR",
                    "language": "en",
                    "contractType": "ONEATLASDATA",
                    "delivery": [{"deliveryPlatformId": "PublicMOC", "deliveryWorkspace": workspace}],
                    "backendSource": backend,
                }
                for contract, name, backend in (
                    (LEGACY_CONTRACT, "Sandbox SPOT & Pleiades", "legacy"),
                    (NEO_CONTRACT, "Sandbox Pleiades Neo", "neo"),
                )
            ]
        }
    )


def _known_contract(contract: str) -> Response | None:
    if contract not in (LEGACY_CONTRACT, NEO_CONTRACT):
        return order_api_error(404, f"CIS contract '{contract}' not found.")
    return None


async def product_types(request: Request) -> Response:
    sandbox = sandbox_of(request)
    if (refused := refuse_unauthenticated(sandbox, request, order_api=True)) is not None:
        return refused
    contract = request.path_params["contract_id"]
    if (missing := _known_contract(contract)) is not None:
        return missing
    labels = {"PHR": ("pleiades", "Pléiades"), "SPOT": ("spot", "SPOT"), "PNEO": ("pleiadesneo", "Pléiades Neo")}
    types = [
        {
            "productTypeId": type_id,
            "technicalProduct": {
                "id": type_id,
                "label": f"{labels[const][1]} Archive Mono",
                "source": {"id": "archive", "label": "Archive"},
                "sensor": {"id": labels[const][0], "label": labels[const][1]},
                "target": {"id": "mono", "label": "Mono"},
                "licences": None,
            },
            "minimumOrderAreaApplied": minimum,
            "descriptionUrl": "https://www.intelligence-airbusds.com/",
        }
        for type_id, (const, owner, minimum) in PRODUCT_TYPES.items()
        if owner == contract
    ]
    return json_response({"productTypes": types})


async def options(request: Request) -> Response:
    sandbox = sandbox_of(request)
    if (refused := refuse_unauthenticated(sandbox, request, order_api=True)) is not None:
        return refused
    if (missing := _known_contract(request.path_params["contract_id"])) is not None:
        return missing
    type_id = request.path_params["product_type_id"]
    if type_id not in PRODUCT_TYPES:
        return order_api_error(404, f"Product type '{type_id}' not found.")
    return json_response(
        {
            "productTypeId": type_id,
            "options": [
                {"key": key, "values": [{"value": v, "label": v.replace("_", " ")} for v in values], "mandatory": True}
                for key, values in OPTIONS.items()
            ],
        }
    )


def _quote(
    sandbox: Sandbox, body: Any, now_ns: int
) -> tuple[dict[str, Any], list[tuple[Any, Any, str, dict[str, str]]]]:
    """Validate a prices/orders body and price it; return the price response and the ordered items."""
    if not isinstance(body, dict):
        raise OrderRefused("The body must be a JSON object")
    missing = [name for name in REQUIRED if name not in body]
    if missing:
        raise OrderRefused(f"Missing mandatory field(s): {', '.join(missing)}")
    contract = str(body["contractId"])
    if contract not in (LEGACY_CONTRACT, NEO_CONTRACT):
        raise OrderRefused(f"CIS contract '{contract}' not found.", status=404)
    aois = {a.get("id"): a for a in body["aoi"] if isinstance(a, dict)}
    options_by_type = {
        o.get("productTypeId"): {opt["key"]: opt["value"] for opt in o.get("options", [])}
        for o in body["optionsPerProductType"]
        if isinstance(o, dict)
    }
    if not isinstance(body["items"], list) or not body["items"]:
        raise OrderRefused("items must be a non-empty list")
    per_type: dict[str, dict[str, Any]] = {}
    ordered = []
    for entry in body["items"]:
        type_id = entry.get("productTypeId")
        if type_id not in PRODUCT_TYPES:
            raise OrderRefused(f"Unknown productTypeId '{type_id}'")
        constellation, owner, minimum = PRODUCT_TYPES[type_id]
        if owner != contract:
            raise OrderRefused(f"Product type '{type_id}' is not available on contract '{contract}'")
        if constellation != "PNEO" and not body.get("notificationEmails"):
            raise OrderRefused("notificationEmails is mandatory for SPOT and Pléiades orders")
        chosen = options_by_type.get(type_id, {})
        for key, value in chosen.items():
            if key in OPTIONS and value not in OPTIONS[key]:
                raise OrderRefused(f"Option {key}={value!r} is not one of {', '.join(OPTIONS[key])}")
        sources = entry.get("dataSourceIds") or []
        if len(sources) != 1 or sources[0].get("catalogId") != "PublicMOC":
            raise OrderRefused("each item needs exactly one dataSourceIds entry with catalogId PublicMOC")
        item = orderable_item(sandbox, str(sources[0].get("catalogItemId", "")), now_ns)
        if item.constellation != constellation:
            raise OrderRefused(f"Item '{item.item_id}' is {item.constellation}; {type_id} sells {constellation}")
        strips = entry.get("datastripIds") or []
        if strips and strips != [item.archive_identifier]:
            raise OrderRefused(f"datastripIds must be ['{item.archive_identifier}'] for item '{item.item_id}'")
        aoi_entry = aois.get(entry.get("aoiId"))
        if aoi_entry is None:
            raise OrderRefused(f"aoiId {entry.get('aoiId')!r} does not match any aoi id")
        aoi = parse_aoi(aoi_entry.get("geometry"))
        area = max(ordered_area_km2(sandbox, item, aoi), minimum)
        amount = round(area * EUR_PER_KM2[constellation], 2)
        bucket = per_type.setdefault(
            type_id,
            {"productTypeId": type_id, "amount": 0.0, "areaKm2": 0.0, "price": 0.0, "discountPercentage": 0,
             "discountValue": 0, "items": [], "voucherCode": None},
        )  # fmt: skip
        bucket["amount"] = round(bucket["amount"] + amount, 2)
        bucket["price"] = bucket["amount"]
        bucket["areaKm2"] = round(bucket["areaKm2"] + area, 2)
        bucket["items"].append({"datastripIds": [item.archive_identifier]})
        ordered.append((item, aoi, type_id, chosen))
    total = round(sum(b["amount"] for b in per_type.values()), 2)
    quote = {
        "contractId": contract,
        "currency": "EUR",
        "discountPercentage": 0,
        "discountValue": 0,
        "totalAmount": total,
        "productTypes": list(per_type.values()),
    }
    return quote, ordered


async def prices(request: Request) -> Response:
    sandbox = sandbox_of(request)
    if (refused := refuse_unauthenticated(sandbox, request, order_api=True)) is not None:
        return refused
    try:
        quote, _ = _quote(sandbox, await read_json(request), sandbox.now_ns())
    except ValueError as exc:
        return order_api_error(getattr(exc, "status", 400), str(exc))
    return json_response(quote, 201)


async def create_order(request: Request) -> Response:
    sandbox = sandbox_of(request)
    if (refused := refuse_unauthenticated(sandbox, request, order_api=True)) is not None:
        return refused
    now = sandbox.now_ns()
    try:
        body = await read_json(request)
        quote, ordered = _quote(sandbox, body, now)
    except ValueError as exc:
        return order_api_error(getattr(exc, "status", 400), str(exc))
    remaining = _credit_remaining(sandbox)
    if quote["totalAmount"] > remaining:
        return order_api_error(
            400, f"Insufficient credit: the order costs {quote['totalAmount']} EUR, {remaining} EUR remain"
        )
    sales_order = f"SAL{sandbox.state.next_counter('oneatlas.sal', start=22000001):08d}"
    reference = str(body["customerReference"])
    level = {"ortho": "ORTHO", "projected": "ORTHO", "primary": "SENSOR"}
    spectral = {"pansharpened_natural_color": "pansharpened", "pansharpened_false_color": "pansharpened",
                "full_bundle": "bundle", "full_pms": "pansharpened", "full_ms": "multispectral"}  # fmt: skip
    order = {
        "salesOrderId": sales_order,
        "contractId": body["contractId"],
        "customerReference": reference,
        "currency": "EUR",
        "totalAmount": quote["totalAmount"],
        "created_ns": now,
        "delivery_ns": delivery_ns(sandbox, now),
        "productTypes": sorted({type_id for _, _, type_id, _ in ordered}),
        "products": [
            delivered_product(
                sales_order,
                index,
                item,
                aoi,
                product_type=spectral.get(
                    opts.get("spectral_processing", "bundle"), opts.get("spectral_processing", "bundle")
                ),
                processing_level=level.get(opts.get("processing_level", "primary"), "SENSOR"),
                workspace_properties={
                    "commercialReference": f"{int(sales_order[3:]):09d}",
                    "contractId": body["contractId"],
                    "customerReference": reference,
                    "internalLine": f"{index + 1}_1",
                    "internalReference": sales_order,
                },
            )
            for index, (item, aoi, _, opts) in enumerate(ordered)
        ],
    }
    sandbox.state.put(SALES_ORDERS, sales_order, order, now)
    fault = sandbox.faults.decide(("order_timeout",), "oneatlas.order")
    if fault is not None:
        await asyncio.sleep(fault.param or 0.0)  # the order exists; the caller hears nothing in time
    return json_response(
        {
            "salesOrderId": sales_order,
            "currency": "EUR",
            "discountPercentage": 0.0,
            "discountValue": 0.0,
            "totalAmount": quote["totalAmount"],
        },
        201,
    )


_TERM = re.compile(r"\(?\s*(\w+)\s*:\s*([^)\s]+)\s*\)?")


def _matches(criteria: str, fields: dict[str, str]) -> bool:
    """Lucene-like `(status:IN_PROGRESS) AND (customerReference:*ref*)`; OR of AND groups."""
    for alternative in criteria.split(" OR "):
        terms = _TERM.findall(alternative)
        if all(re.fullmatch(re.escape(v).replace(r"\*", ".*"), fields.get(k, "")) for k, v in terms):
            return True
    return not criteria.strip()


async def search_orders(request: Request) -> Response:
    """PNEO order tracking (the docs: "only available for Pléiades Neo")."""
    sandbox = sandbox_of(request)
    if (refused := refuse_unauthenticated(sandbox, request, order_api=True)) is not None:
        return refused
    body = await read_json(request) or {}
    paging = body.get("paging") or {}
    per_page = int(paging.get("itemsPerPage", 25))
    start = int(paging.get("startIndex", 0))
    criteria = str((body.get("criteria") or {}).get("q", ""))
    now = sandbox.now_ns()
    features = []
    for order in sandbox.state.all(SALES_ORDERS):
        if order["contractId"] != NEO_CONTRACT:
            continue
        delivered = now >= order["delivery_ns"] + sandbox.world.delay_ns
        for index, product in enumerate(order["products"]):
            fields = {
                "orderItemId": f"WOI_{int(order['salesOrderId'][3:]):09d}_{index + 1}",
                "salesOrderId": order["salesOrderId"],
                "status": "DELIVERED" if delivered else "IN_PROGRESS",
                "contractId": order["contractId"],
                "customerReference": order["customerReference"],
                "productType": product.get("product_type", ""),
            }
            if _matches(criteria, fields):
                changed = order["delivery_ns"] if delivered else order["created_ns"]
                features.append({**fields, "lastStatusChangeDate": format_seconds(changed)})
    page = features[start : start + per_page]
    return json_response(
        {
            "paging": {
                "itemsPerPage": per_page,
                "startIndex": start,
                "pagingMode": "item",
                "totalResults": len(features),
            },
            "features": page,
        }
    )


def routes() -> list[Route]:
    return [
        Route("/api/v1/contracts", contracts, methods=["GET"]),
        Route("/api/v1/contracts/{contract_id}/productTypes", product_types, methods=["GET"]),
        Route("/api/v1/contracts/{contract_id}/productTypes/{product_type_id}/options", options, methods=["POST"]),
        Route("/api/v1/prices", prices, methods=["POST"]),
        Route("/api/v1/orders", create_order, methods=["POST"]),
        Route("/api/v2/orders/search", search_orders, methods=["POST"]),
    ]
