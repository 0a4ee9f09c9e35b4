"""The ordering assets: quoted candidates per acquisition day, and each delivered order landed as a partition.

scene_catalog -> order_candidates (daily) -> ledger -> place_orders (job, order_placement sensor)
order_tracking (sensor) -> deliveries (one dynamic partition per delivered order)
"""

from datetime import timedelta

import dagster as dg

from harvest.buying.candidates import describe_candidate_columns
from harvest.buying.quoting import quote_day
from harvest.catalog.store import UNIFIED
from harvest.defs.catalog.assets import SCENE_CATALOG, table_schema
from harvest.defs.catalog.partitions import catalog_days
from harvest.defs.orders.partitions import delivery_orders
from harvest.defs.orders.support import policies_or_fail
from harvest.defs.resources import HarvestResource, OrderingResource
from harvest.delivery.errors import DeliveryError, DeliveryExpired, DiskFull, DownloadTooLarge, UnsafeFileName
from harvest.delivery.limits import size_limit
from harvest.harvesting.days import days_between
from harvest.ordering.landing import DELIVERIES_FOLDER, land
from harvest.ordering.ledger.states import OrderState

ORDER_CANDIDATES = "order_candidates"
DELIVERIES = DELIVERIES_FOLDER  # the deliveries asset is named after its folder
# quote a day as soon as its unified catalog changes, for the recent days (not the whole history)
QUOTE_LOOKBACK = timedelta(days=14)
QUOTE_WHEN_CATALOG_CHANGES = (
    dg.AutomationCondition.eager()
    .replace(
        dg.AutomationCondition.in_latest_time_window(), dg.AutomationCondition.in_latest_time_window(QUOTE_LOOKBACK)
    )
    .with_label(f"eager_last_{QUOTE_LOOKBACK.days}_days")
)


@dg.asset(
    name=ORDER_CANDIDATES,
    partitions_def=catalog_days,
    backfill_policy=dg.BackfillPolicy.single_run(),
    deps=[SCENE_CATALOG],
    group_name="orders",
    kinds={"geoparquet"},
    automation_condition=QUOTE_WHEN_CATALOG_CHANGES,
)
def order_candidates(
    context: dg.AssetExecutionContext, harvest: HarvestResource, ordering: OrderingResource
) -> dg.MaterializeResult:
    """Scenes each AOI's policy allows, ranked and quoted by their providers; the best per AOI approved or queued."""
    window = context.partition_time_window
    days = days_between(window.start.date(), (window.end - timedelta(seconds=1)).date())
    aoi_set, policies = policies_or_fail(harvest)
    for problem in policies.problems:
        context.log.warning(str(problem))
    store, totals = harvest.store(), {"candidates": 0, "quote_errors": 0, "cheapest": 0}
    decided: dict[str, int] = {}
    excluded: dict[str, int] = {}
    paths = []
    with ordering.ledger() as ledger, ordering.desks() as desks:
        for day in days:
            quotes = quote_day(
                store.read_day(UNIFIED, day),
                day,
                aoi_set.aois,
                policies,
                ledger,
                desks,
                harvest.root(),
                actor=f"dagster run {context.run.run_id[:8]}",
            )
            paths.append(quotes.path)
            totals["candidates"] += quotes.candidates
            totals["quote_errors"] += quotes.quote_errors
            totals["cheapest"] += quotes.cheapest
            for reason, count in quotes.excluded.items():
                excluded[reason] = excluded.get(reason, 0) + count
            for decision in quotes.decisions:
                decided[decision.state] = decided.get(decision.state, 0) + 1
                if decision.state is not OrderState.QUOTED:
                    context.log.info(
                        f"{day} {decision.aoi_id}: {decision.provider}/{decision.scene_id} for {decision.amount:f} "
                        f"{decision.unit} -> {decision.state} {decision.by}"
                    )
    return dg.MaterializeResult(
        metadata={
            "dagster/row_count": totals["candidates"],
            "dagster/column_schema": table_schema(describe_candidate_columns()),
            "path": dg.MetadataValue.path(str(paths[0] if len(paths) == 1 else paths[0].parent)),
            "quote_errors": totals["quote_errors"],
            "cheapest_offers": totals["cheapest"],
            "decisions": dg.MetadataValue.json(decided),
            "excluded": dg.MetadataValue.json(excluded),
            "enabled_aois": ", ".join(sorted(policies.enabled())) or "(none: enable ordering in policies.yaml)",
        }
    )


@dg.asset(
    name=DELIVERIES,
    partitions_def=delivery_orders,
    group_name="orders",
    kinds={"files"},
    retry_policy=dg.RetryPolicy(max_retries=3, delay=30),
)
def deliveries(
    context: dg.AssetExecutionContext, harvest: HarvestResource, ordering: OrderingResource
) -> dg.MaterializeResult:
    """The files of one delivered order, downloaded, verified and landed, with a manifest."""
    key = context.partition_key
    try:
        limit = size_limit()
    except ValueError as exc:
        raise dg.Failure(str(exc), allow_retries=False) from exc
    with ordering.ledger() as ledger, ordering.desks() as desks:
        order = ledger.get(key)
        if order is None:
            raise dg.Failure(f"order {key} is not in the ledger ({ledger.url})")
        shown: dict[str, int] = {}

        def progress(name: str, done: int, total: int | None) -> None:
            step = (done * 10 // total) if total else done >> 26  # a line every 10 %, or every 64 MiB
            if shown.get(name) != step:
                shown[name] = step
                share = f"{done * 100 // total}%" if total else f"{done:,} bytes"
                context.log.info(f"{name}: {share}")

        try:
            landing = land(ledger, key, desks(order.provider), harvest.root(), on_progress=progress, size_limit=limit)
        except DeliveryExpired as expired:
            raise dg.Failure(f"the delivery of order {key} has expired at {order.provider}: {expired}") from expired
        except DeliveryError as failed:  # a message, not a traceback; retried only if another try can help
            retry = not isinstance(failed, (UnsafeFileName, DownloadTooLarge, DiskFull))
            raise dg.Failure(f"order {key} could not be landed: {failed}", allow_retries=retry) from failed
    files = [
        {
            "name": file.name,
            "path": file.path.relative_to(landing.folder).as_posix(),
            "size": file.size,
            "md5": file.md5,
            "resumed": file.resumed,
        }
        for file in landing.files
    ]
    return dg.MaterializeResult(
        metadata={
            "manifest": dg.MetadataValue.path(str(landing.manifest)),
            "folder": dg.MetadataValue.path(str(landing.folder)),
            "provider": order.provider,
            "scene_id": order.scene_id,
            "aoi_id": order.aoi_id,
            "provider_order_id": order.provider_order_id or "",
            "price": f"{order.quote.amount:f} {order.quote.unit}",
            "files": dg.MetadataValue.json(files),
            "bytes": landing.size,
            "bytes_transferred": landing.bytes_transferred,
        }
    )
