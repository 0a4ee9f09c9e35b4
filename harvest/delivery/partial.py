"""A download in progress: `<folder>/.<name>.part`, hashed as it grows, kept across restarts, renamed when whole.

Chunks are written and hashed in order on a thread of their own (file writes and md5 updates of
large buffers release the GIL), so hashing overlaps the network instead of adding to it. The
server's validator (ETag or Last-Modified) is kept beside it in `.<name>.part.validator`, so a
resumed download after a restart can still ask for the rest of *the same* file with If-Range.

Both hidden names must fit in NAME_MAX (255 bytes): for a name too long for that (240 bytes or
more), they are `..<sha256 of the name>.part` and its `.validator` instead. A provider's name never
starts with a dot (see `names.py`), so no other file's partial can have that name.

A failed write (a full disk) stops all later ones: the file on disk stays an exact prefix of the
download, which a later run re-hashes and resumes.
"""

from __future__ import annotations

import contextlib
import errno
import functools
import hashlib
import os
from collections import deque
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import BinaryIO

from harvest.catalog.atomic import fsync_path

_new_md5 = functools.partial(hashlib.md5, usedforsecurity=False)  # a checksum, not security
MAX_PENDING = 8  # chunks queued for the writer thread before `append` waits
WRITEBACK_EVERY = 16 << 20  # bytes written between asking the kernel to start putting them on disk
NAME_MAX = 255  # bytes in one file name (ext4, XFS, APFS, NTFS)
VALIDATOR = ".validator"


def partial_path(final: Path) -> Path:
    """Where the partial download of `final` lives (hidden, beside it; named after a hash when the name is long)."""
    hidden = f".{final.name}.part"
    if len(f"{hidden}{VALIDATOR}".encode()) > NAME_MAX:
        hidden = f"..{hashlib.sha256(final.name.encode()).hexdigest()}.part"
    return final.with_name(hidden)


def file_md5(path: Path) -> str:
    """The md5 of a whole file."""
    with path.open("rb") as handle:
        return hashlib.file_digest(handle, _new_md5).hexdigest()


class PartialFile:
    """The bytes of one file received so far, their running md5, and the validator they came with."""

    def __init__(self, final: Path) -> None:
        self.final = final
        self.path = partial_path(final)
        self._validator_path = self.path.with_name(self.path.name + VALIDATOR)
        final.parent.mkdir(parents=True, exist_ok=True)
        # unbuffered appends: what a failed write leaves on disk is exactly what was written before it
        self._handle: BinaryIO = self.path.open("a+b", buffering=0)  # a partial left by an earlier run is kept
        self._handle.seek(0)
        self._digest = hashlib.file_digest(self._handle, _new_md5)  # re-hash the bytes already there
        self.size = self._handle.tell()  # bytes accepted by `append`, written or queued
        self._writer = ThreadPoolExecutor(1, thread_name_prefix="harvest-delivery-writer")
        self._pending: deque[Future[None]] = deque()
        self._not_written_back = 0
        self.failure: OSError | None = None  # the write that failed (a full disk); nothing is written after it

    @property
    def validator(self) -> str | None:
        """The ETag or Last-Modified the bytes so far were served with, if any."""
        try:
            return self._validator_path.read_text().strip() or None
        except FileNotFoundError:
            return None

    @validator.setter
    def validator(self, value: str | None) -> None:
        if value is None:
            self._validator_path.unlink(missing_ok=True)
        elif value != self.validator:
            self._validator_path.write_text(value)

    def md5(self) -> str:
        """The md5 of the bytes so far."""
        self.drain()
        return self._digest.hexdigest()

    def append(self, data: bytes | bytearray) -> None:
        """Add the next bytes of the file (the caller hands `data` over and must not change it)."""
        if self.failure is not None:
            raise self.failure
        self._pending.append(self._writer.submit(self._write_in_order, data))
        self.size += len(data)
        while len(self._pending) > MAX_PENDING:
            self._pending.popleft().result()

    def _write_in_order(self, data: bytes | bytearray) -> None:
        """Write the next chunk unless an earlier one failed, so the file on disk stays a prefix of the download."""
        if self.failure is not None:
            return
        try:
            self._write(data)
        except OSError as exc:
            self.failure = exc
            raise

    def _write(self, data: bytes | bytearray) -> None:
        view = memoryview(data)
        while view:  # a raw write may take part of the chunk (the last bytes that fit on a filling disk)
            written = self._handle.write(view)
            if not written:
                raise OSError(errno.EIO, "the file system accepted no bytes")
            view = view[written:]
        self._digest.update(data)
        self._not_written_back += len(data)
        if self._not_written_back >= WRITEBACK_EVERY:
            self._start_writeback()

    def _start_writeback(self) -> None:
        """Have the kernel start writing the file to disk without waiting, so `finish`'s fsync has little left.

        POSIX_FADV_DONTNEED starts the writeback of dirty pages and drops pages already on disk from the cache.
        """
        self._handle.flush()
        self._not_written_back = 0
        with contextlib.suppress(AttributeError, OSError):  # no posix_fadvise (macOS, Windows): fsync does it all
            os.posix_fadvise(self._handle.fileno(), 0, 0, os.POSIX_FADV_DONTNEED)

    def drain(self) -> None:
        """Wait until every appended byte is written and hashed (raises the writer's error, if any)."""
        while self._pending:
            self._pending.popleft().result()

    def restart(self) -> None:
        """Drop every byte: the next request starts from scratch."""
        self.drain()
        self._handle.seek(0)
        self._handle.truncate()
        self._digest = _new_md5()
        self.size = 0
        self.validator = None

    def finish(self) -> Path:
        """fsync, then rename to the final name (atomic on one file system); the final path."""
        self.drain()
        self._writer.shutdown()
        self._handle.flush()
        os.fsync(self._handle.fileno())
        self._handle.close()
        self.path.replace(self.final)
        self._validator_path.unlink(missing_ok=True)
        fsync_path(self.final.parent)
        return self.final

    def discard(self) -> None:
        """Close and delete the partial: nothing in it is worth resuming."""
        self.stop(keep=False)

    def stop(self, *, keep: bool) -> int:
        """After a failure: wait for the writer, close, then keep what is on disk or delete it; the bytes kept."""
        with contextlib.suppress(OSError):  # the failure is already being reported
            self.drain()
        self._writer.shutdown()
        self._handle.close()
        if keep:
            return self.path.stat().st_size
        self.path.unlink(missing_ok=True)
        self._validator_path.unlink(missing_ok=True)
        return 0

    def close(self) -> None:
        """Write what was appended and close, keeping the bytes for a later resume."""
        if self._handle.closed:
            return
        try:
            self.drain()
        finally:
            self._writer.shutdown()
            self._handle.close()
