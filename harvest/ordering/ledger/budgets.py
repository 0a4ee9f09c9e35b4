"""Monthly budgets, per AOI and overall, each in the units providers quote in."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from harvest.ordering.model import Unit

_MONTH = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")

Limits = Mapping[Unit, Decimal]


def month_of(moment: datetime) -> str:
    """The UTC calendar month of an aware datetime, as 'YYYY-MM'."""
    if moment.tzinfo is None:
        raise ValueError(f"naive datetime {moment!r}: harvest uses UTC-aware datetimes only")
    return moment.astimezone(UTC).strftime("%Y-%m")


def check_month(month: str) -> str:
    """`month` if it is 'YYYY-MM', else a ValueError saying so."""
    if not isinstance(month, str) or not _MONTH.match(month):
        raise ValueError(f"month {month!r} is not a calendar month: write it as YYYY-MM, e.g. 2026-11")
    return month


def _limits(where: str, limits: Mapping[Any, object]) -> dict[Unit, Decimal]:
    checked: dict[Unit, Decimal] = {}
    for unit, value in limits.items():
        try:
            known = Unit(unit)
        except ValueError:
            units = ", ".join(repr(str(u)) for u in Unit)
            raise ValueError(f"{where}: unknown unit {unit!r}; use one of {units}") from None
        try:
            limit = value if isinstance(value, Decimal) else Decimal(str(value))
        except InvalidOperation:
            raise ValueError(f"{where}: limit {value!r} in {known} is not a number") from None
        if not limit.is_finite() or limit < 0:
            raise ValueError(f"{where}: limit {value!r} in {known} must be a number of at least 0")
        checked[known] = limit
    return checked


@dataclass(frozen=True)
class Budgets:
    """Monthly spending limits, overall and per AOI id, by unit; a unit without a limit may not be spent at all."""

    overall: Limits
    per_aoi: Mapping[str, Limits] = field(default_factory=dict)

    def __post_init__(self) -> None:
        object.__setattr__(self, "overall", _limits("overall monthly budget", self.overall))
        per_aoi = {aoi: _limits(f"monthly budget of AOI {aoi}", limits) for aoi, limits in self.per_aoi.items()}
        object.__setattr__(self, "per_aoi", per_aoi)
