"""`harvest dev` as a user runs it: the UI answers, the sensors fill the catalog, and Ctrl-C stops everything."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import dagster as dg
import httpx
import psutil
import pytest

from harvest import registry
from harvest.commands.dev import REPO_ROOT, TEMPLATE
from harvest.defs.pools import POOL_LIMITS
from harvest.providers import sandbox_endpoints as sandbox
from harvest_tests.ui.processes import Output, free_port

pytestmark = pytest.mark.slow

# variables that would make a provider live, or point harvest at another instance or sandbox
FOREIGN = ("ONEATLAS_", "ARLULA_", "SENTINELHUB_", "DAGSTER_", "HARVEST_")


def _environment(data_dir: Path) -> dict[str, str]:
    env = {name: value for name, value in os.environ.items() if not name.startswith(FOREIGN)}
    return {**env, "HARVEST_DATA_DIR": str(data_dir), "PYTHONUNBUFFERED": "1"}


def _alive(processes: list[psutil.Process]) -> list[psutil.Process]:
    alive = []
    for process in processes:
        try:
            if process.status() != psutil.STATUS_ZOMBIE:
                alive.append(process)
        except psutil.NoSuchProcess:
            pass
    return alive


def answered(url: str, within_s: float) -> httpx.Response:
    """The first answer of a server that has announced itself but may still be binding its socket."""
    deadline = time.monotonic() + within_s
    while True:
        try:
            return httpx.get(url, timeout=10)
        except httpx.ConnectError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.5)  # polling another process, not simulating time


def test_harvest_dev_serves_the_ui_runs_the_sensors_and_stops_on_ctrl_c(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    data_dir, port = tmp_path / "data", free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "harvest.cli", "dev", "--port", str(port), "--sandbox-port", "0"],
        cwd=REPO_ROOT,
        env=_environment(data_dir),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    output = Output(process)
    started: list[psutil.Process] = []
    try:
        output.wait_for(f"Dagster UI    http://127.0.0.1:{port}", 90)
        output.wait_for(f"Serving dagster-webserver on http://127.0.0.1:{port}", 180)
        info = answered(f"http://127.0.0.1:{port}/server_info", within_s=60)
        assert info.status_code == 200 and "dagster_webserver_version" in info.json()
        output.wait_for("ASSET_MATERIALIZATION", 240)  # a sensor requested a run, and it harvested a day
        started = psutil.Process(process.pid).children(recursive=True)
    finally:
        process.send_signal(signal.SIGINT)
        code = process.wait(timeout=120)
        output.drain()
    printed = output.text()
    assert code == 0, output.tail()
    assert not _alive(started), f"left running: {[p.cmdline() for p in _alive(started)]}"

    for provider in ("OneAtlas", "Arlula", "Sentinel Hub"):
        assert f"  {provider}: sandbox at http://127.0.0.1:" in printed
    assert sandbox.ARLULA_API_SECRET not in printed and sandbox.SENTINELHUB_CLIENT_SECRET not in printed
    assert (data_dir / "sandbox" / "sandbox.sqlite3").is_file()  # the sandbox closed its state on the way out

    home = data_dir / "dagster_home"
    assert (home / "dagster.yaml").read_bytes() == TEMPLATE.read_bytes()
    assert list((data_dir / "catalog").glob("*/*.parquet"))
    monkeypatch.setenv("DAGSTER_HOME", str(home))
    with dg.DagsterInstance.get() as instance:
        limits = {limit.name: limit.limit for limit in instance.event_log_storage.get_pool_limits()}
        runs = instance.get_run_records()
        sensor_runs = {r.dagster_run.run_id for r in runs if "dagster/sensor_name" in r.dagster_run.tags}
        materialized = {
            record.run_id
            for name in (source.asset for source in registry.SOURCES)
            for record in instance.fetch_materializations(dg.AssetKey(name), limit=100).records
        }
    assert limits == dict(POOL_LIMITS)
    assert materialized & sensor_runs, "no catalog partition was materialized by a sensor's run"
