"""Placing orders: never twice, never over budget, nothing lost — against the sandbox over loopback.

The providers' own state is the judge: every test counts the orders the sandbox holds per key and
checks that the ledger agrees with it.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Callable, Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest

from harvest.ordering.desks.factory import DeskSet
from harvest.ordering.ledger import Budgets, Ledger, OrderState, month_of
from harvest.ordering.model import OrderRequest, Unit
from harvest.ordering.placing import (
    ALLOW_SPEND_VARIABLE,
    FIND_PAUSE_S,
    PLACING_LEASE,
    Outcome,
    Placer,
    spending_allowed,
)
from harvest.sandbox.server import RunningSandbox
from harvest_tests.conftest import advance
from harvest_tests.hostile import Reply, Request, hostile_server
from harvest_tests.ordering.clock import StepClock
from harvest_tests.ordering.databases import sqlite_url
from harvest_tests.ordering.desks_support import set_faults
from harvest_tests.ordering.ledger_support import order_of
from harvest_tests.ordering.placing_support import (
    APPROVER,
    ARLULA_ORDER_PATH,
    ORDER_GROUPS,
    Naps,
    arlula_lost_then_down,
    event_kinds,
    generous,
    interleaved,
    ordered_twice,
    place_in_turn,
    provider_orders,
    quote_and_approve,
    race_placers,
    refusing_arlula_orders,
    refusing_port,
    requests_for,
    unpaced,
)

PLACED = (Outcome.PLACED, Outcome.RECONCILED)
AFTER_THE_LEASE = PLACING_LEASE + timedelta(minutes=1)
DELIVERY_S = 130  # the sandbox delivers OneAtlas orders after 120 s, visible 5 s later
# each order request has a 20% chance of creating the order and then answering too late; 429s, 5xx and
# dropped connections strike every route of the ordering hosts (finds, searches and the orders themselves)
STALL_S, READ_TIMEOUT_S = 0.5, 0.25
FAULTS = ",".join(
    f"order_timeout=0.2:{STALL_S}s@{group},429=0.05:1s@{group},5xx=0.05@{group},reset=0.03@{group}"
    for group in ORDER_GROUPS
)
ROOMY = {"oneatlas_balance_credits": 10**9, "tpdi_quota_sqkm": 10.0**7}  # the providers' own limits never bind


@pytest.fixture
def sandbox(make_sandbox: Callable[..., RunningSandbox]) -> RunningSandbox:
    return make_sandbox(**ROOMY)


@pytest.fixture
def naps() -> Naps:
    return Naps()


@pytest.fixture
def desks(sandbox: RunningSandbox, naps: Naps) -> Iterator[DeskSet]:
    """The sandbox's desks as they quote and place when nothing goes wrong."""
    with unpaced(sandbox, naps) as opened:
        yield opened


def test_200_placements_under_faults_give_exactly_one_provider_order_per_key(
    sandbox: RunningSandbox, desks: DeskSet, naps: Naps, tmp_path: Path
) -> None:
    clock = StepClock()
    requests = interleaved(
        requests_for(sandbox, "oneatlas", 70), requests_for(sandbox, "arlula", 70),
        requests_for(sandbox, "sentinelhub-import", 60),
    )  # fmt: skip
    with Ledger.open(sqlite_url(tmp_path), clock=clock) as ledger:
        keys = quote_and_approve(ledger, desks, requests)
        assert len(set(keys)) == 200
        set_faults(sandbox, FAULTS)
        budgets = generous(Unit.CREDITS, Unit.USD_CENTS, Unit.KM2)
        with unpaced(sandbox, naps, read_timeout=READ_TIMEOUT_S) as shaky:
            first = place_in_turn(Placer(ledger, shaky, budgets, allow_spend=False, clock=clock, sleep=naps), keys)
            clock.now += AFTER_THE_LEASE  # a later run may take over anything the first left `placing`
            second = place_in_turn(Placer(ledger, shaky, budgets, allow_spend=False, clock=clock, sleep=naps), keys)
        held = provider_orders(sandbox)
        rows = {key: ledger.get(key) for key in keys}

    assert ordered_twice(held) == {}
    assert sorted(held) == sorted(keys)  # one order per key, and none for anything else
    for key, row in rows.items():
        assert row is not None and row.state is OrderState.PLACED
        assert [row.provider_order_id] == held[key]
    outcomes = Counter(placement.outcome for placement in first)
    assert set(outcomes) <= set(PLACED), [p.line() for p in first if p.outcome not in PLACED]
    assert outcomes[Outcome.RECONCILED] > 0  # answers were lost and found again at the provider
    assert {placement.outcome for placement in second} == {Outcome.ALREADY_ORDERED}
    injected = sandbox.sandbox.faults.injected
    assert injected["order_timeout"] >= 20 and injected["429"] and injected["reset"], injected
    assert naps.taken and all(nap <= 10 for nap in naps.taken)  # retry pauses were asked for, none slept


