"""The whole simulated world: every acquisition, its footprint, and its state at any instant."""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Literal

import numpy as np
import shapely
from shapely.geometry.base import BaseGeometry

from harvest.aois import Aoi
from harvest.sandbox.world.generate import NEVER, Acquisitions, generate_year
from harvest.sandbox.world.geometry import split_antimeridian
from harvest.sandbox.world.ids import IdCodec
from harvest.sandbox.world.sensors import AIRBUS, SENSORS, SENTINEL2
from harvest.timestamps import NS_PER_S, ns_to_date

# STRtree predicates the world's spatial index answers
Predicate = Literal["intersects", "within", "contains"]

_FAMILY = np.array([s.family for s in SENSORS])
_CONSTELLATION = np.array([s.constellation for s in SENSORS])


@dataclass(frozen=True)
class WorldConfig:
    """What the simulated world is made of."""

    seed: int = 0
    density: float = 1.0
    aois: tuple[Aoi, ...] = ()
    visibility_delay_s: float = 5.0


@dataclass(frozen=True)
class SceneState:
    """Which rows of a view are searchable at one instant, and in which version."""

    visible: np.ndarray  # bool
    deleted: np.ndarray  # bool: deletion already visible
    version: np.ndarray  # int8: number of re-publications already visible
    last_update_ns: np.ndarray  # int64


class View:
    """The rows of the world one seller offers (e.g. OneAtlas: every Airbus acquisition)."""

    def __init__(self, world: World, name: str, rows: np.ndarray) -> None:
        self.world = world
        self.name = name
        self.rows = rows  # indices into world.acq
        self._mask = np.zeros(len(world.acq), dtype=bool)
        self._mask[rows] = True
        acq = world.acq
        lag = world.visibility_lag_ns[rows]
        updates = acq.updates_ns[rows]
        deleted = acq.deleted_ns[rows]
        # the instants at which something becomes visible (NEVER stays NEVER, without overflowing)
        events = np.concatenate(
            [
                acq.published_ns[rows] + lag,
                np.where(updates == NEVER, NEVER, updates + lag[:, None]).ravel(),
                np.where(deleted == NEVER, NEVER, deleted + lag),
            ]
        )
        self._events = np.sort(events[events != NEVER])
        self._position = np.full(len(world.acq), -1, dtype=np.int64)
        self._position[rows] = np.arange(len(rows))
        self._state_cache: tuple[int, SceneState] | None = None
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self.rows)

    def contains(self, world_rows: np.ndarray) -> np.ndarray:
        return self._mask[world_rows]

    def position(self, world_rows: np.ndarray) -> np.ndarray:
        """Index within this view of world rows (-1 when not in the view)."""
        return self._position[world_rows]

    def epoch(self, now_ns: int) -> int:
        """Changes exactly when something in this view becomes visible: a cache key for results."""
        return int(np.searchsorted(self._events, now_ns, side="right"))

    def state(self, now_ns: int) -> SceneState:
        epoch = self.epoch(now_ns)
        with self._lock:
            if self._state_cache is not None and self._state_cache[0] == epoch:
                return self._state_cache[1]
        acq = self.world.acq
        # each item becomes searchable after its own index lag: not always in lastUpdateDate order
        cutoff = now_ns - self.world.visibility_lag_ns[self.rows]
        published = acq.published_ns[self.rows]
        updates = acq.updates_ns[self.rows]
        deleted = acq.deleted_ns[self.rows] <= cutoff
        applied = updates <= cutoff[:, None]
        version = applied.sum(axis=1).astype(np.int8)
        last = np.where(applied, updates, published[:, None]).max(axis=1)
        state = SceneState(
            visible=(published <= cutoff) & ~deleted,
            deleted=deleted,
            version=version,
            last_update_ns=np.maximum(last, published),
        )
        with self._lock:
            self._state_cache = (epoch, state)
        return state


class World:
    """All acquisitions from 2018 to a year past the clock, generated deterministically."""

    def __init__(self, config: WorldConfig, now_ns: int) -> None:
        self.config = config
        self.delay_ns = int(config.visibility_delay_s * NS_PER_S)  # the typical lag; each item has its own
        self.item_ids = IdCodec(config.seed, "oneatlas-item")
        self._lock = threading.Lock()
        self._last_year = 0
        self._build(ns_to_date(now_ns).year + 1)

    def _build(self, last_year: int) -> None:
        blocks = [
            generate_year(self.config.seed, year, list(self.config.aois), self.config.density)
            for year in range(2018, last_year + 1)
        ]
        acq = Acquisitions.concat(blocks)
        self.acq = acq
        self.year_offsets = {2018 + i: int(sum(len(b) for b in blocks[:i])) for i in range(len(blocks))}
        # between 0.2 and 1.8 times the configured delay, fixed per acquisition
        self.visibility_lag_ns = (self.delay_ns * (0.2 + 1.6 * (acq.noise % 1000) / 1000)).astype(np.int64)
        self.shapes = split_antimeridian(acq.corners)
        self.tree = shapely.STRtree(self.shapes)
        family = _FAMILY[acq.sensor]
        constellation = _CONSTELLATION[acq.sensor]
        airbus = np.nonzero(family == AIRBUS)[0]
        self.oneatlas = View(self, "oneatlas", airbus)
        self.tpdi = View(self, "sentinelhub-import", airbus[np.isin(constellation[airbus], ["PHR", "SPOT"])])
        self.arlula = View(self, "arlula", np.nonzero(acq.on_arlula)[0])
        self.stac = View(self, "sentinelhub-catalog", np.nonzero(family == SENTINEL2)[0])
        self._last_year = last_year

    def ensure_covers(self, now_ns: int) -> bool:
        """Extend the world when the clock runs into a year not generated yet; True if it did."""
        needed = ns_to_date(now_ns).year + 1
        if needed > self._last_year:
            with self._lock:
                if needed > self._last_year:
                    self._build(needed)
                    return True
        return False

    def row_of_key(self, key: int) -> int | None:
        year, index = divmod(key, 10**7)
        offset = self.year_offsets.get(year)
        if offset is None:
            return None
        row = offset + index
        if row >= len(self.acq) or int(self.acq.key[row]) != key:
            return None
        return row

    def row_of_item_id(self, item_id: str) -> int | None:
        key = self.item_ids.decode(item_id)
        return None if key is None else self.row_of_key(key)

    def rows_intersecting(self, geometry: BaseGeometry, predicate: Predicate = "intersects") -> np.ndarray:
        """World rows whose footprint satisfies `predicate(geometry, footprint)` (STRtree order)."""
        return np.sort(self.tree.query(geometry, predicate=predicate))

    def first_day(self) -> date:
        return date(2018, 1, 1)


def aoi_geometries(aois: Sequence[Aoi]) -> list[BaseGeometry]:
    return [aoi.geometry for aoi in aois]
