"""A restarted sandbox loses nothing: orders, balances, delivered files and a frozen clock's progress."""

from __future__ import annotations

import hashlib
from pathlib import Path

from harvest.sandbox.server import running
from harvest_tests.conftest import advance, sandbox_config
from harvest_tests.sandbox.oneatlas_session import OneAtlasSession
from harvest_tests.sandbox.test_oneatlas_orders import data_order_body, sales_order_body, sensor_item


def test_orders_balances_files_and_clock_survive_a_restart(tmp_path: Path) -> None:
    config = sandbox_config(tmp_path / "state")
    with running(config) as first:
        session = OneAtlasSession(first)
        item = sensor_item(session)
        order_id = session.client.post(
            "/oneatlas/data/api/v1/orders", json=data_order_body(item["properties"]["id"])
        ).json()["id"]
        sales = session.client.post("/oneatlas/order/api/v1/orders", json=sales_order_body(item)).json()["salesOrderId"]
        advance(first, 130)
        href = session.client.get(f"/oneatlas/data/api/v1/orders/{order_id}").json()["deliveries"][0]["_links"][
            "download"
        ]["href"]
        before = session.client.get(href)
        balance = session.client.get("/oneatlas/data/api/v1/me").json()["contract"]["balance"]
        clock = first.sandbox.clock.now_ns()

    with running(config) as second:
        assert second.sandbox.clock.now_ns() == clock  # the frozen clock resumes where it was moved to
        session = OneAtlasSession(second)
        order = session.client.get(f"/oneatlas/data/api/v1/orders/{order_id}").json()
        assert order["status"] == "delivered"
        assert session.client.get("/oneatlas/data/api/v1/me").json()["contract"]["balance"] == balance
        assert session.search_ok(workspace="sandbox-workspace", internalReference=sales)["totalResults"] == 1
        href = order["deliveries"][0]["_links"]["download"]["href"]
        after = session.client.get(href)
        assert hashlib.md5(after.content).hexdigest() == hashlib.md5(before.content).hexdigest()
        next_sales = session.client.post("/oneatlas/order/api/v1/orders", json=sales_order_body(item)).json()
        assert next_sales["salesOrderId"] != sales  # the SAL sequence carries on
