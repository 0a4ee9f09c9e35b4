"""The spend ledger: every quote, decision, order, provider status, delivery and spend, in SQLite or PostgreSQL.

Each order is one row under its deterministic key, the primary key, so a second order for the same
key is impossible; its history is appended to `events` and its money to `spend`. `reserve` checks
both monthly budgets and books the reservation in one transaction that holds the month's lock, so
two processes placing orders at once never overspend.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import asdict
from datetime import UTC, datetime
from decimal import ROUND_CEILING, Decimal
from pathlib import Path
from types import TracebackType
from typing import Any, Self

from sqlalchemy import Engine, select, update
from sqlalchemy.engine import Connection
from sqlalchemy.exc import DBAPIError

from harvest.delivery.deliverable import Deliverable
from harvest.ordering.ledger import spend
from harvest.ordering.ledger.budgets import Budgets, check_month
from harvest.ordering.ledger.columns import QUANTUM, exact_money
from harvest.ordering.ledger.engine import check_writable, create_ledger_engine, unwritable
from harvest.ordering.ledger.errors import AlreadyOrdered, BudgetExceeded, InvalidTransition, LedgerError, UnknownOrder
from harvest.ordering.ledger.migrate import upgrade_to_head
from harvest.ordering.ledger.records import (
    LedgerEvent,
    OrderRow,
    StoredFile,
    deliverables_json,
    event_from_row,
    order_from_row,
)
from harvest.ordering.ledger.statements import insert_ignore
from harvest.ordering.ledger.states import ORDERED, REQUOTABLE, UNDECIDED, OrderState
from harvest.ordering.ledger.tables import events, orders, owned_scenes
from harvest.ordering.ledger.tables import files as files_table
from harvest.ordering.ledger.urls import database_url, display, url_from_env
from harvest.ordering.model import OrderRequest, ProviderStatus, Quote, Unit, order_key

Clock = Callable[[], datetime]
SYSTEM = "harvest"  # the actor of what harvest does on its own (placing, tracking, landing)
NOT_SENT_EVENT = "not_sent"  # a reservation given back: the order never reached its provider
ACTOR_EXAMPLES = "e.g. 'auto: under 500 EUR threshold' or 'person: alice via cli'"


def utc_now() -> datetime:
    """The current instant, UTC-aware."""
    return datetime.now(UTC)


def _actor(actor: str) -> str:
    if not isinstance(actor, str) or not actor.strip():
        raise ValueError(f"say who or what acted ({ACTOR_EXAMPLES}), not {actor!r}")
    return actor.strip()


def _price(amount: Decimal, what: str) -> Decimal:
    """A price at the ledger's scale, rounded up (never under-reserve); negative or non-numbers refused."""
    if not isinstance(amount, Decimal | int) or not Decimal(amount).is_finite() or amount < 0:
        raise ValueError(f"{what} {amount!r} must be a Decimal of at least 0")
    return exact_money(Decimal(amount).quantize(QUANTUM, rounding=ROUND_CEILING))


def _require(order: OrderRow, allowed: Iterable[OrderState], action: str, hint: str) -> None:
    if order.state not in frozenset(allowed):
        raise InvalidTransition(order.key, order.state, action, hint)


def _require_not_ordered(order: OrderRow, action: str) -> None:
    if order.state in ORDERED:
        raise AlreadyOrdered(order.key, order.state, action)


def _release_spend(connection: Connection, key: str, now: datetime) -> list[dict[str, str]]:
    """Give back all an order holds; what was given back, for its event."""
    return [
        {"month": item.month, "unit": item.unit, "amount": str(item.amount)}
        for item in spend.release_all(connection, key, now)
    ]


