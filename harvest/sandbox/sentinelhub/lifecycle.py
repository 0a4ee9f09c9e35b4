"""Order, delivery, tile and archive statuses, derived from the clock (never stored, never ticked).

A confirmed order's deliveries walk WAITING -> DELIVERED -> PREPARING -> INGESTING -> DONE, one
status per `tpdi_stage_s`, each delivery a little behind the previous one. A delivery chosen to fail
(`tpdi_failure_rate`, decided by a hash of its id) stops at DELIVERY_FAILED, NON_INGESTIBLE or
IMPORT_FAILED instead. The order is RUNNING until every delivery is final, then DONE, PARTIAL or FAILED.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

DELIVERY_FLOW = ("WAITING", "DELIVERED", "PREPARING", "INGESTING", "DONE")
DELIVERY_STATUSES = (*DELIVERY_FLOW, "DELIVERY_FAILED", "IMPORT_FAILED", "NON_INGESTIBLE")
ORDER_STATUSES = ("CREATED", "CANCELLED", "RUNNING", "DONE", "PARTIAL", "FAILED")
# the stage at which a failing delivery fails, with what status and message
_FAILURES = (
    (1, "DELIVERY_FAILED", "Airbus could not deliver the product"),
    (2, "NON_INGESTIBLE", "The delivered product has no ingestible imagery"),
    (3, "IMPORT_FAILED", "Ingestion of the delivered product into the collection failed"),
)
_FILES_READY = frozenset({"DELIVERED", "PREPARING", "INGESTING", "DONE", "IMPORT_FAILED", "NON_INGESTIBLE"})
_FINAL = frozenset({"DONE", "DELIVERY_FAILED", "IMPORT_FAILED", "NON_INGESTIBLE"})
_TILE_STATUS = {"PREPARING": "QUEUED", "INGESTING": "INGESTING", "DONE": "INGESTED", "IMPORT_FAILED": "FAILED"}
ARCHIVE_FLOW = ("WAITING", "PREPARING", "DONE")


@dataclass(frozen=True)
class DeliveryProgress:
    """Where one delivery stands."""

    status: str
    error_message: str | None = None

    @property
    def final(self) -> bool:
        return self.status in _FINAL

    @property
    def files_ready(self) -> bool:
        """Whether Airbus has delivered the files (they stay available if ingestion fails)."""
        return self.status in _FILES_READY

    @property
    def tile_status(self) -> str | None:
        """The status of the delivery's BYOC tile, or None while no tile exists."""
        return _TILE_STATUS.get(self.status)


def _unit(*parts: object) -> float:
    digest = hashlib.blake2b(":".join(map(str, parts)).encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") / 2**64


def failure_stage(seed: int, delivery_id: str, rate: float) -> int | None:
    """The stage (1-3) at which this delivery fails, or None for a delivery that succeeds."""
    if rate <= 0 or _unit(seed, "fails", delivery_id) >= rate:
        return None
    return _FAILURES[int(_unit(seed, "how", delivery_id) * len(_FAILURES))][0]


def delivery_progress(
    *, confirmed_ns: int | None, index: int, now_ns: int, stage_ns: int, fails_at: int | None
) -> DeliveryProgress:
    """The status of delivery number `index` of an order confirmed at `confirmed_ns`."""
    if confirmed_ns is None:
        return DeliveryProgress("WAITING")
    stagger = (index % 4) * stage_ns // 4
    elapsed = now_ns - confirmed_ns - stagger
    stage = min(max(elapsed, 0) // max(stage_ns, 1), len(DELIVERY_FLOW) - 1)
    if fails_at is not None and stage >= fails_at:
        _, status, message = next(f for f in _FAILURES if f[0] == fails_at)
        return DeliveryProgress(status, message)
    return DeliveryProgress(DELIVERY_FLOW[stage])


def order_status(confirmed: bool, deliveries: list[DeliveryProgress]) -> str:
    """CREATED before confirmation; RUNNING until every delivery is final; then DONE, PARTIAL or FAILED."""
    if not confirmed:
        return "CREATED"
    if not all(d.final for d in deliveries):
        return "RUNNING"
    done = sum(d.status == "DONE" for d in deliveries)
    if done == len(deliveries):
        return "DONE"
    return "PARTIAL" if done else "FAILED"


def archive_status(requested_ns: int, now_ns: int, stage_ns: int) -> str:
    """WAITING, then PREPARING, then DONE, one `stage_ns` each."""
    stage = max(now_ns - requested_ns, 0) // max(stage_ns, 1)
    return ARCHIVE_FLOW[min(stage, len(ARCHIVE_FLOW) - 1)]
