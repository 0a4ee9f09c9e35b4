"""The life of an order in the ledger, and which states each action may start from."""

from __future__ import annotations

from enum import StrEnum


class OrderState(StrEnum):
    """Where an order stands; a dry run is not a state (dry runs write no order)."""

    QUOTED = "quoted"  # priced, not yet decided
    AWAITING_APPROVAL = "awaiting_approval"  # over the auto-approval threshold: a person decides
    APPROVED = "approved"  # may be placed once its spend is reserved
    PLACING = "placing"  # spend reserved, the provider request is (about to be) under way
    PLACED = "placed"  # the provider accepted it; its spend is settled
    DELIVERED = "delivered"  # the provider says its files can be downloaded
    LANDED = "landed"  # every file is on disk and verified; the scene is owned
    FAILED = "failed"  # it went wrong (reservation released); a new quote may retry it
    REJECTED = "rejected"  # a person said no; final


UNDECIDED = frozenset({OrderState.QUOTED, OrderState.AWAITING_APPROVAL})
# states in which the order may exist at the provider: never placed again, never re-quoted
ORDERED = frozenset({OrderState.PLACING, OrderState.PLACED, OrderState.DELIVERED, OrderState.LANDED})
REQUOTABLE = frozenset({*UNDECIDED, OrderState.APPROVED, OrderState.FAILED})
