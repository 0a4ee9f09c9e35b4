"""Where each file of an order lands: under its provider's name, or a stable name of its own where names collide.

Two files of one order collide when their names are equal once case and Unicode normalisation are
ignored (the file systems of macOS and Windows ignore both), or when one's name is a folder of the
other's (`a` and `a/b`). Every file of a colliding group lands as `<stem>-<tag><extension>`, the
tag the first hex digits of the sha256 of its download URL (for Arlula, the resource id): the same
on every run and in any listing order, so a re-run finds the file it landed before. The manifest
keeps each file's provider name beside its path.
"""

from __future__ import annotations

import hashlib
import unicodedata
from collections import Counter
from collections.abc import Iterator, Sequence

from harvest.delivery.deliverable import Deliverable
from harvest.delivery.names import MAX_COMPONENT_BYTES, safe_filename

TAG_HEX = 8
_LONGEST_EXTENSION = 32  # bytes: a longer "extension" is part of the stem


def _folded(path: str) -> str:
    """`path` as a case- and normalisation-insensitive file system compares it."""
    return unicodedata.normalize("NFD", unicodedata.normalize("NFD", path).casefold())


def _folders(path: str) -> Iterator[str]:
    """The folders `path` lands in: `a/b/c` -> `a`, `a/b`."""
    parts = path.split("/")
    for end in range(1, len(parts)):
        yield "/".join(parts[:end])


def tagged(name: str, seed: str) -> str:
    """`name` with a tag from `seed` before its extension, its last component cut to fit MAX_COMPONENT_BYTES."""
    folder, _, leaf = name.rpartition("/")
    stem, dot, extension = leaf.rpartition(".")
    if not stem or len(extension.encode()) > _LONGEST_EXTENSION:
        stem, dot, extension = leaf, "", ""
    ending = f"-{hashlib.sha256(seed.encode()).hexdigest()[:TAG_HEX]}{dot}{extension}"
    room = MAX_COMPONENT_BYTES - len(ending.encode())
    leaf = stem.encode()[:room].decode(errors="ignore") + ending  # never half a UTF-8 character
    return f"{folder}/{leaf}" if folder else leaf


def landing_paths(deliverables: Sequence[Deliverable]) -> list[str]:
    """Each deliverable's relative path in its order's folder, distinct even on a case-insensitive file system.

    Raises `UnsafeFileName` for a hostile name (see `names.py`).
    """
    names = [safe_filename(deliverable.filename) for deliverable in deliverables]
    folded = [_folded(name) for name in names]
    counts = Counter(folded)
    folders = {folder for name in folded for folder in _folders(name)}
    colliding = [counts[name] > 1 or name in folders for name in folded]
    taken = folders | {name for name, clash in zip(folded, colliding, strict=True) if not clash}
    paths = []
    for name, deliverable, clash in zip(names, deliverables, colliding, strict=True):
        path, attempt = name, 0
        while clash:
            path = tagged(name, deliverable.url if attempt == 0 else f"{deliverable.url}\n{attempt}")
            clash, attempt = _folded(path) in taken, attempt + 1  # the same URL twice, or a name like a tag
        taken.add(_folded(path))
        paths.append(path)
    return paths
