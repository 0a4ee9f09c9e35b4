"""The sensor that evaluates the assets' automation conditions (coverage maps, order candidates), on by default."""

import dagster as dg

from harvest.defs.catalog.maps import COVERAGE_MAPS
from harvest.defs.orders.assets import ORDER_CANDIDATES
from harvest.defs.pools import TICK_SECONDS

catalog_followers = dg.AutomationConditionSensorDefinition(
    "catalog_followers",
    target=dg.AssetSelection.assets(COVERAGE_MAPS, ORDER_CANDIDATES),
    default_status=dg.DefaultSensorStatus.RUNNING,
    minimum_interval_seconds=TICK_SECONDS,
    description="Redraws the coverage maps and quotes the recent days whenever the unified catalog changes.",
)
