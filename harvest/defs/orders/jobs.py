"""Jobs a person or a sensor launches: placing approved orders, and approving orders that wait for a person."""

import dagster as dg

from harvest.defs.orders.support import placer_for, policies_or_fail
from harvest.defs.resources import HarvestResource, OrderingResource
from harvest.ordering.placing import Outcome, due_for_placing


class PlaceOrdersConfig(dg.Config):
    """Which orders to place: the given keys, else every order due (approved, or left placing), at most `limit`."""

    order_keys: list[str] | None = None
    limit: int = 0  # 0: no limit


@dg.op(description="Place approved orders (and reconcile those left placing): reserve, reconcile, order once.")
def place_approved_orders(
    context: dg.OpExecutionContext, config: PlaceOrdersConfig, harvest: HarvestResource, ordering: OrderingResource
) -> dg.Output[None]:
    """Place approved orders within budget, never twice."""
    _, policies = policies_or_fail(harvest)
    with ordering.ledger() as ledger, ordering.desks() as desks:
        keys = config.order_keys or [order.key for order in due_for_placing(ledger, harvest.now())]
        if config.limit > 0:
            keys = keys[: config.limit]
        placer = placer_for(ledger, desks, policies, harvest, ordering)
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
