"""The DIMAP files Airbus delivers for one TPDI delivery, as stored product files on disk."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from harvest.sandbox.core import Sandbox
from harvest.sandbox.products import Member, ProductStore, dimap_members
from harvest.sandbox.sentinelhub.ledger import DeliveryRecord


def store(sandbox: Sandbox) -> ProductStore:
    """The sandbox's product store (shared root with the other providers, own keys)."""
    root = Path(sandbox.config.state_dir) / "products"
    return sandbox.cache("sentinelhub.products", lambda: ProductStore(root, sandbox.config.seed))


def product_key(delivery: DeliveryRecord) -> str:
    """The content key of a delivery's files: the same bytes on every download and restart."""
    return f"sentinelhub/{delivery['id']}"


def _stem(delivery: DeliveryRecord) -> str:
    stamp = np.datetime_as_string(np.datetime64(delivery["acquiredNs"], "ns"), unit="ms")
    digits = "".join(ch for ch in stamp if ch.isdigit())[:15]
    return f"{digits}_SEN_{delivery['productId']}-001"


def members(sandbox: Sandbox, delivery: DeliveryRecord) -> list[Member]:
    """Every file of the delivery, named relative to the delivery root."""
    stem = _stem(delivery)
    prefix = f"{stem}/"
    return [
        Member(member.name.removeprefix(prefix), member.size)
        for member in dimap_members(delivery["platform"], stem, sandbox.config.product_size_bytes)
    ]


def file_path(sandbox: Sandbox, delivery: DeliveryRecord, name: str) -> Path | None:
    """The file `name` of the delivery on disk (written on first use), or None if there is no such file."""
    for member in members(sandbox, delivery):
        if member.name == name:
            return store(sandbox).file(product_key(delivery), member)
    return None


def archive_path(sandbox: Sandbox, delivery: DeliveryRecord) -> Path:
    """The delivery's files as one zip (built on first use)."""
    return store(sandbox).archive(product_key(delivery), members(sandbox, delivery), name="delivery.zip")
