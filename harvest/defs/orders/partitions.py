"""Partitions of the ordering assets: one per delivered order. The name is a persisted id."""

import dagster as dg

delivery_orders = dg.DynamicPartitionsDefinition(name="order_deliveries")
