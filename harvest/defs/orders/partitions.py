"""Partitions of the ordering assets: one per delivered order. The name is a persisted id."""

import dagster as dg

DELIVERY_ORDERS = "order_deliveries"
delivery_orders = dg.DynamicPartitionsDefinition(name=DELIVERY_ORDERS)
