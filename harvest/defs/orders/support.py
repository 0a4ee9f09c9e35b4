"""What the ordering definitions share: the policies (or a run failure saying why not), and a placer for one run."""

import dagster as dg

from harvest.aois import AoiSet
from harvest.buying.policy import PolicyError, PolicySet, load_policies
from harvest.buying.quoting import budgets_from
from harvest.defs.resources import HarvestResource, OrderingResource
from harvest.ordering.desks.factory import DeskSet
from harvest.ordering.ledger import Ledger
from harvest.ordering.placing import Placer


def policies_or_fail(harvest: HarvestResource) -> tuple[AoiSet, PolicySet]:
    """The AOIs and their ordering policies; a run failure saying why when the policy file cannot be used."""
    aoi_set = harvest.aoi_set()
    try:
        return aoi_set, load_policies(aoi_set)
    except PolicyError as exc:
        raise dg.Failure(f"the ordering policies cannot be used: {exc}") from exc


def placer_for(
    ledger: Ledger, desks: DeskSet, policies: PolicySet, harvest: HarvestResource, ordering: OrderingResource
) -> Placer:
    """The placer of one run: the policies' budgets, spending as the environment allows, the resource's clock."""
    budgets = budgets_from(policies)
    return Placer(ledger, desks, budgets, allow_spend=ordering.allow_spend(), actor="dagster", clock=harvest.now)
