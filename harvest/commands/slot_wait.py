"""Claiming a run's pool slots as the run starts: waiting visibly, interruptibly and without spinning.

Dagster's in-process executor claims each step's slot itself, but while the pool is full it loops
without sleeping, says nothing, and only notices Ctrl-C or SIGTERM once a step starts. So
`harvest backfill` makes the same claims first, from its resource's setup at the start of the run
(where Dagster turns Ctrl-C and SIGTERM into an interruption): it polls once a second, says who
holds the pool, frees holders whose process is gone, and on an interruption gives up its place in
the queue and marks the run canceled. The step's own claim then finds its slot already taken by it.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

import dagster as dg
from dagster._core.instance.config import PoolGranularity

from harvest.commands.dead_runs import free_dead_runs
from harvest.commands.run_owner import BACKFILL, LAUNCHED_BY_TAG, RunOwner

if TYPE_CHECKING:
    from dagster._core.storage.event_log.base import EventLogStorage
    from dagster._utils.concurrency import PendingStepInfo

POLL_S = 1.0
# the tags naming who launched a run, for runs that are not a harvest backfill's
_LAUNCHERS = (
    ("dagster/sensor_name", "sensor"),
    ("dagster/schedule_name", "schedule"),
    ("dagster/backfill", "backfill"),
)


@dataclass(frozen=True)
class SlotWait:
    """A step waiting for a pool: its limit, who holds its slots, who is queued before the step (run id, who)."""

    pool: str
    limit: int
    holders: tuple[tuple[str, str], ...]
    ahead: tuple[tuple[str, str], ...] = ()

    def run_ids(self) -> list[str]:
        """The runs in the way: holders, then those queued before."""
        return [run_id for run_id, _ in (*self.holders, *self.ahead)]

    def describe(self) -> str:
        """What the wait is for and who is in the way, with how to get out of it."""
        if self.limit < 1:
            return (
                f"waiting for a slot in pool {self.pool}: its limit is {self.limit}, so nothing runs in it; "
                f"raise it with `dagster instance concurrency set {self.pool} 1`, or Ctrl-C to stop"
            )
        held = _runs(self.holders) or "being handed over"
        ahead = f"; queued before this run: {_runs(self.ahead)}" if self.ahead else ""
        return (
            f"waiting for a slot in pool {self.pool} ({len(self.holders)} of {self.limit} taken: {held}{ahead}); "
            "Ctrl-C stops (a stuck run's slots can be freed in the Dagster UI, Deployment > Concurrency)"
        )


def _runs(runs: tuple[tuple[str, str], ...]) -> str:
    return "; ".join(f"run {run_id[:8]} ({who})" for run_id, who in runs)


def step_pools(assets: Iterable[dg.AssetsDefinition]) -> dict[str, str]:
    """The pool of each step materializing `assets`: step key -> pool."""
    return {asset.op.name: asset.op.pool for asset in assets if asset.op.pool}


def pool_limit(storage: EventLogStorage, pool: str) -> int | None:
    """The limit the executor will hold a step of `pool` to (set to the instance default on first use); None: none."""
    config = storage.get_pool_config()
    if not storage.supports_global_concurrency_limits or config.pool_granularity == PoolGranularity.RUN:
        return None  # the executor claims nothing (with run granularity the run queue enforces pools)
    default = config.default_pool_limit
    current = {limit.name: limit for limit in storage.get_pool_limits()}.get(pool)
    if (current is None and default is not None) or (current and current.from_default and current.limit != default):
        storage.initialize_concurrency_limit_to_default(pool)  # as the executor's claim does
        current = {limit.name: limit for limit in storage.get_pool_limits()}.get(pool)
    return current.limit if current else None


def claim_slots(
    instance: dg.DagsterInstance,
    run: dg.DagsterRun,
    pools: Mapping[str, str],
    say: Callable[[str], None],
    poll_s: float = POLL_S,
    sleep: Callable[[float], None] = time.sleep,
) -> None:
    """Claim the slot of each step (step key -> pool) of `run`, waiting for full pools; `say` hears why it waits."""
    for step_key, pool in pools.items():
        if pool_limit(instance.event_log_storage, pool) is not None:
            _claim(instance, run, step_key, pool, say, poll_s, sleep)


def _claim(
    instance: dg.DagsterInstance,
    run: dg.DagsterRun,
    step_key: str,
    pool: str,
    say: Callable[[str], None],
    poll_s: float,
    sleep: Callable[[float], None],
) -> None:
    storage = instance.event_log_storage
    claimed, shown = False, None
    try:
        while not (claimed := storage.claim_concurrency_slot(pool, run.run_id, step_key).is_claimed):
            wait = slot_wait(instance, pool, run.run_id)
            freed = free_dead_runs(instance, wait.run_ids())
            for dead in freed:
                say(f"freed {dead.describe()}")
            if freed:
                wait = slot_wait(instance, pool, run.run_id)
            if wait != shown:
                say(wait.describe())
                shown = wait
            sleep(poll_s)
    except (KeyboardInterrupt, dg.DagsterExecutionInterruptedError):
        instance.report_run_canceling(run, f"stopped (Ctrl-C or SIGTERM) while waiting for a slot in pool {pool}")
        raise
    finally:
        if not claimed:
            storage.free_concurrency_slot_for_step(run.run_id, step_key)  # its place in the pool's queue


def slot_wait(instance: dg.DagsterInstance, pool: str, run_id: str) -> SlotWait:
    """The pool's limit, who holds its slots, and whose steps get a free slot before `run_id`'s."""
    info = instance.event_log_storage.get_concurrency_info(pool)
    holding = sorted({slot.run_id for slot in info.claimed_slots})
    own = next((step for step in info.pending_steps if step.run_id == run_id), None)
    queued = [step for step in info.pending_steps if step.run_id != run_id and step.run_id not in holding]
    ahead = sorted({step.run_id for step in queued if own is None or _before(step, own)})
    tags = {record.dagster_run.run_id: record.dagster_run.tags for record in _records(instance, [*holding, *ahead])}
    return SlotWait(
        pool,
        info.limit or 0,
        tuple((run, _who(tags.get(run))) for run in holding),
        tuple((run, _who(tags.get(run))) for run in ahead),
    )


def _before(step: PendingStepInfo, own: PendingStepInfo) -> bool:
    """Whether `step` gets a slot before `own`: assigned one already, or first in the queue (priority, then age)."""
    if step.assigned_timestamp is not None:
        return True
    if own.assigned_timestamp is not None:
        return False
    return (-(step.priority or 0), step.enqueued_timestamp) < (-(own.priority or 0), own.enqueued_timestamp)


def _records(instance: dg.DagsterInstance, run_ids: list[str]) -> list[dg.RunRecord]:
    return list(instance.get_run_records(dg.RunsFilter(run_ids=run_ids))) if run_ids else []


def _who(tags: Mapping[str, str] | None) -> str:
    """Who launched a run, from its tags."""
    if tags is None:
        return "no such run"
    owner = RunOwner.from_tags(tags)
    if owner is not None:
        return f"{BACKFILL}, {owner.describe()}"
    if tags.get(LAUNCHED_BY_TAG) == BACKFILL:
        return f"{BACKFILL}, its process not recorded"
    for tag, launcher in _LAUNCHERS:
        if tag in tags:
            return f"{launcher} {tags[tag]}"
    return "a Dagster run"
