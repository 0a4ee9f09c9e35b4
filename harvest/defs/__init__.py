"""Dagster definitions only: assets, checks, sensors, schedules, jobs and resources (the logic lives outside)."""
