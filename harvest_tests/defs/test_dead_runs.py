"""Runs of dead `harvest backfill` processes (real processes, killed with SIGKILL) are marked failed and their
pool slots freed; runs of live processes, of other hosts and of `make dev` are left alone; a step waiting for
a full pool says who holds it, takes the slot once it is free, and gives its place up when interrupted."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from uuid import uuid4

import dagster as dg
import pytest

from harvest.commands.dead_runs import free_dead_runs, pools_by_run
from harvest.commands.run_owner import RunOwner, process_started
from harvest.commands.slot_wait import claim_slots, slot_wait

POOL = "provider-arlula"
OTHER_POOL = "catalog-unify"
DEADLINE_S = 60.0


def poll(condition: Callable[[], object], what: str) -> None:
    """Wait until `condition()` holds; fail after a generous deadline."""
    deadline = time.monotonic() + DEADLINE_S
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"{what} did not happen within {DEADLINE_S:.0f} s")
        time.sleep(0.02)


@pytest.fixture
def instance() -> Iterator[dg.DagsterInstance]:
    """A private instance with `granularity: op` pools, as the repo's dagster.yaml sets them."""
    overrides = {"concurrency": {"pools": {"granularity": "op", "default_limit": 1}}}
    with dg.instance_for_test(overrides=overrides) as instance:
        instance.event_log_storage.set_concurrency_slots(POOL, 1)
        instance.event_log_storage.set_concurrency_slots(OTHER_POOL, 1)
        yield instance


def sleeper() -> subprocess.Popen[bytes]:
    return subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)"])


def killed_owner() -> RunOwner:
    """The owner of a process that ran on this host and was killed with SIGKILL (and reaped)."""
    process = sleeper()
    started = process_started(process.pid)
    assert started is not None
    process.send_signal(signal.SIGKILL)
    process.wait()
    return RunOwner(RunOwner.this_process().host, process.pid, started)


def add_run(instance: dg.DagsterInstance, tags: dict[str, str]) -> dg.DagsterRun:
    """A STARTED run with these tags, as a backfill's in-process run is while it executes."""
    run = dg.DagsterRun(job_name="harvest", run_id=str(uuid4()), tags=tags, status=dg.DagsterRunStatus.STARTED)
    return instance.add_run(run)


def status(instance: dg.DagsterInstance, run: dg.DagsterRun) -> dg.DagsterRunStatus:
    record = instance.get_run_by_id(run.run_id)
    assert record is not None
    return record.status


def test_runs_of_killed_processes_are_marked_failed_and_their_slots_and_queue_places_freed(
    instance: dg.DagsterInstance,
) -> None:
    storage = instance.event_log_storage
    here = RunOwner.this_process()
    holding = add_run(instance, killed_owner().tags())  # held the slot when it was killed
    queued = add_run(instance, killed_owner().tags())  # was waiting for it
    live = add_run(instance, here.tags())
    elsewhere = add_run(instance, RunOwner("another-host", 4242, "1").tags())
    dev = add_run(instance, {"dagster/sensor_name": "oneatlas_sensor"})  # a `make dev` run: not ours to judge
    assert storage.claim_concurrency_slot(POOL, holding.run_id, "arlula_scenes").is_claimed
    for run in (queued, live, elsewhere):
        assert not storage.claim_concurrency_slot(POOL, run.run_id, "arlula_scenes").is_claimed
    assert storage.claim_concurrency_slot(OTHER_POOL, dev.run_id, "scene_catalog").is_claimed

    freed = free_dead_runs(instance)

    assert {f.run_id for f in freed} == {holding.run_id, queued.run_id}
    assert all(f.marked_failed and f.pools == (POOL,) for f in freed)
    assert "its process is gone" in freed[0].describe()
    assert status(instance, holding) == status(instance, queued) == dg.DagsterRunStatus.FAILURE
    for run in (live, elsewhere, dev):
        assert status(instance, run) == dg.DagsterRunStatus.STARTED
    assert set(pools_by_run(instance)) == {live.run_id, elsewhere.run_id, dev.run_id}
    info = storage.get_concurrency_info(POOL)
    assert not info.claimed_slots
    assigned = [step.run_id for step in info.pending_steps if step.assigned_timestamp is not None]
    assert len(assigned) == 1 and assigned[0] in {live.run_id, elsewhere.run_id}, "the slot went to the queue"
    assert free_dead_runs(instance) == [], "a second pass finds nothing"


def test_a_dead_backfill_run_holding_nothing_is_still_marked_failed(instance: dg.DagsterInstance) -> None:
    run = add_run(instance, killed_owner().tags())
    assert [f.run_id for f in free_dead_runs(instance)] == [run.run_id]
    assert status(instance, run) == dg.DagsterRunStatus.FAILURE


