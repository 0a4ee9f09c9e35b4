"""Reading the catalog: filters pushed down to row-group statistics, exact results, the antimeridian."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import cast

import geopandas as gpd
import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import shapely

from harvest.catalog.column_values import datetimes, strings
from harvest.catalog.query import CatalogQuery
from harvest.catalog.reader import catalog_files, iter_catalog_batches, plan_scan, read_catalog
from harvest.catalog.writer import write_catalog
from harvest_tests.catalog.scenes import START, fiji_scenes, make_scenes

ROWS = 20_000
GROUP = 500


@pytest.fixture(scope="module")
def catalog(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One file of 40 row groups: 20,000 scenes over 4 days, the world over, with 4 scenes across ±180°."""
    path = tmp_path_factory.mktemp("catalog") / "scenes.parquet"
    scenes = pa.concat_tables([make_scenes(ROWS - 4, days=4), fiji_scenes(4, days=4)])
    write_catalog(path, scenes, row_group_size=GROUP)
    assert pq.read_metadata(path).num_row_groups == ROWS // GROUP
    return path


@pytest.fixture(scope="module")
def every_scene(catalog: Path) -> pa.Table:
    return pq.read_table(catalog)


def ids(table: pa.Table | gpd.GeoDataFrame) -> set[str]:
    return set(table["scene_id"].to_pylist() if isinstance(table, pa.Table) else table["scene_id"])


def ids_where(table: pa.Table, mask: np.ndarray) -> set[str]:
    return set(strings(table.filter(pa.array(mask)).column("scene_id")))


def footprints(table: pa.Table) -> np.ndarray:
    return shapely.from_wkb(table.column("geometry").to_numpy(zero_copy_only=False))


def test_a_bbox_query_reads_few_row_groups_and_finds_exactly_the_intersecting_scenes(
    catalog: Path, every_scene: pa.Table
) -> None:
    box = (20.0, 20.0, 30.0, 30.0)
    plan = plan_scan(catalog, CatalogQuery.build(bbox=box))
    assert plan.row_groups_total == 40
    assert plan.row_groups_selected <= 12  # 2 or 3 a day: a tenth of a Hilbert curve is a block of the globe
    found = read_catalog(catalog, CatalogQuery.build(bbox=box))
    expected = ids_where(every_scene, shapely.intersects(footprints(every_scene), shapely.box(*box)))
    assert expected and ids(found) == expected


def test_a_time_range_reads_only_that_days_row_groups(catalog: Path, every_scene: pa.Table) -> None:
    start, end = START + timedelta(days=1), START + timedelta(days=1, hours=6)
    plan = plan_scan(catalog, CatalogQuery.build(start=start, end=end))
    assert plan.row_groups_selected <= 12  # the 10 of day two, and the boundary groups
    acquired = datetimes(every_scene.column("acquired"))
    expected = ids_where(every_scene, np.array([start <= moment < end for moment in acquired]))
    assert (
        expected
        and ids(read_catalog(catalog, CatalogQuery.build(start=start, end=end), as_geodataframe=False)) == expected
    )


def test_naive_datetimes_are_refused_with_a_clear_message(catalog: Path) -> None:
    with pytest.raises(ValueError, match=r"naive datetime .*UTC-aware"):
        read_catalog(catalog, CatalogQuery.build(start=datetime(2026, 11, 1)))  # noqa: DTZ001 - the point of the test
    with pytest.raises(ValueError, match="before start"):
        read_catalog(catalog, CatalogQuery.build(start=START, end=START - timedelta(hours=1)))


def test_cloud_cover_and_aoi_filters_are_exact(catalog: Path, every_scene: pa.Table) -> None:
    found = read_catalog(catalog, CatalogQuery.build(max_cloud=10.0, aoi_ids=["aoi-1", "aoi-3"]), as_geodataframe=False)
    cloud = every_scene.column("cloud_cover").to_numpy()
    aois = cast("list[list[str]]", every_scene.column("aoi_ids").to_pylist())  # never null
    expected = ids_where(every_scene, (cloud <= 10.0) & np.array([bool({"aoi-1", "aoi-3"} & set(a)) for a in aois]))
    assert expected and ids(found) == expected


def test_filters_combine(catalog: Path, every_scene: pa.Table) -> None:
    box, start, end = (-60.0, -40.0, 40.0, 40.0), START + timedelta(days=2), START + timedelta(days=3)
    found = read_catalog(
        catalog,
        CatalogQuery.build(bbox=box, start=start, end=end, providers="arlula", max_cloud=50),
        as_geodataframe=False,
    )
    table = every_scene
    mask = (
        shapely.intersects(footprints(table), shapely.box(*box))
        & np.array([start <= moment < end for moment in datetimes(table.column("acquired"))])
        & (table.column("provider").to_numpy(zero_copy_only=False) == "arlula")
        & (table.column("cloud_cover").to_numpy() <= 50)
    )
    assert ids(found) == ids_where(table, mask) != set()


