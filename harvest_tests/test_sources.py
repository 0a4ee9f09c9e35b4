"""Harvesting the sandbox through real clients, with faults on, against its ground truth.

The issue's bar: a month over the default AOIs yields exactly the truth (nothing missing, nothing
twice, newest versions) despite 429s, 5xx, dropped connections, tokens dying early, identical
timestamps across page boundaries and late visibility.
"""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pytest
import shapely

from harvest.aois import load_aois
from harvest.catalog.column_values import integers, strings
from harvest.harvesting.sources import (
    OneAtlasSource,
    Window,
)
from harvest.sandbox.server import RunningSandbox
from harvest.sandbox.truth import true_scenes
from harvest.timestamps import format_rfc3339_nano, from_datetime, parse_ns
from harvest_tests.conftest import advance
from harvest_tests.fast_sources import oneatlas_source, sources

AOIS = load_aois().aois
FAULTS = "429=0.15:0.01s,5xx=0.1,reset=0.05,token_expiry=0.5:0.001"
MONTH = Window(datetime(2026, 9, 1, tzinfo=UTC), datetime(2026, 10, 1, tzinfo=UTC))


def truth(sandbox: RunningSandbox, provider: str, window: Window) -> dict[str, int]:
    found: dict[str, int] = {}
    for aoi in AOIS:
        scenes = true_scenes(
            sandbox.sandbox, provider, aoi.geometry, from_datetime(window.start), from_datetime(window.end)
        )
        found.update({scene_id: scene.updated_ns for scene_id, scene in scenes.items()})
    return found


@pytest.fixture(scope="module")
def faulty_sandbox(make_sandbox_module) -> RunningSandbox:
    return make_sandbox_module(faults=FAULTS)


@pytest.fixture(scope="module")
def make_sandbox_module(tmp_path_factory: pytest.TempPathFactory):
    import contextlib

    from harvest.sandbox.server import running
    from harvest_tests.conftest import sandbox_config

    with contextlib.ExitStack() as stack:
        yield lambda **overrides: stack.enter_context(
            running(sandbox_config(tmp_path_factory.mktemp("sources"), **overrides))
        )


@pytest.mark.parametrize("provider", ["oneatlas", "arlula", "sentinelhub-import", "sentinelhub-catalog"])
def test_a_month_over_the_default_aois_is_exactly_the_truth(faulty_sandbox: RunningSandbox, provider: str) -> None:
    source = sources(faulty_sandbox)[provider]()
    table = source.scenes(AOIS, MONTH)
    scene_ids = strings(table.column("scene_id"))
    assert len(scene_ids) == len(set(scene_ids)), "a scene came out twice"
    expected = truth(faulty_sandbox, provider, MONTH)
    assert set(scene_ids) == set(expected)
    if provider in ("oneatlas", "sentinelhub-import"):
        updated = dict(zip(scene_ids, integers(pc.cast(table.column("updated"), pa.int64())), strict=True))
        assert updated == expected, "not the newest versions"
    assert all(table.column("sandbox").to_pylist())
    stats = source.stats()
    assert stats.retries > 0, f"the faults should have struck: {stats.describe()}"
    aois_of = dict(zip(scene_ids, table.column("aoi_ids").to_pylist(), strict=True))
    assert all(aois_of.values())


def incremental(source: OneAtlasSource, cursor: str, overlap_ns: int, seen: dict[str, int]) -> str:
    """One sensor-like pass: everything changed since cursor minus the overlap; returns the new cursor."""
    since = format_rfc3339_nano(parse_ns(cursor) - overlap_ns)
    for batch in source.changed_since(since):
        for scene_id, updated in zip(
            strings(batch.column("scene_id")), integers(pc.cast(batch.column("updated"), pa.int64())), strict=True
        ):
            seen[scene_id] = max(updated, seen.get(scene_id, updated))
    return format_rfc3339_nano(max(seen.values())) if seen else cursor


def busiest_update_instant(sandbox: RunningSandbox) -> int:
    """A reprocessing campaign: hundreds of OneAtlas items re-published at one instant, each
    becoming searchable after its own index lag."""
    world = sandbox.sandbox.world
    updates = world.acq.updates_ns[world.oneatlas.rows].ravel()
    recent = updates[(updates > parse_ns("2026-06-01T00:00:00Z")) & (updates < parse_ns("2026-10-31T00:00:00Z"))]
    instants, counts = np.unique(recent, return_counts=True)
    return int(instants[np.argmax(counts)])


def catch_up(make_sandbox, overlap_s: float) -> tuple[dict[str, int], dict[str, int]]:
    """Follow OneAtlas updates every second of sandbox time through a reprocessing campaign."""
    probe = make_sandbox()
    campaign = busiest_update_instant(probe)
    sandbox = make_sandbox(clock=f"frozen@{format_rfc3339_nano(campaign - 2 * 10**9)}")
    source = oneatlas_source(sandbox)
    start = campaign - 600 * 10**9
    seen: dict[str, int] = {}
    cursor = incremental(source, format_rfc3339_nano(start), 0, seen)
    for _ in range(15):
        advance(sandbox, 1)
        cursor = incremental(source, cursor, int(overlap_s * 1e9), seen)
    advance(sandbox, 30)  # every lag has passed: the truth is settled
    everywhere = shapely.box(-180, -90, 180, 90)
    expected = {
        scene_id: scene.updated_ns
        for scene_id, scene in true_scenes(sandbox.sandbox, "oneatlas", everywhere, 0, 2**62).items()
        if start <= scene.updated_ns <= parse_ns(cursor)
    }
    return {k: v for k, v in seen.items() if start <= v <= parse_ns(cursor)}, expected


def test_late_visibility_is_caught_by_the_overlap_window(make_sandbox_module) -> None:
    seen, expected = catch_up(make_sandbox_module, overlap_s=60)
    assert len(expected) > 50, "the scenario needs a burst of re-publications while it runs"
    assert seen == expected


def test_without_an_overlap_late_items_are_missed(make_sandbox_module) -> None:
    """The control: an exclusive cursor and no overlap loses scenes, so the test above can fail."""
    seen, expected = catch_up(make_sandbox_module, overlap_s=-1e-9)
    assert set(expected) - set(seen), "with no overlap some late scene should have been missed"
