"""The files a completed dataset delivers, written once by the shared ProductStore."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from harvest.sandbox.core import Sandbox
from harvest.sandbox.products import Member, ProductStore

_UNSAFE = re.compile(r"[^\w.]")


@dataclass(frozen=True)
class ResourceSpec:
    """One file of a dataset, before it has an id."""

    name: str
    type: str  # the seed's resource type, e.g. img_tiff
    format: str  # media type
    roles: tuple[str, ...]
    size: int


def safe_name(text: str) -> str:
    """A file name of word characters and dots only (the Python SDK's Content-Disposition regex)."""
    return _UNSAFE.sub("_", text)


def resource_specs(scene_id: str, supplier: str, product_size: int) -> list[ResourceSpec]:
    """The resources a dataset of a scene delivers."""
    stem = safe_name(scene_id)
    thumb = ResourceSpec(f"{stem}_thumb.jpg", "thumb", "image/jpeg", ("thumbnail",), 24_000)
    if supplier == "landsat":
        bands = [
            ResourceSpec(f"{stem}_{band}.TIF", "img_tiff", "image/tiff", ("data",), max(product_size // 4, 1024))
            for band in ("B2", "B3", "B4", "B8")
        ]
        return [*bands, ResourceSpec(f"{stem}_MTL.txt", "meta_mtl", "text/plain", ("metadata",), 8_000), thumb]
    return [
        ResourceSpec(f"{stem}.tif", "img_tiff", "image/tiff", ("data",), max(product_size, 1024)),
        ResourceSpec(f"{stem}_metadata.json", "meta_json", "application/json", ("metadata",), 4_000),
        thumb,
        ResourceSpec("license.txt", "license", "text/plain", ("license",), 2_000),
    ]


def _store(sandbox: Sandbox) -> ProductStore:
    return sandbox.cache(
        "arlula.files", lambda: ProductStore(Path(sandbox.config.state_dir) / "products", sandbox.config.seed)
    )


def resource_path(sandbox: Sandbox, resource: dict[str, Any]) -> Path:
    """The resource's bytes on disk (written on first use): its own, even when another resource has the same name."""
    key = f"arlula/{resource['dataset']}/{resource['id']}"
    return _store(sandbox).file(key, Member(resource["name"], int(resource["size"])))


def resource_md5(sandbox: Sandbox, resource: dict[str, Any]) -> str:
    """The md5 of the resource's bytes, as hex."""
    return _store(sandbox).md5(resource_path(sandbox, resource))
