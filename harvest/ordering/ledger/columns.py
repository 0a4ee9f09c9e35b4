"""Column types that keep money exact and instants in UTC on both SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import JSON, BigInteger, DateTime, Numeric
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator, TypeEngine

MONEY_PRECISION = 18
MONEY_SCALE = 6  # a millionth of a euro, credit, US cent or km²
QUANTUM = Decimal(1).scaleb(-MONEY_SCALE)
MONEY_LIMIT = Decimal(10) ** (MONEY_PRECISION - MONEY_SCALE)

Json = JSON().with_variant(JSONB(), "postgresql")


def exact_money(value: Decimal | int) -> Decimal:
    """`value` as a Decimal at the ledger's scale, refusing anything that would be rounded or cannot fit."""
    amount = Decimal(value)
    if not amount.is_finite() or abs(amount) >= MONEY_LIMIT:
        raise ValueError(f"amount {value!r} cannot be stored: it must be finite and below {MONEY_LIMIT}")
    quantized = amount.quantize(QUANTUM)
    if quantized != amount:
        raise ValueError(f"amount {value!r} has more than {MONEY_SCALE} decimal places: round it first")
    return quantized


class Money(TypeDecorator[Decimal]):
    """An exact Decimal: NUMERIC(18, 6) on PostgreSQL, integer millionths on SQLite (whose NUMERIC is a float)."""

    impl = Numeric(MONEY_PRECISION, MONEY_SCALE, asdecimal=True)
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[Any]:
        if dialect.name == "sqlite":
            return dialect.type_descriptor(BigInteger())
        return dialect.type_descriptor(Numeric(MONEY_PRECISION, MONEY_SCALE, asdecimal=True))

    def process_bind_param(self, value: Decimal | int | None, dialect: Dialect) -> Any:
        if value is None:
            return None
        amount = exact_money(value)
        return int(amount.scaleb(MONEY_SCALE)) if dialect.name == "sqlite" else amount

    def process_result_value(self, value: Any, dialect: Dialect) -> Decimal | None:
        if value is None:
            return None
        if dialect.name == "sqlite":
            return Decimal(int(value)).scaleb(-MONEY_SCALE).quantize(QUANTUM)
        return Decimal(value).quantize(QUANTUM)


class UtcDateTime(TypeDecorator[datetime]):
    """A UTC-aware datetime; naive datetimes are refused on the way in."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(f"naive datetime {value!r}: the ledger stores UTC-aware datetimes only")
        utc = value.astimezone(UTC)
        return utc.replace(tzinfo=None) if dialect.name == "sqlite" else utc

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
