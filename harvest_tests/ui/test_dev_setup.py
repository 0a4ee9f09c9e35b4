"""`harvest dev`'s parts: the instance template, pool limits, sandbox environment, ports, and stopping on Ctrl-C."""

from __future__ import annotations

import os
import signal
import socket
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import click
import dagster as dg
import psutil
import pytest
from click.testing import CliRunner

from harvest.cli import main
from harvest.commands.dev import (
    TEMPLATE,
    dagster_home,
    ensure_port_free,
    install_instance_config,
    provider_settings,
    run_until_stopped,
    sandbox_environment,
    set_pool_limits,
)
from harvest.definitions import defs
from harvest.defs.pools import POOL_LIMITS
from harvest.providers import sandbox_endpoints as sandbox

SANDBOX_URL = "http://127.0.0.1:9999"


@pytest.fixture
def instance(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[dg.DagsterInstance]:
    """An instance made from the repo's template, as `harvest dev` installs it."""
    home = dagster_home(tmp_path)
    install_instance_config(home)
    monkeypatch.setenv("DAGSTER_HOME", str(home))
    with dg.DagsterInstance.get() as instance:
        yield instance


def test_the_template_makes_a_local_instance_with_a_run_queue_and_pools(instance: dg.DagsterInstance) -> None:
    home = Path(os.environ["DAGSTER_HOME"])
    assert (home / "history" / "runs.db").is_file()  # SQLite storage under DAGSTER_HOME
    assert isinstance(instance.run_coordinator, dg.QueuedRunCoordinator)
    concurrency = instance.get_concurrency_config()
    assert concurrency.run_queue_config is not None and concurrency.run_queue_config.max_concurrent_runs == 3
    assert concurrency.pool_config.default_pool_limit == 1
    assert concurrency.pool_config.pool_granularity is not None
    assert concurrency.pool_config.pool_granularity.value == "op"
    assert instance.get_settings("telemetry") == {"enabled": False}
    assert instance.run_monitoring_enabled


def test_the_template_is_installed_when_missing_or_changed_and_left_alone_otherwise(tmp_path: Path) -> None:
    home = dagster_home(tmp_path)
    assert home.is_absolute() and home.name == "dagster_home"
    assert install_instance_config(home) is True
    assert (home / "dagster.yaml").read_bytes() == TEMPLATE.read_bytes()
    assert install_instance_config(home) is False
    (home / "dagster.yaml").write_text("telemetry:\n  enabled: true\n")
    assert install_instance_config(home) is True
    assert (home / "dagster.yaml").read_bytes() == TEMPLATE.read_bytes()


def test_a_missing_template_is_an_error_that_says_where_it_was_looked_for(tmp_path: Path) -> None:
    with pytest.raises(click.ClickException, match=r"nowhere\.yaml is missing"):
        install_instance_config(tmp_path / "home", template=tmp_path / "nowhere.yaml")


def test_every_pool_of_the_definitions_gets_its_limit(instance: dg.DagsterInstance) -> None:
    pools = {asset.op.pool for asset in defs().assets or () if isinstance(asset, dg.AssetsDefinition) and asset.op.pool}
    assert pools, "the definitions use no pool any more: update POOL_LIMITS and docs/running.md"
    assert pools <= set(POOL_LIMITS), f"pools without a limit in harvest dev: {sorted(pools - set(POOL_LIMITS))}"
    set_pool_limits(instance)
    limits = {limit.name: limit.limit for limit in instance.event_log_storage.get_pool_limits()}
    assert limits == dict(POOL_LIMITS)


def test_providers_without_credentials_are_pointed_at_the_sandbox_and_the_others_left_alone() -> None:
    live = {"ARLULA_API_KEY": "key-1", "ARLULA_API_SECRET": "secret-1"}
    settings = provider_settings(live)
    assert [s.sandbox for s in settings] == [True, False, True]
    env = sandbox_environment(settings, SANDBOX_URL)
    assert env["HARVEST_SANDBOX_URL"] == SANDBOX_URL
    assert env["ONEATLAS_SEARCH_URL"] == f"{SANDBOX_URL}/oneatlas/search"
    assert env["SENTINELHUB_CLIENT_ID"] == sandbox.SENTINELHUB_CLIENT_ID
    assert not [name for name in env if name.startswith("ARLULA_")]
    described = [s.describe() for s in provider_settings({**live, **env})]
    assert described[0] == f"OneAtlas: sandbox at {SANDBOX_URL}"
    assert described[1].startswith("Arlula: live, https://api.arlula.com")
    assert described[2] == f"Sentinel Hub: sandbox at {SANDBOX_URL}"
    assert not [line for line in described if "secret-1" in line]


def test_half_a_credential_pair_stops_harvest_dev_before_anything_starts(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        main, ["dev"], env={"HARVEST_DATA_DIR": str(tmp_path), "SENTINELHUB_CLIENT_ID": "someone"}
    )
    assert result.exit_code == 1
    assert "SENTINELHUB_CLIENT_ID is set but SENTINELHUB_CLIENT_SECRET is not" in result.output
    assert not (tmp_path / "dagster_home").exists()


def test_a_taken_port_is_refused_with_the_flag_to_change_it() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        with pytest.raises(click.ClickException, match=f"127.0.0.1:{port} is taken.*pass --port"):
            ensure_port_free("127.0.0.1", port, "--port")


# A child like `dagster dev`: it starts a grandchild, tells the test its pid through a FIFO, then waits.
CHILD = """
import signal, subprocess, sys
if sys.argv[2] == "stubborn":
    signal.signal(signal.SIGINT, signal.SIG_IGN)
grandchild = subprocess.Popen([sys.executable, "-c", "import signal; signal.pause()"])
with open(sys.argv[1], "w") as fifo:
    fifo.write(f"{grandchild.pid}\\n")
try:
    grandchild.wait()
    signal.pause()
except KeyboardInterrupt:
    sys.exit(0)
"""


def _interrupt_when_started(fifo: Path, pids: list[int]) -> threading.Thread:
    """A thread that reads the grandchild's pid from the FIFO, then Ctrl-Cs this process (as a terminal would)."""

    def run() -> None:
        with fifo.open() as lines:  # blocks until the child opens it
            pids.append(int(lines.readline()))
        os.kill(os.getpid(), signal.SIGINT)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread


def _gone(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() == psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return True


@pytest.mark.parametrize(("mode", "code"), [("polite", 0), ("stubborn", 1)])
def test_ctrl_c_stops_the_child_and_everything_it_started(tmp_path: Path, mode: str, code: int) -> None:
    fifo = tmp_path / "started"
    os.mkfifo(fifo)
    pids: list[int] = []
    thread = _interrupt_when_started(fifo, pids)
    previous = signal.getsignal(signal.SIGINT)

    result = run_until_stopped([sys.executable, "-c", CHILD, str(fifo), mode], os.environ, tmp_path, grace_s=2)

    thread.join(timeout=10)
    assert result == code  # 1: it ignored Ctrl-C, so it and its grandchild were killed after the grace period
    assert pids and _gone(pids[0])
    assert signal.getsignal(signal.SIGINT) is previous


def test_a_child_that_exits_by_itself_passes_its_status_on(tmp_path: Path) -> None:
    assert run_until_stopped([sys.executable, "-c", "raise SystemExit(3)"], os.environ, tmp_path) == 3
