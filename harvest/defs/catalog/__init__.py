"""The catalog in Dagster: provider assets, the unified catalog, coverage maps, their sensors, jobs and schedule."""
