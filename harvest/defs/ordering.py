"""Ordering in Dagster: quoted candidates per acquisition day, placing approved orders, following them,
and landing each delivery as a partition of its own.

    scene_catalog -> order_candidates (daily) -> ledger -> place_orders (job, order_placement sensor)
    order_tracking (sensor) -> deliveries (one dynamic partition per delivered order)
"""

from datetime import timedelta

import dagster as dg

from harvest.aois import AoiSet
from harvest.changes import short_digest
from harvest.defs.catalog import SCENE_CATALOG
from harvest.defs.partitions import catalog_days
from harvest.defs.resources import HarvestResource, OrderingResource
from harvest.delivery.errors import DeliveryError, DeliveryExpired, DiskFull, DownloadTooLarge, UnsafeFileName
from harvest.delivery.limits import size_limit
from harvest.harvesting import days_between
from harvest.ordering.desks import DeskSet
from harvest.ordering.landing import land
from harvest.ordering.ledger import Ledger
from harvest.ordering.ledger.ledger import utc_now
from harvest.ordering.ledger.states import OrderState
from harvest.ordering.placing import Outcome, Placer, resting
from harvest.ordering.policy import PolicyError, PolicySet, load_policies
from harvest.ordering.quoting import budgets_from, quote_day
from harvest.ordering.tracking import track

ORDER_CANDIDATES = "order_candidates"
DELIVERIES = "deliveries"
delivery_orders = dg.DynamicPartitionsDefinition(name="order_deliveries")
TICK_SECONDS = 30
# quote a day as soon as its unified catalog changes, for the recent days (not the whole history)
QUOTE_LOOKBACK = timedelta(days=14)
QUOTE_WHEN_CATALOG_CHANGES = (
    dg.AutomationCondition.eager()
    .replace(
        dg.AutomationCondition.in_latest_time_window(), dg.AutomationCondition.in_latest_time_window(QUOTE_LOOKBACK)
    )
    .with_label(f"eager_last_{QUOTE_LOOKBACK.days}_days")
)


def _policies(harvest: HarvestResource) -> tuple[AoiSet, PolicySet]:
    aoi_set = harvest.aoi_set()
    try:
        return aoi_set, load_policies(aoi_set)
    except PolicyError as exc:
        raise dg.Failure(f"the ordering policies cannot be used: {exc}") from exc


def _placer(
    ledger: Ledger, desks: DeskSet, policies: PolicySet, harvest: HarvestResource, ordering: OrderingResource
) -> Placer:
    budgets = budgets_from(policies)
    return Placer(ledger, desks, budgets, allow_spend=ordering.allow_spend(), actor="dagster", clock=harvest.now)


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
    aoi_set, policies = _policies(harvest)
    for problem in policies.problems:
        context.log.warning(str(problem))
    store, totals = harvest.store(), {"candidates": 0, "quote_errors": 0, "cheapest": 0}
    decided: dict[str, int] = {}
    excluded: dict[str, int] = {}
    paths = []
    with ordering.ledger() as ledger, ordering.desks() as desks:
        for day in days:
            quotes = quote_day(
                store.read_day("scene_catalog", day),
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
            "path": dg.MetadataValue.path(str(paths[0] if len(paths) == 1 else paths[0].parent)),
            "quote_errors": totals["quote_errors"],
            "cheapest_offers": totals["cheapest"],
            "decisions": dg.MetadataValue.json(decided),
            "excluded": dg.MetadataValue.json(excluded),
            "enabled_aois": ", ".join(sorted(policies.enabled())) or "(none: enable ordering in policies.yaml)",
        }
    )


class PlaceOrdersConfig(dg.Config):
    """Which approved orders to place: the given keys, else every approved order (at most `limit`)."""

    order_keys: list[str] | None = None
    limit: int = 0  # 0: no limit


@dg.op(description="Place approved orders: reserve their spend, reconcile with the provider, order once.")
def place_approved_orders(
    context: dg.OpExecutionContext, config: PlaceOrdersConfig, harvest: HarvestResource, ordering: OrderingResource
) -> dg.Output[None]:
    """Place approved orders within budget, never twice."""
    _, policies = _policies(harvest)
    with ordering.ledger() as ledger, ordering.desks() as desks:
        keys = config.order_keys or [order.key for order in ledger.orders(states=[OrderState.APPROVED])]
        if config.limit > 0:
            keys = keys[: config.limit]
        placer = _placer(ledger, desks, policies, harvest, ordering)
        outcomes: dict[str, int] = {}
        for key in keys:
            placement = placer.place(key)
            outcomes[placement.outcome] = outcomes.get(placement.outcome, 0) + 1
            troubled = (Outcome.FAILED, Outcome.NOT_SENT, Outcome.UNKNOWN)
            log = context.log.warning if placement.outcome in troubled else context.log.info
            log(placement.line())
    return dg.Output(None, metadata={"orders": len(keys), "outcomes": dg.MetadataValue.json(outcomes)})


