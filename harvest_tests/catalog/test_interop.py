"""Catalog files open as they are in geopandas, DuckDB and GDAL (what QGIS uses)."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import cast

import duckdb
import geopandas as gpd
import pyarrow as pa
import pyarrow.parquet as pq
import pyogrio
import pytest
import shapely

from harvest.catalog.column_values import strings
from harvest.catalog.query import CatalogQuery
from harvest.catalog.reader import read_catalog
from harvest.catalog.writer import write_catalog
from harvest_tests.catalog.scenes import fiji_scenes, make_scenes

FIJI_EAST_SIDE = (179.0, -18.0, 180.0, -15.0)


@pytest.fixture(scope="module")
def catalog(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("interop") / "2026-11-01.parquet"
    write_catalog(path, pa.concat_tables([make_scenes(3_000), fiji_scenes(2)]), row_group_size=1_000)
    return path


@pytest.fixture(scope="module")
def scenes(catalog: Path) -> pa.Table:
    return pq.read_table(catalog)


def wkb_by_id(table: pa.Table) -> dict[str, bytes]:
    geometries = cast("list[bytes]", table.column("geometry").to_pylist())  # WKB, never null
    return dict(zip(strings(table.column("scene_id")), geometries, strict=True))


def test_geopandas_reads_it_with_its_crs_and_geometries(catalog: Path, scenes: pa.Table) -> None:
    frame = gpd.read_parquet(catalog)
    assert frame.crs == "EPSG:4326" and frame.geometry.name == "geometry"
    assert len(frame) == scenes.num_rows
    expected = wkb_by_id(scenes)
    assert all(
        geometry.equals(shapely.from_wkb(expected[scene]))
        for scene, geometry in zip(frame["scene_id"], frame.geometry, strict=True)
    )
    assert str(frame["acquired"].dtype) == "datetime64[ns, UTC]"


def test_geopandas_bbox_filter_uses_the_covering(catalog: Path) -> None:
    box = (20.0, 20.0, 30.0, 30.0)
    theirs = gpd.read_parquet(catalog, bbox=box)
    ours = read_catalog(catalog, CatalogQuery.build(bbox=box))
    assert len(ours) and set(theirs["scene_id"]) == set(ours["scene_id"])  # box footprints: covering == exact


def test_third_party_bbox_filters_find_scenes_cut_at_the_antimeridian(catalog: Path) -> None:
    # the covering of a footprint cut at ±180° is the plain -180..180 box, which geopandas tests right
    fiji = {"scene-900000", "scene-900001"}
    assert fiji <= set(gpd.read_parquet(catalog, bbox=FIJI_EAST_SIDE)["scene_id"])
    assert set(read_catalog(catalog, CatalogQuery.build(bbox=FIJI_EAST_SIDE))["scene_id"]) == fiji


def test_duckdb_queries_it_with_plain_sql(catalog: Path, scenes: pa.Table) -> None:
    connection = duckdb.connect()
    counts = dict(
        connection.execute(
            "SELECT provider, count(*) FROM read_parquet(?) GROUP BY provider", [str(catalog)]
        ).fetchall()
    )
    expected = scenes.group_by("provider").aggregate([("scene_id", "count")]).to_pydict()
    assert counts == dict(zip(expected["provider"], expected["scene_id_count"], strict=True))
    inside = connection.execute(
        "SELECT count(*) FROM read_parquet(?) "
        "WHERE bbox.xmin <= 30 AND bbox.xmax >= 20 AND bbox.ymin <= 30 AND bbox.ymax >= 20",
        [str(catalog)],
    ).fetchone()
    assert inside is not None and inside[0] == len(read_catalog(catalog, CatalogQuery.build(bbox=(20, 20, 30, 30))))
    rows = connection.execute(
        "SELECT scene_id, geometry::BLOB, acquired, aoi_ids FROM read_parquet(?) ORDER BY scene_id LIMIT 5",
        [str(catalog)],
    ).fetchall()
    expected_wkb = wkb_by_id(scenes)
    for scene, wkb, acquired, aoi_ids in rows:
        assert bytes(wkb) == expected_wkb[scene]
        assert acquired.tzinfo is not None and aoi_ids


def gdal_duckdb_driver() -> str:
    """GDAL's ADBC driver reads (Geo)Parquet through DuckDB; the duckdb wheel carries the library it needs."""
    if "ADBC" not in pyogrio.list_drivers():
        pytest.skip("this GDAL has no ADBC driver")
    spec = importlib.util.find_spec("_duckdb")
    assert spec is not None and spec.origin
    return spec.origin


def test_gdal_reports_the_geometry_column_and_crs(catalog: Path, scenes: pa.Table) -> None:
    info = pyogrio.read_info(f"ADBC:{catalog}", ADBC_DRIVER=gdal_duckdb_driver())
    assert info["geometry_name"] == "geometry"
    assert info["crs"] == "EPSG:4326"
    assert info["geometry_type"] in ("Polygon", "MultiPolygon")
    assert info["features"] == scenes.num_rows
    assert "bbox" not in list(info["fields"])  # GDAL recognises the covering and hides it


def test_gdal_reads_the_features(catalog: Path, scenes: pa.Table) -> None:
    frame = pyogrio.read_dataframe(f"ADBC:{catalog}", ADBC_DRIVER=gdal_duckdb_driver())
    assert frame.crs == "EPSG:4326" and len(frame) == scenes.num_rows
    expected = wkb_by_id(scenes)
    assert all(
        geometry.equals(shapely.from_wkb(expected[scene]))
        for scene, geometry in zip(frame["scene_id"], frame.geometry, strict=True)
    )
    box = (20.0, 20.0, 30.0, 30.0)
    filtered = pyogrio.read_dataframe(f"ADBC:{catalog}", ADBC_DRIVER=gdal_duckdb_driver(), bbox=box)
    assert set(filtered["scene_id"]) == set(read_catalog(catalog, CatalogQuery.build(bbox=box))["scene_id"])
