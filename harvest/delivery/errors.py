"""What can go wrong when landing a delivery, in words that say what to do about it."""

from __future__ import annotations

import contextlib
import errno
import shutil
from pathlib import Path

from harvest.delivery.limits import SIZE_LIMIT_VARIABLE
from harvest.providers.errors import Gone

RESUMABLE_FULL = frozenset({errno.ENOSPC, errno.EDQUOT})  # space can be freed: what was written can be resumed
FULL_DISK = RESUMABLE_FULL | {errno.EFBIG}  # EFBIG: the file system (or a file size limit) cannot hold the file


class DeliveryError(Exception):
    """A delivered file could not be landed."""


class UnsafeFileName(DeliveryError, ValueError):
    """A provider's file name that could escape the delivery folder or confuse a file system."""


class DeliveryExpired(Gone):
    """410: the provider no longer keeps the delivery's files."""

    default_hint = "the delivery has expired at {provider}; order it again"

    @classmethod
    def from_gone(cls, error: Gone) -> DeliveryExpired:
        """The same provider answer, told as an expired delivery."""
        return error.recast(cls, message=f"delivery expired: {error.message}")


class ChecksumMismatch(DeliveryError):
    """A downloaded file kept arriving with other bytes than the provider announced."""

    what = "md5"

    def __init__(self, url: str, expected: str, got: str, attempts: int) -> None:
        self.url = url  # without secrets (harvest.providers.errors.safe_url)
        self.expected = expected
        self.got = got
        self.attempts = attempts
        super().__init__(
            f"{url}: {self.what} mismatch after {attempts} attempt{'s' * (attempts != 1)} "
            f"(expected {expected}, got {got}); the provider keeps serving damaged data: try again later "
            "or ask the provider to re-deliver"
        )


class SizeMismatch(ChecksumMismatch):
    """A downloaded file kept arriving with another size than the provider announced."""

    what = "size"


class DownloadTooLarge(DeliveryError):
    """A body of unknown size ran past the most harvest accepts for such a file."""

    def __init__(self, url: str, limit: int) -> None:
        self.url = url  # without secrets (harvest.providers.errors.safe_url)
        self.limit = limit
        super().__init__(
            f"{url}: the server sent more than {limit:,} bytes and nobody states the file's size (neither the "
            "provider's listing nor the response), so harvest stopped there and deleted the partial download; if "
            f"the file really is that large, raise {SIZE_LIMIT_VARIABLE} (e.g. {SIZE_LIMIT_VARIABLE}=200GiB) and "
            "run again"
        )


class DiskFull(DeliveryError):
    """The file system a delivery lands on is full, over its quota, or cannot hold a file that large."""

    def __init__(self, what: str, folder: Path, error: OSError, *, size: int | None, kept: int) -> None:
        self.folder = folder
        self.code = error.errno
        self.size = size  # the whole file, if known
        self.kept = kept  # bytes left on disk for a resume (0: the partial was deleted)
        reason = error.strerror or str(error)
        if error.errno == errno.EFBIG:
            held = f"a file of {size:,} bytes" if size is not None else "a file that large"
            message = (
                f"cannot land {what}: the file system of {folder} cannot hold {held} ({reason}); point "
                "HARVEST_DATA_DIR at a file system that can and run again (the partial download was deleted)"
            )
        else:
            quota = error.errno == errno.EDQUOT  # the free space of the disk says nothing about a quota
            state, free = ("is over its disk quota", "") if quota else ("is full", _free_space(folder))
            need, action = "", "free some space there"
            if size is not None:
                need, action = f"; it needs {size - kept:,} more bytes ({size:,} in all)", "free that much space there"
            message = (
                f"cannot land {what}: {folder} {state} ({reason}{free}){need}: {action} (or point HARVEST_DATA_DIR "
                "at a larger disk) and run again"
            )
            if kept:
                message += f"; the {kept:,} bytes already downloaded are kept and the download resumes from them"
        super().__init__(message)


def _free_space(folder: Path) -> str:
    """', N bytes free' for the file system of `folder` (or of its nearest existing parent), if it can be read."""
    with contextlib.suppress(OSError):
        existing = next(p for p in (folder, *folder.parents) if p.exists())
        return f", {shutil.disk_usage(existing).free:,} bytes free"
    return ""
