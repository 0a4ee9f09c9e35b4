"""`harvest backfill`: harvest a range of acquisition days from the terminal, as the UI's backfill would.

The catalog assets run in this process against the same Dagster instance as `make dev` (so the UI
shows the materializations), one run per provider over the whole range (the assets' single-run
backfill policy), then one run of the unified scene catalog. A progress bar follows the days.
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

import click

from harvest.paths import data_dir
from harvest.sources import PROVIDERS

if TYPE_CHECKING:
    import dagster as dg

    from harvest.harvesting import DayResult


@dataclass
class ProviderOutcome:
    """What one provider's run did."""

    provider: str
    days: int = 0
    scenes: int = 0
    files: set[Path] = field(default_factory=set)
    error: str | None = None


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


def _materialize(
    assets: list[dg.AssetsDefinition],
    selection: list[str],
    first: date,
    last: date,
    resource: object,
    instance: dg.DagsterInstance,
) -> dg.ExecuteInProcessResult:
    import dagster as dg

    from harvest.defs.partitions import PARTITION_RANGE_END_TAG, PARTITION_RANGE_START_TAG

    return dg.materialize(
        assets,
        selection=selection,
        instance=instance,
        resources={"harvest": resource},
        tags={
            PARTITION_RANGE_START_TAG: first.isoformat(),
            PARTITION_RANGE_END_TAG: last.isoformat(),
            "harvest/launched_by": "harvest backfill",
        },
        run_config={"loggers": {"console": {"config": {"log_level": "CRITICAL"}}}},  # the bar and summary speak
        raise_on_error=False,
    )


@click.command()
@click.option(
    "--provider",
    "providers",
    multiple=True,
    type=click.Choice(PROVIDERS),
    help="Provider source to harvest (repeatable) [default: all].",
)
@click.option("--start", required=True, help="First acquisition day (UTC), YYYY-MM-DD.")
@click.option("--end", required=True, help="Last acquisition day (UTC), YYYY-MM-DD, included.")
def backfill(providers: tuple[str, ...], start: str, end: str) -> None:
    """Harvest every acquisition day from START to END into the catalog."""
    from harvest.defs.catalog import ASSET_NAMES, SCENE_CATALOG, provider_assets, scene_catalog
    from harvest.defs.partitions import catalog_days
    from harvest.defs.resources import HarvestResource
    from harvest.harvesting import days_between

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
    chosen = providers or PROVIDERS
    days = days_between(first, last)
    instance = _instance()
    assets = [*provider_assets.values(), scene_catalog]
    outcomes = {provider: ProviderOutcome(provider) for provider in chosen}
    for provider in chosen:
        for problem in HarvestResource().provider_aois(provider).problems:
            click.echo(f"warning: {provider}: {problem}", err=True)
    click.echo(f"backfilling {len(days)} day(s), {first}..{last}, for {', '.join(chosen)}", err=True)
    with click.progressbar(length=len(days) * len(chosen), label="harvesting", file=sys.stderr) as bar:
        for provider in chosen:
            outcome = outcomes[provider]

            class ProgressHarvest(HarvestResource):
                def day_done(self, result: DayResult, outcome: ProviderOutcome = outcome) -> None:
                    outcome.days += 1
                    outcome.scenes += result.scenes
                    outcome.files.add(result.path)
                    bar.label = f"{outcome.provider} {result.day}"
                    bar.update(1)

            result = _materialize(assets, [ASSET_NAMES[provider]], first, last, ProgressHarvest(), instance)
            if not result.success:
                outcome.error = _failure(result)
                bar.update(len(days) - outcome.days)
        unified = _materialize(assets, [SCENE_CATALOG], first, last, HarvestResource(), instance)
    for outcome in outcomes.values():
        state = f"FAILED: {outcome.error}" if outcome.error else "ok"
        click.echo(
            f"  {outcome.provider:<20} {outcome.days:>5} day(s) {outcome.scenes:>9,} scene(s) "
            f"{len(outcome.files):>5} file(s)  {state}",
            err=True,
        )
    click.echo(f"  catalog in {data_dir() / 'catalog'}; runs recorded in {instance.root_directory}", err=True)
    failed = [o.provider for o in outcomes.values() if o.error]
    if not unified.success:
        failed.append(f"scene_catalog ({_failure(unified)})")
    if failed:
        raise click.ClickException(f"the backfill failed for {', '.join(failed)}; re-run the same command to retry")
