"""The catalog sensors, evaluated with `build_sensor_context` against sandboxes on frozen clocks.

Scenarios: a first tick, a tick with nothing new, a burst of re-publications sharing one
lastUpdateDate across page boundaries and becoming searchable late, a re-publication, a deletion,
and a provider that is down.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import dagster as dg
import httpx
import numpy as np
import pytest
import shapely

from harvest.aois import load_aois
from harvest.catalog.store import CatalogStore
from harvest.defs.catalog.sensors import sensors_by_provider
from harvest.defs.resources import HarvestResource
from harvest.harvesting.changes import UpdateCursor
from harvest.harvesting.days import harvest_days
from harvest.harvesting.sources import SceneSource
from harvest.harvesting.watching import FIRST_LOOKBACK, UPDATE_OVERLAP
from harvest.providers.errors import ProviderError
from harvest.sandbox import oneatlas
from harvest.sandbox.server import RunningSandbox
from harvest.sandbox.truth import true_scenes
from harvest.sandbox.world.generate import NEVER
from harvest.timestamps import format_rfc3339_nano, parse_ns
from harvest_tests.conftest import advance
from harvest_tests.fast_sources import sources

oneatlas_updates = sensors_by_provider["oneatlas"]
arlula_recent_captures = sensors_by_provider["arlula"]
sentinelhub_import_recent_captures = sensors_by_provider["sentinelhub-import"]
sentinelhub_catalog_recent_captures = sensors_by_provider["sentinelhub-catalog"]

AOIS = load_aois().aois
UNION = shapely.union_all([aoi.geometry for aoi in AOIS])
RECAPTURE_SENSORS = {
    "arlula": arlula_recent_captures,
    "sentinelhub-import": sentinelhub_import_recent_captures,
    "sentinelhub-catalog": sentinelhub_catalog_recent_captures,
}


def resource_for(sandbox: RunningSandbox, data_dir: Path) -> HarvestResource:
    """The harvest resource on the sandbox's clock, with sources that never sleep between retries."""
    factory = sources(sandbox)

    class SandboxHarvest(HarvestResource):
        def now(self) -> datetime:
            return datetime.fromtimestamp(sandbox.sandbox.now_ns() / 1e9, UTC)

        def source(self, provider: str) -> SceneSource:
            return factory[provider]()

    return SandboxHarvest(data_dir=str(data_dir))


def tick(sensor: dg.SensorDefinition, harvest: HarvestResource, cursor: str | None = None) -> dg.SensorResult:
    with dg.build_sensor_context(resources={"harvest": harvest}, cursor=cursor) as context:
        result = sensor(context)
    assert isinstance(result, dg.SensorResult)
    return result


def requested_days(result: dg.SensorResult) -> set[date]:
    """Every acquisition day the tick's run requests cover."""
    days: set[date] = set()
    for request in result.run_requests or []:
        if request.partition_key:
            days.add(date.fromisoformat(request.partition_key))
            continue
        first = date.fromisoformat(request.tags["dagster/asset_partition_range_start"])
        last = date.fromisoformat(request.tags["dagster/asset_partition_range_end"])
        days.update(first + timedelta(days=n) for n in range((last - first).days + 1))
    return days


def run_keys(result: dg.SensorResult) -> set[str | None]:
    return {request.run_key for request in result.run_requests or []}


def acquisition_day(ns: int) -> date:
    return datetime.fromtimestamp(ns / 1e9, UTC).date()


def true_oneatlas(sandbox: RunningSandbox) -> dict[str, tuple[int, int]]:
    """OneAtlas scenes over the AOIs right now: id -> (acquired, updated)."""
    scenes = true_scenes(sandbox.sandbox, "oneatlas", UNION, 0, 2**62)
    return {scene_id: (s.acquired_ns, s.updated_ns) for scene_id, s in scenes.items()}


def cursor_at(moment_ns: int) -> str:
    text = format_rfc3339_nano(moment_ns)
    return UpdateCursor(text, text).to_json()


@pytest.fixture
def at(make_sandbox) -> Callable[[str], RunningSandbox]:
    """A sandbox whose clock is frozen at an instant (RFC 3339 or ns)."""

    def start(moment: str | int) -> RunningSandbox:
        text = moment if isinstance(moment, str) else format_rfc3339_nano(moment)
        return make_sandbox(clock=f"frozen@{text}")

    return start


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningSandbox]:
    """A sandbox only looked at (its world's history), never ticked."""
    from harvest.sandbox.server import running
    from harvest_tests.conftest import sandbox_config

    with running(sandbox_config(tmp_path_factory.mktemp("world"))) as sandbox:
        yield sandbox


