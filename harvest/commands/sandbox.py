"""`harvest sandbox serve`: every provider's offline simulator in one process (it stands above the product)."""

from __future__ import annotations

import math
import sys
from pathlib import Path

import click

from harvest.paths import data_dir
from harvest.sandbox.clock import CLOCK_HELP, ClockSpec, ClockSpecError
from harvest.sandbox.config import BANDWIDTH_HELP
from harvest.sandbox.core import Sandbox
from harvest.sandbox.faults import FAULTS_HELP, FaultSpecError, parse_faults


@click.group()
def sandbox() -> None:
    """The offline simulator of the OneAtlas, Arlula and Sentinel Hub APIs."""


@sandbox.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True, help="Interface to listen on.")
@click.option(
    "--port",
    default=8765,
    show_default=True,
    type=click.IntRange(0, 65535),
    help="Port to listen on (0: any free port).",
)
@click.option("--seed", default=0, show_default=True, type=int, help="Seed of the simulated world and its faults.")
@click.option(
    "--state",
    "state_dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Directory for orders, quotas and delivered files [default: $HARVEST_DATA_DIR/sandbox].",
)
@click.option("--faults", default="", help=FAULTS_HELP)
@click.option("--clock", "clock_spec", default="real", show_default=True, help=CLOCK_HELP)
@click.option("--density", default=1.0, show_default=True, type=float, help="Scene density multiplier.")
@click.option(
    "--aois",
    type=click.Path(dir_okay=False, exists=True, path_type=Path),
    default=None,
    help="AOIs the world is densest over [default: $HARVEST_AOIS or data/aois.geojson].",
)
@click.option("--public-url", default=None, help="Base URL written into links (default http://HOST:PORT).")
@click.option("--token-lifetime", default=3600.0, show_default=True, type=float, help="Token expires_in (s).")
@click.option("--visibility-delay", default=5.0, show_default=True, type=float,
              help="Seconds before an updated scene becomes searchable.")  # fmt: skip
@click.option("--product-size", default=2 * 1024 * 1024, show_default=True, type=int,
              help="Bytes of each delivered product.")  # fmt: skip
@click.option("--download-bandwidth", default=None, metavar="RATE", help=BANDWIDTH_HELP)
def sandbox_serve(
    host: str,
    port: int,
    seed: int,
    state_dir: Path | None,
    faults: str,
    clock_spec: str,
    density: float,
    aois: Path | None,
    public_url: str | None,
    token_lifetime: float,
    visibility_delay: float,
    product_size: int,
    download_bandwidth: str | None,
) -> None:
    """Serve all three simulated providers from one process."""
    from harvest.providers.sandbox_endpoints import client_environment
    from harvest.sandbox.config import SandboxConfig, parse_bandwidth
    from harvest.sandbox.server import serve_forever

    try:
        ClockSpec.parse(clock_spec)
        parse_faults(faults)
    except (ClockSpecError, FaultSpecError) as exc:
        raise click.BadParameter(str(exc)) from exc
    if not math.isfinite(density) or density <= 0:
        raise click.BadParameter(f"--density must be a positive number, not {density}")
    try:
        bandwidth = parse_bandwidth(download_bandwidth) if download_bandwidth is not None else None
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--download-bandwidth") from exc
    config = SandboxConfig(
        seed=seed,
        density=density,
        state_dir=state_dir or data_dir() / "sandbox",
        aois_path=aois,
        faults=faults,
        clock=clock_spec,
        public_url=public_url,
        token_lifetime_s=token_lifetime,
        visibility_delay_s=visibility_delay,
        product_size_bytes=product_size,
        download_bandwidth_bytes_per_s=bandwidth,
    )

    def announce(running_sandbox: Sandbox) -> None:
        world = running_sandbox.world
        click.echo(f"harvest sandbox listening on {running_sandbox.base_url}", err=True)
        click.echo(
            f"  seed {seed}, clock {clock_spec}, faults {faults or 'none'}; scenes: OneAtlas {len(world.oneatlas):,}, "
            f"Arlula {len(world.arlula):,}, Sentinel Hub import {len(world.tpdi):,}, "
            f"Sentinel Hub catalog {len(world.stac):,}",
            err=True,
        )
        click.echo("  point harvest at it with:", err=True)
        for name, value in client_environment(running_sandbox.base_url).items():
            click.echo(f"export {name}={value}")
        sys.stdout.flush()

    try:
        serve_forever(config, host, port, on_ready=announce)
    except OSError as exc:
        raise click.ClickException(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from exc
    except KeyboardInterrupt:
        pass
