"""Sensors that keep the catalog current: OneAtlas's update feed, and a recent-window re-search elsewhere.

Each requests runs only for the acquisition days that changed (consecutive days as one run), with a
run key naming the change, so the same change never runs twice. A provider that cannot be reached
fails the tick with the provider's error and leaves the cursor where it was; so does an AOI file
that cannot be read or holds no usable AOI for the provider (AoiFileError, with the reason).
"""

from collections.abc import Callable, Sequence

import dagster as dg

from harvest import registry
from harvest.aois import Aoi
from harvest.defs.catalog.jobs import harvest_jobs
from harvest.defs.catalog.partitions import CATALOG_START, PARTITION_RANGE_END_TAG, PARTITION_RANGE_START_TAG
from harvest.defs.pools import TICK_SECONDS
from harvest.defs.resources import HarvestResource
from harvest.harvesting.sources import OneAtlasSource, SceneSource
from harvest.harvesting.watching import Span, Tick, oneatlas_tick, recapture_tick

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


def _with_source(harvest: HarvestResource, provider: str, work: Callable[[SceneSource, Sequence[Aoi]], Tick]) -> Tick:
    """Run a tick with the provider's kept source (its token and connections outlive the tick)."""
    return work(harvest.kept_source(provider), harvest.provider_aois(provider).aois)


def build_update_feed_sensor(source: registry.ProviderSource) -> dg.SensorDefinition:
    """A sensor that follows a provider's feed of updated and deleted items and harvests the days they touch."""

    @dg.sensor(
        name=source.sensor,
        job=harvest_jobs[source.id],
        minimum_interval_seconds=TICK_SECONDS,
        default_status=dg.DefaultSensorStatus.RUNNING,
        description=f"Follows {source.display_name}'s feeds of updated and deleted items; harvests the acquisition "
        "days they touch.",
    )
    def updates(context: dg.SensorEvaluationContext, harvest: HarvestResource) -> dg.SensorResult:
        """Polls the provider for scenes updated or deleted since the cursor."""

        def work(feed: SceneSource, aois: Sequence[Aoi]) -> Tick:
            if not isinstance(feed, OneAtlasSource):
                raise TypeError(f"{source.id} has no update feed harvest can follow (its source is {feed!r})")
            return oneatlas_tick(feed, aois, harvest.store(), context.cursor, harvest.now(), first_day=FIRST_DAY)

        return _outcome(context, _with_source(harvest, source.id, work))

    return updates


def build_recapture_sensor(source: registry.ProviderSource) -> dg.SensorDefinition:
    """A sensor that re-searches a provider's recent capture window and harvests the days that changed."""

    @dg.sensor(
        name=source.sensor,
        job=harvest_jobs[source.id],
        minimum_interval_seconds=TICK_SECONDS,
        default_status=dg.DefaultSensorStatus.RUNNING,
        description=f"Re-searches {source.id}'s recent captures over the AOIs; harvests the days whose scenes or "
        "prices changed.",
    )
    def recent_captures(context: dg.SensorEvaluationContext, harvest: HarvestResource) -> dg.SensorResult:
        """Re-searches the recent days and compares them with the catalog."""

        def work(recent: SceneSource, aois: Sequence[Aoi]) -> Tick:
            return recapture_tick(recent, aois, harvest.store(), harvest.now(), first_day=FIRST_DAY)

        return _outcome(context, _with_source(harvest, source.id, work))

    return recent_captures


_BUILDERS = {"update_feed": build_update_feed_sensor, "recent_captures": build_recapture_sensor}
sensors_by_provider = {source.id: _BUILDERS[source.watch](source) for source in registry.SOURCES}
catalog_sensors = list(sensors_by_provider.values())  # a list, so that the defs loader finds them
