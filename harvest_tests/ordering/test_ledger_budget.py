"""Budgets: refusals that say why, and two processes reserving at once never overspend (SQLite and PostgreSQL)."""

from __future__ import annotations

import multiprocessing
import re
from decimal import Decimal

import pytest

from harvest.ordering.ledger import BudgetExceeded, Budgets, Ledger, NoBudget, OrderState
from harvest.ordering.ledger.budgets import check_month, month_of
from harvest.ordering.model import Unit
from harvest_tests.ordering.orders import AUTO, quote, request
from harvest_tests.ordering.racing import reserve_each

MONTH = "2026-11"


def state(ledger: Ledger, key: str) -> OrderState:
    """The state of an order that exists."""
    row = ledger.get(key)
    assert row is not None
    return row.state


def approved(ledger: Ledger, scene: str, amount: str, aoi: str = "aoi-a", unit: Unit = Unit.EUR) -> str:
    """A quoted and approved order; returns its key."""
    order = request(scene, aoi)
    ledger.record_quote(order, quote(order, amount, unit), actor="harvest quotes")
    ledger.approve(order.key, actor=AUTO)
    return order.key


def test_the_aoi_budget_refuses_what_does_not_fit(ledger: Ledger) -> None:
    budgets = Budgets(overall={Unit.EUR: Decimal(1000)}, per_aoi={"aoi-a": {Unit.EUR: Decimal(250)}})
    ledger.reserve(approved(ledger, "s1", "200"), budgets=budgets, month=MONTH)
    key = approved(ledger, "s2", "60.5")
    expected = (
        f"order {key} refused: the monthly budget of AOI aoi-a for 2026-11 is 250 EUR, 200 EUR already reserved "
        "or spent, this order needs 60.5 EUR (10.5 EUR over); raise the budget in the policy or wait for next month"
    )
    with pytest.raises(BudgetExceeded, match=re.escape(expected)) as refused:
        ledger.reserve(key, budgets=budgets, month=MONTH)
    assert (refused.value.limit, refused.value.spent, refused.value.amount) == (
        Decimal(250),
        Decimal(200),
        Decimal("60.5"),
    )
    assert state(ledger, key) is OrderState.APPROVED
    assert ledger.events(key)[-1].kind == "budget_refused"
    assert ledger.spent(MONTH, unit=Unit.EUR) == Decimal(200)
    # another month has its own budget; an exact fit is allowed
    assert ledger.reserve(key, budgets=budgets, month="2026-12").state is OrderState.PLACING
    assert ledger.reserve(approved(ledger, "s3", "50"), budgets=budgets, month=MONTH).state is OrderState.PLACING
    assert ledger.spent(MONTH, unit=Unit.EUR, aoi_id="aoi-a") == Decimal(250)


def test_the_overall_budget_spans_every_aoi(ledger: Ledger) -> None:
    budgets = Budgets(
        overall={Unit.EUR: Decimal(300)}, per_aoi={"aoi-a": {Unit.EUR: Decimal(200)}, "aoi-b": {Unit.EUR: Decimal(200)}}
    )
    ledger.reserve(approved(ledger, "s1", "200", "aoi-a"), budgets=budgets, month=MONTH)
    with pytest.raises(BudgetExceeded, match="the overall monthly budget for 2026-11 is 300 EUR, 200 EUR already"):
        ledger.reserve(approved(ledger, "s2", "150", "aoi-b"), budgets=budgets, month=MONTH)
    assert ledger.spent(MONTH, unit=Unit.EUR, aoi_id="aoi-b") == 0


@pytest.mark.parametrize(
    ("budgets", "message"),
    [
        (Budgets(overall={Unit.EUR: Decimal(9)}, per_aoi={"aoi-a": {Unit.EUR: Decimal(9)}}), "has no limit in credits"),
        (Budgets(overall={Unit.CREDITS: Decimal(9)}), "the monthly budget of AOI aoi-a has no limit in credits"),
        (
            Budgets(overall={Unit.EUR: Decimal(9)}, per_aoi={"aoi-a": {Unit.CREDITS: Decimal(9)}}),
            "the overall monthly budget has no limit in credits, so nothing may be spent in credits; add a credits",
        ),
    ],
)
def test_a_unit_without_a_budget_is_refused(ledger: Ledger, budgets: Budgets, message: str) -> None:
    key = approved(ledger, "s1", "1", unit=Unit.CREDITS)
    with pytest.raises(NoBudget, match=message):
        ledger.reserve(key, budgets=budgets, month=MONTH)
    assert state(ledger, key) is OrderState.APPROVED


