"""A 365-day backfill of every provider over the default AOIs, and a sensor tick with nothing new.

Backfill: `harvest backfill` (the catalog assets run through Dagster, one run per provider over the
whole range, then the unified catalog) against the sandbox in its own process. The baseline, in
the same run, harvests the same days with the same sources in a bare loop (`harvest_days`): no
Dagster, no unified catalog. The ratio is what the orchestration costs.

Idle tick: each sensor evaluated (through `build_sensor_context`) after a first tick has set its
cursor and the catalog holds the window, so nothing is new, with a pause between ticks as in
production (so the client-side rate limiter does not pace back-to-back ticks). The baseline is a
single bare search request to OneAtlas (httpx, token already held).
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import dagster as dg
import httpx

from benchmarks.processes import sandbox_process
from harvest import registry
from harvest.aois import load_aois
from harvest.catalog.store import CatalogStore
from harvest.defs.catalog.sensors import sensors_by_provider
from harvest.defs.resources import HarvestResource
from harvest.harvesting.days import days_between, harvest_days
from harvest.providers.settings import OneAtlasSettings

oneatlas_updates = sensors_by_provider["oneatlas"]
arlula_recent_captures = sensors_by_provider["arlula"]
sentinelhub_import_recent_captures = sensors_by_provider["sentinelhub-import"]
sentinelhub_catalog_recent_captures = sensors_by_provider["sentinelhub-catalog"]

NOW = datetime(2026, 11, 1, tzinfo=UTC)
CLOCK = f"frozen@{NOW.isoformat().replace('+00:00', 'Z')}"
LAST = NOW.date() - timedelta(days=1)
FIRST = LAST - timedelta(days=364)
IDLE_TICKS = 5
TICK_GAP_S = 1.5
PROVIDER_OF = {source.sensor: source.id for source in registry.SOURCES}
SENSORS = (
    oneatlas_updates,
    arlula_recent_captures,
    sentinelhub_import_recent_captures,
    sentinelhub_catalog_recent_captures,
)


def _bare_loop(env: dict[str, str], data: Path) -> tuple[float, int]:
    """The baseline: every provider's days harvested in a plain loop."""
    aois = load_aois().aois
    store = CatalogStore(data / "catalog")
    started = time.perf_counter()
    scenes = 0
    for provider in registry.IDS:
        source = registry.open_source(provider, env)
        try:
            scenes += harvest_days(source, aois, days_between(FIRST, LAST), store).scenes
        finally:
            source.close()
    return time.perf_counter() - started, scenes


def _harvest_backfill(env: dict[str, str], data: Path) -> tuple[float, int, int]:
    """`harvest backfill` in a process of its own, as a user runs it: (seconds, scenes, runs)."""
    home = data / "dagster_home"
    home.mkdir(parents=True)
    child_env = {**os.environ, **env, "HARVEST_DATA_DIR": str(data), "DAGSTER_HOME": str(home)}
    command = [sys.executable, "-m", "harvest.cli", "backfill", "--start", FIRST.isoformat(), "--end", LAST.isoformat()]
    started = time.perf_counter()
    subprocess.run(command, env=child_env, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    elapsed = time.perf_counter() - started
    store = CatalogStore(data / "catalog")
    scenes = sum(len(store.read_day(p, d)) for p in registry.IDS for d in store.days(p))
    with dg.DagsterInstance.from_config(str(home)) as instance:
        runs = len(instance.get_runs())
    return elapsed, scenes, runs


def _idle_ticks(env: dict[str, str], data: Path) -> list[tuple[str, float, float]]:
    """(sensor, median seconds of an idle tick, requests per idle tick) for each sensor."""

    class FrozenHarvest(HarvestResource):
        def now(self) -> datetime:
            return NOW

    saved = dict(os.environ)
    os.environ.update(env)
    try:
        harvest = FrozenHarvest(data_dir=str(data))
        rows = []
        for sensor in SENSORS:
            with dg.build_sensor_context(resources={"harvest": harvest}) as context:
                cursor = _tick(sensor, context).cursor
            source = harvest.kept_source(PROVIDER_OF[sensor.name])
            times, requests = [], []
            for _ in range(IDLE_TICKS):
                time.sleep(TICK_GAP_S)  # ticks are 30 s apart in production: the rate limiter's bucket refills
                before = source.stats()
                with dg.build_sensor_context(resources={"harvest": harvest}, cursor=cursor) as context:
                    started = time.perf_counter()
                    result = _tick(sensor, context)
                    times.append(time.perf_counter() - started)
                assert not result.run_requests, f"{sensor.name}: the tick was not idle"
                cursor = result.cursor
                requests.append((source.stats() - before).requests)
            rows.append((sensor.name, statistics.median(times), statistics.mean(requests)))
        return rows
    finally:
        os.environ.clear()
        os.environ.update(saved)


def _tick(sensor: dg.SensorDefinition, context: dg.SensorEvaluationContext) -> dg.SensorResult:
    result = sensor(context)
    assert isinstance(result, dg.SensorResult), f"{sensor.name} did not answer a SensorResult"
    return result


def _bare_search_s(env: dict[str, str]) -> float:
    """One OneAtlas search request with a token already held: the floor of any tick."""
    settings = OneAtlasSettings.from_env(env)
    form = {"apikey": settings.api_key.reveal(), "grant_type": "api_key", "client_id": "IDP"}
    token = httpx.post(settings.token_url, data=form).json()["access_token"]
    body = {"itemsPerPage": 1, "lastUpdateDate": f"[{(NOW - timedelta(minutes=10)).isoformat()},"}
    times = []
    with httpx.Client(headers={"Authorization": f"Bearer {token}"}) as client:
        for _ in range(IDLE_TICKS):
            started = time.perf_counter()
            client.post(f"{settings.search_url}/api/v2/opensearch", json=body).raise_for_status()
            times.append(time.perf_counter() - started)
    return statistics.median(times)


def run() -> None:
    print(f"== Dagster backfill, {FIRST}..{LAST} (365 days), every provider, default AOIs ==")
    with (
        tempfile.TemporaryDirectory(prefix="harvest-bench-") as tmp,
        sandbox_process(Path(tmp) / "sandbox", "--clock", CLOCK) as env,
    ):
        base_s, base_scenes = _bare_loop(env, Path(tmp) / "bare")
        dagster_s, scenes, runs = _harvest_backfill(env, Path(tmp) / "dagster")
        assert scenes == base_scenes, f"the backfill harvested {scenes} scenes, the bare loop {base_scenes}"
        print(f"  harvest backfill: {runs} runs, {dagster_s:6.1f} s, {scenes:,} scenes, {scenes / dagster_s:6.0f}/s")
        print(
            f"  bare loop       :         {base_s:6.1f} s, {base_scenes:,} scenes, {base_scenes / base_s:7.0f} scenes/s"
        )
        print(f"  ratio (bare / backfill wall time): {base_s / dagster_s:.2f}")
        print()
        print("== Sensor tick with nothing new ==")
        floor = _bare_search_s(env)
        for name, seconds, requests in _idle_ticks(env, Path(tmp) / "dagster"):
            ratio = seconds / floor
            print(f"  {name:<38} {seconds * 1000:7.1f} ms, {requests:.1f} request(s), {ratio:5.1f}x one bare search")
        print(f"  one bare OneAtlas search: {floor * 1000:.1f} ms")


if __name__ == "__main__":
    run()
