"""Telling a catalog day file from a stray or damaged one, and the error a damaged file raises when read.

A day file is named `YYYY-MM-DD.parquet` (that exact spelling: the store finds days by name) and
is a Parquet file: it starts and ends with the magic bytes `PAR1`, which a zero-byte, truncated or
non-Parquet file lacks. Checking the two ends costs two small reads, so listings can afford it;
a file whose ends look right but whose insides are broken is caught when it is read.
"""

from __future__ import annotations

import os
import re
from datetime import date
from pathlib import Path

MAGIC = b"PAR1"
_DAY_NAME = re.compile(r"(\d{4})-(\d{2})-(\d{2})\.parquet")
STRAY = "is not named YYYY-MM-DD.parquet"
_ARROW_PREFIX = re.compile(r"^Could not open Parquet input source '.*?': ")


class DamagedFileError(ValueError):
    """A catalog file that cannot be read as the catalog's Parquet: the message names it and how to get it back."""

    def __init__(self, path: Path, reason: str, fix: str) -> None:
        self.path = path
        self.reason = reason
        super().__init__(f"catalog file {path} {reason}; {fix}")


def day_of(path: Path) -> date | None:
    """The day a file is named for, or None when its name is not exactly a real YYYY-MM-DD.parquet."""
    match = _DAY_NAME.fullmatch(path.name)
    if match is None:
        return None
    try:
        return date(*(int(part) for part in match.groups()))
    except ValueError:
        return None


def damage(path: Path) -> str | None:
    """Why the file cannot be Parquet, judged by its size and its two ends; None when it looks whole."""
    try:
        with path.open("rb") as handle:
            size = os.fstat(handle.fileno()).st_size
            if size == 0:
                return "is empty (0 bytes)"
            if size < 2 * len(MAGIC) + 4:
                return f"is too short to be Parquet ({size} bytes)"
            head = handle.read(len(MAGIC))
            handle.seek(-len(MAGIC), os.SEEK_END)
            tail = handle.read(len(MAGIC))
    except OSError as exc:
        return f"cannot be read ({exc.strerror or exc})"
    if head != MAGIC:
        return "is not a Parquet file"
    if tail != MAGIC:
        return "is not a complete Parquet file (truncated?)"
    return None


def unreadable(path: Path, error: Exception) -> str:
    """The reason a read of this file failed with `error`, for a DamagedFileError."""
    lines = str(error).strip().splitlines()
    first = _ARROW_PREFIX.sub("", lines[0]) if lines else type(error).__name__
    return damage(path) or f"is damaged or not a catalog file ({first})"
