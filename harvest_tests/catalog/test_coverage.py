"""Coverage maps: real PNGs, HTML with every footprint (across the antimeridian too), the `coverage_maps` asset."""

from __future__ import annotations

import json
import re
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import dagster as dg
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pytest
import shapely
from PIL import Image

from harvest.aois import Aoi
from harvest.catalog.column_values import strings
from harvest.catalog.coverage import UNKNOWN_COLOUR, reference_longitude, render_coverage, unwrap_around
from harvest.catalog.store import UNIFIED, CatalogStore
from harvest.defs.catalog.maps import COVERAGE_MAPS, MAPS_AUTOMATION, coverage_maps
from harvest.defs.catalog.partitions import catalog_days
from harvest.defs.resources import HarvestResource
from harvest.timestamps import format_seconds, to_datetime
from harvest_tests.catalog.scenes import fiji_scenes, files_in, make_scenes

TOULOUSE = Aoi("toulouse", "Toulouse", shapely.box(1.35, 43.55, 1.54, 43.69))
TAVEUNI = Aoi("taveuni", "Taveuni", shapely.box(179.84, -16.96, 179.99, -16.77))
DAY = date(2026, 11, 1)
START = datetime(2026, 11, 1, tzinfo=UTC)


def scenes_over(aoi: Aoi, count: int, *, first: int = 0, start: datetime = START, days: int = 5) -> pa.Table:
    """`count` small footprints scattered over the AOI's bounds, harvested for it."""
    west, south, east, north = aoi.bounds
    table = make_scenes(count, first=first, start=start, days=days, lon=(west, east), lat=(south, north), size_deg=0.05)
    return with_column(table, "aoi_ids", pa.array([[aoi.id]] * count, pa.list_(pa.string())))


def with_column(table: pa.Table, name: str, values: pa.Array) -> pa.Table:
    index = table.schema.get_field_index(name)
    return table.set_column(index, table.schema.field(index), values)


def png_pixels(path: Path) -> np.ndarray:
    with Image.open(path) as image:
        assert image.format == "PNG"
        return np.asarray(image.convert("RGB"))


def html_layers(path: Path) -> list[dict]:
    """Every feature folium embedded in the page: the AOI outline's and the footprints'."""
    text = path.read_text(encoding="utf-8")
    return [f for m in re.findall(r"_add\((\{.*?\})\);\n", text) for f in json.loads(m)["features"]]


def html_features(path: Path) -> list[dict]:
    """The footprint features (those with a colour), in scene order."""
    return [f for f in html_layers(path) if "colour" in (f.get("properties") or {})]


def test_renders_a_real_png_and_an_html_map_with_every_footprint(tmp_path: Path) -> None:
    scenes = scenes_over(TOULOUSE, 40)

    result = render_coverage(TOULOUSE, scenes, tmp_path / "maps", window=(DAY, DAY + timedelta(days=4)))

    assert (result.scenes, result.html.name, result.png.name) == (40, "toulouse.html", "toulouse.png")
    assert result.title == "Toulouse: 2026-11-01 to 2026-11-05, 40 scenes"
    assert result.newest == to_datetime(pc.max(pc.cast(scenes.column("acquired"), pa.int64())).as_py())
    pixels = png_pixels(result.png)
    assert pixels.shape[0] > 200 and pixels.shape[1] > 200
    assert len(np.unique(pixels.reshape(-1, 3), axis=0)) > 50  # footprints, outline, colorbar: not blank
    features = html_features(result.html)
    assert sorted(f["properties"]["scene"] for f in features) == sorted(strings(scenes.column("scene_id")))
    text = result.html.read_text(encoding="utf-8")
    assert "<title>Toulouse: 2026-11-01 to 2026-11-05, 40 scenes</title>" in text
    assert "acquired (UTC)" in text  # the legend
    assert files_in(tmp_path / "maps") == ["toulouse.html", "toulouse.png"]  # no temporary file left


def test_popup_shows_scene_provider_date_cloud_and_price_escaped(tmp_path: Path) -> None:
    scenes = scenes_over(TOULOUSE, 2)
    scenes = with_column(scenes, "scene_id", pa.array(["<b>bold</b>", "plain"]))
    scenes = with_column(scenes, "price_amount", pa.array([1234.5, None]))

    result = render_coverage(TOULOUSE, scenes, tmp_path)

    popups = {f["properties"]["scene"]: f["properties"] for f in html_features(result.html)}
    assert set(popups) == {"&lt;b&gt;bold&lt;/b&gt;", "plain"}  # set as innerHTML, so escaped
    first = popups["&lt;b&gt;bold&lt;/b&gt;"]
    assert first["provider"] == scenes.column("provider")[0].as_py()
    assert first["acquired"] == format_seconds(pc.cast(scenes.column("acquired"), pa.int64())[0].as_py())
    assert first["cloud"] == f"{scenes.column('cloud_cover')[0].as_py():.1f}%"
    assert (first["price"], popups["plain"]["price"]) == ("1,234.50 EUR per scene", "unknown")


