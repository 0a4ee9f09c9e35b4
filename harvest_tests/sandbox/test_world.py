"""The simulated world: deterministic from the seed, independent of when the sandbox starts, alive over time."""

from __future__ import annotations

import numpy as np

from harvest.aois import load_aois
from harvest.sandbox.world.generate import NEVER, generate_year
from harvest.sandbox.world.world import World, WorldConfig
from harvest.timestamps import parse_ns

AOIS = load_aois().aois


def test_a_year_depends_only_on_seed_year_and_density() -> None:
    a, b = generate_year(5, 2024, list(AOIS), 0.3), generate_year(5, 2024, list(AOIS), 0.3)
    c = generate_year(6, 2024, list(AOIS), 0.3)
    assert np.array_equal(a.acquired_ns, b.acquired_ns) and np.array_equal(a.corners, b.corners)
    assert len(a) != len(c) or not np.array_equal(a.acquired_ns, c.acquired_ns)


def test_history_is_the_same_whenever_the_sandbox_starts() -> None:
    config = WorldConfig(seed=9, density=0.2, aois=AOIS)
    early = World(config, parse_ns("2024-03-01T00:00:00Z"))
    late = World(config, parse_ns("2026-11-01T00:00:00Z"))
    n = early.year_offsets[2025] + int((early.acq.key // 10**7 == 2025).sum())
    assert np.array_equal(early.acq.key[:n], late.acq.key[:n])
    some_id = early.item_ids.encode(int(early.acq.key[100]))
    assert late.row_of_item_id(some_id) == 100


def test_scenes_are_dense_over_the_aois_and_cover_2018_to_now() -> None:
    world = World(WorldConfig(seed=1, density=1.0, aois=AOIS), parse_ns("2026-11-01T00:00:00Z"))
    for aoi in AOIS:
        rows = world.rows_intersecting(aoi.geometry)
        years = world.acq.key[rows] // 10**7
        per_year = np.bincount(years - 2018)[: 2026 - 2018]
        assert len(rows) > 1000 and per_year.min() > 50, aoi.id
    assert world.acq.acquired_ns.min() >= parse_ns("2018-01-01T00:00:00Z")


def test_scenes_are_published_updated_and_deleted_over_time() -> None:
    world = World(WorldConfig(seed=1, density=0.5, aois=AOIS), parse_ns("2026-11-01T00:00:00Z"))
    acq = world.acq
    assert (acq.published_ns > acq.acquired_ns).all()
    updated = acq.updates_ns[:, 0] != NEVER
    assert 0.05 < updated[world.oneatlas.rows].mean() < 0.5
    assert (acq.deleted_ns != NEVER).sum() > 0
    ordered = np.sort(acq.updates_ns, axis=1)
    assert np.array_equal(ordered, acq.updates_ns)


def test_an_update_is_visible_only_after_the_items_own_index_lag() -> None:
    world = World(WorldConfig(seed=1, density=0.5, aois=AOIS, visibility_delay_s=5.0), parse_ns("2026-11-01T00:00:00Z"))
    view = world.oneatlas
    first_updates = world.acq.updates_ns[view.rows, 0]
    position = int(np.nonzero((first_updates != NEVER) & (first_updates < parse_ns("2026-01-01T00:00:00Z")))[0][0])
    moment = int(first_updates[position])
    lag = int(world.visibility_lag_ns[view.rows[position]])
    before, after = view.state(moment + lag - 1), view.state(moment + lag)
    assert before.last_update_ns[position] < moment == after.last_update_ns[position]
    assert after.version[position] == before.version[position] + 1


def test_index_lags_differ_so_items_can_appear_out_of_update_order() -> None:
    world = World(WorldConfig(seed=1, density=0.5, aois=AOIS, visibility_delay_s=5.0), parse_ns("2026-11-01T00:00:00Z"))
    lags = world.visibility_lag_ns / 1e9
    assert 0.9 <= lags.min() < 2 and 8 < lags.max() <= 9.1


def test_footprints_near_the_antimeridian_are_split() -> None:
    world = World(WorldConfig(seed=1, density=0.5, aois=AOIS), parse_ns("2026-11-01T00:00:00Z"))
    taveuni = next(a for a in AOIS if a.id == "taveuni-fiji")
    rows = world.rows_intersecting(taveuni.geometry)
    crossing = [r for r in rows.tolist() if world.shapes[r].geom_type == "MultiPolygon"]
    assert crossing
    assert all(world.shapes[r].bounds[0] >= -180 and world.shapes[r].bounds[2] <= 180 for r in crossing)
