"""Landing a delivered order: every file downloaded and verified, a manifest written, the scene owned.

An order's folder is `$HARVEST_DATA_DIR/deliveries/<provider>/<order key>/`: the provider's files
land in its `files/` folder, each under its provider's (sanitised) name, or, where names collide,
under a stable name of its own (see `harvest.delivery.layout`); harvest's `manifest.json` lies
beside `files/`, where no provider file can replace it. A download interrupted here, or by a
crash, resumes where it stopped on the next attempt.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.exc import DBAPIError

from harvest.delivery.download import LandedFile, download
from harvest.delivery.errors import FULL_DISK, DeliveryError, DiskFull
from harvest.delivery.layout import landing_paths
from harvest.delivery.manifest import write_manifest
from harvest.ordering.desks.base import OrderDesk
from harvest.ordering.ledger import Ledger, StoredFile
from harvest.ordering.ledger.errors import LedgerError, UnknownOrder
from harvest.ordering.ledger.states import OrderState
from harvest.providers.errors import ClientError, ProviderError

DELIVERIES_FOLDER = "deliveries"  # under the data directory
FILES = "files"
MANIFEST = "manifest.json"


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
    return root / DELIVERIES_FOLDER / provider / key


def land(
    ledger: Ledger,
    key: str,
    desk: OrderDesk,
    root: Path,
    *,
    on_progress: Callable[[str, int, int | None], None] | None = None,
    actor: str = "deliveries",
    size_limit: int | None = None,
) -> Landing:
    """Download, verify and record every file of a delivered order (`on_progress(path, bytes, total)`, the path
    relative to `files/`); `size_limit` bounds a file nobody states the size of (see `harvest.delivery.limits`)."""
    order = ledger.get(key)
    if order is None:
        raise UnknownOrder(key)
    if order.state not in (OrderState.DELIVERED, OrderState.LANDED):
        raise ValueError(f"order {key} is {order.state}: only a delivered order can land")
    folder = delivery_folder(root, order.provider, key)
    files = []
    for deliverable, path in zip(order.deliverables, landing_paths(order.deliverables), strict=True):

        def progress(done: int, total: int | None, name: str = path) -> None:
            if on_progress is not None:
                on_progress(name, done, total)

        files.append(
            download(desk.http, deliverable, folder / FILES, path=path, on_progress=progress, size_limit=size_limit)
        )
    try:
        manifest = write_manifest(
            folder / MANIFEST,
            order_key=key,
            provider=order.provider,
            scene_id=order.scene_id,
            order_id=order.provider_order_id or "",
            price=(order.quote.amount, order.quote.unit),
            files=files,
        )
    except OSError as exc:
        if exc.errno not in FULL_DISK:
            raise
        raise DiskFull(f"the manifest of order {key}", folder, exc, size=None, kept=0) from exc
    if order.state is OrderState.DELIVERED:
        stored = [StoredFile(str(file.path.relative_to(root)), file.size, file.md5) for file in files]
        ledger.landed(key, stored, str(manifest.relative_to(root)), actor=actor)
    return Landing(key, folder, manifest, files)


def failure_message(error: Exception) -> str:
    """What stopped an order from landing, in one line for the operator (never a traceback)."""
    if isinstance(error, (DeliveryError, ProviderError, ClientError, LedgerError, OSError, ValueError)):
        return str(error)
    if isinstance(error, DBAPIError):
        reason = (str(error.orig).strip().splitlines() or [type(error.orig).__name__])[0]
        return (
            f"the ledger refused it ({reason}); files already on disk are reused by the next "
            "`harvest orders status --land`"
        )
    return f"unexpected {type(error).__name__}: {error} (a bug in harvest: please report it)"
