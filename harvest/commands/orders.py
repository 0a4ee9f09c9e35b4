"""`harvest orders`: the spend ledger from the terminal: list, quote, approve or reject, place, follow and land orders.

Every command works on the same ledger as the Dagster jobs (HARVEST_DATABASE_URL, else
$HARVEST_DATA_DIR/ledger.sqlite) and the same provider desks (live with credentials in the
environment, else the sandbox at HARVEST_SANDBOX_URL). Results go to stdout; counts, warnings and
progress to stderr. The ledger's URL is only ever shown with its password masked.
"""

from __future__ import annotations

import csv
import getpass
import io
import os
import sys
import tempfile
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click
import orjson

from harvest import registry
from harvest.paths import data_dir
from harvest.timestamps import format_seconds, from_datetime

if TYPE_CHECKING:
    import pyarrow as pa
    from sqlalchemy.engine import URL
    from sqlalchemy.exc import DBAPIError

    from harvest.aois import AoiSet
    from harvest.buying.policy import PolicySet
    from harvest.catalog.store import CatalogStore
    from harvest.delivery.deliverable import Deliverable
    from harvest.ordering.desks.factory import DeskSet
    from harvest.ordering.ledger import Budgets, Ledger, LedgerEvent, OrderRow, OrderState
    from harvest.ordering.placing import Placement
    from harvest.ordering.tracking import TrackReport

LIST_FORMATS = ("table", "csv", "json")
_LIST_HEADER = ("key", "provider", "scene", "aoi", "state", "quote", "approved_by", "provider_order", "updated")
_QUOTE_HEADER = ("day", "rank", "key", "aoi", "provider", "scene", "coverage", "cloud%", "quote", "cheapest",
                 "decision")  # fmt: skip
_SPEND_HEADER = ("aoi", "unit", "spent", "budget", "left")
_RIGHT_ALIGNED = frozenset({"rank", "coverage", "cloud%", "quote", "spent", "budget", "left"})
_RECORD_FIELDS = ("key", "provider", "scene_id", "aoi_id", "state", "quote_amount", "quote_unit", "approved_by",
                  "provider_order_id", "provider_status", "error", "created", "updated")  # fmt: skip
_HIDDEN_DETAIL = frozenset({"raw"})  # provider answers: long, and the event's other fields say what matters
_TOKEN_WIDTH = 48  # longer one-word values of an event (provider quote tokens) are cut in the history


class _StateType(click.ParamType["OrderState", Any]):
    """An order state by name, checked against OrderState when used (the ledger is imported lazily)."""

    name = "state"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> OrderState:
        from harvest.ordering.ledger import OrderState

        try:
            return OrderState(str(value).strip().lower())
        except ValueError:
            self.fail(f"{value!r} is not an order state; use one of {', '.join(OrderState)}", param, ctx)

    def get_metavar(self, param: click.Parameter, ctx: click.Context) -> str:
        from harvest.ordering.ledger import OrderState

        return "[" + "|".join(OrderState) + "]"


@click.group()
def orders() -> None:
    """Orders in the spend ledger: list, quote, approve or reject, place, and follow them to landed files."""


# --- list -----------------------------------------------------------------------------------------


@orders.command("list")
@click.option("--state", "states", multiple=True, type=_StateType(), help="Only orders in this state (repeatable).")
@click.option("--aoi", "aoi_id", metavar="ID", help="Only orders for this AOI.")
@click.option("--provider", type=click.Choice(registry.SELLERS), help="Only this provider's orders.")
@click.option(
    "--format", "output", type=click.Choice(LIST_FORMATS), default="table", show_default=True, help="Output format."
)
def list_orders(states: tuple[OrderState, ...], aoi_id: str | None, provider: str | None, output: str) -> None:
    """Print the ledger's orders, most recently updated first."""
    with _ledger() as ledger:
        found = ledger.orders(states=states or None, aoi_id=aoi_id, provider=provider)
        where = ledger.url
    found.sort(key=lambda order: (order.updated_at, order.key), reverse=True)
    if output == "json":
        click.echo(orjson.dumps([_order_record(order) for order in found], option=orjson.OPT_INDENT_2).decode())
    elif output == "csv":
        click.echo(_orders_csv(found), nl=False)
    elif found:
        click.echo(_table(_LIST_HEADER, [_order_cells(order) for order in found]))
    click.echo(f"{_count(len(found), 'order')} in {where}", err=True)


