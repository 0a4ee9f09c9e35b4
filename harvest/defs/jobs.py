"""Jobs: harvest one provider's catalog for some acquisition days, then refresh the unified catalog."""

import dagster as dg

from harvest.defs.catalog import ASSET_NAMES, SCENE_CATALOG

JOB_NAMES = {provider: f"harvest_{asset.removesuffix('_scenes')}" for provider, asset in ASSET_NAMES.items()}

harvest_jobs = {
    provider: dg.define_asset_job(
        name=JOB_NAMES[provider],
        selection=dg.AssetSelection.assets(ASSET_NAMES[provider], SCENE_CATALOG),
        description=f"Harvest {provider} for the given acquisition days and refresh the unified scene catalog.",
    )
    for provider in ASSET_NAMES
}


@dg.definitions
def jobs() -> dg.Definitions:
    """One harvest job per provider source."""
    return dg.Definitions(jobs=list(harvest_jobs.values()))