# --- two processes at once ------------------------------------------------------------------------------

RACE_INSTANT = datetime(2026, 11, 15, 12, tzinfo=UTC)
SETTLED_OR_NOT = {Outcome.PLACED, Outcome.RECONCILED, Outcome.OVER_BUDGET, Outcome.IN_PROGRESS, Outcome.ALREADY_ORDERED}


def half_of_each(ledger: Ledger, keys: list[str]) -> Budgets:
    """Budgets that fit about half of the orders: overall half of each unit's total, each AOI 60% of its own."""
    overall: dict[Unit, Decimal] = defaultdict(Decimal)
    per_aoi: dict[str, dict[Unit, Decimal]] = {}
    for key in keys:
        row = ledger.get(key)
        assert row is not None
        overall[row.quote.unit] += row.quote.amount
        per_aoi.setdefault(row.aoi_id, defaultdict(Decimal))[row.quote.unit] += row.quote.amount
    return Budgets(
        overall={unit: total / 2 for unit, total in overall.items()},
        per_aoi={
            aoi: {unit: total * Decimal("0.6") for unit, total in units.items()} for aoi, units in per_aoi.items()
        },
    )


def test_two_processes_placing_at_once_never_exceed_the_budget_nor_order_twice(
    sandbox: RunningSandbox, desks: DeskSet, ledger: Ledger, ledger_url: str
) -> None:
    requests = interleaved(
        requests_for(sandbox, "oneatlas", 14), requests_for(sandbox, "arlula", 13),
        requests_for(sandbox, "sentinelhub-import", 13),
    )  # fmt: skip
    keys = quote_and_approve(ledger, desks, requests)
    budgets = half_of_each(ledger, keys)

    reports = race_placers(ledger_url, sandbox.env(), [keys, keys[::-1]], budgets, RACE_INSTANT)

    for report in reports:
        outcomes = Counter({Outcome(name): n for name, n in report["outcomes"].items()})
        assert set(outcomes) <= SETTLED_OR_NOT and sum(outcomes.values()) == len(keys), outcomes
    held = provider_orders(sandbox)
    assert ordered_twice(held) == {}
    rows = [ledger.get(key) for key in keys]
    placed = [row for row in rows if row is not None and row.state is OrderState.PLACED]
    refused = [row for row in rows if row is not None and row.state is OrderState.APPROVED]
    assert len(placed) + len(refused) == len(keys)  # nothing left placing, nothing lost
    assert sorted(held) == sorted(row.key for row in placed)
    assert all(held[row.key] == [row.provider_order_id] for row in placed)
    assert all("budget_refused" in event_kinds(ledger.events(row.key)) for row in refused)
    month = month_of(RACE_INSTANT)
    for unit, limit in budgets.overall.items():
        spent = ledger.spent(month, unit=unit)
        assert spent == sum(row.quote.amount for row in placed if row.quote.unit is unit) <= limit
        assert {row.quote.unit for row in refused} >= {unit}  # the budget did bind in every unit
    for aoi, limits in budgets.per_aoi.items():
        for unit, limit in limits.items():
            assert ledger.spent(month, unit=unit, aoi_id=aoi) <= limit


# --- crash and restart ------------------------------------------------------------------------------------