def test_scenes_of_unknown_cloud_cover_are_left_out_of_a_cloud_query(tmp_path: Path) -> None:
    scenes = make_scenes(4)
    scenes = scenes.set_column(
        scenes.schema.get_field_index("cloud_cover"), "cloud_cover", pa.array([1.0, None, 3.0, None])
    )
    write_catalog(tmp_path / "s.parquet", scenes)
    assert ids(read_catalog(tmp_path / "s.parquet", CatalogQuery.build(max_cloud=100))) == {"scene-0", "scene-2"}


@pytest.fixture(scope="module")
def tree(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """catalog/<provider>/<day>.parquet, as the harvest lays it out, with leftovers a crash could leave."""
    root = tmp_path_factory.mktemp("tree") / "catalog"
    for provider in ("oneatlas", "arlula", "sentinelhub-catalog"):
        for day in range(3):
            start = START + timedelta(days=day)
            scenes = make_scenes(1_000, first=day * 10_000, start=start, providers=[provider])
            write_catalog(root / provider / f"{start.date().isoformat()}.parquet", scenes, row_group_size=250)
    (root / "oneatlas" / ".2026-11-01.parquet.0123.tmp").write_bytes(b"half a file")
    (root / "oneatlas" / ".2026-11-02.parquet.x.scratch").mkdir()
    (root / "oneatlas" / ".2026-11-02.parquet.x.scratch" / "run-000000.parquet").write_bytes(b"spill")
    return root


def test_a_directory_tree_is_read_whole_ignoring_hidden_leftovers(tree: Path) -> None:
    assert len(catalog_files(tree)) == 9
    table = read_catalog(tree, as_geodataframe=False)
    assert table.num_rows == 9_000
    assert set(table.column("provider").to_pylist()) == {"oneatlas", "arlula", "sentinelhub-catalog"}


def test_a_provider_query_skips_the_other_providers_files_by_their_statistics(tree: Path) -> None:
    plan = plan_scan(tree, CatalogQuery.build(providers=["arlula"]))
    assert plan.row_groups_total == 36 and plan.row_groups_selected == 12
    assert {Path(fragment.path).parent.name for fragment in plan.fragments} == {"arlula"}
    table = read_catalog(tree, CatalogQuery.build(providers=["arlula"]), as_geodataframe=False)
    assert table.num_rows == 3_000 and set(table.column("provider").to_pylist()) == {"arlula"}


def test_a_time_query_over_the_tree_skips_other_days(tree: Path) -> None:
    start = START + timedelta(days=2)
    plan = plan_scan(tree, CatalogQuery.build(start=start, end=start + timedelta(days=1)))
    assert plan.row_groups_selected == 12
    assert {Path(fragment.path).name for fragment in plan.fragments} == {"2026-11-03.parquet"}


def test_results_come_as_a_geodataframe_or_an_arrow_table(catalog: Path) -> None:
    frame = read_catalog(catalog, CatalogQuery.build(bbox=(20, 20, 30, 30)))
    assert isinstance(frame, gpd.GeoDataFrame) and frame.crs == "EPSG:4326"
    assert frame.geometry.name == "geometry" and frame.geometry.geom_type.isin(["Polygon", "MultiPolygon"]).all()
    assert str(frame["acquired"].dtype) == "datetime64[ns, UTC]"
    table = read_catalog(
        catalog, CatalogQuery.build(bbox=(20, 20, 30, 30)), columns=["scene_id", "cloud_cover"], as_geodataframe=False
    )
    assert isinstance(table, pa.Table) and table.schema.names == ["scene_id", "cloud_cover"]
    assert set(table.column("scene_id").to_pylist()) == set(frame["scene_id"])
    projected = read_catalog(catalog, CatalogQuery.build(bbox=(20, 20, 30, 30)), columns=["scene_id"])
    assert list(projected.columns) == ["scene_id", "geometry"]
    with pytest.raises(ValueError, match="'colour' is not a catalog column"):
        read_catalog(catalog, columns=["colour"])


def test_an_empty_result_keeps_its_columns(catalog: Path) -> None:
    frame = read_catalog(catalog, CatalogQuery.build(bbox=(0, 89.5, 1, 90)))
    assert len(frame) == 0 and "scene_id" in frame.columns and frame.crs == "EPSG:4326"


def test_batches_stream_in_pieces(catalog: Path) -> None:
    batches = list(iter_catalog_batches(catalog, columns=["scene_id"], batch_size=1_000))
    assert len(batches) >= 20 and all(batch.num_rows <= 1_000 for batch in batches)
    assert sum(batch.num_rows for batch in batches) == ROWS


@pytest.mark.parametrize(
    "box",
    [(179.0, -18.0, 180.0, -15.0), (-180.0, -18.0, -179.0, -15.0), (178.0, -18.0, -178.0, -15.0)],
    ids=["east-side", "west-side", "across"],
)
def test_a_scene_cut_at_the_antimeridian_is_found_from_either_side(catalog: Path, box: tuple[float, ...]) -> None:
    found = read_catalog(catalog, CatalogQuery.build(bbox=box), as_geodataframe=False)
    assert {"scene-900000", "scene-900001", "scene-900002", "scene-900003"} <= ids(found)


def test_a_scene_cut_at_the_antimeridian_is_not_found_beside_it(catalog: Path) -> None:
    assert not ids(read_catalog(catalog, CatalogQuery.build(bbox=(170.0, -18.0, 179.4, -15.0)))) & {"scene-900000"}
    assert not ids(read_catalog(catalog, CatalogQuery.build(bbox=(-179.6, -18.0, -170.0, -15.0)))) & {"scene-900000"}


def test_the_antimeridian_scenes_do_not_defeat_pruning(catalog: Path) -> None:
    plan = plan_scan(catalog, CatalogQuery.build(bbox=(20.0, 20.0, 30.0, 30.0)))
    fiji = plan_scan(catalog, CatalogQuery.build(bbox=(179.0, -18.0, 180.0, -15.0)))
    assert plan.row_groups_selected <= 12 and fiji.row_groups_selected <= 8


def wrap_meets(box: tuple[float, float, float, float], query: tuple[float, float, float, float]) -> bool:
    """Exact intersection of two RFC 7946 boxes, by sampling longitudes on a fine grid of the circle."""

    def covers(west: float, east: float, x: np.ndarray) -> np.ndarray:
        return (x >= west) & (x <= east) if west <= east else (x >= west) | (x <= east)

    xs = np.round(np.arange(-180.0, 180.0001, 0.5), 6)
    lon = bool(np.any(covers(box[0], box[2], xs) & covers(query[0], query[2], xs)))
    return lon and box[1] <= query[3] and box[3] >= query[1]


def test_the_covering_test_is_exact_for_plain_and_wrapped_boxes() -> None:
    rng = np.random.default_rng(5)
    boxes = []
    for _ in range(400):
        west = float(np.round(rng.uniform(-180, 180) * 2) / 2)
        width = float(np.round(rng.uniform(0, 60) * 2) / 2)
        east = west + width if west + width <= 180 else west + width - 360  # wraps: narrower than 180°
        south = float(np.round(rng.uniform(-80, 70)))
        boxes.append((west, south, east, south + 5.0))
    table = pa.table({"bbox": pa.array([dict(zip(("xmin", "ymin", "xmax", "ymax"), b, strict=True)) for b in boxes])})
    queries = [(-10.0, -90.0, 10.0, 90.0), (170.0, -90.0, 180.0, 90.0), (-180.0, -90.0, -175.0, 90.0)]
    queries += [(175.0, -90.0, -170.0, 90.0), (0.0, 0.0, 90.0, 30.0), (-180.0, -90.0, 180.0, 90.0)]
    for query in queries:
        expression = CatalogQuery.build(bbox=query).expression()
        assert expression is not None
        kept = set(table.append_column("i", pa.array(range(len(boxes)))).filter(expression).column("i").to_pylist())
        assert kept == {i for i, box in enumerate(boxes) if wrap_meets(box, query)}, query


@pytest.mark.parametrize(
    "bbox",
    [(0, 0, 1), (0, 10, 1, 5), (0, 0, 1, 95), (-190, 0, 0, 1), (0, 0, float("nan"), 1)],
    ids=["three-numbers", "south-above-north", "beyond-the-pole", "beyond-180", "nan"],
)
def test_bad_bboxes_are_refused(catalog: Path, bbox: tuple[float, ...]) -> None:
    with pytest.raises(ValueError, match="bbox"):
        read_catalog(catalog, CatalogQuery.build(bbox=bbox))


def test_a_missing_catalog_is_an_error_and_an_empty_one_is_empty(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        read_catalog(tmp_path / "nowhere")
    (tmp_path / "empty").mkdir()
    assert read_catalog(tmp_path / "empty", as_geodataframe=False).num_rows == 0
    assert read_catalog(tmp_path / "empty").crs == "EPSG:4326"
    assert datetime.now(UTC) > START  # the fixtures' clock is in the past of any test run
