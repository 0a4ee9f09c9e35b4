"""Delivery download throughput: harvest's `download()` (md5, resume bookkeeping, fsync, rename) against bare httpx.

The sandbox runs in its own process pinned to one core and serves one delivered OneAtlas product (a
zip of `size_mb`, ordered through harvest's OneAtlas client). In this process, harvest's `download()`
lands it, hashing every byte and checking the provider's X-Ads-Checksum-Value, and a bare reference
streams the same URL with httpx into a file (no hashing, no fsync). The two alternate, `rounds`
times each, after one warm-up of each; the medians are compared. Goal: harvest >= 0.8 of the reference.

Each link is its own sandbox. Unthrottled loopback is CPU-bound: on a small machine md5 alone is
slower than loopback, and the sandbox shares the CPU, so that row shows harvest's CPU cost rather
than what a user sees. The other rows pace every delivered body to a rate a provider could deliver
at (`harvest sandbox serve --download-bandwidth`), where the goal applies. The md5 throughput of
this machine, over an in-memory buffer on one core, is printed as the CPU ceiling.

The client is not pinned: `download()` hashes on a writer thread, which takes whatever core is free,
as it would on any multi-core host; the reference is single-threaded either way.
"""

from __future__ import annotations

import hashlib
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
from harvest.delivery.deliverable import Deliverable
from harvest.delivery.download import download
from harvest.providers.http import ProviderHttp
from harvest_tests.delivery.sandbox_orders import oneatlas_product

CLOCK = "frozen@2026-11-01T00:00:00Z"
GOAL = 0.8


@dataclass(frozen=True)
class Link:
    """A way the sandbox serves its files: a label, and its --download-bandwidth (None: unthrottled)."""

    label: str
    bandwidth: str | None


LINKS = (Link("loopback, CPU-bound", None), Link("100 MB/s link", "100MB"), Link("400 MB/s link", "400MB"))


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


@dataclass(frozen=True)
class Rate:
    """Medians over the rounds of one way of downloading."""

    mb_s: float
    cpu_s_per_gb: float


@dataclass(frozen=True)
class Row:
    """harvest and the reference over one link, measured in the same run."""

    link: Link
    size: int
    harvest: Rate
    bare: Rate

    @property
    def ratio(self) -> float:
        return self.harvest.mb_s / self.bare.mb_s


def _cpu_s() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _timed(action: Callable[[], int]) -> Timing:
    wall, cpu = time.perf_counter(), _cpu_s()
    size = action()
    return Timing(size, time.perf_counter() - wall, _cpu_s() - cpu)


def _rate(timings: list[Timing]) -> Rate:
    """Median MB/s, and median CPU seconds per GB."""
    mb_s = statistics.median(t.size / t.wall_s / 1e6 for t in timings)
    cpu_per_gb = statistics.median(t.cpu_s / (t.size / 1e9) for t in timings)
    return Rate(mb_s, cpu_per_gb)


def md5_mb_s(size_mb: int = 256, rounds: int = 3) -> float:
    """This machine's md5 throughput on one core: hashlib over an in-memory buffer, in 1 MiB updates, best round."""
    buffer = memoryview(os.urandom(size_mb << 20))
    best = 0.0
    for _ in range(rounds):
        digest, started = hashlib.md5(usedforsecurity=False), time.perf_counter()
        for offset in range(0, len(buffer), 1 << 20):
            digest.update(buffer[offset : offset + (1 << 20)])
        best = max(best, len(buffer) / (time.perf_counter() - started) / 1e6)
    return best


def measure(link: Link, size_mb: int, rounds: int) -> Row:
    """harvest and the reference, alternating, against a sandbox of its own serving at `link`'s rate."""
    with tempfile.TemporaryDirectory() as scratch:
        root = Path(scratch)
        extra = ["--clock", CLOCK, "--density", "0.2", "--product-size", str(size_mb << 20)]
        if link.bandwidth is not None:
            extra += ["--download-bandwidth", link.bandwidth]
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
    return Row(link, size, _rate(harvest_runs), _rate(bare_runs))


def _print(rows: list[Row], md5: float, rounds: int) -> None:
    print(f"delivery download, one OneAtlas product of {rows[0].size / 1e6:,.0f} MB, median of {rounds} "
          f"(load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores)")  # fmt: skip
    print(f"  md5 on this machine: {md5:,.0f} MB/s on one core (hashlib, in memory) = "
          f"{1e3 / md5:.2f} CPU s/GB that harvest spends and bare does not")  # fmt: skip
    print(f"  {'link':<20} {'harvest MB/s':>12} {'CPU s/GB':>9} {'bare MB/s':>10} {'CPU s/GB':>9} {'ratio':>6}")
    for row in rows:
        verdict = (
            "(CPU-bound: not a link)"
            if row.link.bandwidth is None
            else f"goal >= {GOAL}: " + ("met" if row.ratio >= GOAL else "NOT met")
        )
        print(f"  {row.link.label:<20} {row.harvest.mb_s:>12,.0f} {row.harvest.cpu_s_per_gb:>9.2f} "
              f"{row.bare.mb_s:>10,.0f} {row.bare.cpu_s_per_gb:>9.2f} {row.ratio:>6.2f}  {verdict}")  # fmt: skip
    print("  harvest: download(), md5 on, resume bookkeeping, fsync, atomic rename; bare: the same GET to a file")


def run(size_mb: int = 256, rounds: int = 5, links: tuple[Link, ...] = LINKS) -> dict[str, float]:
    """Print MB/s and CPU s/GB of harvest and of the reference over each link, and their ratio."""
    md5 = md5_mb_s()
    rows = [measure(link, size_mb, rounds) for link in links]
    _print(rows, md5, rounds)
    figures = {"md5_mb_s": md5}
    for row in rows:
        key = row.link.bandwidth or "loopback"
        figures |= {
            f"{key}_harvest_mb_s": row.harvest.mb_s,
            f"{key}_bare_mb_s": row.bare.mb_s,
            f"{key}_ratio": row.ratio,
        }
    return figures


if __name__ == "__main__":
    run()
