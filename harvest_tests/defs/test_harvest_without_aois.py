"""Asset runs and sensor ticks without a usable AOI fail with the reason before anything is written."""

from __future__ import annotations

import hashlib
from datetime import date
from pathlib import Path

import dagster as dg
import pytest

from harvest.aois import AoiFileError, NoUsableAoiError
from harvest.catalog.store import CatalogStore
from harvest.defs.catalog.assets import provider_assets
from harvest.defs.catalog.sensors import sensors_by_provider
from harvest.defs.resources import HarvestResource
from harvest.harvesting.days import harvest_days
from harvest.sandbox.server import RunningSandbox
from harvest_tests.catalog.scenes import make_scenes
from harvest_tests.defs.test_sensors import resource_for

DAY = date(2026, 10, 1)


def without_aois(sandbox: RunningSandbox, data: Path, aois: Path) -> HarvestResource:
    """The tests' sandbox resource, reading this AOI file."""
    return type(resource_for(sandbox, data))(data_dir=str(data), aois_file=str(aois))


def test_an_asset_run_without_an_aoi_file_fails_and_keeps_the_day(
    shared_sandbox: RunningSandbox, tmp_path: Path
) -> None:
    store = CatalogStore(tmp_path / "catalog")
    path = store.write_day("oneatlas", DAY, make_scenes(4, providers=("oneatlas",))).path
    before = hashlib.sha256(path.read_bytes()).hexdigest()
    missing = tmp_path / "nowhere.geojson"
    with dg.instance_for_test() as instance:
        result = dg.materialize(
            [provider_assets["oneatlas"]],
            partition_key=DAY.isoformat(),
            instance=instance,
            resources={"harvest": without_aois(shared_sandbox, tmp_path, missing)},
            raise_on_error=False,
        )
    assert not result.success
    failure = next(event for event in result.all_events if event.is_step_failure)
    assert f"AOI file {missing} does not exist; set HARVEST_AOIS" in str(failure.step_failure_data.error)
    assert hashlib.sha256(path.read_bytes()).hexdigest() == before


@pytest.mark.parametrize(
    "sensor", [sensors_by_provider["oneatlas"], sensors_by_provider["arlula"]], ids=lambda s: s.name
)
def test_a_sensor_tick_without_an_aoi_file_fails_with_the_reason(
    sensor: dg.SensorDefinition, shared_sandbox: RunningSandbox, tmp_path: Path
) -> None:
    missing = tmp_path / "nowhere.geojson"
    harvest = without_aois(shared_sandbox, tmp_path, missing)
    with (
        dg.build_sensor_context(resources={"harvest": harvest}) as context,
        pytest.raises(AoiFileError, match=f"AOI file {missing} does not exist"),
    ):
        sensor(context)  # raising keeps the cursor where it was


def test_harvesting_over_no_aoi_is_refused_before_any_day_is_written(
    shared_sandbox: RunningSandbox, tmp_path: Path
) -> None:
    store = CatalogStore(tmp_path / "catalog")
    source = resource_for(shared_sandbox, tmp_path).source("oneatlas")
    try:
        with pytest.raises(NoUsableAoiError, match="no AOI to search"):
            harvest_days(source, [], [DAY], store)
        assert source.stats().requests == 0, "the provider was not asked"
    finally:
        source.close()
    assert not store.root.exists()
