"""The spend ledger: orders under deterministic keys, their history, budgets and spend (SQLite or PostgreSQL)."""

from harvest.ordering.ledger.budgets import Budgets, month_of
from harvest.ordering.ledger.errors import (
    AlreadyOrdered,
    BudgetExceeded,
    InvalidTransition,
    LedgerError,
    LedgerUnwritable,
    LedgerUrlError,
    NoBudget,
    UnknownOrder,
)
from harvest.ordering.ledger.ledger import SYSTEM, Ledger
from harvest.ordering.ledger.records import LedgerEvent, OrderRow, StoredFile
from harvest.ordering.ledger.states import OrderState
from harvest.ordering.ledger.urls import url_from_env

__all__ = [
    "SYSTEM",
    "AlreadyOrdered",
    "BudgetExceeded",
    "Budgets",
    "InvalidTransition",
    "Ledger",
    "LedgerError",
    "LedgerEvent",
    "LedgerUnwritable",
    "LedgerUrlError",
    "NoBudget",
    "OrderRow",
    "OrderState",
    "StoredFile",
    "UnknownOrder",
    "month_of",
    "url_from_env",
]
