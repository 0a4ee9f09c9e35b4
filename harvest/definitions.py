"""The Dagster code location: every definition under harvest/defs/, loaded by `dg`, `dagster dev` and the daemon."""

from pathlib import Path

import dagster as dg


@dg.definitions
def defs() -> dg.Definitions:
    """All of harvest's assets, checks, sensors, schedules, jobs and resources."""
    return dg.load_from_defs_folder(path_within_project=Path(__file__).parent)