place_orders = dg.JobDefinition(
    graph_def=dg.GraphDefinition(name="place_orders", node_defs=[place_approved_orders]),
    description="Place approved orders (all, or the keys given in the launchpad config).",
)


class ApproveOrdersConfig(dg.Config):
    """Orders a person approves from the launchpad, and who they are."""

    order_keys: list[str]
    approved_by: str


@dg.op(description="Approve orders waiting for a person (keys from `harvest orders list` or order_candidates).")
def approve_waiting_orders(
    context: dg.OpExecutionContext, config: ApproveOrdersConfig, ordering: OrderingResource
) -> None:
    """Approve the given orders in the ledger, all or none."""
    if not config.approved_by.strip():
        raise dg.Failure("approved_by is empty: say who approves (it is recorded in the ledger)")
    with ordering.ledger() as ledger:
        unknown = [key for key in config.order_keys if ledger.get(key) is None]
        if unknown:
            raise dg.Failure(f"no such order(s) in the ledger: {', '.join(unknown)}; nothing was approved")
        for key in config.order_keys:
            order = ledger.approve(key, actor=f"person: {config.approved_by.strip()} via the Dagster launchpad")
            context.log.info(
                f"approved {key}: {order.provider}/{order.scene_id} for {order.quote.amount:f} {order.quote.unit}"
            )


approve_orders = dg.JobDefinition(
    graph_def=dg.GraphDefinition(name="approve_orders", node_defs=[approve_waiting_orders]),
    description="Approve orders that wait for a person (launch with their keys and your name).",
)


@dg.sensor(
    name="order_placement",
    job=place_orders,
    minimum_interval_seconds=TICK_SECONDS,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="Launches place_orders whenever approved orders wait in the ledger.",
)
def order_placement(context: dg.SensorEvaluationContext, ordering: OrderingResource) -> dg.SensorResult:
    """Requests a placement run for the approved orders (once per set of keys and their last changes)."""
    now = utc_now()
    with ordering.ledger() as ledger:
        approved = ledger.orders(states=[OrderState.APPROVED])
        due = sorted((order for order in approved if not resting(ledger, order, now)), key=lambda order: order.key)
    if not due:
        why = f"{len(approved)} approved order(s) rest after their provider could not be asked" if approved else ""
        return dg.SensorResult(skip_reason=dg.SkipReason(why or "no approved order waits"))
    keys = [order.key for order in due]
    changes = ",".join(f"{order.key}@{order.updated_at.isoformat()}" for order in due)  # given back: asked for again
    run_config = dg.RunConfig(ops={"place_approved_orders": PlaceOrdersConfig(order_keys=keys)})
    request = dg.RunRequest(run_key=f"place:{short_digest(changes)}", run_config=run_config)
    return dg.SensorResult(run_requests=[request])


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


@dg.sensor(
    name="order_tracking",
    asset_selection=[DELIVERIES],
    minimum_interval_seconds=TICK_SECONDS,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="Follows open orders at their providers; each delivered order becomes a deliveries partition.",
)
def order_tracking(
    context: dg.SensorEvaluationContext, harvest: HarvestResource, ordering: OrderingResource
) -> dg.SensorResult:
    """Asks providers about open orders; requests the landing of every delivered one."""
    _, policies = _policies(harvest)
    with ordering.ledger() as ledger, ordering.desks() as desks:
        placer = _placer(ledger, desks, policies, harvest, ordering)
        report = track(ledger, desks, placer)
        ready = ledger.orders(states=[OrderState.DELIVERED])
    for problem in report.problems:
        context.log.warning(problem)
    context.log.info(report.describe())
    if not ready:
        return dg.SensorResult(skip_reason=dg.SkipReason(f"nothing to land: {report.describe()}"))
    keys = [order.key for order in ready]
    known = set(context.instance.get_dynamic_partitions(delivery_orders.name))
    return dg.SensorResult(
        run_requests=[
            dg.RunRequest(run_key=f"land:{order.key}:{order.updated_at.isoformat()}", partition_key=order.key)
            for order in ready
        ],
        dynamic_partitions_requests=[delivery_orders.build_add_request([k for k in keys if k not in known])],
    )
