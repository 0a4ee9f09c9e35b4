"""`harvest dev`: the Dagster UI and daemon on a local instance, with the sandbox for providers without credentials.

Sets DAGSTER_HOME to `$HARVEST_DATA_DIR/dagster_home`, installs the repo's `dagster.yaml` there,
serves the sandbox in a thread when a provider has no credentials, sets the provider pools'
limits, then runs `dagster dev` as a child process until Ctrl-C.
"""

from __future__ import annotations

import contextlib
import filecmp
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING

import click

from harvest.defs.pools import POOL_LIMITS
from harvest.paths import data_dir
from harvest.providers.errors import ConfigurationError
from harvest.providers.settings import ArlulaSettings, OneAtlasSettings, SentinelHubSettings

if TYPE_CHECKING:
    import dagster as dg

REPO_ROOT = Path(__file__).resolve().parents[2]
TEMPLATE = REPO_ROOT / "dagster.yaml"
WORKSPACE = REPO_ROOT / "workspace.yaml"

STOP_GRACE_S = 45.0  # how long `dagster dev` may take to stop its webserver, daemon, code server and runs
KILL_WAIT_S = 5.0  # how long killed processes may take to disappear
FORWARDED_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)

ProviderSettings = OneAtlasSettings | ArlulaSettings | SentinelHubSettings
# the client_environment() variables of each provider family
_ENV_PREFIXES: Mapping[type, str] = {
    OneAtlasSettings: "ONEATLAS_",
    ArlulaSettings: "ARLULA_",
    SentinelHubSettings: "SENTINELHUB_",
}


class _Stop(Exception):
    """A stop signal arrived (Ctrl-C, SIGTERM, SIGHUP)."""


def dagster_home(root: Path) -> Path:
    """The Dagster instance directory under a data directory, absolute."""
    return (root / "dagster_home").resolve()


def install_instance_config(home: Path, template: Path = TEMPLATE) -> bool:
    """Copy the `dagster.yaml` template into `home` when missing or different; True if it was written."""
    if not template.is_file():
        raise click.ClickException(f"the Dagster instance template {template} is missing: run harvest from a checkout")
    home.mkdir(parents=True, exist_ok=True)
    target = home / "dagster.yaml"
    if target.is_file() and filecmp.cmp(template, target, shallow=False):
        return False
    shutil.copyfile(template, target)
    return True


def set_pool_limits(instance: dg.DagsterInstance, limits: Mapping[str, int] = POOL_LIMITS) -> None:
    """Give each concurrency pool its slot limit in the instance (what `dagster instance concurrency set` does)."""
    for pool, limit in limits.items():
        instance.event_log_storage.set_concurrency_slots(pool, limit)


def provider_settings(env: Mapping[str, str], sandbox_url: str | None = None) -> list[ProviderSettings]:
    """Each provider family's settings from `env`: live with credentials, else the sandbox at `sandbox_url`."""
    try:
        return [
            OneAtlasSettings.from_env(env, sandbox_url),
            ArlulaSettings.from_env(env, sandbox_url),
            SentinelHubSettings.from_env(env, sandbox_url),
        ]
    except ConfigurationError as exc:
        raise click.ClickException(str(exc)) from exc


def sandbox_environment(settings: list[ProviderSettings], base_url: str) -> dict[str, str]:
    """HARVEST_SANDBOX_URL and the sandbox's client variables of every provider that has no credentials."""
    from harvest.providers.sandbox_endpoints import client_environment

    prefixes = tuple(_ENV_PREFIXES[type(s)] for s in settings if s.sandbox)
    client = {name: value for name, value in client_environment(base_url).items() if name.startswith(prefixes)}
    return {"HARVEST_SANDBOX_URL": base_url, **client}


def dagster_dev_command(host: str, port: int) -> list[str]:
    """`dagster dev` (webserver and daemon) on the repo's workspace."""
    return [sys.executable, "-m", "dagster", "dev", "-w", str(WORKSPACE), "-h", host, "-p", str(port)]


def ensure_port_free(host: str, port: int, flag: str) -> None:
    """Fail with a hint when `host:port` is already taken."""
    with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as the webserver binds: TIME_WAIT is free
        try:
            sock.bind((host, port))
        except OSError as exc:
            raise click.ClickException(
                f"{host}:{port} is taken ({exc.strerror or exc}): stop what serves it, or pass {flag} with another port"
            ) from exc


def _raise_stop(signum: int, frame: FrameType | None) -> None:
    raise _Stop(signal.Signals(signum).name)


def _signal_group(pgid: int, sig: int) -> bool:
    """Send `sig` to a process group; False if the group has no process left."""
    try:
        os.killpg(pgid, sig)
    except ProcessLookupError:
        return False
    return True


