"""Writing catalog files: the GeoParquet 1.1 contract, sort order, external sort, atomicity, validation, memory."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pyproj
import pytest
import shapely

from harvest.catalog.bounds import circular_extent
from harvest.catalog.geoparquet import read_geo_metadata
from harvest.catalog.hilbert import hilbert_distance, hilbert_index
from harvest.catalog.schema import SCENE_SCHEMA, STORED_SCHEMA, TIMESTAMP, describe_columns
from harvest.catalog.validation import CatalogSchemaError
from harvest.catalog.writer import DEFAULT_ROW_GROUP_SIZE, CatalogWriter, write_catalog
from harvest.timestamps import NS_PER_DAY
from harvest_tests.catalog.scenes import fiji_scenes, files_in, make_scenes, scene_batches, with_geometry

REPO = Path(__file__).resolve().parents[2]
COVERING = {
    "bbox": {"xmin": ["bbox", "xmin"], "ymin": ["bbox", "ymin"], "xmax": ["bbox", "xmax"], "ymax": ["bbox", "ymax"]}
}


def bounds_of(table: pa.Table) -> np.ndarray:
    return shapely.bounds(shapely.from_wkb(table.column("geometry").to_numpy(zero_copy_only=False)))


def test_the_geo_metadata_is_geoparquet_1_1_with_a_covering(tmp_path: Path) -> None:
    scenes = make_scenes(500)
    path = tmp_path / "scenes.parquet"
    write_catalog(path, scenes)
    geo = read_geo_metadata(path)
    assert geo["version"] == "1.1.0" and geo["primary_column"] == "geometry"
    column = geo["columns"]["geometry"]
    assert column["encoding"] == "WKB"
    assert column["geometry_types"] == ["Polygon"]
    assert column["covering"] == COVERING
    assert column["orientation"] == "counterclockwise"
    assert pyproj.CRS.from_json_dict(column["crs"]) == pyproj.CRS.from_epsg(4326)
    expected = bounds_of(scenes)
    assert column["bbox"] == pytest.approx(
        [expected[:, 0].min(), expected[:, 1].min(), expected[:, 2].max(), expected[:, 3].max()]
    )


def test_the_covering_column_holds_each_footprints_bounds(tmp_path: Path) -> None:
    path = tmp_path / "scenes.parquet"
    write_catalog(path, make_scenes(800))
    table = pq.read_table(path)
    assert table.schema.field("bbox").type == STORED_SCHEMA.field("bbox").type
    assert table.schema.names == STORED_SCHEMA.names
    covering = np.column_stack([bbox_of(table).field(name) for name in ("xmin", "ymin", "xmax", "ymax")])
    np.testing.assert_array_equal(covering, bounds_of(table))


def test_footprints_cut_at_the_antimeridian_keep_a_plain_covering(tmp_path: Path) -> None:
    path = tmp_path / "fiji.parquet"
    write_catalog(path, pa.concat_tables([fiji_scenes(3), make_scenes(2, lon=(150, 160), lat=(-20, -10))]))
    table = pq.read_table(path)
    boxes = {row["scene_id"]: row["bbox"] for row in table.select(["scene_id", "bbox"]).to_pylist()}
    fiji = boxes["scene-900000"]
    # plain west <= east, so geopandas' and GDAL's bbox filters stay right (see harvest/catalog/bounds.py)
    assert (fiji["xmin"], fiji["ymin"], fiji["xmax"], fiji["ymax"]) == pytest.approx((-180, -17, 180, -16))
    column = read_geo_metadata(path)["columns"]["geometry"]
    assert column["geometry_types"] == ["MultiPolygon", "Polygon"]
    west, _, east, _ = column["bbox"]
    assert (west, east) == (-180, 180)  # the file's extent follows its plain coverings


def test_files_are_zstd_compressed_with_statistics_and_row_groups_of_the_set_size(tmp_path: Path) -> None:
    path = tmp_path / "scenes.parquet"
    summary = write_catalog(path, make_scenes(2_500), row_group_size=1_000)
    metadata = pq.read_metadata(path)
    assert summary.row_groups == metadata.num_row_groups == 3
    assert [metadata.row_group(i).num_rows for i in range(3)] == [1_000, 1_000, 500]
    group = metadata.row_group(0)
    chunks = {group.column(i).path_in_schema: group.column(i) for i in range(group.num_columns)}
    assert {chunk.compression for chunk in chunks.values()} == {"ZSTD"}
    for name in ("acquired", "provider", "cloud_cover", "bbox.xmin", "bbox.ymin", "bbox.xmax", "bbox.ymax"):
        statistics = chunks[name].statistics
        assert statistics is not None and statistics.has_min_max, name
    assert chunks["raw"].statistics is None or not chunks["raw"].statistics.has_min_max


def test_rows_are_sorted_by_day_then_along_a_hilbert_curve(tmp_path: Path) -> None:
    path = tmp_path / "scenes.parquet"
    write_catalog(path, make_scenes(5_000, days=3))
    table = pq.read_table(path)
    day = pc.cast(table.column("acquired"), pa.int64()).to_numpy() // NS_PER_DAY
    bounds = bounds_of(table)
    hilbert = hilbert_index((bounds[:, 0] + bounds[:, 2]) / 2, (bounds[:, 1] + bounds[:, 3]) / 2)
    key = day * 2**32 + hilbert
    assert np.all(np.diff(key) >= 0)
    assert len(np.unique(day)) == 3


def test_the_hilbert_curve_visits_every_cell_once_stepping_to_a_neighbour() -> None:
    order = 5
    x, y = (grid.ravel() for grid in np.meshgrid(np.arange(2**order), np.arange(2**order)))
    distance = hilbert_distance(x, y, order=order)
    assert sorted(distance.tolist()) == list(range(4**order))
    path = np.argsort(distance)
    assert np.all(np.abs(np.diff(x[path])) + np.abs(np.diff(y[path])) == 1)


def test_circular_extents_wrap_only_when_that_is_narrower() -> None:
    assert circular_extent(np.array([[-180.0, -179.7], [179.5, 180.0]])) == (179.5, -179.7)
    assert circular_extent(np.array([[10.0, 20.0], [30.0, 40.0]])) == (10.0, 40.0)
    assert circular_extent(np.array([[-180.0, -10.0], [100.0, 180.0]]), wrap_below=180) == (-180.0, 180.0)


def test_the_external_sort_writes_the_same_file_as_the_in_memory_sort(tmp_path: Path) -> None:
    scenes = make_scenes(6_000, days=2)
    in_memory = write_catalog(tmp_path / "memory.parquet", scenes, row_group_size=1_000, buffer_rows=10_000)
    batches = scenes.to_batches(max_chunksize=450)
    external = write_catalog(
        tmp_path / "external.parquet",
        batches,
        row_group_size=1_000,
        buffer_rows=500,
        spill_batch_rows=64,
        merge_fan_in=3,  # 12 runs: two rounds of merging
    )
    assert in_memory.spilled_runs == 0 and external.spilled_runs == 12
    assert pq.read_table(tmp_path / "external.parquet").equals(pq.read_table(tmp_path / "memory.parquet"))
    assert external.row_groups == in_memory.row_groups == 6
    assert files_in(tmp_path) == ["external.parquet", "memory.parquet"]


def test_the_file_does_not_depend_on_the_order_rows_arrive_in(tmp_path: Path) -> None:
    scenes = make_scenes(3_000, days=2)
    shuffled = scenes.take(np.random.default_rng(3).permutation(len(scenes)))
    write_catalog(tmp_path / "a.parquet", scenes)
    write_catalog(tmp_path / "b.parquet", shuffled.to_batches(max_chunksize=100), buffer_rows=700)
    assert (tmp_path / "a.parquet").read_bytes() == (tmp_path / "b.parquet").read_bytes()


def failing(tables: list[pa.Table], after: int) -> Iterator[pa.Table]:
    for index, table in enumerate(tables):
        if index == after:
            raise RuntimeError("provider went away mid-harvest")
        yield table


@pytest.mark.parametrize("buffer_rows", [100_000, 300], ids=["in-memory", "spilling"])
def test_a_failed_write_leaves_no_file_and_no_temporary_files(tmp_path: Path, buffer_rows: int) -> None:
    target = tmp_path / "catalog" / "oneatlas" / "2026-11-01.parquet"
    batches = list(scene_batches(2_000, 250))
    with pytest.raises(RuntimeError, match="mid-harvest"):
        write_catalog(target, failing(batches, after=5), buffer_rows=buffer_rows)
    assert not target.exists()
    assert [name for name in files_in(tmp_path) if name.endswith((".tmp", ".scratch", ".arrow"))] == []


@pytest.mark.parametrize("buffer_rows", [100_000, 300], ids=["in-memory", "spilling"])
def test_a_failed_rewrite_keeps_the_previous_version_intact(tmp_path: Path, buffer_rows: int) -> None:
    target = tmp_path / "2026-11-01.parquet"
    write_catalog(target, make_scenes(100))
    before = target.read_bytes()
    with pytest.raises(RuntimeError):
        write_catalog(target, failing(list(scene_batches(2_000, 250, seed=9)), after=7), buffer_rows=buffer_rows)
    assert target.read_bytes() == before
    assert files_in(tmp_path) == ["2026-11-01.parquet"]


def test_a_crash_while_the_file_is_being_written_keeps_the_previous_version(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = tmp_path / "2026-11-01.parquet"
    write_catalog(target, make_scenes(100))
    before = target.read_bytes()
    written: list[int] = []

    def write_then_fail(self: pq.ParquetWriter, table: pa.Table, row_group_size: int | None = None) -> None:
        if written:
            raise OSError("disk full")
        written.append(len(table))
        original(self, table, row_group_size)

    original = pq.ParquetWriter.write_table
    monkeypatch.setattr(pq.ParquetWriter, "write_table", write_then_fail)
    with pytest.raises(OSError, match="disk full"):
        write_catalog(target, scene_batches(3_000, 500), row_group_size=1_000, buffer_rows=800)
    assert written == [1_000]  # one row group was already in the temporary file
    assert target.read_bytes() == before
    assert files_in(tmp_path) == ["2026-11-01.parquet"]


def test_an_empty_write_is_a_valid_empty_catalog_file(tmp_path: Path) -> None:
    path = tmp_path / "empty.parquet"
    summary = write_catalog(path, [])
    assert summary.rows == 0 and summary.bbox is None
    assert pq.read_table(path).schema.names == STORED_SCHEMA.names
    column = read_geo_metadata(path)["columns"]["geometry"]
    assert column["geometry_types"] == [] and "bbox" not in column


def test_the_writer_is_a_context_manager_and_closes_once(tmp_path: Path) -> None:
    path = tmp_path / "scenes.parquet"
    with CatalogWriter(path) as writer:
        writer.write(make_scenes(10))
        writer.write(make_scenes(10, first=10).to_batches()[0])
    assert pq.read_metadata(path).num_rows == 20
    with pytest.raises(ValueError, match="closed"):
        writer.write(make_scenes(1))


def bbox_of(table: pa.Table) -> pa.StructArray:
    bbox = table.column("bbox").combine_chunks()
    assert isinstance(bbox, pa.StructArray)
    return bbox


def replace(table: pa.Table, name: str, values: pa.Array[Any] | pa.ChunkedArray[Any]) -> pa.Table:
    return table.set_column(table.schema.get_field_index(name), name, values)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda t: t.drop_columns(["cloud_cover"]), "column 'cloud_cover' .* is missing"),
        (lambda t: t.append_column("colour", pa.array(["red"] * len(t))), "column 'colour' is not in the scene schema"),
        (lambda t: replace(t, "cloud_cover", pa.array(["12.5"] * len(t))), "column 'cloud_cover' has type string"),
        (lambda t: replace(t, "acquired", t.column("acquired").cast(pa.timestamp("ns"))), "'acquired' holds naive"),
        (lambda t: replace(t, "scene_id", pa.array([None] * len(t), pa.string())), "'scene_id' has 3 null"),
        (lambda t: with_geometry(t, [b"not wkb"] * len(t)), "column 'geometry' of scene oneatlas/scene-0"),
        (lambda t: replace(t, "price_unit", pa.array(["sqm"] * len(t))), "'price_unit' has 'sqm'"),
    ],
    ids=["missing", "unknown", "wrong-type", "naive-time", "null-key", "bad-wkb", "price-unit"],
)
def test_bad_input_is_refused_naming_the_column(tmp_path: Path, change: object, message: str) -> None:
    bad = change(make_scenes(3))  # type: ignore[operator]
    with pytest.raises(CatalogSchemaError, match=message):
        write_catalog(tmp_path / "bad.parquet", bad)
    assert files_in(tmp_path) == []


def test_compatible_types_are_cast_and_a_stale_bbox_is_recomputed(tmp_path: Path) -> None:
    scenes = make_scenes(5)
    loose = replace(
        scenes, "acquired", scenes.column("acquired").cast(pa.timestamp("us", tz="Europe/Paris"), safe=False)
    )
    loose = replace(loose, "scene_id", scenes.column("scene_id").cast(pa.large_string()))
    loose = loose.append_column("bbox", pa.array([{"xmin": 0.0, "ymin": 0.0, "xmax": 0.0, "ymax": 0.0}] * 5))
    path = tmp_path / "scenes.parquet"
    write_catalog(path, loose)
    table = pq.read_table(path)
    assert table.schema.field("acquired").type == TIMESTAMP
    np.testing.assert_array_equal(
        np.column_stack([bbox_of(table).field(n) for n in ("xmin", "ymin", "xmax", "ymax")]),
        bounds_of(table),
    )


def test_the_columns_can_be_described_without_arrow_types() -> None:
    described = describe_columns(stored=True)
    assert [column.name for column in described] == STORED_SCHEMA.names
    assert all(isinstance(column.type, str) and column.description for column in described)
    assert len(describe_columns()) == len(SCENE_SCHEMA)


def test_many_scenes_stream_through_the_external_sort_into_one_file(tmp_path: Path) -> None:
    # memory and speed of a million scenes: `python -m benchmarks write`; here, only what is deterministic
    path = tmp_path / "many.parquet"
    summary = write_catalog(path, scene_batches(120_000, 10_000, days=2), buffer_rows=8_192, spill_batch_rows=2_048)
    assert summary.rows == 120_000 and summary.spilled_runs > 1
    assert summary.row_groups == -(-120_000 // DEFAULT_ROW_GROUP_SIZE)
    assert pq.read_metadata(path).num_rows == 120_000
    assert len(pc.unique(pq.read_table(path, columns=["scene_id"]).column("scene_id"))) == 120_000
    assert files_in(tmp_path) == ["many.parquet"]


def test_naive_datetimes_are_refused_when_scenes_are_built_from_them(tmp_path: Path) -> None:
    scenes = make_scenes(2)
    naive = pa.array([datetime(2026, 11, 1), datetime(2026, 11, 2)])  # noqa: DTZ001 - the point of the test
    with pytest.raises(CatalogSchemaError, match="naive"):
        write_catalog(tmp_path / "x.parquet", replace(scenes, "updated", naive))
    aware = pa.array([datetime(2026, 11, 1, tzinfo=UTC)] * 2)
    write_catalog(tmp_path / "x.parquet", replace(scenes, "updated", aware))
