"""Writing a million scenes into one sorted GeoParquet file: peak memory, against collecting them first.

Each side runs in a fresh process (so its peak is its own) and generates the same 1,000,000
synthetic scenes of about 1.2 KB each in batches of 10,000. `CatalogWriter` streams them through
its external sort; the baseline is what a script would do: collect every batch, concatenate,
and write the table with `pyarrow.parquet.write_table`. The figure is the peak RSS above a
warmed-up start. Goal: the streaming writer's growth stays under 400 MB.
"""

from __future__ import annotations

import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROWS = 1_000_000
BATCH_ROWS = 10_000
GOAL_MB = 400


def _worker(kind: str, target: Path) -> dict[str, float]:
    import psutil
    import pyarrow as pa
    import pyarrow.parquet as pq

    from harvest.catalog.writer import write_catalog
    from harvest_tests.catalog.scenes import scene_batches

    next(scene_batches(10, 10, raw_bytes=1000))  # everything imported and warmed up before the baseline
    baseline = psutil.Process().memory_info().rss
    started = time.perf_counter()
    batches = scene_batches(ROWS, BATCH_ROWS, days=2, raw_bytes=1000)
    if kind == "streaming":
        summary = write_catalog(target, batches)
        rows, runs = summary.rows, summary.spilled_runs
    else:
        table = pa.concat_tables(list(batches))
        pq.write_table(table, target, compression="zstd")
        rows, runs = len(table), 0
    seconds = time.perf_counter() - started
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    return {"rows": rows, "runs": runs, "seconds": seconds, "growth_mb": (peak - baseline) / 1e6,
            "file_mb": target.stat().st_size / 1e6}  # fmt: skip


def _in_subprocess(kind: str, target: Path) -> dict[str, float]:
    out = subprocess.run(
        [sys.executable, "-m", "benchmarks.catalog_write", kind, str(target)], capture_output=True, text=True
    )
    if out.returncode != 0:
        raise RuntimeError(f"{kind} writer failed:\n{out.stderr[-3000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def run() -> dict[str, float]:
    with tempfile.TemporaryDirectory() as scratch:
        streaming = _in_subprocess("streaming", Path(scratch) / "streaming.parquet")
        collected = _in_subprocess("collected", Path(scratch) / "collected.parquet")
    print(f"catalog write, {ROWS:,} scenes of ~1.2 KB in batches of {BATCH_ROWS:,}")
    print(f"  CatalogWriter (external sort, {streaming['runs']:.0f} spilled runs): "
          f"peak growth {streaming['growth_mb']:,.0f} MB, {streaming['seconds']:.1f} s, "
          f"file {streaming['file_mb']:,.0f} MB")  # fmt: skip
    print(f"  baseline (collect, concat, pq.write_table, unsorted): peak growth {collected['growth_mb']:,.0f} MB, "
          f"{collected['seconds']:.1f} s, file {collected['file_mb']:,.0f} MB")  # fmt: skip
    ratio = streaming["growth_mb"] / collected["growth_mb"]
    met = "met" if streaming["growth_mb"] < GOAL_MB else "NOT met"
    print(f"  memory ratio streaming / collected: {ratio:.2f}; goal < {GOAL_MB} MB -> {met}")
    return {"streaming_growth_mb": streaming["growth_mb"], "collected_growth_mb": collected["growth_mb"]}


if __name__ == "__main__":
    kind, target = sys.argv[1], Path(sys.argv[2])
    print(json.dumps(_worker(kind, target)))
