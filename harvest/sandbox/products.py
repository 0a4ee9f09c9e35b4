"""Delivered product files: deterministic bytes on disk, so downloads support Range and checksums.

A product's content derives from (seed, product key), is written once under the state directory
(temporary file, then rename) and then served from disk; restarts find it again.
"""

from __future__ import annotations

import hashlib
import re
import threading
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from harvest.sandbox.http import file_md5

_SIGNATURES = {
    ".jp2": b"\x00\x00\x00\x0cjP  \r\n\x87\n",
    ".tif": b"II*\x00",
    ".tiff": b"II*\x00",
    ".jpg": b"\xff\xd8\xff\xe0",
}


@dataclass(frozen=True)
class Member:
    """One file of a product: its relative name and size in bytes."""

    name: str
    size: int


def _content(seed: int, key: str, member: Member) -> bytes:
    suffix = Path(member.name).suffix.lower()
    if suffix in (".xml", ".htm", ".html", ".json", ".txt", ".mtl"):
        line = f"<!-- harvest sandbox product {key} / {member.name} -->\n".encode()
        return (line * (member.size // len(line) + 1))[: member.size]
    digest = hashlib.blake2b(f"{seed}:{key}:{member.name}".encode(), digest_size=8).digest()
    rng = np.random.default_rng(int.from_bytes(digest, "big"))
    head = _SIGNATURES.get(suffix, b"")
    return (head + rng.bytes(max(member.size - len(head), 0)))[: member.size]


class ProductStore:
    """Writes product files once and hands out their paths and md5 checksums."""

    def __init__(self, root: Path, seed: int) -> None:
        self.root = root
        self.seed = seed
        self._lock = threading.Lock()

    def _path(self, key: str, name: str) -> Path:
        safe_key = hashlib.sha1(key.encode(), usedforsecurity=False).hexdigest()
        return self.root / safe_key[:2] / safe_key / name

    def file(self, key: str, member: Member) -> Path:
        """One product file on disk (written on first use)."""
        path = self._path(key, member.name)
        if not path.exists():
            with self._lock:
                if not path.exists():
                    self._write(path, _content(self.seed, key, member))
        return path

    def archive(self, key: str, members: list[Member], name: str = "product.zip") -> Path:
        """A zip of the product's files (stored, not deflated: imagery does not compress)."""
        path = self._path(key, name)
        if not path.exists():
            with self._lock:
                if not path.exists():
                    path.parent.mkdir(parents=True, exist_ok=True)
                    partial = path.with_suffix(".partial")
                    with zipfile.ZipFile(partial, "w", compression=zipfile.ZIP_STORED) as archive:
                        for member in members:
                            archive.writestr(member.name, _content(self.seed, key, member))
                    partial.replace(path)
        return path

    def md5(self, path: Path) -> str:
        """The file's md5, computed once and kept beside it."""
        sidecar = path.with_name(path.name + ".md5")
        if sidecar.exists():
            return sidecar.read_text().strip()
        value = file_md5(path)
        sidecar.write_text(value)
        return value

    @staticmethod
    def _write(path: Path, data: bytes) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_suffix(path.suffix + ".partial")
        partial.write_bytes(data)
        partial.replace(path)


def _mission(platform: str) -> str:
    """The mission letters of a platform name (PHR1A -> PHR), as DIMAP volume files are named."""
    letters = re.match(r"[A-Z]+", platform)
    return letters.group() if letters else platform


def dimap_members(platform: str, stem: str, total_size: int) -> list[Member]:
    """The files of an Airbus DIMAP product whose image tiles add up to about `total_size` bytes."""
    image = max(total_size - 6_000, 1024)
    return [
        Member(f"{stem}/VOL_{_mission(platform)}.XML", 1_200),
        Member(f"{stem}/INDEX.HTM", 800),
        Member(f"{stem}/IMG_{platform}_P_001/DIM_{platform}_P_{stem}.XML", 3_000),
        Member(f"{stem}/IMG_{platform}_P_001/IMG_{platform}_P_{stem}_R1C1.JP2", image),
        Member(f"{stem}/IMG_{platform}_P_001/IMG_{platform}_P_{stem}_R1C1.J2W", 120),
        Member(f"{stem}/LICENCE.TXT", 880),
    ]
