"""Evaluating archive searches over the world: which scenes match, their overlaps and orderingIDs."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from harvest.sandbox.arlula import scenes as facts
from harvest.sandbox.arlula.ordering_ids import OrderingCodec, OrderingGrant, rings_of
from harvest.sandbox.arlula.overlap import COVR, Overlap, compute_overlap
from harvest.sandbox.arlula.query import ArchiveQuery
from harvest.sandbox.arlula.scenes import Scene
from harvest.sandbox.core import Sandbox
from harvest.sandbox.world.ids import IdCodec
from harvest.timestamps import NS_PER_DAY, day_start_ns


@dataclass(frozen=True)
class Result:
    """One search result: the scene, its overlap with the search, and the id that orders it."""

    scene: Scene
    overlap: Overlap
    grant: OrderingGrant
    ordering_id: str


def ordering_codec(sandbox: Sandbox) -> OrderingCodec:
    """The sandbox's orderingID signer."""
    return sandbox.cache("arlula.ordering", lambda: OrderingCodec(sandbox.config.seed))


def thumbnail_codec(sandbox: Sandbox) -> IdCodec:
    """Ids of thumbnail URLs (they decode to the world key)."""
    return sandbox.cache("arlula.thumbnails", lambda: IdCodec(sandbox.config.seed, "arlula-thumbnail"))


def matching_rows(sandbox: Sandbox, query: ArchiveQuery, now_ns: int) -> np.ndarray:
    """World rows of the visible Arlula scenes that satisfy every criterion of `query`."""
    world = sandbox.world
    view = world.arlula
    rows = world.rows_intersecting(query.area.geometry)
    rows = rows[view.contains(rows)]
    rows = rows[view.state(now_ns).visible[view.position(rows)]]
    acquired = world.acq.acquired_ns[rows]
    keep = (acquired >= day_start_ns(query.first_day)) & (acquired < day_start_ns(query.last_day) + NS_PER_DAY)
    keep &= facts.gsd(world, rows) <= query.max_gsd
    if query.max_cloud is not None:
        keep &= facts.cloud(world, rows) <= query.max_cloud
    if query.max_off_nadir is not None:
        keep &= facts.off_nadir(world, rows) <= query.max_off_nadir
    if query.suppliers is not None:
        keep &= np.isin(facts.supplier_keys(world, rows), sorted(query.suppliers))
    return rows[keep]


_SORT_KEYS: dict[str, Callable[[Result], float | str]] = {
    "sceneID": lambda r: r.scene.scene_id,
    "supplier": lambda r: r.scene.supplier.key,
    "date": lambda r: r.scene.acquired_ns,
    "cloud": lambda r: r.scene.cloud,
    "offNadir": lambda r: r.scene.off_nadir,
    "gsd": lambda r: r.scene.gsd,
    "area": lambda r: r.scene.area_km2,
    "overlap": lambda r: r.overlap.shown_km2,
    "overlap.area": lambda r: r.overlap.shown_km2,
    "overlap.percent": lambda r: r.overlap.scene_percent,
    "fulfillment": lambda r: r.scene.supplier.fulfillment_h,
}


def search(sandbox: Sandbox, query: ArchiveQuery) -> list[Result]:
    """Every result of `query`, sorted as asked (ties: newest first, then by sceneID)."""
    now = sandbox.now_ns()
    rows = matching_rows(sandbox, query, now)
    codec = ordering_codec(sandbox)
    results = []
    for scene in facts.scenes(sandbox.world, rows):
        overlap = compute_overlap(query.area, scene.footprint, scene.area_km2, scene.supplier)
        grant = OrderingGrant(
            scene_key=scene.key,
            rings=rings_of(overlap.ordered),
            area_km2=round(overlap.ordered_km2, 6),
            whole_scene=not scene.supplier.aoi_orders or COVR in overlap.annotations,
        )
        results.append(Result(scene, overlap, grant, codec.encode(grant)))
    results.sort(key=lambda r: r.scene.scene_id)
    results.sort(key=lambda r: r.scene.acquired_ns, reverse=True)
    results.sort(key=_SORT_KEYS[query.sort_field], reverse=not query.ascending)
    return results