@pytest.mark.parametrize("provider", ["oneatlas", "arlula", "sentinelhub-import"])
@pytest.mark.parametrize("crash", ["before_sending", "after_the_provider_accepted"])
def test_an_order_left_placing_by_a_crash_is_reconciled_after_the_lease_exactly_once(
    sandbox: RunningSandbox, desks: DeskSet, naps: Naps, ledger: Ledger, ledger_clock: StepClock, provider: str,
    crash: str,
) -> None:  # fmt: skip
    [key] = quote_and_approve(ledger, desks, requests_for(sandbox, provider, 1))
    budgets = generous(Unit.CREDITS, Unit.USD_CENTS, Unit.KM2)
    order = ledger.reserve(key, budgets=budgets, month=month_of(ledger_clock()), actor="a run that crashed")
    accepted = desks(provider).place(order.request(), order.quote) if crash == "after_the_provider_accepted" else None
    placer = Placer(ledger, desks, budgets, allow_spend=False, clock=ledger_clock, sleep=naps)

    assert placer.place(key).outcome is Outcome.IN_PROGRESS  # within the lease: perhaps still running elsewhere
    assert len(provider_orders(sandbox).get(key, [])) == (accepted is not None)
    ledger_clock.now += AFTER_THE_LEASE
    resumed = placer.place(key)

    assert resumed.outcome is (Outcome.PLACED if accepted is None else Outcome.RECONCILED), resumed.line()
    held = provider_orders(sandbox)
    assert held == {key: [resumed.provider_order_id]}
    if accepted is not None:
        assert resumed.provider_order_id == accepted.order_id
    row = ledger.get(key)
    assert row is not None and (row.state, row.provider_order_id) == (OrderState.PLACED, resumed.provider_order_id)
    assert event_kinds(ledger.events(key))[-3:] == ["reserve", "claim", "placed"]
    assert placer.place(key).outcome is Outcome.ALREADY_ORDERED and provider_orders(sandbox) == held


@pytest.fixture
def order_api(sandbox: RunningSandbox, naps: Naps) -> Iterator[DeskSet]:
    """Desks ordering OneAtlas through order.api, which shows SPOT and Pléiades orders only once delivered."""
    with unpaced(sandbox, naps, read_timeout=READ_TIMEOUT_S, ONEATLAS_ORDER_FLAVOUR="order") as opened:
        yield opened


def archive_request(sandbox: RunningSandbox) -> list[OrderRequest]:
    """One request for a SPOT or Pléiades scene (no tracking endpoint at order.api)."""
    return [next(r for r in requests_for(sandbox, "oneatlas", 20) if r.constellation in ("PHR", "SPOT"))]


def test_an_order_api_order_left_placing_is_never_sent_again_and_recorded_once_delivered(
    sandbox: RunningSandbox, order_api: DeskSet, naps: Naps, ledger: Ledger, ledger_clock: StepClock
) -> None:
    [key] = quote_and_approve(ledger, order_api, archive_request(sandbox))
    budgets = generous(Unit.EUR)
    order = ledger.reserve(key, budgets=budgets, month=month_of(ledger_clock()), actor="a run that crashed")
    accepted = order_api("oneatlas").place(order.request(), order.quote)
    placer = Placer(ledger, order_api, budgets, allow_spend=False, clock=ledger_clock, sleep=naps)

    for _ in range(2):  # after each lease a run takes it over, looks for it, and sends nothing
        ledger_clock.now += AFTER_THE_LEASE
        waiting = placer.place(key)
        assert waiting.outcome is Outcome.UNKNOWN and "shows it only once delivered" in waiting.message
        assert provider_orders(sandbox) == {key: [accepted.order_id]}
        assert placer.place(key).outcome is Outcome.IN_PROGRESS  # the lease restarted with the takeover
    row = ledger.get(key)
    assert row is not None and row.state is OrderState.PLACING

    advance(sandbox, DELIVERY_S)
    ledger_clock.now += AFTER_THE_LEASE
    found = placer.place(key)
    assert (found.outcome, found.provider_order_id) == (Outcome.RECONCILED, accepted.order_id)
    assert provider_orders(sandbox) == {key: [accepted.order_id]}
    row = ledger.get(key)
    assert row is not None and (row.state, row.provider_order_id) == (OrderState.PLACED, accepted.order_id)


