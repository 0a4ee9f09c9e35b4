"""Placing approved orders exactly once, within budget.

For each approved order: reserve its spend in the ledger (the budget check and the reservation are
one transaction), ask the provider whether it already holds an order for this key (a crashed run,
a lost answer), and only then send the order. When the provider's answer is lost
(`OutcomeUnknown`), the provider is asked again before anything is re-sent; a provider that cannot
show undelivered orders (OneAtlas order.api archive orders) leaves the order `placing` until the
tracker finds it. When nothing can have reached the provider's orders — it could not be asked
before anything was sent, or it turned the order away unread (no connection, credentials refused,
rate limited) — the reservation is given back at once and the order is approved again, to be tried
a lease later (`resting`); a refusal of the order itself fails it. Against a live provider nothing
is bought without `HARVEST_ALLOW_SPEND=1`: the placement is a dry run that says what it would have
bought and for how much.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from harvest.ordering.desks.base import OrderDesk, OrderingError
from harvest.ordering.ledger import Budgets, Ledger, OrderRow
from harvest.ordering.ledger.budgets import month_of
from harvest.ordering.ledger.errors import AlreadyOrdered, BudgetExceeded, LedgerError, UnknownOrder
from harvest.ordering.ledger.ledger import NOT_SENT_EVENT, utc_now
from harvest.ordering.ledger.states import OrderState
from harvest.ordering.model import OrderRequest, ProviderOrder
from harvest.providers.errors import (
    AuthenticationError,
    ClientError,
    OutcomeUnknown,
    ProviderError,
    RateLimited,
    TransportError,
)

log = logging.getLogger(__name__)

ALLOW_SPEND_VARIABLE = "HARVEST_ALLOW_SPEND"
# a `placing` order untouched this long was left by a run that stopped: another run may take it over
PLACING_LEASE = timedelta(minutes=15)
# after a lost answer: how often the provider is asked for the order, and the pause between asks
FIND_ATTEMPTS = 3
FIND_PAUSE_S = 1.0
# how many times one placement may send the order (each after the provider said it holds none)
SEND_ATTEMPTS = 3
# a send that fails with one of these never reached the order (not connected, credentials or rate refused)
NOT_PROCESSED: tuple[type[ProviderError], ...] = (TransportError, AuthenticationError, RateLimited)


def resting(ledger: Ledger, order: OrderRow, now: datetime) -> bool:
    """Whether an approved order was given back unsent (its provider could not be asked) less than a lease ago."""
    if order.state is not OrderState.APPROVED or now - order.updated_at >= PLACING_LEASE:
        return False
    history = ledger.events(order.key)
    return bool(history) and history[-1].kind == NOT_SENT_EVENT


def due_for_placing(ledger: Ledger, now: datetime) -> list[OrderRow]:
    """Orders a placement run should take up now, by key.

    Approved orders (but those given back unsent less than a lease ago: `resting`), and orders left
    `placing` longer than a lease, whose run stopped: the run reconciles them with the provider.
    """
    approved = [order for order in ledger.orders(states=[OrderState.APPROVED]) if not resting(ledger, order, now)]
    left = [order for order in ledger.orders(states=[OrderState.PLACING]) if now - order.updated_at >= PLACING_LEASE]
    return sorted([*approved, *left], key=lambda order: order.key)


def spending_allowed(env: Mapping[str, str] | None = None) -> bool:
    """Whether HARVEST_ALLOW_SPEND=1 allows buying from live providers."""
    env = os.environ if env is None else env
    return env.get(ALLOW_SPEND_VARIABLE, "").strip().lower() in ("1", "true", "yes")


class Outcome(StrEnum):
    """What one placement did."""

    PLACED = "placed"  # the provider accepted it now
    RECONCILED = "reconciled"  # the provider already held it (an earlier, interrupted attempt)
    DRY_RUN = "dry_run"  # a live provider without HARVEST_ALLOW_SPEND=1: nothing bought
    OVER_BUDGET = "over_budget"  # the AOI's or the overall monthly budget refused it
    NOT_APPROVED = "not_approved"  # nobody approved it (or it was rejected, or it failed before)
    ALREADY_ORDERED = "already_ordered"  # placed before: nothing to do
    IN_PROGRESS = "in_progress"  # another run is placing it right now
    UNKNOWN = "unknown"  # sent, the answer lost, and the provider cannot show it yet: the tracker will
    FAILED = "failed"  # the provider refused it; its spend is released
    NOT_SENT = "not_sent"  # nothing reached the provider's orders: its spend is released, it stays approved


@dataclass(frozen=True)
class Placement:
    """One placement's outcome, for people and metadata."""

    key: str
    provider: str
    scene_id: str
    aoi_id: str
    outcome: Outcome
    message: str
    provider_order_id: str | None = None
    trouble: ProviderError | None = None  # what kept the provider from answering, when that is what happened

    def line(self) -> str:
        return f"{self.key} {self.provider}/{self.scene_id} @ {self.aoi_id}: {self.outcome} — {self.message}"


