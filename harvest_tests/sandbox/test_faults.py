"""Injected faults: each kind, its scope, and the determinism that makes fault tests repeatable."""

from __future__ import annotations

import hashlib
import time

import httpx
import pytest

from harvest.sandbox.faults import FaultPlan, FaultSpecError, parse_faults
from harvest_tests.conftest import advance
from harvest_tests.sandbox.oneatlas_session import OneAtlasSession
from harvest_tests.sandbox.test_oneatlas_orders import data_order_body, sensor_item


def test_parse_rules_params_scopes_and_presets() -> None:
    rules = parse_faults("429=0.1:2s@oneatlas.search, reset=0.02, slow=0.5:250ms, token_expiry=1:0.2")
    assert [(r.kind, r.rate, r.param, r.scope) for r in rules] == [
        ("429", 0.1, 2.0, "oneatlas.search"),
        ("reset", 0.02, None, None),
        ("slow", 0.5, 0.25, None),
        ("token_expiry", 1.0, 0.2, None),
    ]
    assert parse_faults("default") and parse_faults("none") == () and parse_faults("") == ()


@pytest.mark.parametrize("bad", ["teapot=0.1", "429", "429=2", "429=x", "slow=0.1:soon", "token_expiry=1:3"])
def test_bad_fault_specs_are_refused_with_a_reason(bad: str) -> None:
    with pytest.raises(FaultSpecError, match=r"\w"):
        parse_faults(bad)


def test_decisions_are_deterministic_per_seed_and_scoped() -> None:
    rules = parse_faults("500=0.3@oneatlas")
    plan_a, plan_b, plan_c = FaultPlan(3, rules), FaultPlan(3, rules), FaultPlan(4, rules)
    seq_a = [plan_a.decide(("500",), "oneatlas.search") is not None for _ in range(200)]
    seq_b = [plan_b.decide(("500",), "oneatlas.search") is not None for _ in range(200)]
    seq_c = [plan_c.decide(("500",), "oneatlas.search") is not None for _ in range(200)]
    assert seq_a == seq_b != seq_c
    assert 30 < sum(seq_a) < 90
    assert all(plan_a.decide(("500",), "arlula") is None for _ in range(50))  # out of scope


def test_429_carries_retry_after_seconds_and_an_api_error(make_sandbox) -> None:
    sandbox = make_sandbox()
    session = OneAtlasSession(sandbox)
    httpx.post(f"{sandbox.url}/_sandbox/faults", json={"spec": "429=1:3s@oneatlas.search"})
    response = session.search(itemsPerPage=1)
    assert response.status_code == 429 and response.headers["retry-after"] == "3"
    assert response.json()["internalCode"] == 429
    assert session.client.get("/oneatlas/data/api/v1/me").status_code == 200  # another host, out of scope


def test_server_errors_use_each_hosts_error_body(make_sandbox) -> None:
    sandbox = make_sandbox(faults="5xx=1@oneatlas.search,503=1@oneatlas.order")
    session = OneAtlasSession(sandbox)
    statuses = [session.search(itemsPerPage=1).status_code for _ in range(6)]
    assert sorted(set(statuses)) == [500, 502, 503]
    assert session.client.get("/oneatlas/order/api/v1/contracts").json() == {"code": "UNEXPECTED_SERVER_ERROR"}


def test_reset_drops_the_connection_mid_body(make_sandbox) -> None:
    sandbox = make_sandbox(faults="reset=1@oneatlas.search")
    session = OneAtlasSession(sandbox)
    with pytest.raises(httpx.RemoteProtocolError):
        session.search(itemsPerPage=50)


def test_slow_responses(make_sandbox) -> None:
    sandbox = make_sandbox(faults="slow=1:300ms@oneatlas.data")
    session = OneAtlasSession(sandbox)
    started = time.monotonic()
    assert session.client.get("/oneatlas/data/api/v1/me").status_code == 200
    assert time.monotonic() - started >= 0.3


def test_tokens_can_die_before_their_advertised_expiry(make_sandbox) -> None:
    sandbox = make_sandbox(faults="token_expiry=1:0.1")
    session = OneAtlasSession(sandbox)  # advertised 3600 s, really 360 s
    advance(sandbox, 359)
    assert session.search(itemsPerPage=1).status_code == 200
    advance(sandbox, 2)
    assert session.search(itemsPerPage=1).status_code == 401


def _delivered_download(sandbox) -> tuple[OneAtlasSession, str]:
    session = OneAtlasSession(sandbox)
    item = sensor_item(session)
    order_id = session.client.post(
        "/oneatlas/data/api/v1/orders", json=data_order_body(item["properties"]["id"])
    ).json()["id"]
    advance(sandbox, 130)
    order = session.client.get(f"/oneatlas/data/api/v1/orders/{order_id}").json()
    return session, order["deliveries"][0]["_links"]["download"]["href"]


def test_truncated_and_corrupted_downloads(make_sandbox) -> None:
    sandbox = make_sandbox()
    session, href = _delivered_download(sandbox)
    httpx.post(f"{sandbox.url}/_sandbox/faults", json={"spec": "truncate=1@oneatlas.data"})
    with pytest.raises(httpx.RemoteProtocolError):
        session.client.get(href)
    httpx.post(f"{sandbox.url}/_sandbox/faults", json={"spec": "corrupt=1@oneatlas.data"})
    damaged = session.client.get(href)
    assert damaged.status_code == 200
    assert hashlib.md5(damaged.content).hexdigest() != damaged.headers["x-ads-checksum-value"]
    httpx.post(f"{sandbox.url}/_sandbox/faults", json={"spec": ""})
    intact = session.client.get(href)
    assert hashlib.md5(intact.content).hexdigest() == intact.headers["x-ads-checksum-value"]
    injected = httpx.get(f"{sandbox.url}/_sandbox/faults").json()
    assert injected["rules"] == []


def test_order_timeout_creates_the_order_but_the_caller_times_out(make_sandbox) -> None:
    sandbox = make_sandbox(faults="order_timeout=1:1s@oneatlas.data")
    session = OneAtlasSession(sandbox, timeout=0.3)
    item = sensor_item(session)
    with pytest.raises(httpx.ReadTimeout):
        session.client.post("/oneatlas/data/api/v1/orders", json=data_order_body(item["properties"]["id"], "once"))
    orders = session.client.get("/oneatlas/data/api/v1/orders", params={"customerRef": "once"}).json()
    assert orders["totalResults"] == 1  # a blind retry would now buy the scene twice