def test_an_order_api_answer_lost_by_the_placer_is_looked_for_then_left_for_the_tracker(
    sandbox: RunningSandbox, order_api: DeskSet, naps: Naps, ledger: Ledger, ledger_clock: StepClock
) -> None:
    [key] = quote_and_approve(ledger, order_api, archive_request(sandbox))
    placer = Placer(ledger, order_api, generous(Unit.EUR), allow_spend=False, clock=ledger_clock, sleep=naps)
    set_faults(sandbox, f"order_timeout=1:{STALL_S}s@oneatlas.order")

    lost = placer.place(key)
    assert lost.outcome is Outcome.UNKNOWN and "the tracker reconciles it" in lost.message, lost.line()
    assert naps.taken == [FIND_PAUSE_S, 2 * FIND_PAUSE_S]  # asked again, with pauses, before giving up for now
    [sales_order] = provider_orders(sandbox)[key]
    assert "outcome_unknown" in event_kinds(ledger.events(key))

    set_faults(sandbox, "")
    ledger_clock.now += AFTER_THE_LEASE
    assert placer.place(key).outcome is Outcome.UNKNOWN  # still not visible: not sent again
    assert provider_orders(sandbox) == {key: [sales_order]}
    advance(sandbox, DELIVERY_S)
    ledger_clock.now += AFTER_THE_LEASE
    found = placer.place(key)
    assert (found.outcome, found.provider_order_id) == (Outcome.RECONCILED, sales_order)
    assert provider_orders(sandbox) == {key: [sales_order]}


# --- dry runs -----------------------------------------------------------------------------------------------


def test_a_live_desk_without_the_spend_switch_is_a_dry_run_that_says_what_it_would_buy(
    sandbox: RunningSandbox, desks: DeskSet, naps: Naps, ledger: Ledger, ledger_clock: StepClock
) -> None:
    [key] = quote_and_approve(ledger, desks, requests_for(sandbox, "oneatlas", 1))
    live = desks("oneatlas")
    live.sandbox = False  # as if it spoke to Airbus with real credentials
    budgets = generous(Unit.CREDITS)
    before = live.stats()

    dry = Placer(ledger, desks, budgets, allow_spend=spending_allowed({}), clock=ledger_clock, sleep=naps).place(key)

    row = ledger.get(key)
    assert row is not None
    price = f"{row.quote.amount} credits"
    assert dry.outcome is Outcome.DRY_RUN
    assert dry.message == f"would buy it for {price} from {live.describe()}; set HARVEST_ALLOW_SPEND=1 to buy"
    assert live.stats() == before and provider_orders(sandbox) == {}  # not a single request
    assert row.state is OrderState.APPROVED and ledger.spent(month_of(ledger_clock()), unit=Unit.CREDITS) == 0
    [event] = [event for event in ledger.events(key) if event.kind == "dry_run"]
    assert event.detail == {"message": dry.message}

    allowed = spending_allowed({ALLOW_SPEND_VARIABLE: "1"})
    bought = Placer(ledger, desks, budgets, allow_spend=allowed, clock=ledger_clock, sleep=naps).place(key)
    assert bought.outcome is Outcome.PLACED and provider_orders(sandbox) == {key: [bought.provider_order_id]}


@pytest.mark.parametrize(("value", "allowed"), [("1", True), ("yes", True), ("0", False), ("", False), ("no", False)])
def test_the_spend_switch(value: str, allowed: bool) -> None:
    assert spending_allowed({ALLOW_SPEND_VARIABLE: value}) is allowed
    assert spending_allowed({}) is False


# --- budgets -------------------------------------------------------------------------------------------------