def oneatlas_rows(sandbox: RunningSandbox) -> np.ndarray:
    world = sandbox.sandbox.world
    rows = world.rows_intersecting(UNION)
    return rows[world.oneatlas.contains(rows)]


# -- OneAtlas -------------------------------------------------------------------------------------


def test_first_tick_requests_the_days_updated_in_the_lookback(make_sandbox, tmp_path: Path) -> None:
    sandbox = make_sandbox()
    harvest = resource_for(sandbox, tmp_path)
    result = tick(oneatlas_updates, harvest)
    start = sandbox.sandbox.now_ns() - int((FIRST_LOOKBACK + UPDATE_OVERLAP).total_seconds() * 1e9)
    truth = true_oneatlas(sandbox)
    expected = {acquisition_day(acquired) for acquired, updated in truth.values() if updated >= start}
    assert expected, "the scenario needs updates in the lookback"
    assert requested_days(result) == expected
    cursor = UpdateCursor.from_json(result.cursor, start=datetime.now(UTC))
    assert parse_ns(cursor.since) == max(updated for _, updated in truth.values() if updated >= start)


def test_a_tick_with_nothing_new_skips_with_one_search(make_sandbox, tmp_path: Path) -> None:
    sandbox = make_sandbox()
    harvest = resource_for(sandbox, tmp_path)
    first = tick(oneatlas_updates, harvest)
    before = harvest.kept_source("oneatlas").stats()
    again = tick(oneatlas_updates, harvest, first.cursor)
    sent = harvest.kept_source("oneatlas").stats() - before
    assert sent.requests == 2, f"one search and one deleted search, the token kept: {sent.describe()}"
    assert not again.run_requests
    assert again.skip_reason is not None and "nothing new" in (again.skip_reason.skip_message or "")
    assert UpdateCursor.from_json(again.cursor, start=datetime.now(UTC)).since == (
        UpdateCursor.from_json(first.cursor, start=datetime.now(UTC)).since
    )


def test_a_burst_sharing_one_instant_across_pages_and_visible_late_is_caught(
    world: RunningSandbox, at, tmp_path: Path
) -> None:
    rows = oneatlas_rows(world)
    updates = world.sandbox.world.acq.updates_ns[rows]
    instants, counts = np.unique(updates[updates != NEVER], return_counts=True)
    campaign = int(instants[np.argmax(counts)])
    assert counts.max() > 7, "the burst must straddle the 7-item pages of the test source"
    sandbox = at(campaign - 2 * 10**9)
    harvest = resource_for(sandbox, tmp_path)
    cursor = cursor_at(campaign - 60 * 10**9)
    covered: set[date] = set()
    for _ in range(12):  # a tick every second of sandbox time while the burst becomes searchable
        result = tick(oneatlas_updates, harvest, cursor)
        assert result.cursor is not None
        cursor = result.cursor
        covered |= requested_days(result)
        advance(sandbox, 1)
    burst = {
        scene_id: acquisition_day(acquired)
        for scene_id, (acquired, updated) in true_oneatlas(sandbox).items()
        if updated == campaign
    }
    assert len(burst) == counts.max()
    assert set(burst.values()) <= covered
    assert parse_ns(UpdateCursor.from_json(cursor, start=datetime.now(UTC)).since) == campaign


def test_a_republished_scene_reruns_its_day_under_a_new_run_key(world: RunningSandbox, at, tmp_path: Path) -> None:
    rows = oneatlas_rows(world)
    acq = world.sandbox.world.acq
    updates = acq.updates_ns[rows, 0]
    pick = int(np.flatnonzero((updates != NEVER) & (updates < parse_ns("2026-10-01T00:00:00Z")))[-1])
    update, day = int(updates[pick]), acquisition_day(int(acq.acquired_ns[rows[pick]]))
    sandbox = at(update - 60 * 10**9)
    harvest = resource_for(sandbox, tmp_path)
    before = tick(oneatlas_updates, harvest, cursor_at(update - 3600 * 10**9))
    advance(sandbox, 120)
    after = tick(oneatlas_updates, harvest, before.cursor)
    assert day in requested_days(after)
    assert not run_keys(after) & run_keys(before)
    repeated = tick(oneatlas_updates, harvest, after.cursor)
    assert day not in requested_days(repeated), "the same re-publication is one change, not one per tick"


