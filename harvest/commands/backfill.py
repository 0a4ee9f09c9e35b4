"""`harvest backfill`: harvest a range of acquisition days from the terminal, as the UI's backfill would.

The catalog assets run in this process against the same Dagster instance as `make dev` (so the UI
shows the materializations), one run per provider over the whole range (the assets' single-run
backfill policy), then one run of the unified scene catalog. A progress bar follows the days.

Each run is tagged with this process (host, pid), so that the next backfill can tell a run whose
process was killed from a live one: it marks such runs failed and frees the pool slots they held.
A run that finds its pool full says who holds it and waits; Ctrl-C or SIGTERM stops the backfill
(waiting or harvesting) with exit status 130, keeping the days already harvested.
"""

from __future__ import annotations

import contextlib
import os
import signal
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

import click

from harvest import registry
from harvest.paths import data_dir

if TYPE_CHECKING:
    import dagster as dg

    from harvest.harvesting.days import DayResult


@dataclass
class ProviderOutcome:
    """What one provider's run did."""

    provider: str
    days: int = 0
    scenes: int = 0
    files: set[Path] = field(default_factory=set)
    error: str | None = None
    started: bool = False


class Stopped(click.ClickException):
    """Ctrl-C or SIGTERM stopped the backfill."""

    exit_code = 130  # 128 + SIGINT, as a shell reports a Ctrl-C


