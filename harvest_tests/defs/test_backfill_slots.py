"""`harvest backfill` as real processes on a private instance: one killed with SIGKILL while it holds its pool's
slot leaves it taken until the next backfill frees it and completes; a backfill waiting for a slot that a live
backfill holds says who holds it and stops on Ctrl-C or SIGTERM; Ctrl-C while harvesting stops the backfill.

A backfill is held inside its step, slot taken, by an Arlula that accepts the request and never answers.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import dagster as dg
import pytest

from harvest.catalog.store import UNIFIED, CatalogStore
from harvest.commands.dead_runs import pools_by_run
from harvest.commands.dev import install_instance_config
from harvest.commands.run_owner import PID_TAG, RunOwner
from harvest_tests.hostile import HostileServer, Reply, Request, hostile_server

pytestmark = pytest.mark.slow

POOL = "provider-arlula"
DEADLINE_S = 120.0  # for things that take seconds; only a hang reaches it
START, END = "2026-10-01", "2026-10-03"


def poll(condition: Callable[[], object], what: str) -> None:
    """Wait until `condition()` holds; fail after a generous deadline."""
    deadline = time.monotonic() + DEADLINE_S
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"{what} did not happen within {DEADLINE_S:.0f} s")
        time.sleep(0.05)


@contextmanager
def silent_arlula() -> Iterator[HostileServer]:
    """An Arlula that reads each request and answers nothing until the test is over."""
    over = threading.Event()

    def never_answer(request: Request, reply: Reply) -> None:
        over.wait()

    with hostile_server(never_answer) as server:
        try:
            yield server
        finally:
            over.set()


def home_with_pool(tmp_path: Path) -> Path:
    """A private Dagster instance from the repo's template, with one slot in Arlula's pool."""
    home = tmp_path / "dagster_home"
    install_instance_config(home)
    with dg.DagsterInstance.from_config(str(home)) as instance:
        instance.event_log_storage.set_concurrency_slots(POOL, 1)
    return home


def environment(sandbox, tmp_path: Path, **extra: str) -> dict[str, str]:
    return {
        **os.environ,
        **sandbox.env(),
        "HARVEST_DATA_DIR": str(tmp_path / "data"),
        "DAGSTER_HOME": str(tmp_path / "dagster_home"),
        **extra,
    }


def backfill_command(*providers: str) -> list[str]:
    selection = [arg for provider in providers for arg in ("--provider", provider)]
    code = "from harvest.cli import main; main()"
    return [sys.executable, "-c", code, "backfill", *selection, "--start", START, "--end", END]


@contextmanager
def backfill(env: dict[str, str], log: Path, *providers: str) -> Iterator[subprocess.Popen[bytes]]:
    """`harvest backfill` in a process of its own, its stderr in `log`; killed if still running at the end."""
    with log.open("wb") as stderr:
        process = subprocess.Popen(backfill_command(*providers), env=env, stdout=subprocess.DEVNULL, stderr=stderr)
    try:
        yield process
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGKILL)
        process.wait()


def holders(home: Path, pool: str = POOL) -> list[str]:
    """The runs holding a slot of `pool`."""
    with dg.DagsterInstance.from_config(str(home)) as instance:
        return [slot.run_id for slot in instance.event_log_storage.get_concurrency_info(pool).claimed_slots]


def run_of(home: Path, process: subprocess.Popen[bytes]) -> dg.DagsterRun:
    """The (only) run a backfill process executed."""
    with dg.DagsterInstance.from_config(str(home)) as instance:
        runs = instance.get_runs(dg.RunsFilter(tags={PID_TAG: str(process.pid)}))
    assert len(runs) == 1, runs
    return runs[0]


def test_a_backfill_killed_holding_a_slot_leaves_it_taken_and_the_next_backfill_frees_it_and_completes(
    make_sandbox, tmp_path: Path
) -> None:
    sandbox = make_sandbox()
    home = home_with_pool(tmp_path)
    with (
        silent_arlula() as arlula,
        backfill(environment(sandbox, tmp_path, ARLULA_URL=arlula.url), tmp_path / "killed.log", "arlula") as killed,
    ):
        poll(lambda: arlula.requests, "the first backfill asking Arlula (inside its step, slot taken)")
        assert len(holders(home)) == 1
        killed.send_signal(signal.SIGKILL)
        killed.wait()
    [dead] = holders(home)
    with dg.DagsterInstance.from_config(str(home)) as instance:
        run = instance.get_run_by_id(dead)
        assert run is not None and run.status == dg.DagsterRunStatus.STARTED, "nothing marks the killed run finished"

    result = subprocess.run(  # a hang, waiting for the dead run's slot, fails by the deadline
        backfill_command("arlula"), env=environment(sandbox, tmp_path), capture_output=True, timeout=DEADLINE_S
    )

    stderr = result.stderr.decode()
    assert result.returncode == 0, stderr
    assert f"freed run {dead[:8]} (harvest backfill, pid {killed.pid} on this host): its process is gone" in stderr
    assert "waiting for a slot" not in stderr
    with dg.DagsterInstance.from_config(str(home)) as instance:
        run = instance.get_run_by_id(dead)
        assert run is not None and run.status == dg.DagsterRunStatus.FAILURE
        assert pools_by_run(instance) == {}, "no slot or queue place left taken"
    owner = RunOwner.from_tags(run.tags)
    assert owner is not None and owner.pid == killed.pid and owner.is_gone()
    store = CatalogStore(tmp_path / "data" / "catalog")
    assert [str(day) for day in store.days("arlula")] == ["2026-10-01", "2026-10-02", "2026-10-03"]
    assert len(store.days(UNIFIED)) == 3


@pytest.mark.parametrize("stop", [signal.SIGINT, signal.SIGTERM], ids=["ctrl-c", "sigterm"])
def test_a_backfill_waiting_for_a_slot_held_by_a_live_backfill_says_who_holds_it_and_stops_on(
    stop: signal.Signals, make_sandbox, tmp_path: Path
) -> None:
    sandbox = make_sandbox()
    home = home_with_pool(tmp_path)
    with (
        silent_arlula() as arlula,
        backfill(environment(sandbox, tmp_path, ARLULA_URL=arlula.url), tmp_path / "holder.log", "arlula") as holder,
    ):
        poll(lambda: arlula.requests, "the holder asking Arlula (inside its step, slot taken)")
        holder.send_signal(signal.SIGSTOP)  # alive, and holding its slot for as long as this test needs
        [held] = holders(home)
        log = tmp_path / "waiter.log"
        with backfill(environment(sandbox, tmp_path), log, "arlula") as waiter:
            poll(lambda: b"waiting for a slot in pool provider-arlula" in log.read_bytes(), "the waiting message")
            waiter.send_signal(stop)
            try:
                code = waiter.wait(timeout=DEADLINE_S)
            except subprocess.TimeoutExpired:
                pytest.fail(f"{stop.name} did not stop a backfill waiting for a slot")
        stderr = log.read_text()
        assert f"(1 of 1 taken: run {held[:8]} (harvest backfill, pid {holder.pid} on this host))" in stderr
        assert code == 130, stderr
        assert "stopped by Ctrl-C or SIGTERM while waiting for a slot in pool provider-arlula" in stderr
        assert "re-run the same command" in stderr
        waited = run_of(home, waiter)
        assert waited.status == dg.DagsterRunStatus.CANCELED
        assert holders(home) == [held], "the live holder keeps its slot"
        with dg.DagsterInstance.from_config(str(home)) as instance:
            assert waited.run_id not in pools_by_run(instance), "the stopped backfill gave its queue place up"
            running = instance.get_run_by_id(held)
            assert running is not None and running.status == dg.DagsterRunStatus.STARTED
    assert not CatalogStore(tmp_path / "data" / "catalog").days("arlula")


def test_ctrl_c_while_harvesting_stops_the_backfill_before_the_next_provider(make_sandbox, tmp_path: Path) -> None:
    sandbox = make_sandbox()
    home = home_with_pool(tmp_path)
    log = tmp_path / "backfill.log"
    with (
        silent_arlula() as arlula,
        backfill(
            environment(sandbox, tmp_path, ARLULA_URL=arlula.url), log, "arlula", "sentinelhub-catalog"
        ) as process,
    ):
        poll(lambda: arlula.requests, "the backfill asking Arlula")
        process.send_signal(signal.SIGINT)
        try:
            code = process.wait(timeout=DEADLINE_S)
        except subprocess.TimeoutExpired:
            pytest.fail("Ctrl-C did not stop a backfill waiting on a provider")
    stderr = log.read_text()
    assert code == 130, stderr
    assert "stopped by Ctrl-C or SIGTERM while materializing arlula_scenes" in stderr
    summary = {line.split()[0]: line for line in stderr.splitlines() if line.startswith("  ")}
    assert summary["sentinelhub-catalog"].endswith("not run"), stderr
    assert run_of(home, process).status == dg.DagsterRunStatus.FAILURE
    assert holders(home) == []
    store = CatalogStore(tmp_path / "data" / "catalog")
    assert not store.days("sentinelhub-catalog"), "the next provider did not start"
    assert not store.days(UNIFIED)
