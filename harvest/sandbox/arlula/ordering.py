"""Placing orders: `POST /api/archive/order`, `/api/archive/order/batch` and the seed's `/api/order/new`.

Every success is 200 (the SDKs treat anything else as an error). An injected `order_timeout`
creates and persists the order, then withholds the response: a client that times out must find
its order afterwards instead of buying the scene twice.
"""

from __future__ import annotations

import asyncio
from typing import Any
from urllib.parse import urlsplit

import numpy as np
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from harvest.sandbox.arlula.auth import authenticated
from harvest.sandbox.arlula.catalog import ordering_codec
from harvest.sandbox.arlula.errors import error
from harvest.sandbox.arlula.ordering_ids import OrderingGrant
from harvest.sandbox.arlula.orders import Purchase, create_order, datasets_of
from harvest.sandbox.arlula.representations import legacy_order_json, order_json
from harvest.sandbox.arlula.scenes import Scene, scene_of_key
from harvest.sandbox.arlula.suppliers import (
    License,
    bundle_price,
    seat_license,
    seat_pricing,
    total_price,
)
from harvest.sandbox.core import Sandbox, sandbox_of
from harvest.sandbox.http import json_response, read_json


class OrderRejected(ValueError):
    """An order request the API refuses (HTTP 400)."""


def _not_web_address(text: str) -> bool:
    try:
        parts = urlsplit(text)
    except ValueError:
        return True
    return parts.scheme not in ("http", "https") or not parts.hostname


def _strings(value: object, name: str, *, urls: bool = False) -> list[str]:
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise OrderRejected(f"{name} must be a list of strings")
    if urls and any(_not_web_address(v) for v in value):
        raise OrderRejected(f"{name} must be http or https addresses")
    return list(value)


def _optional_text(value: object, name: str) -> str | None:
    if value is None or isinstance(value, str):
        return value
    raise OrderRejected(f"{name} must be a string")


def _scene(sandbox: Sandbox, token: object) -> tuple[Scene, OrderingGrant]:
    grant = ordering_codec(sandbox).decode(token)
    if grant is None:
        raise OrderRejected("unknown or invalid orderingID: use an id from a search result, unchanged")
    now = sandbox.now_ns()
    scene = scene_of_key(sandbox.world, grant.scene_key)
    view = sandbox.world.arlula
    if scene is None or not bool(view.state(now).visible[view.position(np.array([scene.row]))][0]):
        raise OrderRejected("this imagery is no longer available for ordering")
    return scene, grant


def _path(url: str) -> str | None:
    try:
        return urlsplit(url).path.rstrip("/")
    except ValueError:
        return None


def _license(sandbox: Sandbox, scene: Scene, eula: object) -> License:
    """The license whose href the order's `eula` names (compared by path: the host is the sandbox's)."""
    wanted = _path(eula) if isinstance(eula, str) and eula else None
    if wanted is not None:
        for lic in scene.supplier.licenses:
            if urlsplit(sandbox.link(lic.path(scene.supplier.key))).path == wanted:
                return lic
    hrefs = ", ".join(sandbox.link(lic.path(scene.supplier.key)) for lic in scene.supplier.licenses)
    raise OrderRejected(f"eula must be the href of one of the result's licenses: {hrefs}")


def purchase(sandbox: Sandbox, item: object) -> Purchase:
    """Validate one `{id, eula, bundleKey}` line of a 2024-07 order."""
    if not isinstance(item, dict):
        raise OrderRejected("an order must be a JSON object {id, eula, bundleKey}")
    scene, grant = _scene(sandbox, item.get("id"))
    bundle = scene.supplier.bundle(str(item.get("bundleKey", "")))
    if bundle is None:
        keys = ", ".join(b.key for b in scene.supplier.bundles)
        raise OrderRejected(f"bundleKey must be one of the result's bundles: {keys}")
    license_ = _license(sandbox, scene, item.get("eula"))
    cents = bundle_price(scene.constellation, bundle, grant.area_km2)
    return Purchase(scene, grant, item["id"], bundle, license_, item["eula"], total_price(cents, license_))


