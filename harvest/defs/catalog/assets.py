"""The catalog assets: one per provider source, and the unified scene catalog, partitioned by acquisition day."""

from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import dagster as dg
import pyarrow as pa
import pyarrow.compute as pc
from shapely.geometry.base import BaseGeometry

from harvest import registry
from harvest.aois import AoiFileError
from harvest.catalog import checks
from harvest.catalog.schema import ColumnInfo, describe_columns
from harvest.catalog.store import UNIFIED, CatalogStore
from harvest.catalog.unify import unify
from harvest.defs.catalog.partitions import catalog_days
from harvest.defs.pools import UNIFY_POOL
from harvest.defs.resources import HarvestResource
from harvest.harvesting.days import DayResult, days_between, harvest_days

SCENE_CATALOG = UNIFIED  # the unified catalog asset is named after its folder
CHECKS = ("schema", "unique_scenes", "valid_footprints", "footprints_meet_aois", "freshness")


def table_schema(columns: Iterable[ColumnInfo]) -> dg.TableSchema:
    """Columns as the Dagster UI shows them: name, type and description."""
    return dg.TableSchema(columns=[dg.TableColumn(c.name, c.type, description=c.description) for c in columns])


COLUMN_SCHEMA = table_schema(describe_columns())


def _days(context: dg.AssetExecutionContext) -> list[date]:
    window = context.partition_time_window
    return days_between(window.start.date(), (window.end - timedelta(seconds=1)).date())


def _read(store: CatalogStore, provider: str, days: Sequence[date]) -> pa.Table:
    return pa.concat_tables([store.read_day(provider, day) for day in days])


def _newest_acquisition(store: CatalogStore, provider: str) -> datetime | None:
    for day in reversed(store.days(provider)):
        table = store.read_day(provider, day)
        if len(table):
            newest: datetime = pc.max(table.column("acquired")).as_py()
            return newest.replace(tzinfo=UTC) if newest.tzinfo is None else newest
    return None


def _check_results(
    name: str,
    provider: str,
    table: pa.Table,
    paths: Sequence[Path],
    aois: Mapping[str, BaseGeometry],
    store: CatalogStore,
    now: datetime,
) -> list[dg.AssetCheckResult]:
    outcomes = {
        "schema": checks.schema_matches(paths),
        "unique_scenes": checks.unique_scenes(table),
        "valid_footprints": checks.valid_footprints(table),
        "footprints_meet_aois": checks.footprints_meet_aois(table, aois),
        "freshness": checks.fresh(_newest_acquisition(store, provider), now, registry.get(provider).max_age),
    }
    return check_results(name, outcomes, warn_only=frozenset({"freshness"}))


def check_results(
    asset: str, outcomes: dict[str, checks.CheckOutcome], warn_only: frozenset[str] = frozenset()
) -> list[dg.AssetCheckResult]:
    """Check outcomes as Dagster asset check results (a failed `warn_only` check is a warning)."""
    return [
        dg.AssetCheckResult(
            asset_key=asset,
            check_name=check,
            passed=outcome.passed,
            description=outcome.description,
            metadata=outcome.metadata,
            severity=dg.AssetCheckSeverity.WARN if check in warn_only else dg.AssetCheckSeverity.ERROR,
        )
        for check, outcome in outcomes.items()
    ]


def build_provider_asset(source: registry.ProviderSource) -> dg.AssetsDefinition:
    """The catalog asset of one provider source."""
    name, provider = source.asset, source.id

    @dg.asset(
        name=name,
        description=source.description,
        partitions_def=catalog_days,
        backfill_policy=dg.BackfillPolicy.single_run(),
        pool=source.pool,
        group_name="catalog",
        kinds={"geoparquet"},
        check_specs=[dg.AssetCheckSpec(check, asset=name) for check in CHECKS],
        metadata={"provider": provider},
    )
    def provider_scenes(context: dg.AssetExecutionContext, harvest: HarvestResource) -> dg.MaterializeResult:
        days = _days(context)
        try:
            selected = harvest.provider_aois(provider)
        except AoiFileError as exc:  # nothing searched, nothing written: the days keep their files
            raise dg.Failure(str(exc)) from exc
        for problem in selected.problems:
            context.log.warning(f"{provider}: {problem}")
        store = harvest.store()
        source = harvest.source(provider)
        context.log.info(f"harvesting {len(days)} day(s) from {source.describe()} over {len(selected.aois)} AOI(s)")

        def on_day(result: DayResult) -> None:
            context.log.info(f"{result.day}: {result.scenes} scene(s) -> {result.path}")
            harvest.day_done(result)

        try:
            report = harvest_days(source, selected.aois, days, store, on_day=on_day)
        finally:
            source.close()
        paths = [d.path for d in report.days]
        table = _read(store, provider, days)
        aoi_geometries = {aoi.id: aoi.geometry for aoi in selected.aois}
        return dg.MaterializeResult(
            metadata={
                "dagster/row_count": report.scenes,
                "dagster/column_schema": COLUMN_SCHEMA,
                "path": dg.MetadataValue.path(str(paths[0] if len(paths) == 1 else store.root / provider)),
                "days": len(days),
                "provider": provider,
                "sandbox": report.sandbox,
                "aois": ", ".join(sorted(aoi_geometries)) or "(none)",
                "provider_requests": report.requests.describe(),
            },
            check_results=_check_results(name, provider, table, paths, aoi_geometries, store, harvest.now()),
        )

    return provider_scenes


provider_assets = {source.id: build_provider_asset(source) for source in registry.SOURCES}
every_provider_asset = list(provider_assets.values())  # a list, so that the defs loader finds them


@dg.asset(
    name=SCENE_CATALOG,
    partitions_def=catalog_days,
    backfill_policy=dg.BackfillPolicy.single_run(),
    deps=[source.asset for source in registry.SOURCES],
    pool=UNIFY_POOL,
    group_name="catalog",
    kinds={"geoparquet"},
    check_specs=[dg.AssetCheckSpec(check, asset=SCENE_CATALOG) for check in ("schema", "unique_scenes")],
)
def scene_catalog(context: dg.AssetExecutionContext, harvest: HarvestResource) -> dg.MaterializeResult:
    """Every provider's offers of a day in one file, the same acquisition's offers side by side."""
    store = harvest.store()
    paths, offers, acquisitions, shared = [], 0, 0, 0
    by_provider: dict[str, int] = {}
    for day in _days(context):
        table, summary = unify([store.read_day(provider, day) for provider in registry.IDS])
        written = store.write_day(UNIFIED, day, table)
        paths.append(written.path)
        offers += summary.offers
        acquisitions += summary.acquisitions
        shared += summary.multi_provider_acquisitions
        for provider, count in summary.offers_by_provider.items():
            by_provider[provider] = by_provider.get(provider, 0) + count
    table = _read(store, UNIFIED, _days(context))
    outcomes = {"schema": checks.schema_matches(paths), "unique_scenes": checks.unique_scenes(table)}
    return dg.MaterializeResult(
        metadata={
            "dagster/row_count": offers,
            "dagster/column_schema": COLUMN_SCHEMA,
            "path": dg.MetadataValue.path(str(paths[0] if len(paths) == 1 else store.root / UNIFIED)),
            "acquisitions": acquisitions,
            "acquisitions_offered_by_several_providers": shared,
            "offers_by_provider": dg.MetadataValue.json(by_provider),
        },
        check_results=check_results(SCENE_CATALOG, outcomes),
    )