def test_the_aoi_and_the_overall_budget_both_refuse_and_leave_the_order_approved(
    sandbox: RunningSandbox, desks: DeskSet, naps: Naps, ledger: Ledger, ledger_clock: StepClock
) -> None:
    choices = requests_for(sandbox, "oneatlas", 20)
    first, second = [r for r in choices if r.aoi_id == "toulouse"][:2]
    elsewhere = next(r for r in choices if r.aoi_id != "toulouse")
    keys = quote_and_approve(ledger, desks, [first, second, elsewhere])
    price = {key: row.quote.amount for key in keys if (row := ledger.get(key)) is not None}
    cent = Decimal("0.01")
    budgets = Budgets(
        overall={Unit.CREDITS: price[first.key] + price[elsewhere.key] - cent},
        per_aoi={
            "toulouse": {Unit.CREDITS: price[first.key] + price[second.key] - cent},
            elsewhere.aoi_id: {Unit.CREDITS: Decimal(10) ** 9},
        },
    )
    placer = Placer(ledger, desks, budgets, allow_spend=False, clock=ledger_clock, sleep=naps)

    placed, by_aoi, by_all = place_in_turn(placer, keys)

    assert [p.outcome for p in (placed, by_aoi, by_all)] == [Outcome.PLACED, *[Outcome.OVER_BUDGET] * 2]
    assert "the monthly budget of AOI toulouse" in by_aoi.message
    assert "the overall monthly budget" in by_all.message and "raise the budget in the policy" in by_all.message
    for refused in (by_aoi, by_all):
        row = ledger.get(refused.key)
        assert row is not None and row.state is OrderState.APPROVED
        last = ledger.events(refused.key)[-1]
        assert (last.kind, last.detail["message"]) == ("budget_refused", refused.message)
    assert ledger.spent(month_of(ledger_clock()), unit=Unit.CREDITS) == price[first.key]
    assert provider_orders(sandbox) == {first.key: [placed.provider_order_id]}

    wider = Placer(ledger, desks, generous(Unit.CREDITS), allow_spend=False, clock=ledger_clock, sleep=naps)
    assert [p.outcome for p in place_in_turn(wider, keys)] == [Outcome.ALREADY_ORDERED, Outcome.PLACED, Outcome.PLACED]
    assert sorted(provider_orders(sandbox)) == sorted(keys)


def test_an_order_refused_before_sending_fails_releases_its_spend_and_the_others_go_on(
    sandbox: RunningSandbox, desks: DeskSet, naps: Naps, ledger: Ledger, ledger_clock: StepClock
) -> None:
    stale, fresh = requests_for(sandbox, "arlula", 2)
    offer = desks("arlula").quote(stale)
    ledger.record_quote(stale, replace(offer, amount=offer.amount - 100), actor="harvest quotes")  # since dearer
    ledger.approve(stale.key, actor=APPROVER)
    keys = [stale.key, *quote_and_approve(ledger, desks, [fresh])]
    placer = Placer(ledger, desks, generous(Unit.USD_CENTS), allow_spend=False, clock=ledger_clock, sleep=naps)

    refused, placed = place_in_turn(placer, keys)

    assert refused.outcome is Outcome.FAILED and "the offer now costs" in refused.message, refused.line()
    assert placed.outcome is Outcome.PLACED
    assert provider_orders(sandbox) == {fresh.key: [placed.provider_order_id]}
    row = ledger.get(stale.key)
    assert row is not None and row.state is OrderState.FAILED  # nothing was sent: its spend is released
    spent = ledger.spent(month_of(ledger_clock()), unit=Unit.USD_CENTS)
    assert spent == order_of(ledger, fresh.key).quote.amount


# --- providers that cannot be asked, or turn the order away unread ----------------------------------------------

NOT_THE_SECRET = "not-the-arlula-secret-do-not-print"


def unreachable_arlula(sandbox: RunningSandbox, naps: Naps, trouble: str, port: int) -> DeskSet:
    """The desks, with an Arlula that refuses connections (at `port`), or refuses harvest's credentials."""
    if trouble == "refused_connection":
        return unpaced(sandbox, naps, ARLULA_URL=f"http://127.0.0.1:{port}/arlula")
    return unpaced(sandbox, naps, ARLULA_API_SECRET=NOT_THE_SECRET)


