"""Coverage map paths come only from safe AOI ids: an id with `../` never writes outside the maps folder."""

from __future__ import annotations

from pathlib import Path

import dagster as dg
import pytest
import shapely

from harvest.aois import Aoi
from harvest.catalog.coverage import render_coverage
from harvest.catalog.schema import SCENE_SCHEMA
from harvest.defs.catalog.maps import COVERAGE_MAPS, coverage_maps
from harvest_tests.catalog.test_coverage import TOULOUSE, FrozenHarvest, write_aois

ESCAPING = ("../../escaped", "../escaped", "sub/escaped", "{tmp}/absolute")  # {tmp}: the test's own directory


def every_file(root: Path) -> set[str]:
    return {str(path.relative_to(root)) for path in root.rglob("*") if path.is_file()}


def test_the_maps_asset_draws_only_aois_with_safe_ids(tmp_path: Path) -> None:
    data = tmp_path / "data"
    data.mkdir()
    ids = [aoi_id.format(tmp=tmp_path) for aoi_id in ESCAPING]
    hostile = [Aoi(aoi_id, "Escaped", shapely.box(1.35, 43.55, 1.54, 43.69)) for aoi_id in ids]
    aois = write_aois(tmp_path / "aois.json", TOULOUSE, *hostile)
    result = dg.materialize(
        [coverage_maps],
        resources={"harvest": FrozenHarvest(data_dir=str(data), aois_file=str(aois))},
        run_config=dg.RunConfig({COVERAGE_MAPS: {"config": {"days": 3}}}),
    )
    assert result.success
    assert every_file(tmp_path) == {"aois.json", "data/maps/toulouse.html", "data/maps/toulouse.png"}


@pytest.mark.parametrize("aoi_id", ESCAPING)
def test_rendering_a_map_for_an_unsafe_id_is_refused(tmp_path: Path, aoi_id: str) -> None:
    maps = tmp_path / "a" / "b" / "maps"
    aoi = Aoi(aoi_id.format(tmp=tmp_path), "Escaped", shapely.box(1.35, 43.55, 1.54, 43.69))
    with pytest.raises(ValueError, match="is not a safe name"):
        render_coverage(aoi, SCENE_SCHEMA.empty_table(), maps)
    assert every_file(tmp_path) == set()


def test_the_maps_asset_with_an_unreadable_aoi_file_fails_with_its_message(tmp_path: Path) -> None:
    missing = tmp_path / "nowhere.geojson"
    with pytest.raises(dg.Failure, match=f"AOI file {missing} does not exist; set HARVEST_AOIS"):
        dg.materialize(
            [coverage_maps],
            resources={"harvest": FrozenHarvest(data_dir=str(tmp_path), aois_file=str(missing))},
        )
