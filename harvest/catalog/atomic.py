"""Files that appear whole or not at all, and scratch space that never outlives the write it serves.

Both live beside their target, in the same directory (so `os.replace` is a rename on one file
system) and under hidden names (so readers listing `*.parquet` never see them).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path


@contextlib.contextmanager
def atomic_output(target: Path) -> Iterator[Path]:
    """Yield a temporary path beside `target`; on success fsync it and rename it over `target`, else delete it."""
    temporary = target.with_name(f".{target.name}.{uuid.uuid4().hex}.tmp")
    try:
        yield temporary
        fsync_path(temporary)
        temporary.replace(target)  # os.replace: atomic within one file system
        fsync_path(target.parent)
    finally:
        temporary.unlink(missing_ok=True)


@contextlib.contextmanager
def scratch_directory(target: Path) -> Iterator[Path]:
    """A new hidden directory beside `target`, removed with everything in it on exit."""
    target.parent.mkdir(parents=True, exist_ok=True)
    directory = Path(tempfile.mkdtemp(prefix=f".{target.name}.", suffix=".scratch", dir=target.parent))
    try:
        yield directory
    finally:
        shutil.rmtree(directory, ignore_errors=True)


def fsync_path(path: Path) -> None:
    """Flush a file or a directory (a rename inside it) to disk."""
    descriptor = os.open(path, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)
