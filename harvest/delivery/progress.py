"""Byte progress of one download: a callback at most every MiB, and an INFO log line every tenth of the file."""

from __future__ import annotations

import logging
from collections.abc import Callable

ProgressCallback = Callable[[int, int | None], None]  # (bytes so far, whole size if known)

CALLBACK_EVERY = 1 << 20
LOG_EVERY_UNKNOWN = 64 << 20  # without a known size, a log line every 64 MiB
_MB = 1_000_000


class Progress:
    """Reports the growth of one file to a callback and to a logger."""

    def __init__(self, label: str, on_progress: ProgressCallback | None, log: logging.Logger) -> None:
        self.label = label
        self.total: int | None = None
        self._on_progress = on_progress
        self._log = log
        self._called_at = -1
        self._logged_step = -1

    def _step(self, size: int) -> int:
        if self.total:
            return min(10, size * 10 // self.total)
        return size // LOG_EVERY_UNKNOWN

    def update(self, size: int, *, final: bool = False) -> None:
        """The file now has `size` bytes (`final`: tell the callback even if less than a MiB was added)."""
        if self._on_progress is not None and (final or size - self._called_at >= CALLBACK_EVERY):
            self._called_at = size
            self._on_progress(size, self.total)
        step = self._step(size)
        if step > self._logged_step:
            self._logged_step = step
            if self.total:
                share = 100 * size / self.total
                self._log.info("%s: %.0f%% (%.1f of %.1f MB)", self.label, share, size / _MB, self.total / _MB)
            else:
                self._log.info("%s: %.1f MB", self.label, size / _MB)

    def restarted(self) -> None:
        """The file starts again from zero bytes."""
        self._called_at = -1
        self._logged_step = -1