@pytest.mark.parametrize(
    ("overall", "message"),
    [
        ({"GBP": 5}, "overall monthly budget: unknown unit 'GBP'; use one of 'EUR', 'credits', 'USD cents', 'km2'"),
        ({"EUR": -1}, "overall monthly budget: limit -1 in EUR must be a number of at least 0"),
        ({"EUR": "lots"}, "overall monthly budget: limit 'lots' in EUR is not a number"),
    ],
)
def test_bad_budgets_are_refused(overall: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=re.escape(message)):
        Budgets(overall=overall)  # type: ignore[arg-type]


def test_budgets_take_plain_numbers_and_unit_names() -> None:
    budgets = Budgets(overall={"EUR": 500, "USD cents": "12000"}, per_aoi={"x": {"km2": 2.5}})  # type: ignore[dict-item]
    assert budgets.overall == {Unit.EUR: Decimal(500), Unit.USD_CENTS: Decimal(12000)}
    assert budgets.per_aoi == {"x": {Unit.KM2: Decimal("2.5")}}


def test_months_are_calendar_months() -> None:
    from datetime import UTC, datetime, timedelta, timezone

    assert month_of(datetime(2026, 11, 30, 23, 30, tzinfo=timezone(timedelta(hours=-2)))) == "2026-12"
    assert month_of(datetime(2026, 11, 1, tzinfo=UTC)) == "2026-11"
    with pytest.raises(ValueError, match="naive datetime"):
        month_of(datetime(2026, 11, 1))  # noqa: DTZ001
    with pytest.raises(ValueError, match=re.escape("write it as YYYY-MM, e.g. 2026-11")):
        check_month("2026-13")


def race(url: str, per_process: list[list[str]], budgets: Budgets) -> list[dict[str, float]]:
    """Run one spawned process per key list, all starting at once; their outcome counts, checked to overlap in time."""
    context = multiprocessing.get_context("spawn")
    start, results = context.Barrier(len(per_process)), context.Queue()
    racers = [
        context.Process(target=reserve_each, args=(url, keys, budgets, MONTH, start, results)) for keys in per_process
    ]
    for racer in racers:
        racer.start()
    outcomes = [results.get(timeout=120) for _ in racers]
    for racer in racers:
        racer.join(timeout=30)
        assert racer.exitcode == 0
    assert max(outcome["started"] for outcome in outcomes) < min(outcome["ended"] for outcome in outcomes)
    return outcomes


def test_two_processes_reserving_at_once_never_exceed_the_budget(ledger: Ledger, ledger_url: str) -> None:
    budgets = Budgets(overall={Unit.EUR: Decimal(3000)}, per_aoi={"aoi-a": {Unit.EUR: Decimal(10_000)}})
    keys = [approved(ledger, f"s{n:03d}", "100") for n in range(100)]
    outcomes = race(ledger_url, [keys[0::2], keys[1::2]], budgets)

    assert sum(outcome.get("reserved", 0) for outcome in outcomes) == 30
    assert sum(outcome.get("refused", 0) for outcome in outcomes) == 70
    assert [outcome.get("reserved", 0) + outcome.get("refused", 0) for outcome in outcomes] == [50, 50]
    assert ledger.spent(MONTH, unit=Unit.EUR) == Decimal(3000)
    assert len(ledger.orders(states=[OrderState.PLACING])) == 30


def test_two_processes_reserving_the_same_orders_reserve_each_once(ledger: Ledger, ledger_url: str) -> None:
    budgets = Budgets(overall={Unit.EUR: Decimal(10_000)}, per_aoi={"aoi-a": {Unit.EUR: Decimal(10_000)}})
    keys = [approved(ledger, f"s{n:03d}", "10") for n in range(40)]
    outcomes = race(ledger_url, [keys, keys[::-1]], budgets)

    assert sum(outcome.get("reserved", 0) for outcome in outcomes) == 40
    assert sum(outcome.get("already", 0) for outcome in outcomes) == 40
    assert ledger.spent(MONTH, unit=Unit.EUR) == Decimal(400)
    assert all(len([e for e in ledger.events(key) if e.kind == "reserve"]) == 1 for key in keys)