def test_a_deleted_scene_reruns_the_day_that_holds_it(world: RunningSandbox, at, tmp_path: Path) -> None:
    rows = oneatlas_rows(world)
    acq = world.sandbox.world.acq
    deleted = acq.deleted_ns[rows]
    pick = int(np.flatnonzero(deleted < parse_ns("2026-10-31T00:00:00Z"))[-1])
    moment, day = int(deleted[pick]), acquisition_day(int(acq.acquired_ns[rows[pick]]))
    scene_id = oneatlas.truth_ids(world.sandbox, rows[pick : pick + 1])[0]
    sandbox = at(moment - 60 * 10**9)
    harvest = resource_for(sandbox, tmp_path)
    store = CatalogStore(tmp_path / "catalog")
    source = harvest.source("oneatlas")
    harvest_days(source, AOIS, [day], store)
    assert scene_id in store.read_day("oneatlas", day).column("scene_id").to_pylist()
    before = tick(oneatlas_updates, harvest, cursor_at(moment - 3600 * 10**9))
    advance(sandbox, 120)
    after = tick(oneatlas_updates, harvest, before.cursor)
    assert day in requested_days(after)
    harvest_days(source, AOIS, [day], store)  # the run the sensor asked for
    assert scene_id not in store.read_day("oneatlas", day).column("scene_id").to_pylist()
    assert not tick(oneatlas_updates, harvest, after.cursor).run_requests


def test_a_provider_that_is_down_fails_the_tick_and_keeps_the_cursor(make_sandbox, tmp_path: Path) -> None:
    sandbox = make_sandbox(faults="503=1@oneatlas.search")
    harvest = resource_for(sandbox, tmp_path)
    cursor = cursor_at(sandbox.sandbox.now_ns() - int(FIRST_LOOKBACK.total_seconds()) * 10**9)
    with (
        dg.build_sensor_context(resources={"harvest": harvest}, cursor=cursor) as context,
        pytest.raises(ProviderError, match="OneAtlas") as failure,
    ):
        oneatlas_updates(context)  # raising, not returning a SensorResult, is what keeps Dagster's cursor
    assert "503" in str(failure.value)
    httpx.post(f"{sandbox.url}/_sandbox/faults", json={"spec": ""}, timeout=10).raise_for_status()
    recovered = tick(oneatlas_updates, harvest, cursor)  # the kept cursor: nothing since it is lost
    assert recovered.run_requests and recovered.cursor != cursor


# -- providers without an update time ------------------------------------------------------------


@pytest.mark.parametrize("provider", sorted(RECAPTURE_SENSORS))
def test_recent_captures_request_days_that_differ_from_the_catalog(provider: str, make_sandbox, tmp_path: Path) -> None:
    sensor = RECAPTURE_SENSORS[provider]
    sandbox = make_sandbox()
    harvest = resource_for(sandbox, tmp_path)
    first = tick(sensor, harvest)
    days = requested_days(first)
    assert days, "a fresh catalog differs wherever the provider has scenes"
    source = harvest.source(provider)
    harvest_days(source, AOIS, sorted(days), harvest.store())
    second = tick(sensor, harvest)
    assert not second.run_requests, "once harvested, nothing differs"
    assert second.skip_reason is not None
    # a day's file lost (or edited by hand) differs again, under the same change's key
    harvest.store().path(provider, min(days)).unlink()
    third = tick(sensor, harvest)
    assert requested_days(third) == {min(days)}


def test_recent_captures_see_new_scenes_as_they_are_published(make_sandbox, tmp_path: Path) -> None:
    sandbox = make_sandbox()
    harvest = resource_for(sandbox, tmp_path)
    days = requested_days(tick(sentinelhub_catalog_recent_captures, harvest))
    harvest_days(harvest.source("sentinelhub-catalog"), AOIS, sorted(days), harvest.store())
    for _ in range(10):  # two days of sandbox time, half a day at a time, until something is published
        advance(sandbox, 12 * 3600)
        result = tick(sentinelhub_catalog_recent_captures, harvest)
        if result.run_requests:
            break
    else:
        pytest.fail("no new Sentinel-2 scene over the AOIs in five days")
    today = datetime.fromtimestamp(sandbox.sandbox.now_ns() / 1e9, UTC).date()
    assert all(today - timedelta(days=7) <= day <= today for day in requested_days(result))
