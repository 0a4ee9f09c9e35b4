"""Landing a delivered order: every file downloaded and verified, a manifest written, the scene owned.

Files land under `$HARVEST_DATA_DIR/deliveries/<provider>/<order key>/`, each under its provider's
(sanitised) name, with `manifest.json` beside them. A download interrupted here, or by a crash,
resumes where it stopped on the next attempt.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from harvest.delivery.download import LandedFile, download
from harvest.delivery.manifest import write_manifest
from harvest.ordering.desks.base import OrderDesk
from harvest.ordering.ledger import Ledger, StoredFile
from harvest.ordering.ledger.errors import UnknownOrder
from harvest.ordering.ledger.states import OrderState

DELIVERIES = "deliveries"


@dataclass(frozen=True)
class Landing:
    """A landed order."""

    key: str
    folder: Path
    manifest: Path
    files: list[LandedFile]

    @property
    def bytes_transferred(self) -> int:
        return sum(file.bytes_transferred for file in self.files)

    @property
    def size(self) -> int:
        return sum(file.size for file in self.files)


def delivery_folder(root: Path, provider: str, key: str) -> Path:
    """Where an order's files land under the data directory."""
    return root / DELIVERIES / provider / key


def land(
    ledger: Ledger,
    key: str,
    desk: OrderDesk,
    root: Path,
    *,
    on_progress: Callable[[str, int, int | None], None] | None = None,
    actor: str = "deliveries",
) -> Landing:
    """Download, verify and record every file of a delivered order (`on_progress(name, bytes, total)`)."""
    order = ledger.get(key)
    if order is None:
        raise UnknownOrder(key)
    if order.state not in (OrderState.DELIVERED, OrderState.LANDED):
        raise ValueError(f"order {key} is {order.state}: only a delivered order can land")
    folder = delivery_folder(root, order.provider, key)
    files = []
    for deliverable in order.deliverables:

        def progress(done: int, total: int | None, name: str = deliverable.filename) -> None:
            if on_progress is not None:
                on_progress(name, done, total)

        files.append(download(desk.http, deliverable, folder, on_progress=progress))
    manifest = write_manifest(
        folder / "manifest.json",
        order_key=key,
        provider=order.provider,
        scene_id=order.scene_id,
        order_id=order.provider_order_id or "",
        price=(order.quote.amount, order.quote.unit),
        files=files,
    )
    if order.state is OrderState.DELIVERED:
        stored = [StoredFile(str(file.path.relative_to(root)), file.size, file.md5) for file in files]
        ledger.landed(key, stored, str(manifest.relative_to(root)), actor=actor)
    return Landing(key, folder, manifest, files)