@pytest.mark.parametrize(
    ("trouble", "why"), [("refused_connection", "could not reach Arlula"), ("rejected_credentials", "401")]
)
def test_an_order_whose_provider_cannot_be_asked_before_sending_is_released_at_once(
    sandbox: RunningSandbox, desks: DeskSet, naps: Naps, ledger: Ledger, ledger_clock: StepClock, trouble: str,
    why: str,
) -> None:  # fmt: skip
    [key] = quote_and_approve(ledger, desks, requests_for(sandbox, "arlula", 1))
    budgets = generous(Unit.USD_CENTS)
    month = month_of(ledger_clock())
    with refusing_port() as port, unreachable_arlula(sandbox, naps, trouble, port) as unreachable:
        placer = Placer(ledger, unreachable, budgets, allow_spend=True, clock=ledger_clock, sleep=naps)
        turned_away = placer.place(key)

    assert turned_away.outcome is Outcome.NOT_SENT and why in turned_away.message, turned_away.line()
    row = ledger.get(key)
    assert row is not None and (row.state, row.approved_by) == (OrderState.APPROVED, APPROVER)
    assert ledger.spent(month, unit=Unit.USD_CENTS) == 0  # given back now, not after the lease
    last = ledger.events(key)[-1]
    assert last.kind == "not_sent" and why in last.detail["reason"]
    assert last.detail["released"] == [{"month": month, "unit": "USD cents", "amount": str(row.quote.amount)}]
    assert NOT_THE_SECRET not in turned_away.line() + repr(ledger.events(key))
    assert provider_orders(sandbox) == {}

    placed = Placer(ledger, desks, budgets, allow_spend=False, clock=ledger_clock, sleep=naps).place(key)
    assert placed.outcome is Outcome.PLACED and provider_orders(sandbox) == {key: [placed.provider_order_id]}


@pytest.mark.parametrize(
    ("status", "outcome", "state", "event"),
    [
        (401, Outcome.NOT_SENT, OrderState.APPROVED, "not_sent"),  # the credentials, not the order: place it later
        (429, Outcome.NOT_SENT, OrderState.APPROVED, "not_sent"),  # rate limited, so never processed
        (400, Outcome.FAILED, OrderState.FAILED, "failed"),  # the order itself refused: quote it again
        (403, Outcome.FAILED, OrderState.FAILED, "failed"),
    ],
)
def test_an_order_turned_away_unprocessed_gives_its_spend_back_at_once(
    sandbox: RunningSandbox, desks: DeskSet, naps: Naps, ledger: Ledger, ledger_clock: StepClock, status: int,
    outcome: Outcome, state: OrderState, event: str,
) -> None:  # fmt: skip
    [key] = quote_and_approve(ledger, desks, requests_for(sandbox, "arlula", 1))
    budgets = generous(Unit.USD_CENTS)
    with (
        hostile_server(refusing_arlula_orders(sandbox.url, status)) as proxy,
        unpaced(sandbox, naps, ARLULA_URL=f"{proxy.url}/arlula") as refusing,
    ):
        placement = Placer(ledger, refusing, budgets, allow_spend=False, clock=ledger_clock, sleep=naps).place(key)
    sent = [request for request in proxy.requests if request.path == ARLULA_ORDER_PATH]

    assert placement.outcome is outcome and str(status) in placement.message, placement.line()
    assert sent  # it did reach the provider's door
    row = ledger.get(key)
    assert row is not None and row.state is state
    assert ledger.spent(month_of(ledger_clock()), unit=Unit.USD_CENTS) == 0
    assert ledger.events(key)[-1].kind == event
    assert provider_orders(sandbox) == {}