def stop_group(process: subprocess.Popen[bytes], grace_s: float, poll_s: float = 0.2) -> bool:
    """Ctrl-C a child's process group as a terminal would; kill what is left after `grace_s`; True if nothing was."""
    deadline = time.monotonic() + grace_s
    _signal_group(process.pid, signal.SIGINT)
    try:
        process.wait(timeout=grace_s)
        _wait_for_group(process.pid, deadline - time.monotonic(), poll_s)  # the code server, run workers
    except (_Stop, subprocess.TimeoutExpired):
        pass
    if not _signal_group(process.pid, signal.SIGKILL):
        return True
    process.wait()
    _wait_for_group(process.pid, KILL_WAIT_S, poll_s)
    return False


def _wait_for_group(pgid: int, timeout_s: float, poll_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    while _signal_group(pgid, 0) and time.monotonic() < deadline:
        time.sleep(poll_s)


def run_until_stopped(command: list[str], env: Mapping[str, str], cwd: Path, grace_s: float = STOP_GRACE_S) -> int:
    """Run `command` until it exits or a stop signal arrives, then stop everything it started; its exit status."""
    # The child gets a session of its own, so a terminal's Ctrl-C reaches its processes once, from
    # here. A second signal, or `grace_s` without stopping, kills them. After a requested stop the
    # status is 0, or 1 if something had to be killed.
    previous = {sig: signal.getsignal(sig) for sig in FORWARDED_SIGNALS}
    process: subprocess.Popen[bytes] | None = None
    try:
        # handled before the child starts, so that it starts with default handlers even where ours were
        # ignored (a background job's SIGINT): exec resets handled signals but keeps ignored ones ignored
        for sig in FORWARDED_SIGNALS:
            signal.signal(sig, _raise_stop)
        process = subprocess.Popen(command, env=dict(env), cwd=cwd, start_new_session=True)  # noqa: S603
        try:
            code = process.wait()
        except _Stop as stop:
            click.echo(f"harvest dev: {stop}, stopping Dagster (again to force)", err=True)
            code = 0
        if stop_group(process, grace_s):  # after an exit of its own too: what it left behind
            return code
        click.echo(f"harvest dev: Dagster did not stop within {grace_s:.0f} s, killed it", err=True)
        return code or 1
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        if process is not None and process.poll() is None:  # an error above left it running
            _signal_group(process.pid, signal.SIGKILL)
            process.wait()


@contextlib.contextmanager
def sandbox_if_needed(settings: list[ProviderSettings], state_dir: Path, port: int) -> Iterator[dict[str, str]]:
    """Serve the sandbox in a thread while some provider has no credentials; yields the environment pointing at it."""
    if not any(s.sandbox for s in settings):
        yield {}
        return
    from harvest.sandbox.config import SandboxConfig
    from harvest.sandbox.server import running

    with contextlib.ExitStack() as stack:
        try:
            sandbox = stack.enter_context(running(SandboxConfig(state_dir=state_dir), "127.0.0.1", port))
        except OSError as exc:
            raise click.ClickException(
                f"cannot start the sandbox on 127.0.0.1:{port} ({exc.strerror or exc}): "
                "stop the other sandbox, or pass --sandbox-port with another port (0: any free one)"
            ) from exc
        yield sandbox_environment(settings, sandbox.url)


@click.command("dev")
@click.option("--host", default="127.0.0.1", show_default=True, help="Interface the Dagster UI listens on.")
@click.option("--port", default=3000, show_default=True, type=int, help="Port of the Dagster UI.")
@click.option(
    "--sandbox-port",
    default=8765,
    show_default=True,
    type=int,
    help="Port of the sandbox serving providers without credentials (0: any free port).",
)
def dev(host: str, port: int, sandbox_port: int) -> None:
    """Run harvest locally: the Dagster UI, daemon and sensors, and the sandbox for providers without credentials."""
    import dagster as dg

    root = data_dir().resolve()
    home = dagster_home(root)
    env = {**os.environ, "HARVEST_DATA_DIR": str(root), "DAGSTER_HOME": str(home)}
    if os.environ.get("HARVEST_AOIS"):
        env["HARVEST_AOIS"] = str(Path(os.environ["HARVEST_AOIS"]).resolve())
    settings = provider_settings(env)  # refuses half a credential pair before anything starts
    ensure_port_free(host, port, "--port")
    installed = install_instance_config(home)
    os.environ.update(env)  # the instance config reads DAGSTER_HOME from the environment
    with dg.DagsterInstance.get() as instance:
        set_pool_limits(instance)

    with sandbox_if_needed(settings, root / "sandbox", sandbox_port) as sandbox_env:
        env.update(sandbox_env)
        click.echo("harvest dev", err=True)
        note = " (dagster.yaml installed from the template)" if installed else ""
        click.echo(f"  DAGSTER_HOME  {home}{note}", err=True)
        click.echo(f"  data          {root}", err=True)
        for provider in provider_settings(env):
            click.echo(f"  {provider.describe()}", err=True)
        click.echo("  pools         " + ", ".join(f"{pool} {limit}" for pool, limit in POOL_LIMITS.items()), err=True)
        click.echo(f"  Dagster UI    http://{host}:{port}  (Ctrl-C stops everything)", err=True)
        code = run_until_stopped(dagster_dev_command(host, port), env, REPO_ROOT)
    if code:
        raise click.ClickException(f"dagster dev exited with status {code}")
