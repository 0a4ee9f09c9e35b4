"""Partitions of the catalog: one per acquisition day (UTC). The name and start are persisted ids."""

import dagster as dg

CATALOG_START = "2018-01-01"

# today's partition exists (end_offset=1): scenes acquired today are harvested today
catalog_days = dg.DailyPartitionsDefinition(start_date=CATALOG_START, timezone="UTC", end_offset=1)

PARTITION_RANGE_START_TAG = "dagster/asset_partition_range_start"
PARTITION_RANGE_END_TAG = "dagster/asset_partition_range_end"
