"""Following open orders: ask each provider where its orders stand and write the answers to the ledger.

A placed order is asked about until it is delivered (its files listed in the ledger, ready to land)
or fails (its spend released). An order left `placing` by an interrupted run is handed back to the
placer, which reconciles it with the provider before anything is sent again.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from harvest.ordering.desks.base import OrderDesk
from harvest.ordering.ledger import Ledger
from harvest.ordering.ledger.states import OrderState
from harvest.ordering.model import ProviderOrder, ProviderStatus
from harvest.ordering.placing import Outcome, Placer
from harvest.providers.errors import ProviderError

TRACKER = "tracker"


@dataclass
class TrackReport:
    """What one pass over the open orders found."""

    delivered: list[str] = field(default_factory=list)  # keys newly delivered: their files can be landed
    failed: list[str] = field(default_factory=list)
    reconciled: list[str] = field(default_factory=list)  # found at the provider after an interrupted placement
    waiting: int = 0  # still being produced (or still unknown)
    problems: list[str] = field(default_factory=list)  # providers that could not be asked

    def describe(self) -> str:
        return (
            f"{len(self.delivered)} delivered, {len(self.failed)} failed, {len(self.reconciled)} reconciled, "
            f"{self.waiting} waiting" + (f"; {len(self.problems)} problem(s)" if self.problems else "")
        )


def track(ledger: Ledger, desk_for: Callable[[str], OrderDesk], placer: Placer) -> TrackReport:
    """One pass over every open order of the ledger."""
    report = TrackReport()
    for order in ledger.orders(states=[OrderState.PLACING]):
        placement = placer.place(order.key)
        if placement.outcome in (Outcome.RECONCILED, Outcome.PLACED):
            report.reconciled.append(order.key)
        else:
            report.waiting += 1
    for order in ledger.orders(states=[OrderState.PLACED]):
        desk = desk_for(order.provider)
        assert order.provider_order_id is not None
        known = ProviderOrder(order.provider, order.provider_order_id, order.provider_status or ProviderStatus.ACCEPTED)
        try:
            current = desk.status(known)
        except ProviderError as trouble:
            report.problems.append(f"{order.key}: {trouble}")
            report.waiting += 1
            continue
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