def test_colour_by_cloud_cover_greys_unknown_cover(tmp_path: Path) -> None:
    scenes = with_column(scenes_over(TOULOUSE, 3), "cloud_cover", pa.array([0.0, None, 100.0]))

    result = render_coverage(TOULOUSE, scenes, tmp_path, color_by="cloud_cover")

    colours = [f["properties"]["colour"] for f in html_features(result.html)]
    assert colours[1] == UNKNOWN_COLOUR and len(set(colours)) == 3
    text = result.html.read_text(encoding="utf-8")
    assert "cloud cover (%)" in text and "unknown" in text


def test_zero_scenes_draw_the_aoi_alone(tmp_path: Path) -> None:
    result = render_coverage(TOULOUSE, scenes_over(TOULOUSE, 0), tmp_path)

    assert (result.scenes, result.newest, result.title) == (0, None, "Toulouse: no scenes")
    assert html_features(result.html) == []
    assert "<title>Toulouse: no scenes</title>" in result.html.read_text(encoding="utf-8")
    pixels = png_pixels(result.png)
    assert (pixels.sum(axis=2) < 100).sum() > 500  # the AOI outline and the title are dark


def test_window_with_no_scenes_says_so_in_the_title(tmp_path: Path) -> None:
    result = render_coverage(TOULOUSE, scenes_over(TOULOUSE, 0), tmp_path, window=(DAY, DAY))

    assert result.title == "Toulouse: 2026-11-01 to 2026-11-01, no scenes"


def test_a_footprint_cut_at_the_antimeridian_draws_whole_beside_the_aoi(tmp_path: Path) -> None:
    cut = fiji_scenes(1)  # 179.5..-179.7, stored as a MultiPolygon of two parts
    assert shapely.from_wkb(cut.column("geometry")[0].as_py()).geom_type == "MultiPolygon"
    scenes = pa.concat_tables([with_column(cut, "aoi_ids", pa.array([["taveuni"]])), scenes_over(TAVEUNI, 3)])

    result = render_coverage(TAVEUNI, scenes, tmp_path)

    features = html_features(result.html)
    joined = shapely.geometry.shape(features[0]["geometry"])
    assert joined.geom_type == "Polygon"
    assert joined.bounds == pytest.approx((179.5, -17.0, 180.3, -16.0))
    west, _, east, _ = shapely.union_all([shapely.geometry.shape(f["geometry"]) for f in features]).bounds
    assert east - west < 2  # nothing was drawn at the far end of the world
    assert png_pixels(result.png).size


def test_an_aoi_split_at_the_antimeridian_draws_whole(tmp_path: Path) -> None:
    west, east = shapely.box(179.8, -17, 180, -16), shapely.box(-180, -17, -179.9, -16)
    split = Aoi("split", "Split", shapely.MultiPolygon([west, east]))

    result = render_coverage(split, with_column(fiji_scenes(1), "aoi_ids", pa.array([["split"]])), tmp_path)

    outline = [f for f in html_layers(result.html) if "colour" not in (f.get("properties") or {})]
    assert shapely.geometry.shape(outline[0]["geometry"]).bounds == pytest.approx((179.8, -17, 180.1, -16))
    assert shapely.geometry.shape(html_features(result.html)[0]["geometry"]).bounds[2] == pytest.approx(180.3)


def test_unwrap_leaves_geometries_that_need_no_move_alone() -> None:
    geometries = np.array([shapely.box(1, 2, 3, 4), shapely.box(-170, 0, -169, 1)], dtype=object)

    assert list(unwrap_around(geometries, 2.0)) == list(geometries)  # both within 180° of 2°
    moved = unwrap_around(geometries, 179.0)
    assert moved[0].equals(geometries[0]) and moved[1].bounds == (190.0, 0.0, 191.0, 1.0)


def test_reference_longitude_of_an_aoi_split_at_the_antimeridian() -> None:
    split = shapely.MultiPolygon([shapely.box(179.8, -17, 180, -16), shapely.box(-180, -17, -179.9, -16)])

    assert reference_longitude(split) == pytest.approx(179.95)
    assert reference_longitude(TOULOUSE.geometry) == pytest.approx(1.445)