@contextlib.contextmanager
def _sigterm_stops() -> Iterator[None]:
    """SIGTERM stops the backfill as Ctrl-C does (Dagster treats both alike while a run executes)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGTERM, signal.default_int_handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def _day(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise click.BadParameter(f"{text!r} is not a date: use YYYY-MM-DD, e.g. 2026-11-01") from None


def _instance() -> dg.DagsterInstance:
    """The Dagster instance of `make dev` ($DAGSTER_HOME, else $HARVEST_DATA_DIR/dagster_home)."""
    import dagster as dg

    from harvest.commands.dev import dagster_home, install_instance_config

    if not os.environ.get("DAGSTER_HOME"):
        home = dagster_home(data_dir())
        install_instance_config(home)
        os.environ["DAGSTER_HOME"] = str(home)
    return dg.DagsterInstance.get()


def _failure(result: dg.ExecuteInProcessResult) -> str:
    for event in result.all_events:
        if event.is_step_failure and event.step_failure_data.error is not None:
            error = event.step_failure_data.error
            cause = error.cause or error
            lines = cause.message.strip().splitlines() or [error.message]
            kind, _, text = lines[-1].partition(": ")
            return text if text and "." in kind and " " not in kind else lines[-1]
    return "the run failed (see the run's logs in the Dagster UI)"


def _interrupted(result: dg.ExecuteInProcessResult) -> bool:
    """Whether Ctrl-C or SIGTERM ended the run (canceled while waiting for a slot, or interrupted in a step)."""
    import dagster as dg
    from dagster._core.events import RunFailureReason
    from dagster._core.storage.tags import RUN_FAILURE_REASON_TAG

    run = result.dagster_run
    reason = run.tags.get(RUN_FAILURE_REASON_TAG)
    return run.status == dg.DagsterRunStatus.CANCELED or reason == RunFailureReason.UNEXPECTED_TERMINATION.value


def _stop_reason(result: dg.ExecuteInProcessResult, asset: dg.AssetsDefinition) -> str:
    """What the run was doing when Ctrl-C or SIGTERM stopped it."""
    import dagster as dg

    run = result.dagster_run
    if any(event.is_step_start for event in result.all_events):
        doing = f"materializing {asset.op.name}"
    else:
        doing = f"waiting for a slot in pool {asset.op.pool}" if asset.op.pool else "starting a run"
    marked = "canceled" if run.status == dg.DagsterRunStatus.CANCELED else "marked failed"
    return f"stopped by Ctrl-C or SIGTERM while {doing}; run {run.run_id[:8]} is {marked}"


def _say(line: str) -> None:
    """A line on stderr, below the progress bar when a terminal shows one."""
    click.echo(("\n" if sys.stderr.isatty() else "") + line, err=True)


def _materialize(
    assets: list[dg.AssetsDefinition],
    selection: list[str],
    first: date,
    last: date,
    resource: object,
    instance: dg.DagsterInstance,
) -> dg.ExecuteInProcessResult:
    import dagster as dg

    from harvest.commands.run_owner import RunOwner
    from harvest.defs.catalog.partitions import PARTITION_RANGE_END_TAG, PARTITION_RANGE_START_TAG

    result = dg.materialize(
        assets,
        selection=selection,
        instance=instance,
        resources={"harvest": resource},
        tags={
            PARTITION_RANGE_START_TAG: first.isoformat(),
            PARTITION_RANGE_END_TAG: last.isoformat(),
            **RunOwner.this_process().tags(),
        },
        run_config={"loggers": {"console": {"config": {"log_level": "CRITICAL"}}}},  # the bar and summary speak
        raise_on_error=False,
    )
    if instance.event_log_storage.supports_global_concurrency_limits:
        # the run is over: a slot it still holds (claimed before a failure elsewhere) would never be freed
        instance.event_log_storage.free_concurrency_slots_for_run(result.run_id)
    return result


@click.command()
@click.option(
    "--provider",
    "providers",
    multiple=True,
    type=click.Choice(registry.IDS),
    help="Provider source to harvest (repeatable) [default: all].",
)
@click.option("--start", required=True, help="First acquisition day (UTC), YYYY-MM-DD.")
@click.option("--end", required=True, help="Last acquisition day (UTC), YYYY-MM-DD, included.")
def backfill(providers: tuple[str, ...], start: str, end: str) -> None:
    """Harvest every acquisition day from START to END into the catalog."""
    from harvest.aois import AoiFileError
    from harvest.commands.dead_runs import free_dead_runs
    from harvest.commands.slot_wait import claim_slots, step_pools
    from harvest.defs.catalog.assets import SCENE_CATALOG, provider_assets, scene_catalog
    from harvest.defs.catalog.partitions import catalog_days
    from harvest.defs.resources import HarvestResource
    from harvest.harvesting.days import days_between

    first, last = _day(start), _day(end)
    if last < first:
        raise click.BadParameter(f"--end {last} is before --start {first}", param_hint="--end")
    partition_start = catalog_days.start.date()
    newest = date.fromisoformat(catalog_days.get_last_partition_key() or partition_start.isoformat())
    if first < partition_start or last > newest:
        raise click.BadParameter(
            f"the catalog's days run from {partition_start} to {newest} (today, UTC); got {first}..{last}",
            param_hint="--start/--end",
        )
    chosen = providers or registry.IDS
    days = days_between(first, last)
    instance = _instance()
    for freed in free_dead_runs(instance):
        click.echo(f"freed {freed.describe()}", err=True)
    assets = [*provider_assets.values(), scene_catalog]
    outcomes = {provider: ProviderOutcome(provider) for provider in chosen}
    for provider in chosen:
        try:
            selected = HarvestResource().provider_aois(provider)
        except AoiFileError as exc:  # before any run: no day is replaced by an answer over no AOI
            raise click.ClickException(f"{exc}; nothing was harvested") from exc
        for problem in selected.problems:
            click.echo(f"warning: {provider}: {problem}", err=True)
    click.echo(f"backfilling {len(days)} day(s), {first}..{last}, for {', '.join(chosen)}", err=True)

    class BackfillHarvest(HarvestResource):
        """The resource of a backfill's runs: claims the run's pool slots as the run starts, saying why it waits."""

        pools: dict[str, str]  # the pool of each of the run's steps (step key -> pool)

        def setup_for_execution(self, context: dg.InitResourceContext) -> None:
            if context.run is not None and context.instance is not None:
                claim_slots(context.instance, context.run, self.pools, _say)

    stopped: str | None = None
    unified: dg.ExecuteInProcessResult | None = None
    length = len(days) * len(chosen)
    with _sigterm_stops(), click.progressbar(length=length, label="harvesting", file=sys.stderr) as bar:
        try:
            for provider in chosen:
                outcome = outcomes[provider]

                class ProgressHarvest(BackfillHarvest):
                    def day_done(self, result: DayResult, outcome: ProviderOutcome = outcome) -> None:
                        outcome.days += 1
                        outcome.scenes += result.scenes
                        outcome.files.add(result.path)
                        bar.label = f"{outcome.provider} {result.day}"
                        bar.update(1)

                outcome.started = True
                harvest = ProgressHarvest(pools=step_pools([provider_assets[provider]]))
                result = _materialize(assets, [registry.get(provider).asset], first, last, harvest, instance)
                if _interrupted(result):
                    stopped = outcome.error = _stop_reason(result, provider_assets[provider])
                    break
                if not result.success:
                    outcome.error = _failure(result)
                    bar.update(len(days) - outcome.days)
            else:
                unify = BackfillHarvest(pools=step_pools([scene_catalog]))
                unified = _materialize(assets, [SCENE_CATALOG], first, last, unify, instance)
                if _interrupted(unified):
                    stopped = _stop_reason(unified, scene_catalog)
        except KeyboardInterrupt:  # between runs, where Dagster does not catch it
            stopped = "stopped by Ctrl-C or SIGTERM"
    for outcome in outcomes.values():
        state = f"FAILED: {outcome.error}" if outcome.error else "ok" if outcome.started else "not run"
        click.echo(
            f"  {outcome.provider:<20} {outcome.days:>5} day(s) {outcome.scenes:>9,} scene(s) "
            f"{len(outcome.files):>5} file(s)  {state}",
            err=True,
        )
    click.echo(f"  catalog in {data_dir() / 'catalog'}; runs recorded in {instance.root_directory}", err=True)
    if stopped or unified is None:
        raise Stopped(f"{stopped}; the days harvested so far are kept: re-run the same command to finish")
    failed = [o.provider for o in outcomes.values() if o.error]
    if not unified.success:
        failed.append(f"scene_catalog ({_failure(unified)})")
    if failed:
        raise click.ClickException(f"the backfill failed for {', '.join(failed)}; re-run the same command to retry")
