"""The ledger's order life on SQLite and PostgreSQL: quotes, decisions, placement, status, delivery, landing."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from decimal import Decimal

import pytest

from harvest.delivery.deliverable import Deliverable
from harvest.ordering.ledger import (
    AlreadyOrdered,
    Budgets,
    InvalidTransition,
    Ledger,
    LedgerError,
    OrderState,
    StoredFile,
    UnknownOrder,
)
from harvest.ordering.model import ProviderStatus, Unit
from harvest_tests.ordering.orders import ALICE, AUTO, quote, request

MONTH = "2026-11"
BUDGETS = Budgets(overall={Unit.EUR: Decimal(1000)}, per_aoi={"aoi-a": {Unit.EUR: Decimal(500)}})
FILES = (Deliverable("http://sandbox/f/1", "IMG_1.JP2", size=10, md5="0" * 32),)


def placed(ledger: Ledger, amount: str = "120.50") -> str:
    """An order taken as far as `placed`; returns its key."""
    order = request()
    ledger.record_quote(order, quote(order, amount), actor="harvest quotes")
    ledger.approve(order.key, actor=AUTO)
    ledger.reserve(order.key, budgets=BUDGETS, month=MONTH)
    ledger.placed(order.key, "provider-1", raw={"id": "provider-1"})
    return order.key


def test_an_order_from_quote_to_landing(ledger: Ledger) -> None:
    order = request()
    row = ledger.record_quote(order, quote(order), actor="harvest quotes")
    assert (row.state, row.quote.amount, row.quote.unit, row.request()) == (
        OrderState.QUOTED,
        Decimal("120.50"),
        Unit.EUR,
        order,
    )
    assert ledger.approve(order.key, actor=AUTO).approved_by == AUTO
    reserved = ledger.reserve(order.key, budgets=BUDGETS, month=MONTH)
    assert (reserved.state, reserved.month) == (OrderState.PLACING, MONTH)
    assert ledger.placed(order.key, "ORD-7", raw={"id": "ORD-7"}).provider_status is ProviderStatus.ACCEPTED
    ledger.status(order.key, ProviderStatus.ACCEPTED, "IN_PROGRESS")
    assert ledger.delivered(order.key, FILES).deliverables == FILES
    landed = ledger.landed(order.key, [StoredFile("aoi-a/IMG_1.JP2", 10, "0" * 32)], "aoi-a/manifest.json")

    assert (landed.state, landed.provider_order_id, landed.manifest_path) == (
        OrderState.LANDED,
        "ORD-7",
        "aoi-a/manifest.json",
    )
    assert ledger.owned("oneatlas", "scene-1")
    assert ledger.owned("oneatlas", "scene-1", "aoi-a")
    assert not ledger.owned("oneatlas", "scene-1", "aoi-b")
    assert not ledger.owned("arlula", "scene-1")
    assert ledger.files(order.key) == [StoredFile("aoi-a/IMG_1.JP2", 10, "0" * 32)]
    assert ledger.spent(MONTH, unit=Unit.EUR) == Decimal("120.50")
    history = ledger.events(order.key)
    kinds = ["quote", "approve", "reserve", "placed", "status", "delivered", "landed"]
    assert [event.kind for event in history] == kinds
    assert history[1].actor == AUTO
    assert all(event.at.tzinfo is UTC for event in history)
    assert [event.at for event in history] == sorted(event.at for event in history)
    assert landed.created_at.tzinfo is UTC and landed.updated_at > landed.created_at


def test_a_person_approves_what_waits_for_approval(ledger: Ledger) -> None:
    order = request()
    ledger.record_quote(order, quote(order, "900"), actor="harvest quotes")
    waiting = ledger.await_approval(order.key, actor="auto: over 500 EUR threshold", reason="900 EUR > 500 EUR")
    assert waiting.state is OrderState.AWAITING_APPROVAL
    assert ledger.approve(order.key, actor=ALICE).approved_by == ALICE
    assert ledger.approve(order.key, actor="person: bob via ui").approved_by == ALICE  # approving twice: no change


def test_a_rejection_stands(ledger: Ledger) -> None:
    order = request()
    ledger.record_quote(order, quote(order), actor="harvest quotes")
    rejected = ledger.reject(order.key, actor=ALICE, reason="too cloudy")
    assert (rejected.state, rejected.error) == (OrderState.REJECTED, f"rejected by {ALICE}: too cloudy")
    with pytest.raises(InvalidTransition, match="it is rejected; a rejection stands"):
        ledger.approve(order.key, actor=AUTO)
    assert ledger.record_quote(order, quote(order, "99"), actor="harvest quotes").state is OrderState.REJECTED


def test_a_new_quote_refreshes_an_unordered_order(ledger: Ledger) -> None:
    order = request()
    ledger.record_quote(order, quote(order, "100"), actor="harvest quotes")
    ledger.approve(order.key, actor=AUTO)
    same = ledger.record_quote(order, quote(order, "100"), actor="harvest quotes")
    assert (same.state, same.approved_by) == (OrderState.APPROVED, AUTO)
    repriced = ledger.record_quote(order, quote(order, "140"), actor="harvest quotes")
    assert (repriced.state, repriced.approved_by, repriced.quote.amount) == (OrderState.QUOTED, None, Decimal(140))
    assert len(ledger.orders()) == 1


def test_an_ordered_quote_is_never_overwritten(ledger: Ledger) -> None:
    key = placed(ledger, "120.50")
    order = request()
    row = ledger.record_quote(order, quote(order, "1.00"), actor="harvest quotes")
    assert (row.state, row.quote.amount, row.provider_order_id) == (OrderState.PLACED, Decimal("120.50"), "provider-1")
    assert ledger.events(key)[-1].kind == "quote_ignored"


def test_nothing_is_reserved_or_ordered_twice(ledger: Ledger) -> None:
    order = request()
    ledger.record_quote(order, quote(order), actor="harvest quotes")
    with pytest.raises(InvalidTransition, match="approve it first"):
        ledger.reserve(order.key, budgets=BUDGETS, month=MONTH)
    ledger.approve(order.key, actor=AUTO)
    ledger.reserve(order.key, budgets=BUDGETS, month=MONTH)
    with pytest.raises(AlreadyOrdered, match=f"cannot reserve spend for order {order.key}: it is placing"):
        ledger.reserve(order.key, budgets=BUDGETS, month=MONTH)
    with pytest.raises(AlreadyOrdered):
        ledger.approve(order.key, actor=AUTO)
    with pytest.raises(AlreadyOrdered):
        ledger.reject(order.key, actor=ALICE, reason="late")
    assert ledger.spent(MONTH, unit=Unit.EUR) == Decimal("120.50")


def test_failed_releases_the_reservation(ledger: Ledger) -> None:
    order = request()
    ledger.record_quote(order, quote(order, "300"), actor="harvest quotes")
    ledger.approve(order.key, actor=AUTO)
    ledger.reserve(order.key, budgets=BUDGETS, month=MONTH)
    assert ledger.spent(MONTH, unit=Unit.EUR, aoi_id="aoi-a") == Decimal(300)
    failed = ledger.failed(order.key, "HTTP 400 from the provider: bad geometry")
    assert (failed.state, failed.error) == (OrderState.FAILED, "HTTP 400 from the provider: bad geometry")
    assert ledger.spent(MONTH, unit=Unit.EUR, aoi_id="aoi-a") == 0
    assert ledger.spent(MONTH, unit=Unit.EUR) == 0
    assert ledger.events(order.key)[-1].detail["released"] == [{"month": MONTH, "unit": "EUR", "amount": "300.000000"}]
    assert ledger.failed(order.key, "again").error == "HTTP 400 from the provider: bad geometry"  # once only
    assert ledger.spent(MONTH, unit=Unit.EUR) == 0
    # a fresh quote makes a failed order placeable again
    assert ledger.record_quote(order, quote(order, "300"), actor="harvest quotes").state is OrderState.QUOTED
    ledger.approve(order.key, actor=AUTO)
    ledger.reserve(order.key, budgets=BUDGETS, month=MONTH)
    assert ledger.spent(MONTH, unit=Unit.EUR) == Decimal(300)


def test_a_provider_failure_after_placing_releases_the_settled_spend(ledger: Ledger) -> None:
    key = placed(ledger, "120.50")
    assert ledger.spent(MONTH, unit=Unit.EUR) == Decimal("120.50")
    row = ledger.status(key, ProviderStatus.FAILED, "production failed")
    assert (row.state, row.provider_status, row.error) == (
        OrderState.FAILED,
        ProviderStatus.FAILED,
        "production failed",
    )
    assert ledger.spent(MONTH, unit=Unit.EUR) == 0


def test_placed_settles_what_the_provider_charged(ledger: Ledger) -> None:
    order = request()
    ledger.record_quote(order, quote(order, "100"), actor="harvest quotes")
    ledger.approve(order.key, actor=AUTO)
    ledger.reserve(order.key, budgets=BUDGETS, month=MONTH)
    ledger.placed(order.key, "ORD-1", raw={}, charged=Decimal("98.40"))
    assert ledger.spent(MONTH, unit=Unit.EUR) == Decimal("98.40")
    assert ledger.placed(order.key, "ORD-1", raw={}).state is OrderState.PLACED  # repeated: no change
    assert ledger.spent(MONTH, unit=Unit.EUR) == Decimal("98.40")


def test_a_provider_order_belongs_to_one_key(ledger: Ledger) -> None:
    placed(ledger)
    other = request("scene-2")
    ledger.record_quote(other, quote(other), actor="harvest quotes")
    ledger.approve(other.key, actor=AUTO)
    ledger.reserve(other.key, budgets=BUDGETS, month=MONTH)
    with pytest.raises(LedgerError, match="already holds it for order"):
        ledger.placed(other.key, "provider-1", raw={})


def test_money_is_exact(ledger: Ledger) -> None:
    budgets = Budgets(overall={Unit.CREDITS: Decimal("0.3")}, per_aoi={"aoi-a": {Unit.CREDITS: Decimal("0.3")}})
    for scene in ("s1", "s2", "s3"):
        order = request(scene)
        ledger.record_quote(order, quote(order, "0.1", Unit.CREDITS), actor="harvest quotes")
        ledger.approve(order.key, actor=AUTO)
        ledger.reserve(order.key, budgets=budgets, month=MONTH)
    total = ledger.spent(MONTH, unit=Unit.CREDITS)
    assert (type(total), total) == (Decimal, Decimal("0.3"))
    # more than six decimals: rounded up, never under-reserved
    fine = request("s4")
    assert ledger.record_quote(fine, quote(fine, "0.1234561"), actor="q").quote.amount == Decimal("0.123457")


def test_queries_filter_orders(ledger: Ledger) -> None:
    placed(ledger)
    for scene, aoi, provider in (("s2", "aoi-a", "arlula"), ("s3", "aoi-b", "oneatlas")):
        order = request(scene, aoi, provider)
        ledger.record_quote(order, quote(order), actor="harvest quotes")
    assert [row.scene_id for row in ledger.orders()] == ["scene-1", "s2", "s3"]
    assert [row.scene_id for row in ledger.orders(states=[OrderState.QUOTED])] == ["s2", "s3"]
    assert [row.scene_id for row in ledger.orders(states=["placed"], aoi_id="aoi-a")] == ["scene-1"]
    assert [row.scene_id for row in ledger.orders(provider="arlula")] == ["s2"]
    assert ledger.get("hvnosuchkey") is None
    with pytest.raises(UnknownOrder, match="no order hvnosuchkey in the ledger: record a quote for it first"):
        ledger.approve("hvnosuchkey", actor=AUTO)


def test_a_dry_run_writes_an_event_and_no_order(ledger: Ledger) -> None:
    order = request()
    detail = {"amount": Decimal("120.50"), "unit": Unit.EUR, "at": datetime(2026, 11, 2, tzinfo=UTC)}
    ledger.note(order.key, "dry_run", actor="harvest orders place", detail=detail)
    assert ledger.get(order.key) is None
    [event] = ledger.events(order.key)
    assert (event.kind, event.actor) == ("dry_run", "harvest orders place")
    assert event.detail == {"amount": "120.50", "unit": "EUR", "at": "2026-11-02T00:00:00+00:00"}  # exact, as text


@pytest.mark.parametrize(
    ("amount", "actor", "message"),
    [
        ("-1", "harvest quotes", "must be a Decimal of at least 0"),
        ("NaN", "harvest quotes", "must be a Decimal of at least 0"),
        ("1", "  ", "say who or what acted"),
    ],
)
def test_bad_quotes_are_refused(ledger: Ledger, amount: str, actor: str, message: str) -> None:
    order = request()
    with pytest.raises(ValueError, match=message):
        ledger.record_quote(order, quote(order, amount), actor=actor)
    assert ledger.get(order.key) is None


def test_a_quote_must_match_its_request(ledger: Ledger) -> None:
    order, other = request(), request("scene-2")
    with pytest.raises(ValueError, match="quote each request separately"):
        ledger.record_quote(order, quote(other), actor="harvest quotes")
    forged = type(order)("hvforged", order.provider, order.scene_id, order.aoi_id, order.aoi_geometry, order.options)
    with pytest.raises(ValueError, match=re.escape("build requests with OrderRequest.build")):
        ledger.record_quote(forged, quote(forged), actor="harvest quotes")


def test_landing_and_delivery_need_the_right_state(ledger: Ledger) -> None:
    key = placed(ledger)
    with pytest.raises(InvalidTransition, match="only a delivered order can land"):
        ledger.landed(key, [StoredFile("a", 1)], "manifest.json")
    with pytest.raises(ValueError, match="a delivery without files"):
        ledger.delivered(key, [])
    ledger.delivered(key, FILES)
    ledger.landed(key, [StoredFile("a", 1)], "manifest.json")
    with pytest.raises(InvalidTransition, match="a landed order is on disk"):
        ledger.failed(key, "too late")
