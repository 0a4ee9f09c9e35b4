"""The daily reconciliation: re-harvest the last days of every provider, whatever the sensors saw."""

from datetime import timedelta

import dagster as dg

from harvest import registry
from harvest.defs.catalog.assets import SCENE_CATALOG
from harvest.defs.catalog.partitions import PARTITION_RANGE_END_TAG, PARTITION_RANGE_START_TAG
from harvest.defs.resources import HarvestResource

RECONCILE_DAYS = 3


@dg.schedule(
    name="catalog_reconciliation",
    cron_schedule="30 2 * * *",
    execution_timezone="UTC",
    target=dg.AssetSelection.assets(*(source.asset for source in registry.SOURCES), SCENE_CATALOG),
    default_status=dg.DefaultScheduleStatus.RUNNING,
    description=f"Every night, re-harvests the last {RECONCILE_DAYS} acquisition days of every provider.",
)
def catalog_reconciliation(context: dg.ScheduleEvaluationContext, harvest: HarvestResource) -> list[dg.RunRequest]:
    """One run per provider over the last days (catches whatever a sensor missed)."""
    moment = context.scheduled_execution_time or harvest.now()
    last = moment.date()
    first = last - timedelta(days=RECONCILE_DAYS - 1)
    tags = {PARTITION_RANGE_START_TAG: first.isoformat(), PARTITION_RANGE_END_TAG: last.isoformat()}
    return [
        dg.RunRequest(
            run_key=f"{source.id}:{first}..{last}",
            asset_selection=[dg.AssetKey(source.asset), dg.AssetKey(SCENE_CATALOG)],
            tags=tags,
        )
        for source in registry.SOURCES
    ]
