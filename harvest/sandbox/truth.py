"""Ground truth: what each simulated provider offers over an area and a period, right now.

Tests and benchmarks compare a harvested catalog with this, exactly: same ids, newest versions.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from shapely.geometry.base import BaseGeometry

from harvest.sandbox.core import Sandbox
from harvest.sandbox.world.world import View

PROVIDERS = ("oneatlas", "arlula", "sentinelhub-import", "sentinelhub-catalog")


@dataclass(frozen=True)
class TrueScene:
    """One scene as the provider currently offers it."""

    scene_id: str
    acquired_ns: int
    updated_ns: int  # OneAtlas lastUpdateDate of the visible version; publication time elsewhere


def _view_and_ids(sandbox: Sandbox, provider: str) -> tuple[View, Callable[[Sandbox, np.ndarray], list[str]]]:
    from harvest.sandbox import arlula, oneatlas, sentinelhub  # provider packages import this one

    world = sandbox.world
    table: dict[str, tuple[View, Callable[[Sandbox, np.ndarray], list[str]]]] = {
        "oneatlas": (world.oneatlas, oneatlas.truth_ids),
        "arlula": (world.arlula, arlula.truth_ids),
        "sentinelhub-import": (world.tpdi, sentinelhub.import_truth_ids),
        "sentinelhub-catalog": (world.stac, sentinelhub.catalog_truth_ids),
    }
    if provider not in table:
        raise ValueError(f"unknown provider {provider!r}; one of {', '.join(PROVIDERS)}")
    return table[provider]


def true_scenes(
    sandbox: Sandbox,
    provider: str,
    geometry: BaseGeometry,
    start_ns: int,
    end_ns: int,
    now_ns: int | None = None,
) -> dict[str, TrueScene]:
    """Scenes searchable at `now_ns` whose footprint intersects `geometry`, acquired in [start, end)."""
    view, ids = _view_and_ids(sandbox, provider)
    now = sandbox.now_ns() if now_ns is None else now_ns
    state = view.state(now)
    rows = sandbox.world.rows_intersecting(geometry)
    rows = rows[view.contains(rows)]
    positions = view.position(rows)
    acquired = sandbox.world.acq.acquired_ns[rows]
    keep = state.visible[positions] & (acquired >= start_ns) & (acquired < end_ns)
    rows, positions, acquired = rows[keep], positions[keep], acquired[keep]
    scene_ids = ids(sandbox, rows)
    updated = state.last_update_ns[positions]
    return {
        scene_id: TrueScene(scene_id, int(a), int(u))
        for scene_id, a, u in zip(scene_ids, acquired.tolist(), updated.tolist(), strict=True)
    }
