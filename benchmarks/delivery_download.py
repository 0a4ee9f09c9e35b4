"""Delivery download throughput: harvest's `download()` (md5, resume bookkeeping, fsync, rename) against bare httpx.

The sandbox runs in its own process pinned to one core and serves one delivered OneAtlas product (a
zip of `size_mb`, ordered through harvest's OneAtlas client). In this process, harvest's `download()`
lands it, hashing every byte and checking the provider's X-Ads-Checksum-Value, and a bare reference
streams the same URL with httpx into a file (no hashing, no fsync). The two alternate, `rounds`
times each, after one warm-up of each; the medians are compared. Goal: harvest >= 0.8 of the reference.

The client is not pinned: `download()` hashes on a writer thread, which takes whatever core is free,
as it would on any multi-core host; the reference is single-threaded either way.
"""

from __future__ import annotations

import os
import resource
import shutil
import statistics
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import httpx

from benchmarks.processes import sandbox_process
from harvest.delivery.download import download
from harvest.ordering.model import Deliverable
from harvest.providers.http import ProviderHttp
from harvest_tests.delivery.sandbox_orders import oneatlas_product

CLOCK = "frozen@2026-11-01T00:00:00Z"
GOAL = 0.8


def bare_download(http: ProviderHttp, deliverable: Deliverable, target: Path) -> int:
    """The reference: the same GET with the same token, streamed into a file by plain httpx; bytes received."""
    assert http.auth is not None
    received = 0
    with (
        httpx.Client(timeout=60) as client,
        client.stream("GET", deliverable.url, headers=http.auth.headers()) as response,
        target.open("wb") as handle,
    ):
        response.raise_for_status()
        for chunk in response.iter_raw():
            handle.write(chunk)
            received += len(chunk)
    return received


@dataclass(frozen=True)
class Timing:
    """One download: bytes, wall seconds, and CPU seconds of this process (all its threads)."""

    size: int
    wall_s: float
    cpu_s: float


def _cpu_s() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _timed(action: Callable[[], int]) -> Timing:
    wall, cpu = time.perf_counter(), _cpu_s()
    size = action()
    return Timing(size, time.perf_counter() - wall, _cpu_s() - cpu)


def _rates(timings: list[Timing]) -> tuple[float, float]:
    """Median MB/s, and median CPU seconds per GB."""
    mb_s = statistics.median(t.size / t.wall_s / 1e6 for t in timings)
    cpu_per_gb = statistics.median(t.cpu_s / (t.size / 1e9) for t in timings)
    return mb_s, cpu_per_gb


def run(size_mb: int = 256, rounds: int = 5) -> dict[str, float]:
    """Print MB/s of harvest and of the reference, and their ratio."""
    with tempfile.TemporaryDirectory() as scratch:
        root = Path(scratch)
        extra = ("--clock", CLOCK, "--density", "0.2", "--product-size", str(size_mb << 20))
        with sandbox_process(root / "state", *extra) as env:
            client, deliverable = oneatlas_product(env, env["ONEATLAS_DATA_URL"].removesuffix("/oneatlas/data"))

            def harvest() -> int:
                folder = root / "landed"
                size = download(client.http, deliverable, folder).size
                shutil.rmtree(folder)
                return size

            def bare() -> int:
                size = bare_download(client.http, deliverable, root / "bare.bin")
                (root / "bare.bin").unlink()
                return size

            bare(), harvest()  # warm-up: the sandbox builds the product on its first request
            harvest_runs: list[Timing] = []
            bare_runs: list[Timing] = []
            for _ in range(rounds):  # alternating, so both see the same machine
                bare_runs.append(_timed(bare))
                harvest_runs.append(_timed(harvest))
            client.close()
    size = bare_runs[0].size
    assert all(t.size == size for t in harvest_runs + bare_runs)
    (harvest_mb_s, harvest_cpu), (bare_mb_s, bare_cpu) = _rates(harvest_runs), _rates(bare_runs)
    ratio = harvest_mb_s / bare_mb_s
    print(f"delivery download, one OneAtlas product of {size / 1e6:,.0f} MB over loopback, median of {rounds} "
          f"(load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores)")  # fmt: skip
    print(f"  harvest download(): {harvest_mb_s:8,.0f} MB/s, {harvest_cpu:5.2f} CPU s/GB "
          "(md5 on, resume bookkeeping, fsync, atomic rename)")  # fmt: skip
    print(f"  bare httpx:         {bare_mb_s:8,.0f} MB/s, {bare_cpu:5.2f} CPU s/GB (same GET to a file, no hashing)")
    print(f"  ratio harvest / bare: {ratio:.2f}; goal >= {GOAL} -> {'met' if ratio >= GOAL else 'NOT met'}")
    return {"harvest_mb_s": harvest_mb_s, "bare_mb_s": bare_mb_s, "ratio": ratio}


if __name__ == "__main__":
    run()
