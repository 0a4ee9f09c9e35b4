"""Following open orders while providers cannot be asked: each is asked once per pass, named, and nothing is lost."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from harvest.ordering.ledger import Budgets, Ledger, OrderState, month_of
from harvest.ordering.model import Unit
from harvest.ordering.placing import PLACING_LEASE, Outcome, Placer
from harvest.ordering.tracking import track
from harvest.providers.http import RetryPolicy
from harvest.sandbox.server import RunningSandbox
from harvest_tests.hostile import Reply, Request, hostile_server
from harvest_tests.ordering.clock import StepClock
from harvest_tests.ordering.placing_support import (
    Naps,
    event_kinds,
    generous,
    place_in_turn,
    quote_and_approve,
    refusing_port,
    requests_for,
    unpaced,
)

BUDGETS = generous(Unit.USD_CENTS, Unit.KM2)


@pytest.fixture
def sandbox(make_sandbox: Callable[..., RunningSandbox]) -> RunningSandbox:
    return make_sandbox(tpdi_quota_sqkm=10.0**7)


def placed_orders(
    sandbox: RunningSandbox, ledger: Ledger, clock: StepClock, arlula: int, sentinelhub: int
) -> list[str]:
    """Place `arlula` Arlula and `sentinelhub` Sentinel Hub orders through the sandbox; their keys."""
    naps = Naps()
    with unpaced(sandbox, naps) as desks:
        requests = requests_for(sandbox, "arlula", arlula) + requests_for(sandbox, "sentinelhub-import", sentinelhub)
        keys = quote_and_approve(ledger, desks, requests)
        placements = place_in_turn(Placer(ledger, desks, BUDGETS, allow_spend=False, clock=clock, sleep=naps), keys)
    assert {placement.outcome for placement in placements} == {Outcome.PLACED}
    return keys


def refuse_credentials(request: Request, reply: Reply) -> None:
    reply.json(401, {"error": "Invalid API key or secret"})


def test_a_provider_refusing_the_credentials_is_asked_once_and_named_while_the_others_are_followed(
    sandbox: RunningSandbox, ledger: Ledger, ledger_clock: StepClock
) -> None:
    keys = placed_orders(sandbox, ledger, ledger_clock, arlula=3, sentinelhub=1)
    arlula = set(keys[:3])
    naps = Naps()
    with (
        hostile_server(refuse_credentials) as refusing,
        unpaced(sandbox, naps, ARLULA_URL=f"{refusing.url}/arlula") as desks,
    ):
        placer = Placer(ledger, desks, Budgets(overall={}), allow_spend=False, clock=ledger_clock, sleep=naps)
        report = track(ledger, desks, placer)

    assert len(refusing.requests) == 1  # its two other orders wait for the next pass
    assert set(report.unreachable()) == {"arlula"} and "401" in report.unreachable()["arlula"]
    assert report.answered == {"sentinelhub-import"} and not report.nobody_answered()
    assert {problem.split(":")[0] for problem in report.problems} == arlula
    assert report.waiting == len(keys)  # Sentinel Hub's is still being produced
    assert {order.key for order in ledger.orders(states=[OrderState.PLACED])} == set(keys)


def test_a_provider_refusing_connections_leaves_its_open_orders_as_they_were_and_nobody_answered(
    sandbox: RunningSandbox, ledger: Ledger, ledger_clock: StepClock
) -> None:
    placed = placed_orders(sandbox, ledger, ledger_clock, arlula=2, sentinelhub=0)
    with unpaced(sandbox, Naps()) as desks:
        [stopped] = quote_and_approve(ledger, desks, requests_for(sandbox, "arlula", 3)[2:])
    reserved = ledger.reserve(stopped, budgets=BUDGETS, month=month_of(ledger_clock()), actor="a run that stopped")
    assert reserved.month is not None
    ledger_clock.now += PLACING_LEASE * 2
    naps = Naps()
    with refusing_port() as port, unpaced(sandbox, naps, ARLULA_URL=f"http://127.0.0.1:{port}/arlula") as desks:
        placer = Placer(ledger, desks, BUDGETS, allow_spend=False, clock=ledger_clock, sleep=naps)
        report = track(ledger, desks, placer)

    assert report.nobody_answered() and set(report.unreachable()) == {"arlula"}
    assert "could not reach Arlula" in report.unreachable()["arlula"]
    assert len(naps.taken) == RetryPolicy().max_retries  # one request, retried; not one per order
    assert {problem.split(":")[0] for problem in report.problems} == {stopped, *placed}
    row = ledger.get(stopped)
    assert row is not None and row.state is OrderState.PLACING  # perhaps sent by the run that stopped: kept
    held = [ledger.get(key) for key in (*placed, stopped)]
    assert ledger.spent(reserved.month, unit=Unit.USD_CENTS) == sum(o.quote.amount for o in held if o is not None)
    assert event_kinds(ledger.events(stopped))[-1] == "claim"
    assert {order.key for order in ledger.orders(states=[OrderState.PLACED])} == set(placed)
