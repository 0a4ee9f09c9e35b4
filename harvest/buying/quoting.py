"""From quoted candidates to ledger decisions: every quote recorded, the best offer per AOI approved or queued.

Per AOI (and per batch of candidates, i.e. per acquisition day), the best-ranked offer with a quote
is the one to buy: approved automatically when its price is under the AOI's auto-approval threshold,
otherwise left awaiting a person (`harvest orders approve KEY`). Every other quoted offer stays
`quoted`, so a person can still choose it instead.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from pathlib import Path

import pyarrow as pa

from harvest.aois import Aoi
from harvest.buying.candidates import attach_quotes, order_requests, select_candidates, write_candidates
from harvest.buying.policy import PolicySet
from harvest.ordering.desks.base import OrderDesk
from harvest.ordering.ledger import Budgets, Ledger, OrderRow
from harvest.ordering.ledger.states import ORDERED, UNDECIDED, OrderState
from harvest.ordering.model import Quote, Unit

AUTO = "auto"


def budgets_from(policies: PolicySet) -> Budgets:
    """The ledger's budgets from the policies (a unit without an overall cap is capped by the AOIs' sum)."""
    per_aoi = {aoi_id: dict(policy.monthly_budget) for aoi_id, policy in policies.enabled().items()}
    overall: dict[Unit, Decimal] = {}
    for unit in Unit:
        cap = policies.overall.budget(unit)
        overall[unit] = (
            cap if cap is not None else sum((limits.get(unit, Decimal(0)) for limits in per_aoi.values()), Decimal(0))
        )
    return Budgets(overall=overall, per_aoi=per_aoi)


def ordered_scenes(ledger: Ledger) -> Callable[[str, str], bool]:
    """The `owned` predicate of candidate selection: scenes ordered, on their way or landed (owned)."""
    taken = {(order.provider, order.scene_id) for order in ledger.orders(states=ORDERED)}
    return lambda provider, scene_id: (provider, scene_id) in taken


def candidates_path(root: Path, day: date) -> Path:
    """Where a day's ranked, quoted candidates land under the data directory."""
    return root / "orders" / "candidates" / f"{day.isoformat()}.parquet"


@dataclass(frozen=True)
class DayQuotes:
    """One acquisition day's candidates, quotes and decisions."""

    day: date
    path: Path
    candidates: int
    quote_errors: int
    cheapest: int  # offers marked the cheapest of their acquisition
    excluded: dict[str, int]
    decisions: list[Decision]


def quote_day(
    scenes: pa.Table,
    day: date,
    aois: Sequence[Aoi],
    policies: PolicySet,
    ledger: Ledger,
    desks: Callable[[str], OrderDesk],
    root: Path,
    *,
    actor: str,
) -> DayQuotes:
    """Select a day's candidates from its unified catalog rows, quote them, land them, and decide."""
    selected, summary = select_candidates(scenes, aois, policies, owned=ordered_scenes(ledger))
    rates = policies.overall.rates
    quoted = attach_quotes(selected, lambda request: desks(request.provider).quote(request), rates=rates)
    path = write_candidates(quoted, candidates_path(root, day))
    decisions = record_and_decide(ledger, quoted, policies, actor=actor)
    errors = sum(1 for error in quoted.column("quote_error").to_pylist() if error)
    cheapest = sum(1 for mark in quoted.column("cheapest").to_pylist() if mark)
    return DayQuotes(day, path, len(quoted), errors, cheapest, summary.excluded, decisions)


@dataclass(frozen=True)
class Decision:
    """What became of one quoted candidate."""

    key: str
    aoi_id: str
    provider: str
    scene_id: str
    amount: Decimal
    unit: Unit
    state: OrderState
    by: str


def record_and_decide(ledger: Ledger, quoted: pa.Table, policies: PolicySet, *, actor: str) -> list[Decision]:
    """Record every quote of `quoted` (candidates after attach_quotes) and decide the best offer of each AOI."""
    decisions: list[Decision] = []
    decided: set[str] = set()
    rows = quoted.select(["aoi_id", "rank", "quote_amount", "quote_unit", "quote_area_km2", "quote_reference"])
    for request, row in sorted(
        zip(order_requests(quoted), rows.to_pylist(), strict=True),
        key=lambda pair: (pair[1]["aoi_id"], pair[1]["rank"]),
    ):
        if row["quote_amount"] is None:
            continue
        quote = Quote(
            request.key,
            Decimal(row["quote_amount"]),
            Unit(row["quote_unit"]),
            row["quote_area_km2"],
            row["quote_reference"],
        )
        order = ledger.record_quote(request, quote, actor=actor)
        if order.aoi_id not in decided and order.state in (*UNDECIDED, OrderState.APPROVED):
            decided.add(order.aoi_id)  # the AOI's best offer: decided now, or already waiting for a person
            if order.state is OrderState.QUOTED:
                order = _decide(ledger, order, policies)
        decisions.append(
            Decision(
                order.key,
                order.aoi_id,
                order.provider,
                order.scene_id,
                quote.amount,
                quote.unit,
                order.state,
                order.approved_by or "",
            )
        )
    return decisions


def _decide(ledger: Ledger, order: OrderRow, policies: PolicySet) -> OrderRow:
    """Approve an AOI's best offer under its threshold, else hold it for a person."""
    quote = order.quote
    threshold = policies.policy(order.aoi_id).auto_approve_below.get(quote.unit)
    if policies.auto_approves(order.aoi_id, quote.amount, quote.unit):
        by = f"{AUTO}: {quote.amount} {quote.unit} is under {order.aoi_id}'s threshold of {threshold}"
        return ledger.approve(order.key, actor=by)
    limit = f"{threshold} {quote.unit}" if threshold is not None else f"none in {quote.unit}"
    reason = f"{quote.amount} {quote.unit} is not under {order.aoi_id}'s auto-approval threshold ({limit})"
    return ledger.await_approval(order.key, actor="harvest", reason=reason)
