"""Jobs: harvest one provider's catalog for some acquisition days, then refresh the unified catalog."""

import dagster as dg

from harvest import registry
from harvest.defs.catalog.assets import SCENE_CATALOG

harvest_jobs = {
    source.id: dg.define_asset_job(
        name=source.job,
        selection=dg.AssetSelection.assets(source.asset, SCENE_CATALOG),
        description=f"Harvest {source.id} for the given acquisition days and refresh the unified scene catalog.",
    )
    for source in registry.SOURCES
}


@dg.definitions
def jobs() -> dg.Definitions:
    """One harvest job per provider source."""
    return dg.Definitions(jobs=list(harvest_jobs.values()))
