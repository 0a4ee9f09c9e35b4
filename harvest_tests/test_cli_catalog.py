"""`harvest catalog query` over small catalogs written with CatalogStore: filters, formats and bad input."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Sequence
from datetime import UTC, date, datetime
from pathlib import Path

import pyarrow as pa
import pytest
import shapely
from click.testing import CliRunner, Result

from harvest.catalog.footprints import footprints_from_geojson, footprints_to_wkb
from harvest.catalog.store import UNIFIED, CatalogStore
from harvest.cli import main
from harvest.timestamps import from_datetime
from harvest_tests.catalog.scenes import make_scenes

TOULOUSE = shapely.box(1.35, 43.55, 1.54, 43.69)
FIJI = shapely.box(179.84, -16.96, 179.99, -16.77)
ACROSS_180 = {
    "type": "Polygon",
    "coordinates": [[[179.5, -17], [-179.7, -17], [-179.7, -16], [179.5, -16], [179.5, -17]]],
}


def scenes(
    ids: Sequence[str],
    acquired: Sequence[datetime],
    *,
    provider: str = "oneatlas",
    cloud: Sequence[float | None] | None = None,
    aoi: str = "toulouse",
    geometry: shapely.Geometry = TOULOUSE,
) -> pa.Table:
    """Scenes with these ids and acquisition times, over one AOI, everything else synthetic."""
    count = len(ids)
    table = make_scenes(count)
    replaced = {
        "provider": pa.array([provider] * count),
        "scene_id": pa.array(ids),
        "acquired": pa.array([from_datetime(t) for t in acquired], pa.int64()).cast(
            table.schema.field("acquired").type
        ),
        "cloud_cover": pa.array(cloud if cloud is not None else [10.0] * count, pa.float64()),
        "aoi_ids": pa.array([[aoi]] * count, pa.list_(pa.string())),
        "geometry": pa.array([shapely.to_wkb(geometry)] * count, pa.binary()),
    }
    for name, values in replaced.items():
        index = table.schema.get_field_index(name)
        table = table.set_column(index, table.schema.field(index), values)
    return table


def at(day: int, hour: int = 12, minute: int = 0, second: int = 0) -> datetime:
    return datetime(2026, 11, day, hour, minute, second, tzinfo=UTC)


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    """A data directory with an AOI file and an empty catalog directory."""
    aois = [("toulouse", "Toulouse", TOULOUSE), ("fiji", "Taveuni", FIJI)]
    features = [
        {"type": "Feature", "properties": {"id": i, "name": n}, "geometry": shapely.geometry.mapping(g)}
        for i, n, g in aois
    ]
    (tmp_path / "aois.geojson").write_text(json.dumps({"type": "FeatureCollection", "features": features}))
    (tmp_path / "catalog").mkdir()
    return tmp_path


@pytest.fixture
def store(data_dir: Path) -> CatalogStore:
    return CatalogStore(data_dir / "catalog")


def query(data_dir: Path, *args: str) -> Result:
    env = {"HARVEST_DATA_DIR": str(data_dir), "HARVEST_AOIS": str(data_dir / "aois.geojson")}
    return CliRunner().invoke(main, ["catalog", "query", *args], env=env)


def ids_of(result: Result) -> list[str]:
    """The scene ids of a table printed by `query` (second column, between the rule and the count line)."""
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert set(lines[1]) <= {"-", " "}
    return [line.split()[1] for line in lines[2:-1]]


def test_reads_the_unified_catalog_when_there_is_one(store: CatalogStore, data_dir: Path) -> None:
    store.write_day("oneatlas", date(2026, 11, 1), scenes(["provider-only"], [at(1)]))
    store.write_day(UNIFIED, date(2026, 11, 1), scenes(["u1", "u2"], [at(1, 9), at(1, 10)]))

    assert ids_of(query(data_dir)) == ["u1", "u2"]


def test_without_a_unified_catalog_reads_every_provider_by_day(store: CatalogStore, data_dir: Path) -> None:
    store.write_day("oneatlas", date(2026, 11, 2), scenes(["o2"], [at(2)]))
    store.write_day("arlula", date(2026, 11, 1), scenes(["a1"], [at(1)], provider="arlula"))
    store.write_day("arlula", date(2026, 11, 3), scenes(["a3"], [at(3)], provider="arlula"))

    assert ids_of(query(data_dir)) == ["a1", "o2", "a3"]
    assert ids_of(query(data_dir, "--provider", "arlula")) == ["a1", "a3"]


def test_table_has_aligned_columns_and_a_count_line(store: CatalogStore, data_dir: Path) -> None:
    store.write_day(UNIFIED, date(2026, 11, 1), scenes(["short", "a-much-longer-scene-id"], [at(1, 9), at(1, 10)]))

    result = query(data_dir)

    lines = result.stdout.splitlines()
    assert lines[0].split() == ["provider", "scene_id", "acquired", "cloud%", "gsd_m", "price", "aois"]
    assert len({line.index("2026-11-01T") for line in lines[2:4]}) == 1
    assert "2026-11-01T09:00:00Z" in lines[2] and "EUR/scene" in lines[2] and lines[2].endswith("toulouse")
    assert lines[-1] == "2 scenes"
    assert result.stderr == ""


def test_end_day_is_included_and_start_day_too(store: CatalogStore, data_dir: Path) -> None:
    for day in (1, 2, 3):
        store.write_day(
            UNIFIED, date(2026, 11, day), scenes([f"d{day}-first", f"d{day}-last"], [at(day, 0), at(day, 23, 59, 59)])
        )

    result = query(data_dir, "--start", "2026-11-02", "--end", "2026-11-02")

    assert ids_of(result) == ["d2-first", "d2-last"]


def test_max_cloud_leaves_out_cloudier_and_unknown_cover(store: CatalogStore, data_dir: Path) -> None:
    store.write_day(
        UNIFIED,
        date(2026, 11, 1),
        scenes(["clear", "edge", "cloudy", "unknown"], [at(1)] * 4, cloud=[5.0, 20.0, 20.5, None]),
    )

    assert ids_of(query(data_dir, "--max-cloud", "20")) == ["clear", "edge"]


def test_aoi_keeps_the_scenes_harvested_for_it(store: CatalogStore, data_dir: Path) -> None:
    table = pa.concat_tables([scenes(["t1"], [at(1)]), scenes(["f1"], [at(1, 13)], aoi="fiji", geometry=FIJI)])
    store.write_day(UNIFIED, date(2026, 11, 1), table)

    assert ids_of(query(data_dir, "--aoi", "fiji")) == ["f1"]
    assert ids_of(query(data_dir, "--aoi", "toulouse")) == ["t1"]


def test_bbox_keeps_footprints_meeting_the_box(store: CatalogStore, data_dir: Path) -> None:
    table = pa.concat_tables([scenes(["t1"], [at(1)]), scenes(["f1"], [at(1, 13)], aoi="fiji", geometry=FIJI)])
    store.write_day(UNIFIED, date(2026, 11, 1), table)

    assert ids_of(query(data_dir, "--bbox", "1.5,43.6,2,44")) == ["t1"]
    assert ids_of(query(data_dir, "--bbox", "179,-17.5,180,-16")) == ["f1"]


def test_limit_stops_early_and_says_so(store: CatalogStore, data_dir: Path) -> None:
    for day in (1, 2):
        store.write_day(UNIFIED, date(2026, 11, day), scenes([f"d{day}a", f"d{day}b"], [at(day, 1), at(day, 2)]))

    result = query(data_dir, "--limit", "3")

    assert ids_of(result) == ["d1a", "d1b", "d2a"]
    assert result.stdout.splitlines()[-1] == "3 scenes (--limit 3 reached)"


def test_csv_has_every_scalar_column_and_the_footprint_as_wkt(store: CatalogStore, data_dir: Path) -> None:
    written = scenes(["s1", "s2"], [at(1, 9), at(1, 10)], cloud=[12.5, None])
    store.write_day(UNIFIED, date(2026, 11, 1), written)

    result = query(data_dir, "--format", "csv")

    assert result.exit_code == 0 and result.stderr == "2 scenes\n"
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    expected = [f.name for f in written.schema if f.name not in ("geometry", "aoi_ids")] + ["aoi_ids", "geometry"]
    assert list(rows[0]) == expected
    assert [r["scene_id"] for r in rows] == ["s1", "s2"]
    assert (rows[0]["acquired"], rows[0]["cloud_cover"], rows[1]["cloud_cover"]) == ("2026-11-01T09:00:00Z", "12.5", "")
    assert (rows[0]["aoi_ids"], rows[0]["sandbox"]) == ("toulouse", "true")
    assert shapely.from_wkt(rows[0]["geometry"]).equals(TOULOUSE)


def test_geojson_is_a_feature_collection_with_the_cut_footprint_as_multipolygon(
    store: CatalogStore, data_dir: Path
) -> None:
    cut = shapely.from_wkb(footprints_to_wkb(footprints_from_geojson([ACROSS_180])).to_pylist()[0])
    assert cut is not None
    store.write_day(UNIFIED, date(2026, 11, 1), scenes(["f1"], [at(1)], aoi="fiji", geometry=cut))

    result = query(data_dir, "--format", "geojson", "--aoi", "fiji")

    assert result.exit_code == 0 and result.stderr == "1 scene\n"
    collection = json.loads(result.stdout)
    assert collection["type"] == "FeatureCollection" and len(collection["features"]) == 1
    feature = collection["features"][0]
    assert feature["id"] == "oneatlas/f1"
    assert feature["geometry"]["type"] == "MultiPolygon"
    assert shapely.geometry.shape(feature["geometry"]).equals(cut)
    assert (feature["properties"]["acquired"], feature["properties"]["aoi_ids"]) == ("2026-11-01T12:00:00Z", ["fiji"])


@pytest.mark.parametrize("output", ["table", "csv", "geojson"])
def test_no_match_prints_nothing_and_notes_zero_scenes(store: CatalogStore, data_dir: Path, output: str) -> None:
    store.write_day(UNIFIED, date(2026, 11, 1), scenes(["s1"], [at(1)]))

    result = query(data_dir, "--start", "2026-11-02", "--format", output)

    assert (result.exit_code, result.stdout, result.stderr) == (0, "", "0 scenes\n")


def test_an_empty_catalog_is_zero_scenes(data_dir: Path) -> None:
    result = query(data_dir)

    assert (result.exit_code, result.stdout, result.stderr) == (0, "", "0 scenes\n")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--bbox", "1,2,3"], "'1,2,3' is not 4 comma-separated numbers"),
        (["--bbox", "1,2,x,4"], "is not 4 comma-separated numbers; give minx,miny,maxx,maxy"),
        (["--bbox", "3,2,1,4"], "has minx > maxx"),
        (["--bbox", "1,4,3,2"], "has miny > maxy"),
        (["--bbox", "1,2,3,95"], "is outside EPSG:4326"),
        (["--start", "2026-11-03", "--end", "2026-11-01"], "2026-11-03 is after --end 2026-11-01; swap them"),
        (["--start", "01/11/2026"], "'01/11/2026' does not match the format"),
        (["--provider", "planet"], "'planet' is not one of"),
        (["--max-cloud", "120"], "120.0 is not in the range 0<=x<=100"),
        (["--aoi", "paris"], "unknown AOI 'paris'; the AOIs in"),
    ],
)
def test_bad_input_is_a_clear_error_and_prints_nothing(data_dir: Path, args: list[str], message: str) -> None:
    result = query(data_dir, *args)

    assert result.exit_code == 2
    assert result.stdout == ""
    assert message in result.stderr


def test_unknown_aoi_lists_the_known_ones(data_dir: Path) -> None:
    result = query(data_dir, "--aoi", "paris")

    assert "fiji, toulouse" in result.stderr


def test_a_missing_data_directory_is_an_error(tmp_path: Path) -> None:
    result = query(tmp_path / "nowhere")

    assert result.exit_code == 1 and result.stdout == ""
    assert f"data directory {tmp_path / 'nowhere'} does not exist; set HARVEST_DATA_DIR" in result.stderr
