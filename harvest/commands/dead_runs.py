"""What dead `harvest backfill` processes left in a Dagster instance: runs marked failed, pool slots freed.

A backfill killed mid-run leaves its run STARTED and its pool slot (or its place in the pool's
queue) taken, and no daemon watches in-process runs. Only runs whose tags name a process on this
host that is gone are touched: runs of `make dev`, of other hosts or of live processes are not.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection
from dataclasses import dataclass

import dagster as dg

from harvest.commands.run_owner import BACKFILL, LAUNCHED_BY_TAG, RunOwner

UNFINISHED = [
    dg.DagsterRunStatus.NOT_STARTED,
    dg.DagsterRunStatus.STARTING,
    dg.DagsterRunStatus.STARTED,
    dg.DagsterRunStatus.CANCELING,
]


@dataclass(frozen=True)
class FreedRun:
    """A run of a dead process: whether it was marked failed, and the pools whose slots it held or waited for."""

    run_id: str
    owner: RunOwner
    marked_failed: bool
    pools: tuple[str, ...]

    def describe(self) -> str:
        """E.g. "run 9179d9b3 (harvest backfill, pid 4242 on this host): its process is gone; marked failed, ..."."""
        done = ["marked failed"] if self.marked_failed else []
        if self.pools:
            done.append(f"freed its slot or queue place in {', '.join(self.pools)}")
        return f"run {self.run_id[:8]} ({BACKFILL}, {self.owner.describe()}): its process is gone; {', '.join(done)}"


def pools_by_run(instance: dg.DagsterInstance) -> dict[str, set[str]]:
    """Each run that holds a slot of a pool or is queued for one, with those pools."""
    storage = instance.event_log_storage
    if not storage.supports_global_concurrency_limits:
        return {}
    pools: dict[str, set[str]] = defaultdict(set)
    for pool, info in storage.get_concurrency_infos(sorted(storage.get_concurrency_keys())).items():
        for slot in info.claimed_slots:
            pools[slot.run_id].add(pool)
        for step in info.pending_steps:
            pools[step.run_id].add(pool)
    return dict(pools)


def free_dead_runs(instance: dg.DagsterInstance, run_ids: Collection[str] | None = None) -> list[FreedRun]:
    """Mark failed the unfinished runs whose process is gone and free their pools (of `run_ids`, else all)."""
    holding = pools_by_run(instance)
    if run_ids is None:
        stuck = instance.get_runs(dg.RunsFilter(tags={LAUNCHED_BY_TAG: BACKFILL}, statuses=UNFINISHED))
        run_ids = {*holding, *(run.run_id for run in stuck)}
    if not run_ids:
        return []
    freed = []
    for record in instance.get_run_records(dg.RunsFilter(run_ids=sorted(run_ids))):
        run = record.dagster_run
        owner = RunOwner.from_tags(run.tags)
        left_behind = not run.is_finished or run.run_id in holding
        if owner is None or not left_behind or not owner.is_here() or not owner.is_gone():
            continue
        if not run.is_finished:
            instance.report_run_failed(run, f"its process ({owner.describe()}) is gone; marked failed by {BACKFILL}")
        if run.run_id in holding:
            instance.event_log_storage.free_concurrency_slots_for_run(run.run_id)
        freed.append(FreedRun(run.run_id, owner, not run.is_finished, tuple(sorted(holding.get(run.run_id, ())))))
    return freed
