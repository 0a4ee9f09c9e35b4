"""Reading a small configuration file as UTF-8 text, with a plain reason whenever that cannot be done.

Only regular files are read (a named pipe or a device would block or never end), up to a size
limit, and opened without blocking; a UTF-8 byte order mark is accepted and dropped.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

_BOM = b"\xef\xbb\xbf"


class TextFileError(ValueError):
    """A text file that cannot be read: "<path> <reason>[; <fix>]"; `missing` tells an absent file."""

    def __init__(self, path: Path, reason: str, *, fix: str | None = None, missing: bool = False) -> None:
        self.path = path
        self.reason = reason
        self.fix = fix
        self.missing = missing
        super().__init__(f"{path} {reason}" + (f"; {fix}" if fix else ""))


def _open(path: Path) -> int:
    """A read-only descriptor that never waits for a writer (a named pipe opens at once)."""
    return os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))


def read_text(path: Path, *, max_bytes: int) -> str:
    """The file's text; TextFileError says what is wrong (absent, not a regular file, too large, not UTF-8...)."""
    try:
        descriptor = _open(path)
    except (FileNotFoundError, NotADirectoryError):  # the latter: a parent on the path is a file
        raise TextFileError(path, "does not exist", missing=True) from None
    except OSError as exc:
        raise TextFileError(path, f"cannot be read: {exc.strerror or exc}", fix="make it readable") from None
    mode = os.fstat(descriptor).st_mode
    if not stat.S_ISREG(mode):
        os.close(descriptor)
        if stat.S_ISDIR(mode):
            raise TextFileError(path, "is a directory, not a file")
        raise TextFileError(path, "is not a regular file (it is a pipe, socket or device)")
    with os.fdopen(descriptor, "rb") as handle:
        try:
            data = handle.read(max_bytes + 1)
        except OSError as exc:
            raise TextFileError(path, f"cannot be read: {exc.strerror or exc}") from None
    if len(data) > max_bytes:
        raise TextFileError(path, f"is larger than {max_bytes:,} bytes, more than such a file ever needs")
    skipped = len(_BOM) if data.startswith(_BOM) else 0
    try:
        return data[skipped:].decode("utf-8")
    except UnicodeDecodeError as exc:
        offset = skipped + exc.start
        raise TextFileError(
            path, f"is not UTF-8 text (byte 0x{data[offset]:02x} at offset {offset})", fix="save it as UTF-8"
        ) from None
