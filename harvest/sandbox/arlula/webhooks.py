"""Completion webhooks: one `archive.order.complete` POST per URL of an order, exactly once.

Runs as a sandbox background hook (every half second and after each clock change). Each attempt
is recorded in the state before it is sent, so neither concurrent runs nor restarts send twice;
unreachable receivers are recorded and not retried (docs/providers.md#arlula-webhooks).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

import httpx

from harvest.sandbox.arlula.orders import ORDERS, datasets_of, order_progress
from harvest.sandbox.arlula.representations import legacy_order_json, order_json
from harvest.sandbox.core import Sandbox
from harvest.timestamps import format_millis

WEBHOOKS = "arlula.webhooks"
EVENT = "archive.order.complete"
TIMEOUT_S = 2.0


def webhook_id(order_id: str, index: int) -> str:
    """The state id of the attempt for an order's index-th webhook URL."""
    return f"{order_id}:{index}"


def _payload(sandbox: Sandbox, order: dict[str, Any], now_ns: int) -> dict[str, Any]:
    if order.get("api") == "2020-12":
        return legacy_order_json(sandbox, datasets_of(sandbox, order)[0], now_ns, detailed=True)
    return order_json(sandbox, order, now_ns)


def _due(sandbox: Sandbox, now_ns: int, finished: set[str]) -> list[tuple[dict[str, Any], int]]:
    """(order, completion instant) of completed orders whose webhooks were not all attempted."""
    due = []
    for order in sandbox.state.all(ORDERS):
        if order["id"] in finished:
            continue
        if not order.get("webhooks"):
            finished.add(order["id"])
            continue
        progress = order_progress(datasets_of(sandbox, order), now_ns, order["created_ns"])
        if progress.completed_ns is not None:
            due.append((order, progress.completed_ns))
    return due


async def _send(sandbox: Sandbox, client: httpx.AsyncClient, record: dict[str, Any], body: dict[str, Any]) -> None:
    try:
        response = await client.post(record["url"], json=body)
        record["status"] = response.status_code
    except (httpx.HTTPError, httpx.InvalidURL) as exc:
        record["error"] = f"{type(exc).__name__}: {exc}"
    sandbox.state.put(WEBHOOKS, record["id"], record, record["attempted_ns"])


def deliverer(sandbox: Sandbox) -> Callable[[], Awaitable[None]]:
    """The background hook that delivers due webhooks."""
    lock = asyncio.Lock()
    finished: set[str] = set()

    async def deliver() -> None:
        """Send every webhook that became due; one run at a time."""
        async with lock:
            now = sandbox.now_ns()
            sends = []
            for order, completed_ns in _due(sandbox, now, finished):
                body = {
                    "event": EVENT,
                    "timestamp": format_millis(completed_ns),
                    "payload": _payload(sandbox, order, now),
                }
                for index, url in enumerate(order["webhooks"]):
                    record_id = webhook_id(order["id"], index)
                    if sandbox.state.get(WEBHOOKS, record_id) is not None:
                        continue
                    record = {
                        "id": record_id,
                        "order": order["id"],
                        "url": url,
                        "event": EVENT,
                        "attempted_ns": now,
                        "status": None,
                        "error": None,
                        "body": body,
                    }
                    sandbox.state.put(WEBHOOKS, record_id, record, now)  # recorded before it is sent
                    sends.append((record, body))
                finished.add(order["id"])
            if sends:
                async with httpx.AsyncClient(timeout=TIMEOUT_S) as client:
                    await asyncio.gather(*(_send(sandbox, client, record, body) for record, body in sends))

    return deliver