def test_bad_arguments_are_refused_with_the_fix(tmp_path: Path) -> None:
    scenes = scenes_over(TOULOUSE, 1)

    with pytest.raises(ValueError, match="color_by='price' is not one of acquired, cloud_cover"):
        render_coverage(TOULOUSE, scenes, tmp_path, color_by="price")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match=r"lacks column.*cloud_cover"):
        render_coverage(TOULOUSE, scenes.drop_columns(["cloud_cover"]), tmp_path)


# the asset


class FrozenHarvest(HarvestResource):
    """The harvest resource on a fixed day."""

    def now(self) -> datetime:
        return datetime(2026, 11, 10, 12, tzinfo=UTC)


def write_aois(path: Path, *aois: Aoi) -> Path:
    features = [
        {
            "type": "Feature",
            "properties": {"id": a.id, "name": a.name},
            "geometry": shapely.geometry.mapping(a.geometry),
        }
        for a in aois
    ]
    path.write_text(json.dumps({"type": "FeatureCollection", "features": features}), encoding="utf-8")
    return path


def test_coverage_maps_asset_draws_every_aoi_from_the_window_of_the_unified_catalog(tmp_path: Path) -> None:
    store = CatalogStore(tmp_path / "catalog")
    for day, count in ((date(2026, 11, 1), 3), (date(2026, 11, 10), 2), (date(2026, 10, 1), 4)):  # the last: too old
        start = datetime(day.year, day.month, day.day, tzinfo=UTC)
        store.write_day(UNIFIED, day, scenes_over(TOULOUSE, count, first=day.toordinal() * 10, start=start, days=1))
    store.write_day("oneatlas", date(2026, 11, 2), scenes_over(TOULOUSE, 7, first=500))  # not the unified catalog
    harvest = FrozenHarvest(
        data_dir=str(tmp_path), aois_file=str(write_aois(tmp_path / "aois.json", TOULOUSE, TAVEUNI))
    )

    result = dg.materialize(
        [coverage_maps],
        resources={"harvest": harvest},
        run_config=dg.RunConfig({COVERAGE_MAPS: {"config": {"days": 30}}}),
    )

    assert result.success
    metadata = result.asset_materializations_for_node(COVERAGE_MAPS)[0].metadata
    assert metadata["window"].value == "2026-10-12 to 2026-11-10"
    assert metadata["scenes"].value == 5
    maps = tmp_path / "maps"
    assert files_in(maps) == ["taveuni.html", "taveuni.png", "toulouse.html", "toulouse.png"]
    assert metadata["map/toulouse"].value == str(maps / "toulouse.html")
    table = metadata["maps"].value
    assert isinstance(table, str)
    assert "| toulouse | 5 | 2026-11-10" in table and "| taveuni | 0 | - |" in table
    assert (maps / "toulouse.png").as_uri() in table
    assert len(html_features(maps / "toulouse.html")) == 5
    assert "Taveuni: 2026-10-12 to 2026-11-10, no scenes" in (maps / "taveuni.html").read_text(encoding="utf-8")


def test_coverage_maps_refuses_an_empty_window(tmp_path: Path) -> None:
    harvest = FrozenHarvest(data_dir=str(tmp_path), aois_file=str(write_aois(tmp_path / "aois.json", TOULOUSE)))

    with pytest.raises(dg.Failure, match="days=0"):
        dg.materialize(
            [coverage_maps],
            resources={"harvest": harvest},
            run_config=dg.RunConfig({COVERAGE_MAPS: {"config": {"days": 0}}}),
        )


def test_coverage_maps_are_requested_once_after_any_scene_catalog_partition() -> None:
    @dg.asset(name="scene_catalog", partitions_def=catalog_days)
    def scene_catalog() -> None:
        """A stand-in for the unified catalog."""

    defs = dg.Definitions(
        assets=[
            scene_catalog,
            dg.AssetSpec(COVERAGE_MAPS, deps=["scene_catalog"], automation_condition=MAPS_AUTOMATION),
        ]
    )
    assert coverage_maps.automation_conditions_by_key[dg.AssetKey(COVERAGE_MAPS)] == MAPS_AUTOMATION
    with dg.instance_for_test() as instance:
        first = dg.evaluate_automation_conditions(defs=defs, instance=instance)
        instance.report_runless_asset_event(dg.AssetMaterialization("scene_catalog", partition="2026-11-09"))
        updated = dg.evaluate_automation_conditions(defs=defs, instance=instance, cursor=first.cursor)
        quiet = dg.evaluate_automation_conditions(defs=defs, instance=instance, cursor=updated.cursor)

    assert (first.total_requested, updated.total_requested, quiet.total_requested) == (0, 1, 0)
