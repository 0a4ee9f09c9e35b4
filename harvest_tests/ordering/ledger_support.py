"""Test helpers over the ledger."""

from __future__ import annotations

from harvest.ordering.ledger import Ledger, OrderRow


def order_of(ledger: Ledger, key: str) -> OrderRow:
    """The order with this key, which the test knows exists."""
    order = ledger.get(key)
    assert order is not None, f"no order {key} in the ledger"
    return order
