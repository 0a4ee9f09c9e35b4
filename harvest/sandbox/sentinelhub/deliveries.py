"""Order deliveries: list and get, delivered files (Range, HEAD) and BYOC tiles.

See docs/providers.md#sentinel-hub-deliveries.
"""

from __future__ import annotations

from dataclasses import dataclass

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from harvest.sandbox.core import Sandbox, sandbox_of
from harvest.sandbox.http import file_response, json_response
from harvest.sandbox.sentinelhub import bundle
from harvest.sandbox.sentinelhub.auth import refuse_unauthenticated
from harvest.sandbox.sentinelhub.errors import PayloadError, bad_payload, boom
from harvest.sandbox.sentinelhub.ledger import (
    DeliveryRecord,
    OrderRecord,
    delivery_json,
    load_order,
    progress,
    tile_id,
)
from harvest.sandbox.sentinelhub.lifecycle import DELIVERY_STATUSES, DeliveryProgress
from harvest.sandbox.sentinelhub.paging import binding, decode_token, parse_count, view_links

DELIVERY_PAGE_MAX = 100


@dataclass(frozen=True)
class Located:
    """One delivery of one order, and where it stands now."""

    order: OrderRecord
    delivery: DeliveryRecord
    progress: DeliveryProgress


def locate_order(sandbox: Sandbox, request: Request) -> OrderRecord | Response:
    """The order named in the path (401 or 404 as a Response)."""
    if (refused := refuse_unauthenticated(sandbox, request)) is not None:
        return refused
    order = load_order(sandbox, request.path_params["order_id"])
    if order is None:
        return boom(404, f"Order {request.path_params['order_id']} not found")
    return order


def locate(sandbox: Sandbox, request: Request) -> Located | Response:
    """The delivery named in the path (401 or 404 as a Response)."""
    order = locate_order(sandbox, request)
    if isinstance(order, Response):
        return order
    wanted = request.path_params["delivery_id"]
    states = progress(sandbox, order, sandbox.now_ns())
    for delivery, state in zip(order["deliveries"], states, strict=True):
        if delivery["id"] == wanted:
            return Located(order, delivery, state)
    return boom(404, f"Delivery {wanted} not found in order {order['id']}")


def not_ready(located: Located) -> Response:
    """409 for file endpoints while the delivery's files are not there."""
    return boom(409, f"Delivery {located.delivery['id']} is {located.progress.status}; its files are not available")


async def list_deliveries(request: Request) -> Response:
    """GET /orders/{orderId}/deliveries?status=&count=&viewtoken=."""
    sandbox = sandbox_of(request)
    order = locate_order(sandbox, request)
    if isinstance(order, Response):
        return order
    params = request.query_params
    filters = {"status": params["status"]} if "status" in params else {}
    try:
        if filters.get("status") not in (None, *DELIVERY_STATUSES):
            raise PayloadError("status", f"must be one of {', '.join(DELIVERY_STATUSES)}")
        count = parse_count(params.get("count"), DELIVERY_PAGE_MAX)
        bound_to = binding({**filters, "order": order["id"]})
        offset = decode_token(params["viewtoken"], bound_to) if params.get("viewtoken") else 0
    except PayloadError as exc:
        return bad_payload(exc)
    states = progress(sandbox, order, sandbox.now_ns())
    shown = [
        delivery_json(delivery, state)
        for delivery, state in zip(order["deliveries"], states, strict=True)
        if "status" not in filters or state.status == filters["status"]
    ]
    url = sandbox.link(f"/sentinelhub/api/v1/dataimport/orders/{order['id']}/deliveries")
    links = view_links(url, filters, offset=offset, count=count, total=len(shown), bound_to=bound_to)
    return json_response({"data": shown[offset : offset + count], "links": links})


async def get_delivery(request: Request) -> Response:
    """GET /orders/{orderId}/deliveries/{deliveryId}."""
    located = locate(sandbox_of(request), request)
    if isinstance(located, Response):
        return located
    return json_response(delivery_json(located.delivery, located.progress))


async def list_files(request: Request) -> Response:
    """GET .../deliveries/{deliveryId}/files: relative paths, 409 until Airbus has delivered."""
    sandbox = sandbox_of(request)
    located = locate(sandbox, request)
    if isinstance(located, Response):
        return located
    if not located.progress.files_ready:
        return not_ready(located)
    return json_response([member.name for member in bundle.members(sandbox, located.delivery)])


async def get_file(request: Request) -> Response:
    """GET or HEAD .../files/{file}: the bytes, with single-range support."""
    sandbox = sandbox_of(request)
    located = locate(sandbox, request)
    if isinstance(located, Response):
        return located
    if not located.progress.files_ready:
        return not_ready(located)
    path = bundle.file_path(sandbox, located.delivery, request.path_params["file"])
    if path is None:
        return boom(404, f"File {request.path_params['file']} not found in delivery {located.delivery['id']}")
    fault = None if request.method == "HEAD" else sandbox.faults.decide(("truncate", "corrupt"), "sentinelhub.tpdi")
    return file_response(
        request, path, media_type="application/octet-stream", fault=fault.kind if fault is not None else None
    )


def _tiles(located: Located) -> list[dict[str, str]]:
    status = located.progress.tile_status
    if status is None:
        return []
    return [{"id": tile_id(located.delivery["id"]), "deliveryId": located.delivery["id"], "status": status}]


async def list_tiles(request: Request) -> Response:
    """GET .../deliveries/{deliveryId}/tiles: the BYOC tiles ingestion made (one per delivery here)."""
    located = locate(sandbox_of(request), request)
    if isinstance(located, Response):
        return located
    return json_response({"data": _tiles(located)})


async def get_tile(request: Request) -> Response:
    """GET .../deliveries/{deliveryId}/tiles/{tileId}."""
    located = locate(sandbox_of(request), request)
    if isinstance(located, Response):
        return located
    for tile in _tiles(located):
        if tile["id"] == request.path_params["tile_id"]:
            return json_response(tile)
    return boom(404, f"Tile {request.path_params['tile_id']} not found")


def routes() -> list[BaseRoute]:
    """Delivery routes, relative to /api/v1/dataimport."""
    base = "/orders/{order_id}/deliveries"
    return [
        Route(base, list_deliveries, methods=["GET"]),
        Route(base + "/{delivery_id}", get_delivery, methods=["GET"]),
        Route(base + "/{delivery_id}/files", list_files, methods=["GET"]),
        Route(base + "/{delivery_id}/files/{file:path}", get_file, methods=["GET", "HEAD"]),
        Route(base + "/{delivery_id}/tiles", list_tiles, methods=["GET"]),
        Route(base + "/{delivery_id}/tiles/{tile_id}", get_tile, methods=["GET"]),
    ]
