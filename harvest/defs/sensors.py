"""Sensors that keep the catalog current: OneAtlas's update feed, and a recent-window re-search elsewhere.

Each requests runs only for the acquisition days that changed (consecutive days as one run), with a
run key naming the change, so the same change never runs twice. A provider that cannot be reached
fails the tick with the provider's error and leaves the cursor where it was; so does an AOI file
that cannot be read or holds no usable AOI for the provider (AoiFileError, with the reason).
"""

from collections.abc import Callable

import dagster as dg

from harvest.defs.catalog import ASSET_NAMES
from harvest.defs.jobs import harvest_jobs
from harvest.defs.partitions import CATALOG_START, PARTITION_RANGE_END_TAG, PARTITION_RANGE_START_TAG
from harvest.defs.resources import HarvestResource
from harvest.sources import OneAtlasSource
from harvest.watching import Span, Tick, oneatlas_tick, recapture_tick

TICK_SECONDS = 30
SENSOR_NAMES = {
    "oneatlas": "oneatlas_updates",
    "arlula": "arlula_recent_captures",
    "sentinelhub-import": "sentinelhub_import_recent_captures",
    "sentinelhub-catalog": "sentinelhub_catalog_recent_captures",
}
FIRST_DAY = dg.DailyPartitionsDefinition(start_date=CATALOG_START).start.date()


def run_request(span: Span) -> dg.RunRequest:
    """One run harvesting a span of days (a partition range, as a backfill would launch it)."""
    if span.days == 1:
        return dg.RunRequest(run_key=span.key, partition_key=span.first.isoformat())
    return dg.RunRequest(
        run_key=span.key,
        tags={PARTITION_RANGE_START_TAG: span.first.isoformat(), PARTITION_RANGE_END_TAG: span.last.isoformat()},
    )


def _outcome(context: dg.SensorEvaluationContext, tick: Tick) -> dg.SensorResult:
    context.log.info(f"{tick.summary}; requests: {tick.requests.describe()}")
    if not tick.spans:
        return dg.SensorResult(skip_reason=dg.SkipReason(f"nothing new: {tick.summary}"), cursor=tick.cursor)
    return dg.SensorResult(run_requests=[run_request(span) for span in tick.spans], cursor=tick.cursor)


def _with_source(harvest: HarvestResource, provider: str, work: Callable[..., Tick]) -> Tick:
    """Run a tick with the provider's kept source (its token and connections outlive the tick)."""
    return work(harvest.kept_source(provider), harvest.provider_aois(provider).aois)


@dg.sensor(
    name=SENSOR_NAMES["oneatlas"],
    job=harvest_jobs["oneatlas"],
    minimum_interval_seconds=TICK_SECONDS,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="Follows OneAtlas's lastUpdateDate and deleted feeds; harvests the acquisition days they touch.",
)
def oneatlas_updates(context: dg.SensorEvaluationContext, harvest: HarvestResource) -> dg.SensorResult:
    """Polls OneAtlas for scenes updated or deleted since the cursor."""

    def work(source: OneAtlasSource, aois) -> Tick:  # type: ignore[no-untyped-def]
        return oneatlas_tick(source, aois, harvest.store(), context.cursor, harvest.now(), first_day=FIRST_DAY)

    return _outcome(context, _with_source(harvest, "oneatlas", work))


def build_recapture_sensor(provider: str) -> dg.SensorDefinition:
    """A sensor that re-searches a provider's recent capture window and harvests the days that changed."""

    @dg.sensor(
        name=SENSOR_NAMES[provider],
        job=harvest_jobs[provider],
        minimum_interval_seconds=TICK_SECONDS,
        default_status=dg.DefaultSensorStatus.RUNNING,
        description=f"Re-searches {provider}'s recent captures over the AOIs; harvests the days whose scenes or "
        "prices changed.",
    )
    def recent_captures(context: dg.SensorEvaluationContext, harvest: HarvestResource) -> dg.SensorResult:
        def work(source, aois) -> Tick:  # type: ignore[no-untyped-def]
            return recapture_tick(source, aois, harvest.store(), harvest.now(), first_day=FIRST_DAY)

        return _outcome(context, _with_source(harvest, provider, work))

    return recent_captures


arlula_recent_captures = build_recapture_sensor("arlula")
sentinelhub_import_recent_captures = build_recapture_sensor("sentinelhub-import")
sentinelhub_catalog_recent_captures = build_recapture_sensor("sentinelhub-catalog")

assert set(SENSOR_NAMES) == set(ASSET_NAMES)