def _price(order: OrderRow) -> str:
    return f"{order.quote.amount} {order.quote.unit}"


class Placer:
    """Places approved orders from the ledger through the providers' order desks."""

    def __init__(
        self,
        ledger: Ledger,
        desk_for: Callable[[str], OrderDesk],
        budgets: Budgets,
        *,
        allow_spend: bool,
        actor: str = "harvest",
        clock: Callable[[], datetime] = utc_now,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.ledger = ledger
        self.desk_for = desk_for
        self.budgets = budgets
        self.allow_spend = allow_spend
        self.actor = actor
        self.clock = clock
        self.sleep = sleep

    def place(self, key: str) -> Placement:
        """Place one order, at most once, whatever happened to earlier attempts."""
        order = self.ledger.get(key)
        if order is None:
            raise UnknownOrder(key)
        if order.state in (OrderState.PLACED, OrderState.DELIVERED, OrderState.LANDED):
            return self._outcome(order, Outcome.ALREADY_ORDERED, f"{order.state} as {order.provider_order_id}")
        if order.state is OrderState.PLACING:
            claimed = self.ledger.claim(key, idle_since=self.clock() - PLACING_LEASE, actor=self.actor)
            if claimed is None:
                return self._outcome(order, Outcome.IN_PROGRESS, "another run is placing it")
            return self._settle(claimed, self.desk_for(order.provider), resumed=True)
        if order.state is not OrderState.APPROVED:
            return self._outcome(order, Outcome.NOT_APPROVED, f"it is {order.state}; approve it first")
        desk = self.desk_for(order.provider)
        if not desk.sandbox and not self.allow_spend:
            message = f"would buy it for {_price(order)} from {desk.describe()}; set {ALLOW_SPEND_VARIABLE}=1 to buy"
            self.ledger.note(key, "dry_run", actor=self.actor, detail={"message": message})
            return self._outcome(order, Outcome.DRY_RUN, message)
        try:
            order = self.ledger.reserve(key, budgets=self.budgets, month=month_of(self.clock()), actor=self.actor)
        except BudgetExceeded as refusal:
            return self._outcome(order, Outcome.OVER_BUDGET, str(refusal))
        except AlreadyOrdered:
            return self._outcome(order, Outcome.IN_PROGRESS, "another run reserved it first")
        return self._settle(order, desk)

    def _settle(self, order: OrderRow, desk: OrderDesk, *, resumed: bool = False) -> Placement:
        """Send a reserved order; if the provider cannot be asked about it, it stays `placing` for later.

        A `resumed` order (left placing by an earlier run) may already be at a provider that shows
        orders only once delivered: it is looked for, never sent again, until it shows up.
        """
        try:
            if resumed and not desk.finds_undelivered:
                held = desk.find(order.request())
                if held is not None:
                    return self._record(order, held, Outcome.RECONCILED)
                message = f"may have reached {order.provider}, which shows it only once delivered: still looking"
                return self._outcome(order, Outcome.UNKNOWN, message)
            return self._send(order, desk, resumed=resumed)
        except (ProviderError, ClientError, LedgerError) as trouble:  # ClientError: e.g. the offer changed since
            message = f"could not settle it ({trouble}); left placing, the next run reconciles it"
            return self._outcome(order, Outcome.UNKNOWN, message, trouble=_provider_error(trouble))

    def _send(self, order: OrderRow, desk: OrderDesk, *, resumed: bool = False) -> Placement:
        """With the spend reserved: reconcile, then send, never twice.

        Until a send may have reached the provider (never, for an order `resumed` from an earlier
        run), a provider that cannot be asked costs nothing: the spend is given back at once.
        """
        request = order.request()
        unsent = not resumed
        for _ in range(SEND_ATTEMPTS):
            try:
                held = desk.find(request)
            except (ProviderError, ClientError) as trouble:
                if not unsent:
                    raise
                return self._not_sent(order, trouble)
            if held is not None:
                return self._record(order, held, Outcome.RECONCILED)
            try:
                accepted = desk.place(request, order.quote)
            except OutcomeUnknown as lost:
                unsent = False
                self.ledger.note(order.key, "outcome_unknown", actor=self.actor, detail={"error": str(lost)})
                held = self._look_for(desk, request)
                if held is not None:
                    return self._record(order, held, Outcome.RECONCILED)
                if not desk.finds_undelivered:
                    message = (
                        f"the answer was lost and {order.provider} shows orders only once delivered: "
                        "left placing, the tracker reconciles it"
                    )
                    return self._outcome(order, Outcome.UNKNOWN, message)
                continue  # the provider holds no such order: sending again cannot buy it twice
            except NOT_PROCESSED as unread:
                return self._not_sent(order, unread)
            except (ProviderError, OrderingError) as refusal:  # OrderingError: refused before anything was sent
                self.ledger.failed(order.key, str(refusal), actor=self.actor)
                return self._outcome(order, Outcome.FAILED, str(refusal))
            return self._record(order, accepted, Outcome.PLACED)
        message = f"{SEND_ATTEMPTS} answers lost in a row; left placing, the next run reconciles it"
        return self._outcome(order, Outcome.UNKNOWN, message)

    def _not_sent(self, order: OrderRow, trouble: Exception) -> Placement:
        """Nothing reached the provider's orders: give the spend back now; the order stays approved for a later run."""
        if self.ledger.release(order.key, str(trouble), held_since=order.updated_at, actor=self.actor) is None:
            return self._outcome(order, Outcome.IN_PROGRESS, "another run took it over")
        message = f"not sent ({trouble}); its spend is given back and it stays approved for a later run"
        return self._outcome(order, Outcome.NOT_SENT, message, trouble=_provider_error(trouble))

    def _look_for(self, desk: OrderDesk, request: OrderRequest) -> ProviderOrder | None:
        for attempt in range(FIND_ATTEMPTS):
            if attempt:
                self.sleep(FIND_PAUSE_S * attempt)
            held = desk.find(request)
            if held is not None:
                return held
        return None

    def _record(self, order: OrderRow, held: ProviderOrder, outcome: Outcome) -> Placement:
        self.ledger.placed(order.key, held.order_id, raw=held.raw, actor=self.actor)
        message = f"{held.order_id} ({held.detail or held.status}) for {_price(order)}"
        return self._outcome(order, outcome, message, held.order_id)

    def _outcome(
        self,
        order: OrderRow,
        outcome: Outcome,
        message: str,
        provider_order_id: str | None = None,
        *,
        trouble: ProviderError | None = None,
    ) -> Placement:
        placement = Placement(
            order.key,
            order.provider,
            order.scene_id,
            order.aoi_id,
            outcome,
            message,
            provider_order_id or order.provider_order_id,
            trouble,
        )
        log.info("%s", placement.line())
        return placement


def _provider_error(trouble: Exception) -> ProviderError | None:
    return trouble if isinstance(trouble, ProviderError) else None
