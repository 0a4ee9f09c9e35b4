"""Normalisers against the providers' documented examples (seeds 001–004, docs/providers.md), quirks included."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import orjson
import pyarrow as pa
import pytest
import shapely

from harvest.catalog.normalize.arlula import arlula_scenes
from harvest.catalog.normalize.columns import instants
from harvest.catalog.normalize.oneatlas import oneatlas_scenes
from harvest.catalog.normalize.sentinelhub import catalog_scenes, import_scenes
from harvest.catalog.schema import SCENE_SCHEMA
from harvest.providers.oneatlas_wire import CatalogItem, decode_feature
from harvest.timestamps import parse_ns

SEEDS = Path(__file__).resolve().parent.parent / "fixtures" / "seeds"


def seed(name: str) -> Any:
    return json.loads((SEEDS / name).read_text())["example"]


def item(feature: dict[str, Any]) -> CatalogItem:
    """A documented feature decoded the way search pages are."""
    return decode_feature(orjson.dumps(feature))


def row(batch: pa.RecordBatch, index: int = 0) -> dict[str, Any]:
    return {name: batch.column(name)[index].as_py() for name in batch.schema.names}


def ns(value: Any) -> int:
    return pa.scalar(value, type=pa.timestamp("ns", tz="UTC")).cast(pa.int64()).as_py()


def test_seed_001_public_spot_archive_item() -> None:
    batch = oneatlas_scenes([item(seed("oneatlas_search_feature_seed001.json"))], sandbox=False, aoi_ids=["kigoma"])
    assert batch.schema == SCENE_SCHEMA
    scene = row(batch)
    assert scene["scene_id"] == "dd2595dd-30c8-455a-aeb0-bf1237dee598"
    assert scene["acquisition_id"] == "DS_SPOT7_202212160750554_FR1_FR1_FR1_FR1_E031S05_01871"
    assert (scene["constellation"], scene["platform"], scene["processing_level"]) == ("SPOT", "SPOT7", "ALBUM")
    assert ns(batch.column("updated")[0]) == parse_ns("2022-12-16T09:42:47.239952514Z")  # all nine digits kept
    assert ns(batch.column("acquired")[0]) == parse_ns("2022-12-16T07:50:55.374Z")
    assert scene["cloud_cover"] == pytest.approx(29.68648867313916) and scene["gsd_m"] == 1.5
    assert scene["quicklook_url"].endswith("/dd2595dd-30c8-455a-aeb0-bf1237dee598/quicklook")
    assert scene["aoi_ids"] == ["kigoma"] and scene["sandbox"] is False
    assert orjson.loads(scene["raw"])["archiveAnonymousIdentifier"] == "33319020"
    footprint = shapely.from_wkb(scene["geometry"])
    assert footprint.geom_type == "Polygon" and footprint.exterior.is_ccw


def test_seed_001_delivered_pneo_item_without_strip_id_and_with_image_lists() -> None:
    feature = seed("oneatlas_workspace_search_seed001.json")["features"][0]
    scene = row(oneatlas_scenes([item(feature)], sandbox=False))
    assert scene["scene_id"] == "df4c27e2-ce70-4f3d-8928-5e27dfe12094"
    assert scene["acquisition_id"] == "pneo3:2022-12-11T05:12:01.778Z"  # no DS_ strip id on PNEO deliveries
    assert orjson.loads(scene["raw"])["internalReference"] == "SAL22051564"
    assert scene["snow_cover"] is None  # absent in this example


def test_seed_002_living_library_item() -> None:
    scene = row(oneatlas_scenes([item(seed("oneatlas_search_feature_seed002.json"))], sandbox=True))
    assert scene["scene_id"] == "e459d653-468f-471b-8d6e-90b13b14c655"
    assert scene["acquisition_id"] == "DS_SPOT6_201808271629211_FR1_FR1_SV1_SV1_W079N62_01871"
    batch = oneatlas_scenes([item(seed("oneatlas_search_feature_seed002.json"))], sandbox=True)
    # no lastUpdateDate on this older item: its publicationDate stands in, to the nanosecond
    assert ns(batch.column("updated")[0]) == parse_ns("2018-08-30T07:06:16.522195753Z")
    assert scene["sandbox"] is True


def test_import_features_are_oneatlas_features_under_the_import_provider() -> None:
    batch = import_scenes([item(seed("oneatlas_search_feature_seed001.json"))], sandbox=False)
    assert row(batch)["provider"] == "sentinelhub-import"


def test_a_footprint_across_the_antimeridian_is_cut() -> None:
    feature = copy.deepcopy(seed("oneatlas_search_feature_seed001.json"))
    feature["geometry"]["coordinates"] = [
        [[179.9, -16.7], [179.95, -16.9], [-179.9, -16.95], [-179.95, -16.75], [179.9, -16.7]]
    ]
    footprint = shapely.from_wkb(row(oneatlas_scenes([item(feature)], sandbox=False))["geometry"])
    assert footprint.geom_type == "MultiPolygon"
    minx, _, maxx, _ = footprint.bounds
    assert minx >= -180 and maxx <= 180 and footprint.area < 1


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2022-12-16T09:42:47.239952514Z", "2022-12-16T09:42:47.239952514Z"),
        ("2021-11-19T07:50:32.93579542Z", "2021-11-19T07:50:32.93579542Z"),
        ("2017-11-22T10:54:33.987", "2017-11-22T10:54:33.987Z"),  # no zone: UTC
        ("2018-12-03T16:26:12.119065+00:00", "2018-12-03T16:26:12.119065Z"),
        ("2020-01-12", "2020-01-12T00:00:00Z"),
        ("2022-12-11T07:03:36,5Z", "2022-12-11T07:03:36.5Z"),  # a comma: the slow path
    ],
)
def test_every_timestamp_precision(text: str, expected: str) -> None:
    assert instants([text, None]).cast(pa.int64()).to_pylist() == [parse_ns(expected), None]


ARLULA_RESULT = {  # docs/providers.md#arlula-archive-search: the current API's search result
    "sceneID": "LC08_L1TP_089083_20200112_20200127_01_T1",
    "supplier": "landsat",
    "platform": "landsat-8",
    "date": "2020-01-12T23:49:36.123Z",
    "thumbnail": "https://api.arlula.com/api/archive/thumbnail?id=...",
    "cloud": 3.2,
    "offNadir": 0.0,
    "gsd": 15,
    "area": 34200.5,
    "center": {"lat": -33.87, "long": 151.21},
    "bounding": [[[150.1, -33.2], [152.3, -33.2], [152.3, -35.0], [150.1, -35.0], [150.1, -33.2]]],
    "overlap": {"area": 25.0, "percent": {"scene": 0.07, "search": 100}, "polygon": []},
    "fulfillmentTime": 0,
    "orderingID": "eyJhbGciOiJIUzI1NiJ9.eyJzY2VuZSI6Ii4uLiJ9.AYTqwM",
    "bundles": [{"name": "Default", "key": "default", "bands": [], "price": 0}],
    "licenses": [
        {"name": "Standard", "href": "https://api.arlula.com/eula/landsat", "loadingPercent": 0, "loadingAmount": 0}
    ],
    "annotations": ["ENLR: ..."],
}


def test_arlula_results_merge_per_scene_with_every_aois_offer() -> None:
    other = {**ARLULA_RESULT, "orderingID": "other-aoi-token", "bundles": [{"key": "default", "price": 500}]}
    batch = arlula_scenes([("sydney", [ARLULA_RESULT]), ("harbour", [other])], sandbox=False)
    assert len(batch) == 1
    scene = row(batch)
    assert scene["scene_id"] == "LC08_L1TP_089083_20200112_20200127_01_T1"
    assert scene["aoi_ids"] == ["sydney", "harbour"]
    assert (scene["price_amount"], scene["price_currency"], scene["price_unit"]) == (0.0, "USD cents", "aoi")
    offers = orjson.loads(scene["raw"])["aoi_offers"]
    assert offers["harbour"]["orderingID"] == "other-aoi-token" and offers["sydney"]["price_us_cents"] == 0
    assert scene["constellation"] == "Landsat" and scene["gsd_m"] == 15


def test_arlula_2020_12_results_use_id_resolution_and_base_price() -> None:
    legacy = {
        "supplier": "siwei",
        "eula": "https://api.arlula.com/eula/siwei",
        "id": "legacy-id",
        "sceneID": "SV1-01_20200112_L1B1",
        "date": "2020-01-12T02:10:00Z",
        "center": {"lat": -33.8, "long": 151.2},
        "bounding": [[151.1, -33.7], [151.3, -33.7], [151.3, -33.9], [151.1, -33.9], [151.1, -33.7]],
        "area": 144,
        "overlap": {"area": 25, "percent": {"scene": 17, "search": 100}, "polygon": []},
        "price": {"base": 22500, "seats": []},
        "fulfillment": 48,
        "resolution": 0.5,
        "thumbnail": "",
        "cloud": 0,
        "annotations": [],
    }
    scene = row(arlula_scenes([("sydney", [legacy])], sandbox=False))
    assert scene["price_amount"] == 22500 and scene["gsd_m"] == 0.5
    assert orjson.loads(scene["raw"])["aoi_offers"]["sydney"]["orderingID"] == "legacy-id"
    assert shapely.from_wkb(scene["geometry"]).area > 0  # a bare ring in seed 004


def test_stac_items() -> None:
    item = {
        "type": "Feature",
        "stac_version": "1.0.0",
        "id": "S2A_MSIL2A_20240105T103321_N0510_R108_T31TCJ_20240105T121533",
        "collection": "sentinel-2-l2a",
        "bbox": [0.6, 43.1, 2.0, 44.1],
        "geometry": {
            "type": "Polygon",
            "coordinates": [[[0.6, 43.1], [2.0, 43.1], [2.0, 44.1], [0.6, 44.1], [0.6, 43.1]]],
        },
        "properties": {
            "datetime": "2024-01-05T10:33:21.024Z",
            "platform": "sentinel-2a",
            "constellation": "sentinel-2",
            "gsd": 10,
            "eo:cloud_cover": 12.5,
        },
        "assets": {"thumbnail": {"href": "https://example.org/preview.jpg"}},
        "links": [],
    }
    scene = row(catalog_scenes([item], sandbox=True, aoi_ids=["toulouse"]))
    assert scene["acquisition_id"] == "sentinel-2a:2024-01-05T10:33:21.024Z"
    assert (scene["processing_level"], scene["cloud_cover"], scene["quicklook_url"]) == (
        "L2A",
        12.5,
        "https://example.org/preview.jpg",
    )


def test_a_feature_without_a_usable_footprint_is_named() -> None:
    feature = copy.deepcopy(seed("oneatlas_search_feature_seed001.json"))
    feature["geometry"] = {"type": "Polygon", "coordinates": [[[1, 1], [1, 1], [1, 1], [1, 1]]]}
    with pytest.raises(ValueError, match="dd2595dd"):
        oneatlas_scenes([item(feature)], sandbox=False)
