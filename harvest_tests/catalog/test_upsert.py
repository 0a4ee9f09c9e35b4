"""Upserts by (provider, scene_id): newest `updated` wins, incoming wins ties, deletions, idempotence, atomicity."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from harvest.catalog.schema import SCENE_SCHEMA
from harvest.catalog.upsert import upsert_catalog
from harvest.catalog.validation import CatalogSchemaError
from harvest.catalog.writer import write_catalog
from harvest_tests.catalog.scenes import files_in, make_scenes, scene_batches


def with_column(table: pa.Table, name: str, values: list[object]) -> pa.Table:
    index = table.schema.get_field_index(name)
    return table.set_column(index, table.schema.field(index), pa.array(values, SCENE_SCHEMA.field(name).type))


def by_key(path: Path, column: str) -> dict[tuple[str, str], object]:
    table = pq.read_table(path, columns=["provider", "scene_id", column])
    return {
        (provider, scene): value
        for provider, scene, value in zip(*(table.column(name).to_pylist() for name in table.schema.names), strict=True)
    }


def keys_of(table: pa.Table) -> list[tuple[str, str]]:
    return list(zip(table.column("provider").to_pylist(), table.column("scene_id").to_pylist(), strict=True))


@pytest.fixture
def catalog(tmp_path: Path) -> Path:
    path = tmp_path / "2026-11-01.parquet"
    summary = upsert_catalog(path, make_scenes(1_000))
    assert summary.inserted == 1_000 and summary.rows_before == 0 and summary.rows_after == 1_000
    return path


def test_newer_incoming_rows_replace_older_ones_and_older_ones_are_ignored(catalog: Path) -> None:
    newer = with_column(make_scenes(10, updated_offset_s=60), "cloud_cover", [99.0] * 10)
    older = with_column(make_scenes(10, first=10, updated_offset_s=-60), "cloud_cover", [99.0] * 10)
    summary = upsert_catalog(catalog, pa.concat_tables([newer, older]))
    assert (summary.replaced, summary.outdated, summary.inserted, summary.rows_after) == (10, 10, 0, 1_000)
    cloud = by_key(catalog, "cloud_cover")
    assert all(cloud[key] == 99.0 for key in keys_of(newer))
    assert all(cloud[key] != 99.0 for key in keys_of(older))


def test_on_a_tie_the_incoming_row_wins(catalog: Path) -> None:
    same_time = with_column(make_scenes(5), "cloud_cover", [42.0] * 5)
    summary = upsert_catalog(catalog, same_time)
    assert summary.replaced == 5
    assert [by_key(catalog, "cloud_cover")[("oneatlas", "scene-0")]] == [42.0]


def test_a_null_updated_loses_to_any_value(tmp_path: Path) -> None:
    path = tmp_path / "c.parquet"
    undated = with_column(with_column(make_scenes(2), "updated", [None, None]), "cloud_cover", [1.0, 1.0])
    upsert_catalog(path, undated)
    dated = with_column(make_scenes(1), "cloud_cover", [2.0])
    upsert_catalog(path, dated)  # scene-0: a value beats the file's null
    assert by_key(path, "cloud_cover")[("oneatlas", "scene-0")] == 2.0
    undated_again = with_column(with_column(make_scenes(2), "updated", [None, None]), "cloud_cover", [3.0, 3.0])
    summary = upsert_catalog(path, undated_again)
    cloud = by_key(path, "cloud_cover")
    assert cloud[("oneatlas", "scene-0")] == 2.0  # an incoming null loses to the file's value
    assert cloud[("arlula", "scene-1")] == 3.0  # null against null is a tie: incoming wins
    assert (summary.outdated, summary.replaced) == (1, 1)


def test_duplicates_among_incoming_rows_resolve_the_same_way(tmp_path: Path) -> None:
    path = tmp_path / "c.parquet"
    first = with_column(make_scenes(3, updated_offset_s=10), "cloud_cover", [1.0, 1.0, 1.0])
    second = with_column(make_scenes(3), "cloud_cover", [2.0, 2.0, 2.0])  # older
    third = with_column(make_scenes(3, updated_offset_s=10), "cloud_cover", [3.0, 3.0, 3.0])  # ties with first
    summary = upsert_catalog(path, iter([first, second, third]))
    assert summary.inserted == 3 and summary.rows_after == 3
    assert set(by_key(path, "cloud_cover").values()) == {3.0}


def test_deletions_drop_keys_from_the_file_and_from_incoming_rows(catalog: Path) -> None:
    incoming = make_scenes(2, first=5_000)  # sentinelhub-catalog/scene-5000, oneatlas/scene-5001
    deletions = [("oneatlas", "scene-0"), ("arlula", "scene-1"), ("oneatlas", "scene-5001"), ("arlula", "scene-2")]
    summary = upsert_catalog(catalog, incoming, deletions=deletions)
    assert (summary.deleted, summary.inserted, summary.rows_after) == (2, 1, 999)
    keys = set(by_key(catalog, "cloud_cover"))
    assert not keys & {("oneatlas", "scene-0"), ("arlula", "scene-1"), ("oneatlas", "scene-5001")}
    assert ("sentinelhub-catalog", "scene-5000") in keys
    assert ("sentinelhub-catalog", "scene-2") in keys  # only the exact (provider, scene_id) is deleted
    only_deleting = upsert_catalog(catalog, deletions=pa.table({"provider": ["oneatlas"], "scene_id": ["scene-3"]}))
    assert only_deleting.deleted == 1 and only_deleting.rows_after == 998


def test_upserting_the_same_rows_again_changes_nothing(catalog: Path) -> None:
    incoming = make_scenes(300, first=800, updated_offset_s=5)
    upsert_catalog(catalog, incoming)
    once = catalog.read_bytes()
    summary = upsert_catalog(catalog, incoming.to_batches(max_chunksize=64))
    assert catalog.read_bytes() == once
    assert (summary.replaced, summary.inserted, summary.rows_after) == (300, 0, 1_100)


def test_duplicate_keys_already_in_a_file_are_resolved(tmp_path: Path) -> None:
    path = tmp_path / "c.parquet"
    write_catalog(path, pa.concat_tables([make_scenes(4), make_scenes(4, updated_offset_s=1)]))  # the writer keeps both
    assert pq.read_metadata(path).num_rows == 8
    summary = upsert_catalog(path)
    assert summary.rows_before == 8 and summary.rows_after == 4
    newest = make_scenes(4, updated_offset_s=1)
    assert set(by_key(path, "updated").values()) == set(newest.column("updated").to_pylist())


def test_a_large_upsert_streams_through_the_external_sort(tmp_path: Path) -> None:
    path = tmp_path / "c.parquet"
    write_catalog(path, scene_batches(6_000, 1_000), row_group_size=500)
    summary = upsert_catalog(
        path, scene_batches(3_000, 700, updated_offset_s=9), row_group_size=500, buffer_rows=800, merge_fan_in=4
    )
    assert summary.write.spilled_runs > 4 and summary.replaced == 3_000 and summary.rows_after == 6_000
    assert files_in(tmp_path) == ["c.parquet"]


def exploding(tables: Iterator[pa.Table], after: int) -> Iterator[pa.Table]:
    for index, table in enumerate(tables):
        if index == after:
            raise ConnectionError("the provider hung up")
        yield table


def test_a_failed_upsert_keeps_the_file_and_leaves_nothing_behind(catalog: Path) -> None:
    before = catalog.read_bytes()
    with pytest.raises(ConnectionError):
        upsert_catalog(catalog, exploding(scene_batches(1_000, 100, updated_offset_s=9), after=4))
    bad = with_column(make_scenes(2, first=7_000), "price_unit", ["parsec", "parsec"])
    with pytest.raises(CatalogSchemaError, match="price_unit"):
        upsert_catalog(catalog, iter([make_scenes(3, first=6_000), bad]))
    assert catalog.read_bytes() == before
    assert files_in(catalog.parent) == [catalog.name]
