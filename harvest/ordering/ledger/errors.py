"""Typed ledger errors; each message says what was wrong and what to do about it."""

from __future__ import annotations

from decimal import Decimal
from pathlib import PurePath

from harvest.ordering.model import Unit


class LedgerError(Exception):
    """Something the ledger refused or could not do."""


class LedgerUrlError(LedgerError, ValueError):
    """A database URL the ledger cannot use."""


class LedgerUnwritable(LedgerError):
    """A SQLite ledger this process cannot write: a read-only file, directory or disk, or no directory at all."""

    def __init__(self, path: str, reason: str) -> None:
        folder = PurePath(path).parent
        super().__init__(
            f"the ledger {path} cannot be written ({reason}): harvest needs to write the file and, next to it in "
            f"{folder}, its -wal and -shm files; make them writable for this user (check the permissions, and that "
            "the disk is not mounted read-only), or point HARVEST_DATA_DIR (or HARVEST_DATABASE_URL) at a place "
            "harvest can write"
        )
        self.path = path
        self.reason = reason


class UnknownOrder(LedgerError, LookupError):
    """No order with this key in the ledger."""

    def __init__(self, key: str) -> None:
        super().__init__(f"no order {key} in the ledger: record a quote for it first (Ledger.record_quote)")
        self.key = key


class InvalidTransition(LedgerError):
    """The order's state does not allow this action."""

    def __init__(self, key: str, state: str, action: str, hint: str) -> None:
        super().__init__(f"cannot {action} order {key}: it is {state}; {hint}")
        self.key = key
        self.state = state
        self.action = action


class AlreadyOrdered(InvalidTransition):
    """The order may already exist at its provider: it is never placed (or re-priced) again."""

    def __init__(self, key: str, state: str, action: str) -> None:
        super().__init__(
            key, state, action, "it has already been sent to its provider and is never ordered twice (see its events)"
        )


def show(amount: Decimal) -> str:
    """An amount without trailing zeros or exponent: 12.5, 300, 0."""
    return format(amount.normalize(), "f") if amount else "0"


class BudgetExceeded(LedgerError):
    """Reserving this order's spend would exceed a monthly budget."""

    def __init__(
        self, key: str, budget: str, month: str, unit: Unit, limit: Decimal, spent: Decimal, amount: Decimal
    ) -> None:
        self.key = key
        self.budget = budget
        self.month = month
        self.unit = unit
        self.limit = limit
        self.spent = spent
        self.amount = amount
        super().__init__(self._message())

    def _message(self) -> str:
        unit = self.unit
        return (
            f"order {self.key} refused: {self.budget} for {self.month} is {show(self.limit)} {unit}, "
            f"{show(self.spent)} {unit} already reserved or spent, this order needs {show(self.amount)} {unit} "
            f"({show(self.spent + self.amount - self.limit)} {unit} over); "
            "raise the budget in the policy or wait for next month"
        )


class NoBudget(BudgetExceeded):
    """No budget is set in the quote's unit, so nothing may be spent in it."""

    def __init__(self, key: str, budget: str, month: str, unit: Unit, amount: Decimal) -> None:
        super().__init__(key, budget, month, unit, Decimal(0), Decimal(0), amount)

    def _message(self) -> str:
        return (
            f"order {self.key} refused: {self.budget} has no limit in {self.unit}, so nothing may be spent in "
            f"{self.unit}; add a {self.unit} limit to the policy (this order needs {show(self.amount)} {self.unit} "
            f"in {self.month})"
        )