def legacy_purchase(sandbox: Sandbox, body: dict[str, Any]) -> Purchase:
    """Validate a 2020-12 `{id, eula, seats}` order: the default bundle, seats pick the license."""
    scene, grant = _scene(sandbox, body.get("id"))
    supplier = scene.supplier
    standard = sandbox.link(supplier.licenses[0].path(supplier.key))
    if body.get("eula") != standard:
        raise OrderRejected(f"eula must be the result's eula: {standard}")
    seats = body.get("seats", 1)
    if isinstance(seats, bool) or not isinstance(seats, int) or seats < 1:
        raise OrderRejected("seats must be a positive integer")
    bundle = supplier.bundles[0]
    base, ranges = seat_pricing(supplier, bundle_price(scene.constellation, bundle, grant.area_km2))
    extra = next((r["additional"] for r in ranges if r["min"] <= seats and (r["max"] == 0 or seats <= r["max"])), 0)
    license_ = seat_license(supplier, seats)
    return Purchase(scene, grant, body["id"], bundle, license_, standard, base + extra, seats)


async def _place(request: Request, lines: list[Purchase], body: dict[str, Any], api: str) -> dict[str, Any]:
    sandbox = sandbox_of(request)
    webhooks = _strings(body.get("webhooks"), "webhooks", urls=True)
    emails = _strings(body.get("emails"), "emails")
    team = _optional_text(body.get("team"), "team")
    payment = _optional_text(body.get("payment"), "payment")
    stall = sandbox.faults.decide(("order_timeout",), "arlula")
    order = create_order(sandbox, lines, webhooks=webhooks, emails=emails, team=team, payment=payment, api=api)
    if stall is not None:
        await asyncio.sleep(stall.param if stall.param is not None else 30.0)
    return order


async def _body(request: Request) -> dict[str, Any]:
    try:
        body = await read_json(request)
    except ValueError as exc:
        raise OrderRejected("the request body is not valid JSON") from exc
    if not isinstance(body, dict):
        raise OrderRejected("the request body must be a JSON object")
    return body


@authenticated
async def archive_order(request: Request) -> Response:
    """`POST /api/archive/order {id, eula, bundleKey, webhooks, emails, team, payment}` -> Order."""
    sandbox = sandbox_of(request)
    try:
        body = await _body(request)
        order = await _place(request, [purchase(sandbox, body)], body, "2024-07")
    except OrderRejected as exc:
        return error(400, str(exc))
    return json_response(order_json(sandbox, order, sandbox.now_ns()))


@authenticated
async def archive_order_batch(request: Request) -> Response:
    """`POST /api/archive/order/batch {orders: [{id, eula, bundleKey}, ...], ...}` -> one Order."""
    sandbox = sandbox_of(request)
    try:
        body = await _body(request)
        items = body.get("orders")
        if not isinstance(items, list) or not items:
            raise OrderRejected("orders must be a non-empty list of {id, eula, bundleKey}")
        lines = []
        for index, item in enumerate(items):
            try:
                lines.append(purchase(sandbox, item))
            except OrderRejected as exc:
                raise OrderRejected(f"orders[{index}]: {exc}") from exc
        order = await _place(request, lines, body, "2024-07")
    except OrderRejected as exc:
        return error(400, str(exc))
    return json_response(order_json(sandbox, order, sandbox.now_ns()))


@authenticated
async def legacy_order_new(request: Request) -> Response:
    """`POST /api/order/new {id, eula, seats, webhooks, emails}` (2020-12) -> Detailed Order."""
    sandbox = sandbox_of(request)
    try:
        body = await _body(request)
        order = await _place(request, [legacy_purchase(sandbox, body)], body, "2020-12")
    except OrderRejected as exc:
        return error(400, str(exc))
    dataset = datasets_of(sandbox, order)[0]
    return json_response(legacy_order_json(sandbox, dataset, sandbox.now_ns(), detailed=True))


def routes() -> list[Route]:
    """The ordering routes, relative to the API mount."""
    return [
        Route("/api/archive/order", archive_order, methods=["POST"]),
        Route("/api/archive/order/batch", archive_order_batch, methods=["POST"]),
        Route("/api/order/new", legacy_order_new, methods=["POST"]),
    ]