def _order_cells(order: OrderRow) -> list[str]:
    return [
        order.key,
        order.provider,
        order.scene_id,
        order.aoi_id,
        order.state.value,
        _price(order.quote.amount, order.quote.unit),
        order.approved_by or "",
        order.provider_order_id or "",
        _when(order.updated_at),
    ]


def _order_record(order: OrderRow) -> dict[str, Any]:
    """An order as a JSON-ready dict with the _RECORD_FIELDS (amounts as exact decimal strings)."""
    return {
        "key": order.key,
        "provider": order.provider,
        "scene_id": order.scene_id,
        "aoi_id": order.aoi_id,
        "state": order.state.value,
        "quote_amount": _amount(order.quote.amount),
        "quote_unit": order.quote.unit.value,
        "approved_by": order.approved_by,
        "provider_order_id": order.provider_order_id,
        "provider_status": order.provider_status.value if order.provider_status else None,
        "error": order.error,
        "created": _when(order.created_at),
        "updated": _when(order.updated_at),
    }


def _orders_csv(found: Sequence[OrderRow]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(_RECORD_FIELDS)
    for order in found:
        record = _order_record(order)
        writer.writerow(["" if record[name] is None else record[name] for name in _RECORD_FIELDS])
    return buffer.getvalue()


# --- quote ----------------------------------------------------------------------------------------


@orders.command("quote")
@click.option(
    "--start", required=True, type=click.DateTime(["%Y-%m-%d"]), metavar="YYYY-MM-DD", help="First acquisition day."
)
@click.option(
    "--end", required=True, type=click.DateTime(["%Y-%m-%d"]), metavar="YYYY-MM-DD", help="Last day, included."
)
@click.option("--aoi", "aoi_ids", multiple=True, metavar="ID", help="Only this AOI (repeatable) [default: all].")
def quote(start: datetime, end: datetime, aoi_ids: tuple[str, ...]) -> None:
    """Select, rank and quote the candidates of each day from the unified catalog, and decide the best per AOI.

    The best quoted offer of each AOI and day is approved when under the AOI's auto-approval
    threshold, else it waits for `harvest orders approve KEY`; every quote is recorded in the ledger.
    Exit status 1 when there were candidates and not one could be quoted; candidates some provider
    could not quote are a warning (the others are decided; quoting again asks for them).
    """
    from harvest.buying.candidates import read_candidates
    from harvest.buying.quoting import candidates_path, quote_day
    from harvest.catalog.damage import DamagedFileError
    from harvest.catalog.store import UNIFIED, CatalogStore
    from harvest.harvesting.days import days_between

    first, last = start.date(), end.date()
    if last < first:
        raise click.BadParameter(f"--end {last} is before --start {first}; swap them", param_hint="--end")
    aoi_set = _aoi_set()
    aois = _chosen_aois(aoi_set, aoi_ids)
    policies = _policies(aoi_set)
    enabled = [aoi.id for aoi in aois if aoi.id in policies.enabled()]
    if not enabled:
        click.echo(
            f"warning: no chosen AOI is enabled for ordering in {policies.source or 'the policies'}; "
            "set `enabled: true` in its policy to quote for it",
            err=True,
        )
    store = CatalogStore(data_dir() / "catalog")
    days = days_between(first, last)
    present = [day for day in days if store.path(UNIFIED, day).exists()]
    if not present:
        raise click.ClickException(
            f"the catalog in {store.root} has no unified scene file for {first}..{last}: "
            f"run `harvest backfill --start {first} --end {last}` first (or set HARVEST_DATA_DIR)"
        )
    missing = sorted(set(days) - set(present))
    if missing:
        shown = ", ".join(str(day) for day in missing[:5]) + (" …" if len(missing) > 5 else "")
        click.echo(f"warning: no unified catalog for {len(missing)} day(s) ({shown}): left out", err=True)
    try:
        for day in present:  # a damaged day stops the quote before anything is quoted
            store.check_day(UNIFIED, day)
    except DamagedFileError as exc:
        raise click.ClickException(f"{exc}; nothing was quoted") from exc
    _check_writable(candidates_path(data_dir(), first).parent, "the quoted candidates")
    actor = f"cli: {_user()}"
    rows: list[list[str]] = []
    tally: Counter[str] = Counter()
    excluded: Counter[str] = Counter()
    errors: list[str] = []
    unquoted: dict[str, list[str]] = {}  # provider -> why each of its candidates could not be quoted
    with (
        _ledger() as ledger,
        _desks() as desks,
        click.progressbar(present, label="quoting", file=sys.stderr, item_show_func=_day_text) as bar,
    ):
        for day in bar:
            quotes = quote_day(_unified_day(store, day), day, aois, policies, ledger, desks, data_dir(), actor=actor)
            excluded.update(quotes.excluded)
            tally["candidates"] += quotes.candidates
            tally["quote errors"] += quotes.quote_errors
            decisions = {decision.key: decision for decision in quotes.decisions}
            tally.update(_decision_word(decision.state, decision.by) for decision in decisions.values())
            if quotes.candidates:
                for row in read_candidates(quotes.path).to_pylist():
                    rows.append(_candidate_cells(day, row, decisions))
                    if row["quote_error"]:
                        errors.append(f"{row['order_key']} {row['provider']}/{row['scene_id']}: {row['quote_error']}")
                        unquoted.setdefault(row["provider"], []).append(row["quote_error"])
    if rows:
        click.echo(_table(_QUOTE_HEADER, rows))
    for error in errors:
        click.echo(f"quote error: {error}", err=True)
    if excluded:
        left_out = ", ".join(f"{reason} {count}" for reason, count in sorted(excluded.items()))
        click.echo(f"left out by the policies: {left_out}", err=True)
    quoted = tally["candidates"] - tally["quote errors"]
    click.echo(
        f"{_count(tally['candidates'], 'candidate')} over {_count(len(present), 'day')}: {quoted} quoted, "
        f"{tally['auto-approved']} auto-approved, {tally['awaiting approval']} awaiting approval, "
        f"{tally['quote errors']} quote error(s)"
    )
    if tally["awaiting approval"]:
        click.echo("approve with `harvest orders approve KEY`, or reject with `harvest orders reject KEY`", err=True)
    _quote_verdict(tally["candidates"], unquoted)


def _quote_verdict(candidates: int, unquoted: Mapping[str, Sequence[str]]) -> None:
    """Fail when there were candidates and not one could be quoted; when only some could not, say so per provider."""
    left_out = sum(len(reasons) for reasons in unquoted.values())
    if not left_out:
        return
    per_provider = "; ".join(
        f"{provider}: {len(reasons)} ({reasons[0]})" for provider, reasons in sorted(unquoted.items())
    )
    if left_out < candidates:
        click.echo(
            f"warning: {left_out} of {_count(candidates, 'candidate')} could not be quoted and were left out — "
            f"{per_provider}; quoting again asks for them",
            err=True,
        )
        return
    raise click.ClickException(
        f"not one of the {_count(candidates, 'candidate')} could be quoted — {per_provider}; fix what the providers "
        "say (credentials, URLs, network) and quote again"
    )


def _unified_day(store: CatalogStore, day: date) -> pa.Table:
    """The unified catalog's scenes of a day; a damaged file is a message naming it and the fix."""
    from harvest.catalog.damage import DamagedFileError
    from harvest.catalog.store import UNIFIED

    try:
        return store.read_day(UNIFIED, day)
    except DamagedFileError as exc:
        raise click.ClickException(str(exc)) from exc


def _check_writable(folder: Path, what: str) -> None:
    """Refuse to start when `folder` cannot be created or written in (e.g. a read-only data directory)."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=folder):
            pass
    except OSError as exc:
        raise click.ClickException(
            f"cannot write {what} in {folder}: {exc.strerror or exc}; make it writable for this user, or point "
            "HARVEST_DATA_DIR at a directory harvest can write (nothing was done)"
        ) from None


def _day_text(day: date | None) -> str | None:
    return None if day is None else day.isoformat()


def _decision_word(state: OrderState, by: str) -> str:
    from harvest.buying.quoting import AUTO
    from harvest.ordering.ledger import OrderState

    if state is OrderState.APPROVED:
        return "auto-approved" if by.startswith(AUTO) else "approved"
    return "awaiting approval" if state is OrderState.AWAITING_APPROVAL else state.value


def _candidate_cells(day: date, row: Mapping[str, Any], decisions: Mapping[str, Any]) -> list[str]:
    decision = decisions.get(row["order_key"])
    if row["quote_error"]:
        price, word = "error", "not quoted"
    else:
        price = _price(Decimal(row["quote_amount"]), row["quote_unit"])
        word = _decision_word(decision.state, decision.by) if decision else "-"
    cheapest = {True: "*", False: "", None: "?"}[row["cheapest"]]
    cloud = row["cloud_cover"]
    return [
        day.isoformat(),
        str(row["rank"]),
        row["order_key"],
        row["aoi_id"],
        row["provider"],
        row["scene_id"],
        f"{row['coverage']:.0%}",
        "-" if cloud is None else f"{cloud:.1f}",
        price,
        cheapest,
        word,
    ]


# --- approve, reject ------------------------------------------------------------------------------


@orders.command("approve")
@click.argument("keys", nargs=-1, required=True, metavar="KEY...")
@click.option("--by", "name", metavar="NAME", help="Who approves [default: your login name].")
def approve(keys: tuple[str, ...], name: str | None) -> None:
    """Approve quoted or waiting orders for placing: all of them, or none if any KEY cannot be approved."""
    from harvest.ordering.ledger import LedgerError, OrderState
    from harvest.ordering.ledger.states import UNDECIDED

    actor = f"person: {_user(name)} via cli"
    wanted = list(dict.fromkeys(keys))
    with _ledger() as ledger:
        found = {key: ledger.get(key) for key in wanted}
        problems = [
            _why_not(key, order, "approve", ledger.url)
            for key, order in found.items()
            if order is None or order.state not in {*UNDECIDED, OrderState.APPROVED}
        ]
        if problems:
            raise click.ClickException(
                "nothing was approved:\n  " + "\n  ".join(problems) + "\nfix or leave out these keys and run again"
            )
        done: list[str] = []
        for key, order in found.items():
            assert order is not None
            if order.state is OrderState.APPROVED:
                click.echo(f"{_describe(order)}: already approved by {order.approved_by}")
                continue
            try:
                approved = ledger.approve(key, actor=actor)
            except LedgerError as exc:  # it changed since it was checked (another process)
                so_far = f" ({len(done)} approved before it: {', '.join(done)})" if done else ""
                raise click.ClickException(f"{exc}{so_far}") from exc
            done.append(key)
            click.echo(f"{_describe(approved)}: approved by {actor}")
    click.echo(f"{_count(len(done), 'order')} approved; place them with `harvest orders place`", err=True)


@orders.command("reject")
@click.argument("key")
@click.option("--reason", required=True, help="Why (kept in the order's history).")
@click.option("--by", "name", metavar="NAME", help="Who rejects [default: your login name].")
def reject(key: str, reason: str, name: str | None) -> None:
    """Reject an order that has not been placed: it is never placed."""
    from harvest.ordering.ledger import LedgerError, OrderState
    from harvest.ordering.ledger.states import UNDECIDED

    if not reason.strip():
        raise click.BadParameter("say why the order is rejected, e.g. --reason 'too cloudy over the port'")
    actor = f"person: {_user(name)} via cli"
    with _ledger() as ledger:
        order = ledger.get(key)
        if order is None or order.state not in {*UNDECIDED, OrderState.APPROVED, OrderState.REJECTED}:
            raise click.ClickException(_why_not(key, order, "reject", ledger.url))
        try:
            rejected = ledger.reject(key, actor=actor, reason=reason.strip())
        except LedgerError as exc:  # it changed since it was checked (another process)
            raise click.ClickException(str(exc)) from exc
    click.echo(f"{_describe(rejected)}: {rejected.error}")


def _describe(order: OrderRow) -> str:
    """An order in one line: key, provider/scene @ AOI and its price."""
    price = _price(order.quote.amount, order.quote.unit)
    return f"{order.key} {order.provider}/{order.scene_id} @ {order.aoi_id} for {price}"


def _why_not(key: str, order: OrderRow | None, action: str, where: str) -> str:
    """Why `action` cannot be done to an order, and what to do instead."""
    from harvest.ordering.ledger import OrderState

    if order is None:
        return f"{key}: no such order in {where}; list them with `harvest orders list`"
    hints = {
        OrderState.REJECTED: "a rejection stands",
        OrderState.FAILED: "quote it again with `harvest orders quote` first",
    }
    hint = hints.get(order.state, "it has already been sent to its provider")
    return f"{key}: cannot {action} it, it is {order.state.value}; {hint}"


# --- place ----------------------------------------------------------------------------------------


@orders.command("place")
@click.argument("keys", nargs=-1, metavar="[KEY]...")
@click.option("--limit", type=click.IntRange(min=1), help="Place at most this many orders.")
def place(keys: tuple[str, ...], limit: int | None) -> None:
    """Place the approved orders given (default: every approved order), within budget and never twice.

    Against a live provider nothing is bought unless HARVEST_ALLOW_SPEND=1: the placement is a dry
    run that says what it would have bought and for how much. Exit status: 1 when a placement
    FAILED (the provider refused it), was NOT_SENT (the provider could not be asked or turned it
    away unread: its spend is given back, it stays approved) or a desk could not be opened; 0
    otherwise, including orders over budget, not approved, dry runs and orders whose outcome is
    still unknown (left `placing`: `harvest orders status --refresh` reconciles them with the provider).
    """
    from harvest.buying.quoting import budgets_from
    from harvest.ordering.ledger import OrderState
    from harvest.ordering.placing import ALLOW_SPEND_VARIABLE, Outcome, Placer, spending_allowed
    from harvest.providers.errors import ClientError, ProviderError

    policies = _policies(_aoi_set())
    with _ledger() as ledger, _desks() as desks:
        if keys:
            wanted = list(dict.fromkeys(keys))
            unknown = [key for key in wanted if ledger.get(key) is None]
            if unknown:
                raise click.ClickException(
                    f"no order {', '.join(unknown)} in {ledger.url}; list them with `harvest orders list` "
                    "(nothing was placed)"
                )
        else:
            wanted = [order.key for order in ledger.orders(states=[OrderState.APPROVED])]
        wanted = wanted[:limit] if limit else wanted
        if not wanted:
            click.echo("no approved order to place", err=True)
            return
        placer = Placer(ledger, desks, budgets_from(policies), allow_spend=spending_allowed(), actor=f"cli: {_user()}")
        placements: list[Placement] = []
        broken: list[str] = []
        for key in wanted:
            try:
                placement = placer.place(key)
            except (ProviderError, ClientError) as exc:  # a desk that cannot be opened (configuration, auth)
                broken.append(key)
                click.echo(f"{key}: not placed: {exc}", err=True)
                continue
            placements.append(placement)
            click.echo(placement.line())
        dry = [
            (order, desks(order.provider).describe())
            for placement in placements
            if placement.outcome is Outcome.DRY_RUN and (order := ledger.get(placement.key)) is not None
        ]
    outcomes = Counter(placement.outcome for placement in placements)
    summary = ", ".join(f"{count} {outcome.value}" for outcome, count in sorted(outcomes.items()))
    errors = f", {len(broken)} error(s)" if broken else ""
    click.echo(f"{_count(len(wanted), 'order')}: {summary or 'none placed'}{errors}")
    if dry:
        click.echo(_dry_run_report(dry, ALLOW_SPEND_VARIABLE))
    if outcomes[Outcome.UNKNOWN]:
        click.echo("orders left placing are reconciled by `harvest orders status --refresh`", err=True)
    if outcomes[Outcome.FAILED] or outcomes[Outcome.NOT_SENT] or broken:
        failed = outcomes[Outcome.FAILED] + outcomes[Outcome.NOT_SENT] + len(broken)
        raise click.ClickException(f"{_count(failed, 'order')} could not be placed (see above)")


def _dry_run_report(dry: Sequence[tuple[OrderRow, str]], variable: str) -> str:
    """What a dry run would have bought, from whom and for how much, and what to set to buy it."""
    from harvest.ordering.model import Unit

    lines = [
        f"DRY RUN: {variable} is not 1, so nothing was bought from live providers. It would have bought:",
        *(f"  {order.key} {order.provider}/{order.scene_id} @ {order.aoi_id} for "
          f"{_price(order.quote.amount, order.quote.unit)} from {desk}" for order, desk in dry),
    ]  # fmt: skip
    totals = {unit: sum((o.quote.amount for o, _ in dry if o.quote.unit == unit), Decimal(0)) for unit in Unit}
    spent = " + ".join(_price(amount, unit) for unit, amount in totals.items() if amount)
    lines.append(f"  in all: {_count(len(dry), 'order')} for {spent or '0'}")
    lines.append(f"Set {variable}=1 to buy them.")
    return "\n".join(lines)


# --- status ---------------------------------------------------------------------------------------


@orders.command("status")
@click.argument("key", required=False)
@click.option("--refresh", is_flag=True, help="First ask the providers where open orders stand (one tracking pass).")
@click.option("--land", "landing", is_flag=True, help="Download and verify delivered orders (only KEY's, if given).")
@click.option("--month", metavar="YYYY-MM", help="The month whose spend is shown [default: this month, UTC].")
def status(key: str | None, refresh: bool, landing: bool, month: str | None) -> None:
    """Orders per state and this month's spend against the budgets; with KEY, that order and its history.

    Exit status 1 when an order could not be landed, or when --refresh could not ask one provider
    that has open orders where they stand.
    """
    from harvest.ordering.ledger import month_of
    from harvest.ordering.ledger.budgets import check_month

    try:
        month = check_month(month) if month else month_of(datetime.now(UTC))
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--month") from exc
    aoi_set = _aoi_set()
    budgets = _budgets(aoi_set)
    failed_landings = 0
    tracked: TrackReport | None = None
    with _ledger() as ledger:
        if key is not None and ledger.get(key) is None:
            raise click.ClickException(f"no order {key} in {ledger.url}; list them with `harvest orders list`")
        if refresh or landing:
            with _desks() as desks:
                if refresh:
                    tracked = _track(ledger, desks, budgets)
                if landing:
                    failed_landings = _land_delivered(ledger, desks, key)
        if key is None:
            click.echo(_summary(ledger, budgets, month))
        else:
            order = ledger.get(key)
            assert order is not None
            click.echo(_order_detail(order, ledger.events(key), [f.path for f in ledger.files(key)]))
    if tracked is not None and tracked.nobody_answered():
        raise click.ClickException(_unreachable(tracked))
    if failed_landings:
        raise click.ClickException(f"{_count(failed_landings, 'order')} could not be landed (see above); run again")


def _budgets(aoi_set: AoiSet) -> Budgets | None:
    """The budgets from the policies, or None (with a warning) when the policy file cannot be used."""
    from harvest.buying.policy import PolicyError, load_policies
    from harvest.buying.quoting import budgets_from

    try:
        return budgets_from(load_policies(aoi_set))
    except PolicyError as exc:
        click.echo(f"warning: budgets unknown, the ordering policies cannot be used: {exc}", err=True)
        return None


def _track(ledger: Ledger, desks: DeskSet, budgets: Budgets | None) -> TrackReport:
    """One tracking pass; what it found goes to stderr."""
    from harvest.ordering.ledger import Budgets
    from harvest.ordering.placing import Placer, spending_allowed
    from harvest.ordering.tracking import track
    from harvest.providers.errors import ClientError, ProviderError

    # tracking only reconciles orders whose spend is already reserved: without budgets nothing new is reserved
    placer = Placer(ledger, desks, budgets or Budgets(overall={}), allow_spend=spending_allowed(), actor="tracker")
    try:
        report = track(ledger, desks, placer)
    except (ProviderError, ClientError) as exc:  # a desk that cannot be opened (configuration)
        raise click.ClickException(f"cannot follow the open orders: {exc}") from exc
    for problem in report.problems:
        click.echo(f"warning: {problem}", err=True)
    click.echo(f"tracking: {report.describe()}", err=True)
    return report


def _unreachable(report: TrackReport) -> str:
    """Which providers could not be asked about their open orders, and why."""
    named = "; ".join(f"{provider}: {why.rstrip('. ')}" for provider, why in sorted(report.unreachable().items()))
    return (
        f"no provider with open orders could be asked where they stand — {named}; fix that (network, URLs, "
        "credentials) and run `harvest orders status --refresh` again"
    )


def _land_delivered(ledger: Ledger, desks: DeskSet, key: str | None) -> int:
    """Land every delivered order (or only `key`) with a byte progress bar; the number that failed."""
    from harvest.delivery.limits import size_limit
    from harvest.ordering.landing import failure_message, land
    from harvest.ordering.ledger import OrderState

    try:
        limit = size_limit()
    except ValueError as exc:
        raise click.ClickException(str(exc)) from exc
    ready = [order for order in ledger.orders(states=[OrderState.DELIVERED]) if key is None or order.key == key]
    if not ready:
        own = ledger.get(key) if key is not None else None
        click.echo(f"{key} is {own.state.value}: nothing to land" if own else "nothing delivered to land", err=True)
    failures = 0
    for order in ready:
        total = sum(item.size or 0 for item in order.deliverables)
        label = f"landing {order.key} ({_count(len(order.deliverables), 'file')})"
        with click.progressbar(length=total, label=label, file=sys.stderr) as bar:
            try:
                progress = _bytes_to(bar.update)
                landed = land(
                    ledger, order.key, desks(order.provider), data_dir(), on_progress=progress, size_limit=limit
                )
            except Exception as exc:  # whatever stops one order, the others still land
                failures += 1
                click.echo(f"\n{order.key}: not landed: {failure_message(exc)}", err=True)
                continue
        moved = f", {landed.bytes_transferred:,} transferred now" if landed.bytes_transferred != landed.size else ""
        click.echo(
            f"landed {order.key}: {_count(len(landed.files), 'file')}, {landed.size:,} bytes{moved} in {landed.folder}"
        )
    return failures


def _bytes_to(advance: Callable[[int], None]) -> Callable[[str, int, int | None], None]:
    """An `on_progress(name, done, total)` that advances a bar by the bytes done since the last call per file."""
    seen: dict[str, int] = {}

    def progress(name: str, done: int, total: int | None) -> None:
        advance(max(done - seen.get(name, 0), 0))
        seen[name] = done

    return progress


def _summary(ledger: Ledger, budgets: Budgets | None, month: str) -> str:
    """Orders per state, then the month's spend per AOI and unit against the budgets."""
    from harvest.ordering.ledger import OrderState
    from harvest.ordering.model import Unit

    everything = ledger.orders()
    per_state = Counter(order.state for order in everything)
    lines = [f"ledger {ledger.url}: {_count(len(everything), 'order')}"]
    lines.extend(f"  {state.value:<18} {per_state[state]:>6}" for state in OrderState)
    aoi_ids = sorted({order.aoi_id for order in everything} | set(budgets.per_aoi if budgets else ()))
    rows = []
    for aoi_id in [*aoi_ids, None]:
        limits = (budgets.overall if aoi_id is None else budgets.per_aoi.get(aoi_id, {})) if budgets else {}
        for unit in Unit:
            spent = ledger.spent(month, unit=unit, aoi_id=aoi_id)
            limit = limits.get(unit)
            if not spent and not limit:
                continue
            left = "-" if limit is None else _amount(limit - spent)
            budget = "-" if limit is None else _amount(limit)
            rows.append([aoi_id or "(overall)", unit.value, _amount(spent), budget, left])
    lines.append("")
    lines.append(f"spend in {month} (reserved and settled):")
    lines.append(_table(_SPEND_HEADER, rows) if rows else "  nothing spent and no budget set")
    return "\n".join(lines)


def _order_detail(order: OrderRow, events: Sequence[LedgerEvent], files: Sequence[str]) -> str:
    """One order's fields and its history, oldest event first."""
    from harvest.providers.secrets import redact

    fields = [
        ("key", order.key),
        ("provider", order.provider),
        ("scene", order.scene_id),
        ("aoi", order.aoi_id),
        ("options", orjson.dumps(dict(order.options), option=orjson.OPT_SORT_KEYS).decode()),
        ("acquired", _when(order.acquired)),
        ("state", order.state.value),
        ("quote", f"{_price(order.quote.amount, order.quote.unit)}, quoted {_when(order.quoted_at)}"),
        ("approved", f"by {order.approved_by} at {_when(order.approved_at)}" if order.approved_by else ""),
        ("month", order.month or ""),
        ("provider order", order.provider_order_id or ""),
        ("provider status", order.provider_status.value if order.provider_status else ""),
        ("deliverables", ", ".join(_deliverable(item) for item in order.deliverables)),
        ("landed files", ", ".join(files)),
        ("manifest", order.manifest_path or ""),
        ("error", order.error or ""),
        ("updated", _when(order.updated_at)),
    ]
    lines = [f"{name + ':':<16} {redact(value)}" for name, value in fields if value]
    lines.append("")
    lines.append(f"history ({_count(len(events), 'event')}):")
    lines.extend(
        redact(f"  {_when(event.at)}  {event.kind:<14} {event.actor}  {_detail(event.detail)}".rstrip())
        for event in events
    )
    return "\n".join(lines)


def _deliverable(item: Deliverable) -> str:
    return item.filename + (f" ({item.size:,} bytes)" if item.size is not None else "")


def _detail(detail: Mapping[str, Any]) -> str:
    """An event's detail in one line; provider answers left out, file lists counted."""
    parts = []
    for name, value in detail.items():
        if name in _HIDDEN_DETAIL or value is None or value == []:
            continue
        if name == "deliverables" and isinstance(value, list):
            value = _count(len(value), "file")
        elif isinstance(value, Mapping | list):
            value = orjson.dumps(value).decode()
        text = str(value)
        if len(text) > _TOKEN_WIDTH and not any(char.isspace() for char in text):
            text = text[: _TOKEN_WIDTH - 1] + "…"
        parts.append(f"{name}={text}")
    return " ".join(parts)


# --- shared pieces --------------------------------------------------------------------------------


@contextmanager
def _ledger() -> Iterator[Ledger]:
    """The ledger (migrated to the newest schema), closed afterwards; opening problems as ClickExceptions."""
    from sqlalchemy.exc import DBAPIError

    from harvest.ordering.ledger import Ledger, LedgerError, url_from_env
    from harvest.ordering.ledger.urls import database_url, display

    try:
        url = database_url(url_from_env())
        ledger = Ledger.open(url.render_as_string(hide_password=False))
    except LedgerError as exc:
        raise click.ClickException(str(exc)) from exc
    except DBAPIError as exc:
        check = (
            "check that its disk has space and can be written, or point HARVEST_DATA_DIR (or HARVEST_DATABASE_URL) "
            "elsewhere"
            if url.get_backend_name() == "sqlite"
            else "check HARVEST_DATABASE_URL and that the database server is running"
        )
        raise click.ClickException(
            f"cannot open the ledger at {display(url)}: {_database_reason(exc, url)}; {check}"
        ) from None
    with ledger:
        try:
            yield ledger
        except DBAPIError as exc:  # it failed under the command, e.g. its disk became read-only or full
            raise click.ClickException(_ledger_failure(exc, url)) from None


def _database_reason(exc: DBAPIError, url: URL) -> str:
    """The first line of the database's own message, with the URL's password masked."""
    reason = (str(exc.orig).strip().splitlines() or ["unknown error"])[0]
    return reason.replace(str(url.password), "***") if url.password else reason


def _ledger_failure(exc: DBAPIError, url: URL) -> str:
    """What to tell when the ledger fails in the middle of a command."""
    from harvest.ordering.ledger.engine import unwritable
    from harvest.ordering.ledger.urls import display

    problem = unwritable(url, exc)
    if problem is not None:
        return str(problem)
    return (
        f"the ledger at {display(url)} failed: {_database_reason(exc, url)}; each change to it is made whole or "
        "not at all: fix the cause and run the command again"
    )


@contextmanager
def _desks() -> Iterator[DeskSet]:
    """The providers' order desks, as the Dagster resource opens them (the environment, HARVEST_SANDBOX_URL)."""
    from harvest.ordering.desks.factory import DeskSet

    with DeskSet(lambda provider: registry.open_desk(provider, os.environ)) as desks:
        yield desks


def _aoi_set() -> AoiSet:
    from harvest.aois import AoiFileError, aois_path, load_aois

    try:
        return load_aois(aois_path())
    except AoiFileError as exc:
        raise click.ClickException(str(exc)) from exc


def _chosen_aois(aoi_set: AoiSet, aoi_ids: Sequence[str]) -> list[Any]:
    """The AOIs named by --aoi (all when none), refusing unknown ids."""
    by_id = aoi_set.by_id()
    unknown = [aoi_id for aoi_id in aoi_ids if aoi_id not in by_id]
    if unknown:
        raise click.BadParameter(
            f"unknown AOI {', '.join(map(repr, unknown))}; the AOIs in {aoi_set.source} are: "
            f"{', '.join(sorted(by_id)) or '(none)'}",
            param_hint="--aoi",
        )
    return [by_id[aoi_id] for aoi_id in dict.fromkeys(aoi_ids)] if aoi_ids else list(aoi_set.aois)


def _policies(aoi_set: AoiSet) -> PolicySet:
    """The ordering policies; problems with single AOIs as warnings, an unusable file as an error."""
    from harvest.buying.policy import PolicyError, load_policies

    try:
        policies = load_policies(aoi_set)
    except PolicyError as exc:
        raise click.ClickException(f"the ordering policies cannot be used: {exc}") from exc
    for problem in policies.problems:
        click.echo(f"warning: {problem}", err=True)
    return policies


def _user(name: str | None = None) -> str:
    """`name`, else the login name ($USER and friends)."""
    if name is not None:
        if not name.strip():
            raise click.BadParameter("give a name, e.g. --by alice", param_hint="--by")
        return name.strip()
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        raise click.UsageError("cannot tell who you are: give your name with --by NAME") from None


def _amount(amount: Decimal) -> str:
    from harvest.ordering.ledger.errors import show

    return show(amount)


def _price(amount: Decimal, unit: str) -> str:
    return f"{_amount(amount)} {unit}"


def _when(moment: datetime | None) -> str:
    return "" if moment is None else format_seconds(from_datetime(moment))


def _count(number: int, noun: str) -> str:
    return f"{number:,} {noun}{'' if number == 1 else 's'}"


def _table(header: Sequence[str], rows: Iterable[Sequence[str]]) -> str:
    """Aligned columns under a header and a rule; numbers right-aligned."""
    rows = list(rows)
    widths = [max([len(name), *(len(row[i]) for row in rows)]) for i, name in enumerate(header)]

    def line(cells: Sequence[str]) -> str:
        return "  ".join(
            cell.rjust(width) if name in _RIGHT_ALIGNED else cell.ljust(width)
            for name, cell, width in zip(header, cells, widths, strict=True)
        ).rstrip()

    return "\n".join([line(header), line(["-" * width for width in widths]), *(line(row) for row in rows)])