def test_a_reused_pid_and_an_unreaped_zombie_count_as_gone_and_malformed_tags_as_unknown() -> None:
    here = RunOwner.this_process()
    assert not here.is_gone()
    assert RunOwner(here.host, here.pid, "1").is_gone(), "the same pid started at another time is another process"
    if not Path("/proc/self/stat").is_file():
        pytest.skip("telling zombies apart needs /proc")
    process = sleeper()
    owner = RunOwner(here.host, process.pid, process_started(process.pid) or "")
    process.send_signal(signal.SIGKILL)
    try:
        poll(lambda: process_started(process.pid) is None, "the killed process becoming a zombie")
        assert owner.is_gone()
    finally:
        process.wait()
    for pid in ("0", "-1", "12a", ""):
        assert RunOwner.from_tags({**here.tags(), "harvest/pid": pid}) is None
    assert RunOwner.from_tags(here.tags()) == here


class Clock:
    """The waiting loop's sleep: records each wait and runs the test's next step instead of sleeping."""

    def __init__(self, *steps: Callable[[], None]) -> None:
        self.steps = list(steps)
        self.sleeps: list[float] = []

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        if self.steps:
            self.steps.pop(0)()


def test_a_step_waits_for_a_live_holder_says_who_it_is_once_and_claims_the_slot_when_it_is_freed(
    instance: dg.DagsterInstance,
) -> None:
    storage = instance.event_log_storage
    holder = add_run(instance, RunOwner.this_process().tags())
    assert storage.claim_concurrency_slot(POOL, holder.run_id, "arlula_scenes").is_claimed
    waiter = add_run(instance, RunOwner.this_process().tags())
    said: list[str] = []

    def holder_done() -> None:
        storage.free_concurrency_slot_for_step(holder.run_id, "arlula_scenes")

    clock = Clock(lambda: None, holder_done)
    claim_slots(instance, waiter, {"arlula_scenes": POOL}, said.append, poll_s=1.0, sleep=clock.sleep)

    assert clock.sleeps == [1.0, 1.0]
    assert len(said) == 1, "the same wait is said once"
    assert said[0].startswith(f"waiting for a slot in pool {POOL} (1 of 1 taken: run {holder.run_id[:8]}")
    assert f"harvest backfill, pid {RunOwner.this_process().pid} on this host" in said[0]
    info = storage.get_concurrency_info(POOL)
    assert [(s.run_id, s.step_key) for s in info.claimed_slots] == [(waiter.run_id, "arlula_scenes")]
    assert storage.claim_concurrency_slot(POOL, waiter.run_id, "arlula_scenes").is_claimed, "the step's own claim"


def test_a_holder_that_dies_while_a_step_waits_is_freed_and_the_step_goes_on(instance: dg.DagsterInstance) -> None:
    storage = instance.event_log_storage
    process = sleeper()
    owner = RunOwner(RunOwner.this_process().host, process.pid, process_started(process.pid) or "")
    holder = add_run(instance, owner.tags())
    assert storage.claim_concurrency_slot(POOL, holder.run_id, "arlula_scenes").is_claimed
    waiter = add_run(instance, RunOwner.this_process().tags())
    said: list[str] = []

    def kill_holder() -> None:
        process.send_signal(signal.SIGKILL)
        process.wait()

    claim_slots(instance, waiter, {"arlula_scenes": POOL}, said.append, sleep=Clock(kill_holder).sleep)

    assert said[0].startswith(f"waiting for a slot in pool {POOL}")
    assert said[1].startswith(f"freed run {holder.run_id[:8]}") and "its process is gone" in said[1]
    assert status(instance, holder) == dg.DagsterRunStatus.FAILURE
    assert [s.run_id for s in storage.get_concurrency_info(POOL).claimed_slots] == [waiter.run_id]


def test_an_interrupted_wait_cancels_the_run_and_gives_its_queue_place_up(instance: dg.DagsterInstance) -> None:
    storage = instance.event_log_storage
    holder = add_run(instance, RunOwner.this_process().tags())
    assert storage.claim_concurrency_slot(POOL, holder.run_id, "arlula_scenes").is_claimed
    waiter = add_run(instance, RunOwner.this_process().tags())

    def interrupt() -> None:
        raise dg.DagsterExecutionInterruptedError()

    with pytest.raises(dg.DagsterExecutionInterruptedError):
        claim_slots(instance, waiter, {"arlula_scenes": POOL}, lambda line: None, sleep=Clock(interrupt).sleep)

    assert status(instance, waiter) == dg.DagsterRunStatus.CANCELING  # Dagster then ends the run CANCELED
    assert waiter.run_id not in pools_by_run(instance)
    assert [s.run_id for s in storage.get_concurrency_info(POOL).claimed_slots] == [holder.run_id]


def test_a_pool_with_limit_zero_says_how_to_raise_it(instance: dg.DagsterInstance) -> None:
    instance.event_log_storage.set_concurrency_slots(POOL, 0)
    waiter = add_run(instance, RunOwner.this_process().tags())
    instance.event_log_storage.claim_concurrency_slot(POOL, waiter.run_id, "arlula_scenes")
    text = slot_wait(instance, POOL, waiter.run_id).describe()
    assert "its limit is 0" in text and f"dagster instance concurrency set {POOL} 1" in text
