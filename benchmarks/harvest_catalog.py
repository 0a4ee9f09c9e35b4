"""Harvest into GeoParquet: scenes/s end to end, against a bare reference loop over the same pages.

The sandbox serves about a million OneAtlas scenes on one core. On the other core, in a process of
its own (so its peak memory is its own), harvest walks the whole catalog by lastUpdateDate windows
(`OneAtlasSource.changed_since`), normalises every feature and streams the rows into one sorted
GeoParquet file (`CatalogWriter`). The reference, measured in the same run, sends exactly the same
requests with bare httpx and parses each page with orjson: nothing else. Goals: >= 30,000 scenes/s
end to end, and a peak memory under 400 MB for 1,000,000 scenes.
"""

from __future__ import annotations

import json
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import httpx
import orjson

from benchmarks.processes import CLIENT_CORE, pin_to, sandbox_process
from harvest import registry
from harvest.catalog.writer import CatalogWriter
from harvest.harvesting.sources import OneAtlasSource
from harvest.providers.oneatlas import OneAtlasClient
from harvest.providers.settings import OneAtlasSettings

CLOCK = "frozen@2026-11-01T00:00:00Z"
SINCE = "2018-01-01T00:00:00Z"


class RecordingClient(OneAtlasClient):
    """The real client, noting each search body so the reference can send exactly the same ones."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.bodies: list[str] = []

    def _page_body(self, query: Mapping[str, Any], page: int, page_size: int | None = None) -> bytes:
        body = {**query, "itemsPerPage": page_size or self.page_size, "startPage": page}
        self.bodies.append(orjson.dumps(body).decode())
        return super()._page_body(query, page, page_size)


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def harvest_worker(env: dict[str, str], target: Path, log_path: Path) -> dict[str, float]:
    """In a fresh process: the real harvest path, recording the requests it sends."""
    pin_to(CLIENT_CORE)
    client = RecordingClient(OneAtlasSettings.from_env(env), requests_per_s=None)
    source = OneAtlasSource(client, registry.get("oneatlas").normaliser)
    started = time.perf_counter()
    scenes = 0
    with CatalogWriter(target) as writer:
        for batch in source.changed_since(SINCE):
            writer.write(batch)
            scenes += len(batch)
    seconds = time.perf_counter() - started
    log_path.write_text("\n".join(client.bodies))
    return {"scenes": scenes, "seconds": seconds, "peak_rss_mb": _peak_rss_mb(), "requests": len(client.bodies),
            "file_mb": target.stat().st_size / 1e6}  # fmt: skip


def reference_worker(env: dict[str, str], log_path: Path) -> dict[str, float]:
    """In a fresh process: the same request bodies, sent with bare httpx, each page parsed by orjson."""
    pin_to(CLIENT_CORE)
    auth = httpx.post(
        env["ONEATLAS_AUTH_URL"] + "/auth/realms/IDP/protocol/openid-connect/token",
        data={"apikey": env["ONEATLAS_API_KEY"], "grant_type": "api_key", "client_id": "IDP"},
    ).json()
    url = env["ONEATLAS_SEARCH_URL"] + "/api/v2/opensearch"
    bodies = log_path.read_text().splitlines()
    headers = {"Authorization": f"Bearer {auth['access_token']}", "Content-Type": "application/json"}
    features = 0
    with httpx.Client(timeout=60) as client:
        started = time.perf_counter()
        for body in bodies:
            features += len(orjson.loads(client.post(url, content=body, headers=headers).content)["features"])
        seconds = time.perf_counter() - started
    return {"features": features, "seconds": seconds, "peak_rss_mb": _peak_rss_mb(), "requests": len(bodies)}


def _in_subprocess(worker: str, *args: str) -> dict[str, float]:
    out = subprocess.run(
        [sys.executable, "-m", "benchmarks.harvest_catalog", worker, *args], capture_output=True, text=True, check=False
    )
    if out.returncode != 0:
        raise RuntimeError(f"{worker} failed:\n{out.stderr[-3000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def run(density: float = 14.0) -> dict[str, float]:
    with tempfile.TemporaryDirectory() as scratch:
        root = Path(scratch)
        started = time.perf_counter()
        with sandbox_process(root / "state", "--clock", CLOCK, "--density", str(density)) as env:
            ready = time.perf_counter() - started
            env_file = root / "env.json"
            env_file.write_text(json.dumps(env))
            harvest = _in_subprocess(
                "harvest", str(env_file), str(root / "catalog.parquet"), str(root / "requests.log")
            )
            reference = _in_subprocess("reference", str(env_file), str(root / "requests.log"))
    rate = harvest["scenes"] / harvest["seconds"]
    reference_rate = reference["features"] / reference["seconds"]
    print(f"harvest into GeoParquet, OneAtlas, whole catalog (sandbox density {density:g}, ready in {ready:.0f} s)")
    print(f"  harvest:   {harvest['scenes']:>10,.0f} scenes in {harvest['seconds']:6.1f} s = {rate:>8,.0f} scenes/s, "
          f"peak memory {harvest['peak_rss_mb']:,.0f} MB, {harvest['requests']:,.0f} requests, "
          f"file {harvest['file_mb']:,.0f} MB")  # fmt: skip
    print(f"  reference: {reference['features']:>10,.0f} features in {reference['seconds']:6.1f} s = "
          f"{reference_rate:>8,.0f} features/s (same requests; httpx + orjson only)")  # fmt: skip
    print(f"  ratio harvest / reference: {rate / reference_rate:.2f}; goals: >= 30,000 scenes/s -> "
          f"{'met' if rate >= 30_000 else 'NOT met'}, peak < 400 MB at 1,000,000 scenes -> "
          f"{'met' if harvest['peak_rss_mb'] < 400 and harvest['scenes'] >= 1_000_000 else 'NOT met'}")  # fmt: skip
    return {"scenes_per_s": rate, "reference_per_s": reference_rate, "peak_rss_mb": harvest["peak_rss_mb"]}


if __name__ == "__main__":
    worker, *rest = sys.argv[1:]
    environment = json.loads(Path(rest[0]).read_text())
    if worker == "harvest":
        result = harvest_worker(environment, Path(rest[1]), Path(rest[2]))
    else:
        result = reference_worker(environment, Path(rest[1]))
    print(json.dumps(result))
