"""Following open orders: ask each provider where its orders stand and write the answers to the ledger.

A placed order is asked about until it is delivered (its files listed in the ledger, ready to land)
or fails (its spend released). An order left `placing` by an interrupted run is handed back to the
placer, which reconciles it with the provider before anything is sent again — in a run (the CLI,
`place_orders`), never from a sensor, which only lists such orders. A provider that
cannot be reached or refuses the credentials is not asked about its other orders in the same pass:
they wait for the next one, and the report says which providers could not be asked, and why.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from harvest.ordering.desks.base import OrderDesk
from harvest.ordering.ledger import Ledger, OrderRow
from harvest.ordering.ledger.states import OrderState
from harvest.ordering.model import ProviderOrder, ProviderStatus
from harvest.ordering.placing import Outcome, Placer
from harvest.providers.errors import AuthenticationError, ProviderError, TransportError

TRACKER = "tracker"
# troubles that say nothing about one order but that the provider cannot be asked about any right now
PROVIDER_DOWN: tuple[type[ProviderError], ...] = (TransportError, AuthenticationError)
# placements that asked the provider something
_ASKED = frozenset({Outcome.PLACED, Outcome.RECONCILED, Outcome.FAILED, Outcome.UNKNOWN, Outcome.NOT_SENT})


@dataclass
class TrackReport:
    """What one pass over the open orders found."""

    delivered: list[str] = field(default_factory=list)  # keys newly delivered: their files can be landed
    failed: list[str] = field(default_factory=list)
    reconciled: list[str] = field(default_factory=list)  # found at the provider after an interrupted placement
    left_placing: list[str] = field(default_factory=list)  # left `placing`, not reconciled in this pass (no placer)
    waiting: int = 0  # still being produced (or still unknown)
    problems: list[str] = field(default_factory=list)  # orders that could not be followed, and why
    answered: set[str] = field(default_factory=set)  # providers that answered at least one question
    troubles: dict[str, str] = field(default_factory=dict)  # provider -> why a question to it got no answer (first)

    def describe(self) -> str:
        return (
            f"{len(self.delivered)} delivered, {len(self.failed)} failed, {len(self.reconciled)} reconciled, "
            f"{self.waiting} waiting" + (f"; {len(self.problems)} problem(s)" if self.problems else "")
        )

    def unreachable(self) -> dict[str, str]:
        """The providers that answered no question of this pass, and why."""
        return {provider: why for provider, why in self.troubles.items() if provider not in self.answered}

    def nobody_answered(self) -> bool:
        """Whether providers were asked about open orders and not one of them answered."""
        return bool(self.troubles) and not self.answered


def track(ledger: Ledger, desk_for: Callable[[str], OrderDesk], placer: Placer | None = None) -> TrackReport:
    """One pass over every open order of the ledger.

    Without a `placer` (a sensor: it detects, runs act) orders left `placing` are only listed in
    `left_placing`, for a placement run to reconcile; with one (a run) they are reconciled here.
    """
    report = TrackReport()
    down: dict[str, str] = {}  # providers not asked again in this pass, and why
    for order in ledger.orders(states=[OrderState.PLACING]):
        if placer is None:
            report.left_placing.append(order.key)
            report.waiting += 1
            continue
        if _skipped(report, down, order):
            continue
        try:
            placement = placer.place(order.key)
        except ProviderError as trouble:  # its desk could not be opened
            _no_answer(report, down, order, trouble, str(trouble))
            report.waiting += 1
            continue
        if placement.outcome in (Outcome.RECONCILED, Outcome.PLACED):
            report.reconciled.append(order.key)
        elif placement.outcome is Outcome.FAILED:
            report.failed.append(order.key)
        elif placement.outcome is not Outcome.NOT_SENT:  # not sent: approved again, no longer open
            report.waiting += 1
        if placement.trouble is not None:
            _no_answer(report, down, order, placement.trouble, placement.message)
        elif placement.outcome in _ASKED:
            report.answered.add(order.provider)
    for order in ledger.orders(states=[OrderState.PLACED]):
        if _skipped(report, down, order):
            continue
        assert order.provider_order_id is not None
        known = ProviderOrder(order.provider, order.provider_order_id, order.provider_status or ProviderStatus.ACCEPTED)
        try:
            current = desk_for(order.provider).status(known)
        except ProviderError as trouble:
            _no_answer(report, down, order, trouble, str(trouble))
            report.waiting += 1
            continue
        report.answered.add(order.provider)
        if current.status is ProviderStatus.DELIVERED and not current.deliverables:
            report.problems.append(f"{order.key}: {order.provider} says delivered but lists no file yet")
            report.waiting += 1
        elif current.status is ProviderStatus.DELIVERED:
            ledger.delivered(order.key, current.deliverables, actor=TRACKER)
            report.delivered.append(order.key)
        elif current.status is ProviderStatus.FAILED:
            ledger.status(order.key, current.status, current.detail or "failed at the provider", actor=TRACKER)
            report.failed.append(order.key)
        else:
            report.waiting += 1
    return report


def _no_answer(report: TrackReport, down: dict[str, str], order: OrderRow, trouble: ProviderError, text: str) -> None:
    """Record that the provider could not be asked about `order`; one that is down is not asked again this pass."""
    report.problems.append(f"{order.key}: {text}")
    report.troubles.setdefault(order.provider, str(trouble))
    if isinstance(trouble, PROVIDER_DOWN):
        down.setdefault(order.provider, str(trouble))


def _skipped(report: TrackReport, down: dict[str, str], order: OrderRow) -> bool:
    """Whether `order` waits for the next pass because its provider is down (and say so)."""
    if order.provider not in down:
        return False
    report.problems.append(f"{order.key}: not asked, {order.provider} could not be asked in this pass (see above)")
    report.waiting += 1
    return True
