"""Harvesting without Dagster: scene sources, days written to the catalog, the sensors' change detection."""
