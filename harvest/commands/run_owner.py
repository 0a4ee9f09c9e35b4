"""Which process a `harvest backfill` run belongs to: the tags it carries, and whether that process still lives.

A backfill runs its Dagster runs inside its own process, so when that process dies (`kill -9`, out
of memory, a closed laptop) nothing else marks the runs finished. Each run records the host, the
pid and the process's start time; the start time tells a reused pid apart from the original owner.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

LAUNCHED_BY_TAG = "harvest/launched_by"
BACKFILL = "harvest backfill"
HOST_TAG = "harvest/host"
PID_TAG = "harvest/pid"
STARTED_TAG = "harvest/process_started"  # clock ticks after boot (Linux); empty where unknown
_GONE_STATES = ("Z", "X")  # a zombie (killed, not yet reaped by its parent) or a dead process


def process_started(pid: int) -> str | None:
    """When process `pid` started ("" where the system does not say); None if no such process runs."""
    try:
        os.kill(pid, 0)  # signal 0 only asks whether the process exists
    except ProcessLookupError:
        return None
    except PermissionError:
        return ""  # another user's process: alive, its start unknown
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    except OSError:
        return ""  # no /proc (not Linux), or hidden: alive, its start unknown
    if len(fields) < 20:
        return ""
    return None if fields[0] in _GONE_STATES else fields[19]


@dataclass(frozen=True)
class RunOwner:
    """The process that executes a run: host, pid and start time."""

    host: str
    pid: int
    started: str = ""

    @classmethod
    def this_process(cls) -> RunOwner:
        """The calling process."""
        return cls(socket.gethostname(), os.getpid(), process_started(os.getpid()) or "")

    @classmethod
    def from_tags(cls, tags: Mapping[str, str]) -> RunOwner | None:
        """The owner a run's tags name; None for runs without them (or with a malformed pid)."""
        host, pid = tags.get(HOST_TAG, ""), tags.get(PID_TAG, "")
        if not host or not pid.isdigit() or int(pid) < 1:
            return None
        return cls(host, int(pid), tags.get(STARTED_TAG, ""))

    def tags(self) -> dict[str, str]:
        """The run tags that name this owner (with the launched-by tag)."""
        return {LAUNCHED_BY_TAG: BACKFILL, HOST_TAG: self.host, PID_TAG: str(self.pid), STARTED_TAG: self.started}

    def is_here(self) -> bool:
        """Whether the owner runs on this host (only there can its process be looked up)."""
        return self.host == socket.gethostname()

    def is_gone(self) -> bool:
        """Whether the owner's process no longer runs (on this host): no such pid, a zombie, or a reused pid."""
        started = process_started(self.pid)
        return started is None or bool(self.started and started and started != self.started)

    def describe(self) -> str:
        """E.g. "pid 4242 on this host"."""
        return f"pid {self.pid} on {'this host' if self.is_here() else self.host}"
