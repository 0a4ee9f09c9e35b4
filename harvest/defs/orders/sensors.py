"""Sensors that detect and request runs: approved orders to place, open orders to follow, deliveries to land.

A sensor never sends an order: it asks the ledger and the providers, records what they answer, and
requests runs; placing (and reconciling an order left `placing`) happens in the place_orders run.
"""

import dagster as dg

from harvest.defs.orders.assets import DELIVERIES
from harvest.defs.orders.jobs import PlaceOrdersConfig, place_orders
from harvest.defs.orders.partitions import DELIVERY_ORDERS, delivery_orders
from harvest.defs.pools import TICK_SECONDS
from harvest.defs.resources import OrderingResource
from harvest.harvesting.changes import short_digest
from harvest.ordering.ledger.ledger import utc_now
from harvest.ordering.ledger.states import OrderState
from harvest.ordering.placing import due_for_placing
from harvest.ordering.tracking import track


@dg.sensor(
    name="order_placement",
    job=place_orders,
    minimum_interval_seconds=TICK_SECONDS,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="Launches place_orders whenever approved orders (or orders left placing) wait in the ledger.",
)
def order_placement(context: dg.SensorEvaluationContext, ordering: OrderingResource) -> dg.SensorResult:
    """Requests a placement run for the orders due (once per set of keys and their last changes)."""
    with ordering.ledger() as ledger:
        due = due_for_placing(ledger, utc_now())
        approved = len(ledger.orders(states=[OrderState.APPROVED]))
    if not due:
        why = f"{approved} approved order(s) rest after their provider could not be asked" if approved else ""
        return dg.SensorResult(skip_reason=dg.SkipReason(why or "no order waits to be placed"))
    keys = [order.key for order in due]
    changes = ",".join(f"{order.key}@{order.updated_at.isoformat()}" for order in due)  # given back: asked for again
    run_config = dg.RunConfig(ops={"place_approved_orders": PlaceOrdersConfig(order_keys=keys)})
    request = dg.RunRequest(run_key=f"place:{short_digest(changes)}", run_config=run_config)
    return dg.SensorResult(run_requests=[request])


@dg.sensor(
    name="order_tracking",
    asset_selection=[DELIVERIES],
    minimum_interval_seconds=TICK_SECONDS,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="Follows open orders at their providers; each delivered order becomes a deliveries partition.",
)
def order_tracking(context: dg.SensorEvaluationContext, ordering: OrderingResource) -> dg.SensorResult:
    """Asks providers about placed orders; requests the landing of every delivered one."""
    with ordering.ledger() as ledger, ordering.desks() as desks:
        report = track(ledger, desks)
        ready = ledger.orders(states=[OrderState.DELIVERED])
    for problem in report.problems:
        context.log.warning(problem)
    context.log.info(report.describe())
    if not ready:
        return dg.SensorResult(skip_reason=dg.SkipReason(f"nothing to land: {report.describe()}"))
    keys = [order.key for order in ready]
    known = set(context.instance.get_dynamic_partitions(DELIVERY_ORDERS))
    return dg.SensorResult(
        run_requests=[
            dg.RunRequest(run_key=f"land:{order.key}:{order.updated_at.isoformat()}", partition_key=order.key)
            for order in ready
        ],
        dynamic_partitions_requests=[delivery_orders.build_add_request([k for k in keys if k not in known])],
    )
