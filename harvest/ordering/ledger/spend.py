"""Spend bookkeeping inside an open transaction: the month lock, sums, budget checks, reserve/settle/release rows."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.engine import Connection

from harvest.ordering.ledger.budgets import Budgets
from harvest.ordering.ledger.columns import QUANTUM
from harvest.ordering.ledger.errors import BudgetExceeded, NoBudget
from harvest.ordering.ledger.statements import insert_ignore
from harvest.ordering.ledger.tables import budget_months, spend
from harvest.ordering.model import Unit

RESERVE = "reserve"
RELEASE = "release"
SETTLE = "settle"


@dataclass(frozen=True)
class Outstanding:
    """What an order still holds of one month's budget in one unit."""

    aoi_id: str
    month: str
    unit: Unit
    amount: Decimal


def lock_month(connection: Connection, month: str) -> None:
    """Hold the month's budget row until the transaction ends, so reservations in a month run one at a time."""
    insert_ignore(connection, budget_months, {"month": month})
    connection.execute(select(budget_months.c.month).where(budget_months.c.month == month).with_for_update())


def spent(connection: Connection, month: str, unit: Unit, aoi_id: str | None = None) -> Decimal:
    """Reserved plus settled spend (net of releases) in a month and unit, for one AOI or overall."""
    query = select(func.sum(spend.c.amount)).where(spend.c.month == month, spend.c.unit == str(unit))
    if aoi_id is not None:
        query = query.where(spend.c.aoi_id == aoi_id)
    total = connection.execute(query).scalar_one()
    return total if total is not None else Decimal(0).quantize(QUANTUM)


def check_budgets(
    connection: Connection, budgets: Budgets, *, key: str, aoi_id: str, month: str, unit: Unit, amount: Decimal
) -> None:
    """Raise BudgetExceeded (or NoBudget) unless `amount` fits the AOI's and the overall budget of `month`."""
    checks = (
        (f"the monthly budget of AOI {aoi_id}", budgets.per_aoi.get(aoi_id, {}), aoi_id),
        ("the overall monthly budget", budgets.overall, None),
    )
    for name, limits, scope in checks:
        limit = limits.get(unit)
        if limit is None:
            raise NoBudget(key, name, month, unit, amount)
        used = spent(connection, month, unit, scope)
        if used + amount > limit:
            raise BudgetExceeded(key, name, month, unit, limit, used, amount)


def add(
    connection: Connection, *, key: str, aoi_id: str, month: str, unit: Unit, amount: Decimal, kind: str, at: datetime
) -> None:
    """Append one spend row."""
    connection.execute(
        spend.insert().values(key=key, aoi_id=aoi_id, month=month, unit=str(unit), amount=amount, kind=kind, at=at)
    )


def outstanding(connection: Connection, key: str) -> list[Outstanding]:
    """What an order still holds, per AOI, month and unit (reserved or settled, not yet released)."""
    total = func.sum(spend.c.amount)
    rows = connection.execute(
        select(spend.c.aoi_id, spend.c.month, spend.c.unit, total)
        .where(spend.c.key == key)
        .group_by(spend.c.aoi_id, spend.c.month, spend.c.unit)
        .order_by(spend.c.month, spend.c.unit)
    ).all()
    return [Outstanding(aoi, month, Unit(unit), amount) for aoi, month, unit, amount in rows if amount != 0]


def release_all(connection: Connection, key: str, at: datetime) -> list[Outstanding]:
    """Give back everything an order holds (a negative `release` row each); returns what was released."""
    held = outstanding(connection, key)
    for item in held:
        add(
            connection,
            key=key,
            aoi_id=item.aoi_id,
            month=item.month,
            unit=item.unit,
            amount=-item.amount,
            kind=RELEASE,
            at=at,
        )
    return held