class Ledger:
    """An open ledger database: `Ledger.open()`, then `close()` it or use it as a context manager."""

    url_from_env = staticmethod(url_from_env)

    def __init__(self, engine: Engine, *, clock: Clock = utc_now) -> None:
        self._engine = engine
        self._clock = clock

    @classmethod
    def open(cls, url: str | None = None, *, clock: Clock = utc_now) -> Ledger:
        """Open the ledger at `url` (default `Ledger.url_from_env()`), creating or migrating it to the newest schema.

        A SQLite ledger this process cannot write raises `LedgerUnwritable`, before anything is done.
        """
        engine = create_ledger_engine(database_url(url if url is not None else url_from_env()))
        try:
            upgrade_to_head(engine)
            check_writable(engine)
        except DBAPIError as exc:
            engine.dispose()
            problem = unwritable(engine.url, exc)
            if problem is None:
                raise
            raise problem from exc
        except BaseException:
            engine.dispose()
            raise
        return cls(engine, clock=clock)

    @property
    def url(self) -> str:
        """The database URL, password masked."""
        return display(self._engine.url)

    def close(self) -> None:
        """Release every database connection."""
        self._engine.dispose()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None, tb: TracebackType | None) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"Ledger({self.url})"

    # --- quotes and decisions -------------------------------------------------------------------

    def record_quote(self, request: OrderRequest, quote: Quote, *, actor: str) -> OrderRow:
        """Insert an order at `quoted`, or refresh the quote of one not yet ordered (an ordered one is left alone).

        A failed order goes back to `quoted`, and so does an approved one whose price or unit changed
        (its approval was for the old price); a rejection stands.
        """
        actor = _actor(actor)
        if quote.key != request.key:
            raise ValueError(f"the quote is for order {quote.key}, not {request.key}: quote each request separately")
        if order_key(request.provider, request.scene_id, request.aoi_id, request.options) != request.key:
            raise ValueError(
                f"order key {request.key} does not match its provider, scene, AOI and options: "
                "build requests with OrderRequest.build"
            )
        amount, unit, now = _price(quote.amount, "quoted amount"), Unit(quote.unit), self._clock()
        quoted = {
            "aoi_geometry": dict(request.aoi_geometry),
            "acquired": request.acquired,
            "constellation": request.constellation,
            "quote_amount": amount,
            "quote_unit": str(unit),
            "quote_area_km2": quote.area_km2,
            "quote_reference": quote.reference,
            "quoted_at": now,
        }
        detail = {
            "amount": str(amount),
            "unit": str(unit),
            "area_km2": quote.area_km2,
            "reference": quote.reference,
            "raw": dict(quote.raw),
        }
        with self._transaction() as connection:
            fresh = {
                "key": request.key,
                "provider": request.provider,
                "scene_id": request.scene_id,
                "aoi_id": request.aoi_id,
                "options": dict(request.options),
                "state": OrderState.QUOTED.value,
                "created_at": now,
                "updated_at": now,
                **quoted,
            }
            if insert_ignore(connection, orders, fresh):
                self._event(connection, request.key, "quote", actor, detail, now)
                return self._fetch(connection, request.key)
            order = self._lock(connection, request.key)
            if order.state not in REQUOTABLE:
                self._event(connection, order.key, "quote_ignored", actor, {**detail, "state": order.state}, now)
                return order
            repriced = (order.quote.amount, order.quote.unit) != (amount, unit)
            state = order.state
            if order.state is OrderState.FAILED or (order.state is OrderState.APPROVED and repriced):
                state = OrderState.QUOTED
            changes: dict[str, Any] = {**quoted, "state": state.value}
            if state is not order.state:
                changes.update(approved_by=None, approved_at=None, month=None, provider_order_id=None)
                changes.update(provider_status=None, deliverables=None, error=None)
            self._event(connection, order.key, "quote", actor, {**detail, "previous_state": order.state}, now)
            return self._update(connection, order.key, now, **changes)

    def approve(self, key: str, *, actor: str) -> OrderRow:
        """Approve a quoted (or waiting) order for placing; approving an approved order changes nothing."""
        actor = _actor(actor)
        with self._transaction() as connection:
            order = self._lock(connection, key)
            _require_not_ordered(order, "approve")
            if order.state is OrderState.APPROVED:
                return order
            _require(order, UNDECIDED, "approve", "a rejection stands, and a failed order needs a fresh quote first")
            now = self._clock()
            self._event(
                connection, key, "approve", actor, {"amount": str(order.quote.amount), "unit": order.quote.unit}, now
            )
            return self._update(
                connection, key, now, state=OrderState.APPROVED.value, approved_by=actor, approved_at=now
            )

    def await_approval(self, key: str, *, actor: str, reason: str) -> OrderRow:
        """Hold a quoted order for a person to approve or reject (e.g. it is over the auto-approval threshold)."""
        actor = _actor(actor)
        with self._transaction() as connection:
            order = self._lock(connection, key)
            _require_not_ordered(order, "hold for approval")
            if order.state is OrderState.AWAITING_APPROVAL:
                return order
            _require(order, {OrderState.QUOTED}, "hold for approval", "only a quoted order waits for a decision")
            now = self._clock()
            self._event(connection, key, "await_approval", actor, {"reason": reason}, now)
            return self._update(connection, key, now, state=OrderState.AWAITING_APPROVAL.value)

    def reject(self, key: str, *, actor: str, reason: str) -> OrderRow:
        """A person's no: the order is never placed."""
        actor = _actor(actor)
        with self._transaction() as connection:
            order = self._lock(connection, key)
            _require_not_ordered(order, "reject")
            if order.state is OrderState.REJECTED:
                return order
            _require(order, {*UNDECIDED, OrderState.APPROVED}, "reject", "a failed order has nothing left to reject")
            now = self._clock()
            self._event(connection, key, "reject", actor, {"reason": reason}, now)
            changes = {"state": OrderState.REJECTED.value, "approved_by": None, "approved_at": None}
            return self._update(connection, key, now, error=f"rejected by {actor}: {reason}", **changes)

    # --- money and placement --------------------------------------------------------------------

    def reserve(self, key: str, *, budgets: Budgets, month: str, actor: str = SYSTEM) -> OrderRow:
        """Check both budgets of `month` and reserve the order's price, in one transaction; the order becomes `placing`.

        Raises BudgetExceeded (NoBudget when the quote's unit has no budget) and leaves the order
        approved, or AlreadyOrdered when the key is beyond `approved`.
        """
        actor, month = _actor(actor), check_month(month)
        try:
            with self._transaction() as connection:
                spend.lock_month(connection, month)  # first the month, then the order: one lock order everywhere
                order = self._lock(connection, key)
                _require_not_ordered(order, "reserve spend for")
                hint = "approve it first (a person, or auto-approval under the threshold)"
                _require(order, {OrderState.APPROVED}, "reserve spend for", hint)
                quote, now = order.quote, self._clock()
                spend.check_budgets(
                    connection, budgets, key=key, aoi_id=order.aoi_id, month=month, unit=quote.unit, amount=quote.amount
                )
                spend.add(
                    connection,
                    key=key,
                    aoi_id=order.aoi_id,
                    month=month,
                    unit=quote.unit,
                    amount=quote.amount,
                    kind=spend.RESERVE,
                    at=now,
                )
                detail = {"amount": str(quote.amount), "unit": quote.unit, "month": month}
                self._event(connection, key, "reserve", actor, detail, now)
                return self._update(connection, key, now, state=OrderState.PLACING.value, month=month)
        except BudgetExceeded as refusal:
            self.note(key, "budget_refused", actor=actor, detail={"month": month, "message": str(refusal)})
            raise

    def claim(self, key: str, *, idle_since: datetime, actor: str = SYSTEM) -> OrderRow | None:
        """Take over an order left `placing` by a run that stopped before recording the provider's answer.

        Only an order untouched since `idle_since` is taken (its clock restarts now), so of two runs
        finding it at once, one wins and the other gets None.
        """
        actor = _actor(actor)
        with self._transaction() as connection:
            order = self._lock(connection, key)
            if order.state is not OrderState.PLACING or order.updated_at >= idle_since:
                return None
            now = self._clock()
            self._event(connection, key, "claim", actor, {"idle_since": order.updated_at.isoformat()}, now)
            return self._update(connection, key, now)

    def placed(
        self,
        key: str,
        provider_order_id: str,
        *,
        raw: Mapping[str, Any],
        charged: Decimal | None = None,
        actor: str = SYSTEM,
    ) -> OrderRow:
        """The provider accepted the order: its reservation becomes settled spend (`charged`, default the quote)."""
        actor = _actor(actor)
        if not provider_order_id:
            raise ValueError(f"order {key}: a placed order needs the provider's order id")
        with self._transaction() as connection:
            order = self._lock(connection, key)
            if order.state in ORDERED - {OrderState.PLACING} and order.provider_order_id == provider_order_id:
                return order
            hint = "only an order whose spend is reserved (reserve) can be placed"
            _require(order, {OrderState.PLACING}, "record the placement of", hint)
            taken = connection.execute(
                select(orders.c.key).where(
                    orders.c.provider == order.provider, orders.c.provider_order_id == provider_order_id
                )
            ).scalar_one_or_none()
            if taken is not None:
                raise LedgerError(
                    f"cannot record {order.provider} order {provider_order_id} for {key}: the ledger already holds "
                    f"it for order {taken}; reconcile with the provider before recording it again"
                )
            now = self._clock()
            amount = order.quote.amount if charged is None else _price(charged, "charged amount")
            assert order.month is not None
            spend.release_all(connection, key, now)
            spend.add(
                connection,
                key=key,
                aoi_id=order.aoi_id,
                month=order.month,
                unit=order.quote.unit,
                amount=amount,
                kind=spend.SETTLE,
                at=now,
            )
            detail = {"provider_order_id": provider_order_id, "charged": str(amount), "unit": order.quote.unit}
            self._event(connection, key, "placed", actor, {**detail, "raw": dict(raw)}, now)
            return self._update(
                connection,
                key,
                now,
                state=OrderState.PLACED.value,
                provider_order_id=provider_order_id,
                provider_status=ProviderStatus.ACCEPTED.value,
            )

    def status(self, key: str, provider_status: ProviderStatus, detail: str = "", *, actor: str = SYSTEM) -> OrderRow:
        """Record what the provider says about a placed order; FAILED fails it (and releases its spend)."""
        provider_status = ProviderStatus(provider_status)
        if provider_status is ProviderStatus.FAILED:
            return self._fail(key, detail or "failed at the provider", actor, provider_status)
        actor = _actor(actor)
        with self._transaction() as connection:
            order = self._lock(connection, key)
            hint = "only an order its provider has accepted has a provider status"
            _require(order, ORDERED - {OrderState.PLACING}, "record a provider status for", hint)
            now = self._clock()
            self._event(connection, key, "status", actor, {"status": provider_status.value, "detail": detail}, now)
            return self._update(connection, key, now, provider_status=provider_status.value)

    def failed(self, key: str, reason: str, *, actor: str = SYSTEM) -> OrderRow:
        """The order went wrong: it becomes `failed` and whatever spend it held is released."""
        return self._fail(key, reason, actor, None)

    def release(self, key: str, reason: str, *, held_since: datetime, actor: str = SYSTEM) -> OrderRow | None:
        """A `placing` order that was never sent: its spend is given back and it is approved again, for a later run.

        Only the placement that still holds it (nothing has touched it since `held_since`) may release
        it; None when another run has taken it over since.
        """
        actor = _actor(actor)
        with self._transaction() as connection:
            order = self._lock(connection, key)
            if order.state is not OrderState.PLACING or order.updated_at != held_since:
                return None
            now = self._clock()
            detail = {"reason": reason, "released": _release_spend(connection, key, now)}
            self._event(connection, key, NOT_SENT_EVENT, actor, detail, now)
            return self._update(connection, key, now, state=OrderState.APPROVED.value, month=None)

    def delivered(self, key: str, deliverables: Sequence[Deliverable], *, actor: str = SYSTEM) -> OrderRow:
        """The provider's files can be downloaded: keep their list for the deliveries asset."""
        actor = _actor(actor)
        if not deliverables:
            raise ValueError(f"order {key}: a delivery without files cannot be recorded; ask the provider again")
        listed = deliverables_json(tuple(deliverables))
        with self._transaction() as connection:
            order = self._lock(connection, key)
            hint = "only a placed order can be delivered"
            _require(order, {OrderState.PLACED, OrderState.DELIVERED}, "record a delivery of", hint)
            now = self._clock()
            self._event(connection, key, "delivered", actor, {"deliverables": listed}, now)
            return self._update(
                connection,
                key,
                now,
                state=OrderState.DELIVERED.value,
                provider_status=ProviderStatus.DELIVERED.value,
                deliverables=listed,
            )

    def landed(
        self, key: str, files: Sequence[StoredFile], manifest_path: str | Path, *, actor: str = SYSTEM
    ) -> OrderRow:
        """Every file is verified at its final path: record them and the manifest, and mark the scene owned."""
        actor = _actor(actor)
        if not files:
            raise ValueError(f"order {key}: landing needs at least one file")
        with self._transaction() as connection:
            order = self._lock(connection, key)
            _require(order, {OrderState.DELIVERED}, "land", "only a delivered order can land")
            now = self._clock()
            connection.execute(files_table.insert(), [{"key": key, **asdict(item), "landed_at": now} for item in files])
            owner = {"provider": order.provider, "scene_id": order.scene_id, "aoi_id": order.aoi_id}
            insert_ignore(connection, owned_scenes, {**owner, "key": key, "owned_at": now})
            detail = {
                "manifest_path": str(manifest_path),
                "files": len(files),
                "bytes": sum(item.size for item in files),
            }
            self._event(connection, key, "landed", actor, detail, now)
            return self._update(connection, key, now, state=OrderState.LANDED.value, manifest_path=str(manifest_path))

    def note(self, key: str, kind: str, *, actor: str, detail: Mapping[str, Any]) -> None:
        """Append an event without changing any order (e.g. what a dry run would have bought)."""
        actor = _actor(actor)
        with self._transaction() as connection:
            self._event(connection, key, kind, actor, dict(detail), self._clock())

    # --- queries --------------------------------------------------------------------------------

    def get(self, key: str) -> OrderRow | None:
        """The order with this key, or None."""
        with self._engine.connect() as connection:
            row = connection.execute(select(orders).where(orders.c.key == key)).mappings().one_or_none()
        return None if row is None else order_from_row(row)

    def orders(
        self,
        *,
        states: Iterable[OrderState | str] | None = None,
        aoi_id: str | None = None,
        provider: str | None = None,
    ) -> list[OrderRow]:
        """Orders, oldest first, optionally only in some states, of one AOI or of one provider."""
        query = select(orders).order_by(orders.c.created_at, orders.c.key)
        if states is not None:
            query = query.where(orders.c.state.in_([OrderState(state).value for state in states]))
        if aoi_id is not None:
            query = query.where(orders.c.aoi_id == aoi_id)
        if provider is not None:
            query = query.where(orders.c.provider == provider)
        with self._engine.connect() as connection:
            return [order_from_row(row) for row in connection.execute(query).mappings()]

    def events(self, key: str) -> list[LedgerEvent]:
        """An order's history, oldest first."""
        query = select(events).where(events.c.key == key).order_by(events.c.id)
        with self._engine.connect() as connection:
            return [event_from_row(row) for row in connection.execute(query).mappings()]

    def spent(self, month: str, *, unit: Unit, aoi_id: str | None = None) -> Decimal:
        """Reserved plus settled spend in a month and unit, for one AOI or (None) overall."""
        with self._engine.connect() as connection:
            return spend.spent(connection, check_month(month), Unit(unit), aoi_id)

    def owned(self, provider: str, scene_id: str, aoi_id: str | None = None) -> bool:
        """Whether a scene has landed (over one AOI, or over any)."""
        query = select(owned_scenes.c.key).where(
            owned_scenes.c.provider == provider, owned_scenes.c.scene_id == scene_id
        )
        if aoi_id is not None:
            query = query.where(owned_scenes.c.aoi_id == aoi_id)
        with self._engine.connect() as connection:
            return connection.execute(query.limit(1)).first() is not None

    def files(self, key: str) -> list[StoredFile]:
        """The files an order landed, by path."""
        columns = files_table.c
        query = select(columns.path, columns.size, columns.md5).where(columns.key == key).order_by(columns.path)
        with self._engine.connect() as connection:
            return [StoredFile(path, size, md5) for path, size, md5 in connection.execute(query)]

    # --- internals ------------------------------------------------------------------------------

    @contextmanager
    def _transaction(self) -> Iterator[Connection]:
        with self._engine.begin() as connection:
            yield connection

    def _fail(self, key: str, reason: str, actor: str, provider_status: ProviderStatus | None) -> OrderRow:
        actor = _actor(actor)
        with self._transaction() as connection:
            order = self._lock(connection, key)
            if order.state is OrderState.FAILED:
                return order
            hint = "a landed order is on disk and a rejected one was never ordered"
            _require(order, set(OrderState) - {OrderState.LANDED, OrderState.REJECTED}, "fail", hint)
            now = self._clock()
            released = _release_spend(connection, key, now)
            detail = {"reason": reason, "released": released, "previous_state": order.state}
            self._event(connection, key, "failed", actor, detail, now)
            changes: dict[str, Any] = {"state": OrderState.FAILED.value, "error": reason}
            if provider_status is not None:
                changes["provider_status"] = provider_status.value
            return self._update(connection, key, now, **changes)

    def _lock(self, connection: Connection, key: str) -> OrderRow:
        query = select(orders).where(orders.c.key == key).with_for_update()
        row = connection.execute(query).mappings().one_or_none()
        if row is None:
            raise UnknownOrder(key)
        return order_from_row(row)

    def _fetch(self, connection: Connection, key: str) -> OrderRow:
        return order_from_row(connection.execute(select(orders).where(orders.c.key == key)).mappings().one())

    def _update(self, connection: Connection, key: str, now: datetime, **values: Any) -> OrderRow:
        statement = update(orders).where(orders.c.key == key).values(updated_at=now, **values).returning(*orders.c)
        return order_from_row(connection.execute(statement).mappings().one())

    def _event(
        self, connection: Connection, key: str, kind: str, actor: str, detail: Mapping[str, Any], at: datetime
    ) -> None:
        connection.execute(events.insert().values(key=key, at=at, kind=kind, actor=actor, detail=dict(detail)))
