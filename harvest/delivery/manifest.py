"""The manifest of a landed order: what was bought (key, provider, scene, order, price) and every file's checksum.

One JSON file beside the files it lists, written atomically; file paths in it are relative to it,
so a delivery folder can be moved or copied whole and still be checked.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path, PurePosixPath
from typing import Any

import orjson

from harvest.catalog.atomic import atomic_output
from harvest.delivery.download import LandedFile
from harvest.timestamps import format_micros_offset, from_datetime, parse_ns, to_datetime

MANIFEST_VERSION = 1


class ManifestError(ValueError):
    """A manifest that cannot be written or read as asked."""


@dataclass(frozen=True)
class ManifestFile:
    """One file of a manifest: its provider name, absolute path, size and md5."""

    name: str
    path: Path
    size: int
    md5: str


@dataclass(frozen=True)
class Manifest:
    """A landed order, as its manifest records it."""

    path: Path
    order_key: str
    provider: str
    scene_id: str
    order_id: str
    price_amount: Decimal | None
    price_unit: str | None
    written_at: datetime
    files: tuple[ManifestFile, ...]


def _relative(file: Path, folder: Path) -> str:
    relative = os.path.relpath(file.resolve(), folder.resolve())
    if relative == ".." or relative.startswith(f"..{os.sep}"):
        raise ManifestError(f"{file} is outside {folder}: a manifest lists only files in its own folder tree")
    return PurePosixPath(*Path(relative).parts).as_posix()


def write_manifest(
    path: Path,
    *,
    order_key: str,
    provider: str,
    scene_id: str,
    order_id: str,
    price: tuple[Decimal | int | str, str] | None,
    files: Sequence[LandedFile],
    written_at: datetime | None = None,
) -> Path:
    """Write the manifest atomically at `path` (price as (amount, unit) as quoted, e.g. (Decimal("377"), "credits"))."""
    moment = written_at or datetime.now(UTC)
    if moment.tzinfo is None:
        raise ManifestError("written_at must be timezone-aware (UTC); a naive datetime would be guessed")
    amount, unit = price if price is not None else (None, None)
    try:
        quoted = None if amount is None else {"amount": str(Decimal(amount)), "unit": str(unit)}
    except ArithmeticError as exc:
        raise ManifestError(
            f"price amount {amount!r} is not a number: give a Decimal, an int or a numeric string"
        ) from exc
    document: dict[str, Any] = {
        "version": MANIFEST_VERSION,
        "order_key": order_key,
        "provider": provider,
        "scene_id": scene_id,
        "order_id": order_id,
        "price": quoted,
        "written_at": format_micros_offset(from_datetime(moment)),
        "files": [
            {"name": f.name, "path": _relative(f.path, path.parent), "size": f.size, "md5": f.md5} for f in files
        ],
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    with atomic_output(path) as temporary:
        temporary.write_bytes(orjson.dumps(document, option=orjson.OPT_INDENT_2) + b"\n")
    return path


def read_manifest(path: Path) -> Manifest:
    """Read a manifest written by `write_manifest`; file paths come back absolute."""
    try:
        document = orjson.loads(path.read_bytes())
        if document.get("version") != MANIFEST_VERSION:
            raise ManifestError(f"{path}: manifest version {document.get('version')!r}, expected {MANIFEST_VERSION}")
        price = document["price"]
        files = tuple(
            ManifestFile(f["name"], path.parent / f["path"], int(f["size"]), str(f["md5"])) for f in document["files"]
        )
        return Manifest(
            path=path,
            order_key=document["order_key"],
            provider=document["provider"],
            scene_id=document["scene_id"],
            order_id=document["order_id"],
            price_amount=None if price is None else Decimal(price["amount"]),
            price_unit=None if price is None else price["unit"],
            written_at=to_datetime(parse_ns(document["written_at"])),
            files=files,
        )
    except ManifestError:
        raise
    except (KeyError, TypeError, AttributeError, ValueError, ArithmeticError) as exc:
        raise ManifestError(f"{path} is not a harvest delivery manifest ({type(exc).__name__}: {exc})") from exc