def test_an_order_left_placing_by_an_earlier_run_keeps_its_reservation_while_its_provider_cannot_be_asked(
    sandbox: RunningSandbox, desks: DeskSet, naps: Naps, ledger: Ledger, ledger_clock: StepClock
) -> None:
    [key] = quote_and_approve(ledger, desks, requests_for(sandbox, "arlula", 1))
    budgets = generous(Unit.USD_CENTS)
    order = ledger.reserve(key, budgets=budgets, month=month_of(ledger_clock()), actor="a run that stopped")
    assert order.month is not None
    ledger_clock.now += AFTER_THE_LEASE
    with refusing_port() as port, unreachable_arlula(sandbox, naps, "refused_connection", port) as down:
        waiting = Placer(ledger, down, budgets, allow_spend=False, clock=ledger_clock, sleep=naps).place(key)

    assert waiting.outcome is Outcome.UNKNOWN, waiting.line()  # the stopped run may have sent it: only Arlula knows
    row = ledger.get(key)
    assert row is not None and row.state is OrderState.PLACING
    assert ledger.spent(order.month, unit=Unit.USD_CENTS) == order.quote.amount

    ledger_clock.now += AFTER_THE_LEASE
    placed = Placer(ledger, desks, budgets, allow_spend=False, clock=ledger_clock, sleep=naps).place(key)
    assert placed.outcome is Outcome.PLACED and provider_orders(sandbox) == {key: [placed.provider_order_id]}


def test_an_answer_lost_then_the_provider_down_keeps_the_reservation_of_the_order_it_created(
    sandbox: RunningSandbox, desks: DeskSet, naps: Naps, ledger: Ledger, ledger_clock: StepClock
) -> None:
    [key] = quote_and_approve(ledger, desks, requests_for(sandbox, "arlula", 1))
    budgets = generous(Unit.USD_CENTS)
    with (
        hostile_server(arlula_lost_then_down(sandbox.url)) as proxy,
        unpaced(sandbox, naps, ARLULA_URL=f"{proxy.url}/arlula") as flaky,
    ):
        lost = Placer(ledger, flaky, budgets, allow_spend=False, clock=ledger_clock, sleep=naps).place(key)

    assert lost.outcome is Outcome.UNKNOWN, lost.line()
    [created] = provider_orders(sandbox)[key]
    row = ledger.get(key)
    assert row is not None and row.state is OrderState.PLACING and row.month is not None
    assert ledger.spent(row.month, unit=Unit.USD_CENTS) == row.quote.amount  # the order exists: its money stays
    assert "outcome_unknown" in event_kinds(ledger.events(key))

    ledger_clock.now += AFTER_THE_LEASE
    found = Placer(ledger, desks, budgets, allow_spend=False, clock=ledger_clock, sleep=naps).place(key)
    assert (found.outcome, found.provider_order_id) == (Outcome.RECONCILED, created)
    assert provider_orders(sandbox) == {key: [created]}


def test_a_placement_that_cannot_ask_its_provider_never_releases_an_order_another_run_took_over(
    sandbox: RunningSandbox, desks: DeskSet, naps: Naps, ledger: Ledger, ledger_clock: StepClock
) -> None:
    [key] = quote_and_approve(ledger, desks, requests_for(sandbox, "arlula", 1))
    budgets = generous(Unit.USD_CENTS)

    def stalled_then_refusing(request: Request, reply: Reply) -> None:
        ledger_clock.now += AFTER_THE_LEASE  # the first run stalls past its lease, and another run takes the order over
        assert ledger.claim(key, idle_since=ledger_clock() - PLACING_LEASE, actor="another run") is not None
        reply.json(401, {"error": "Invalid API key or secret"})

    with (
        hostile_server(stalled_then_refusing) as stalling,
        unpaced(sandbox, naps, ARLULA_URL=f"{stalling.url}/arlula") as stalled,
    ):
        first = Placer(ledger, stalled, budgets, allow_spend=False, clock=ledger_clock, sleep=naps).place(key)

    assert stalling.errors == [] and len(stalling.requests) == 1
    assert first.outcome is Outcome.IN_PROGRESS and "another run" in first.message, first.line()
    row = ledger.get(key)
    assert row is not None and row.state is OrderState.PLACING and row.month is not None
    assert ledger.spent(row.month, unit=Unit.USD_CENTS) == row.quote.amount  # the other run's reservation stands
    assert event_kinds(ledger.events(key))[-2:] == ["reserve", "claim"]
