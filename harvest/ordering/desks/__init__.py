"""Provider order desks: quote, place (once), find (reconcile) and track orders at each provider.

`build_desk(provider, env, sandbox_url)` gives the `OrderDesk` of "oneatlas" (data.api or
order.api, see `factory`), "arlula" or "sentinelhub-import". No Dagster here.
"""

from harvest.ordering.desks.base import InvalidOrderOptions, NotOrderable, OrderDesk, OrderingError
from harvest.ordering.desks.factory import PROVIDERS, DeskSet, build_desk

__all__ = ["PROVIDERS", "DeskSet", "InvalidOrderOptions", "NotOrderable", "OrderDesk", "OrderingError", "build_desk"]
