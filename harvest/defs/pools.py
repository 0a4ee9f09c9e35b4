"""Concurrency pools and how often sensors tick: limits `harvest dev` sets in the instance, read by every run."""

from collections.abc import Mapping

from harvest import registry

# one unification of a day at a time, so the last one to run has seen every provider's newest file
UNIFY_POOL = "catalog-unify"
# dagster.yaml can only set one default limit for every pool, so `harvest dev` sets each pool's own
POOL_LIMITS: Mapping[str, int] = {
    **{source.pool: source.pool_limit for source in registry.SOURCES},
    UNIFY_POOL: 1,
}
TICK_SECONDS = 30  # every sensor's minimum interval
