"""OneAtlas search on the sandbox: paging limits, range syntax, sorting, spatial and field filters."""

from __future__ import annotations

from collections import Counter

import httpx
import pytest
import shapely
from shapely.geometry import shape

from harvest.aois import load_aois
from harvest.sandbox.server import RunningSandbox
from harvest.timestamps import parse_ns
from harvest_tests.sandbox.oneatlas_session import OneAtlasSession

TOULOUSE = load_aois().by_id()["toulouse"]


@pytest.fixture(scope="module")
def oneatlas(shared_sandbox: RunningSandbox) -> OneAtlasSession:
    return OneAtlasSession(shared_sandbox)


def test_envelope_and_paging_indices(oneatlas: OneAtlasSession) -> None:
    first = oneatlas.search_ok(itemsPerPage=7, startPage=1)
    third = oneatlas.search_ok(itemsPerPage=7, startPage=3)
    assert first["type"] == "FeatureCollection" and first["error"] is False
    assert (first["startIndex"], first["itemsPerPage"], len(first["features"])) == (0, 7, 7)
    assert third["startIndex"] == 14  # 0-based index of a 1-based page


def test_total_results_saturate_at_ten_thousand(oneatlas: OneAtlasSession) -> None:
    body = oneatlas.search_ok(itemsPerPage=1)
    assert body["totalResults"] == 10_000  # the whole catalog is far larger


def test_deep_paging_and_oversized_pages_are_refused(oneatlas: OneAtlasSession) -> None:
    assert oneatlas.search(itemsPerPage=500, startPage=20).status_code == 200  # results 9,501-10,000
    deep = oneatlas.search(itemsPerPage=500, startPage=21)
    assert deep.status_code == 400 and "10000" in deep.json()["message"]
    assert oneatlas.search(itemsPerPage=501).status_code == 400
    assert oneatlas.search(itemsPerPage=0).status_code == 400
    assert oneatlas.search(startPage=0).status_code == 400


def test_v1_get_accepts_page_as_an_alias(oneatlas: OneAtlasSession) -> None:
    by_page = oneatlas.client.get("/oneatlas/search/api/v1/opensearch", params={"itemsPerPage": 3, "page": 2})
    by_start = oneatlas.client.get("/oneatlas/search/api/v2/opensearch", params={"itemsPerPage": 3, "startPage": 2})
    assert by_page.status_code == by_start.status_code == 200
    ids = [f["properties"]["id"] for f in by_page.json()["features"]]
    assert ids == [f["properties"]["id"] for f in by_start.json()["features"]]


def test_default_sort_is_newest_acquisition_then_cloud(oneatlas: OneAtlasSession) -> None:
    features = oneatlas.search_ok(itemsPerPage=200)["features"]
    keys = [(-parse_ns(f["properties"]["acquisitionDate"]), f["properties"]["cloudCover"]) for f in features]
    assert keys == sorted(keys)


def test_multi_key_sort(oneatlas: OneAtlasSession) -> None:
    features = oneatlas.search_ok(itemsPerPage=300, sortBy="-cloudCover,+acquisitionDate", geometry=TOULOUSE.geojson())[
        "features"
    ]
    keys = [(-f["properties"]["cloudCover"], parse_ns(f["properties"]["acquisitionDate"])) for f in features]
    assert keys == sorted(keys)
    assert oneatlas.search(sortBy="colour").status_code == 400


@pytest.mark.parametrize(
    ("expression", "check"),
    [
        ("[20,40]", lambda v: 20 <= v <= 40),
        ("]20,40[", lambda v: 20 < v < 40),
        ("[20,40[", lambda v: 20 <= v < 40),  # ISO reading: a trailing [ excludes the end
        ("[95,", lambda v: v >= 95),
        (",5]", lambda v: v <= 5),
        ("[95", lambda v: v >= 95),  # single-bound forms
        ("5[", lambda v: v < 5),
        ("0", lambda v: v == 0),  # a plain value is equality
    ],
)
def test_range_syntax_on_cloud_cover(oneatlas: OneAtlasSession, expression: str, check) -> None:
    features = oneatlas.search_ok(itemsPerPage=500, cloudCover=expression, geometry=TOULOUSE.geojson())["features"]
    assert features, expression
    assert all(check(f["properties"]["cloudCover"]) for f in features)


def test_range_bounds_on_dates_are_instants_not_strings(oneatlas: OneAtlasSession) -> None:
    window = "[2026-01-01T00:00:00Z,2026-02-01T00:00:00Z["
    features = oneatlas.all_features(acquisitionDate=window, geometry=TOULOUSE.geojson())
    assert features
    assert all(parse_ns("2026-01-01T00:00:00Z") <= parse_ns(f["properties"]["acquisitionDate"]) for f in features)
    assert all(parse_ns(f["properties"]["acquisitionDate"]) < parse_ns("2026-02-01T00:00:00Z") for f in features)
    offset = "[2026-01-01T01:00:00+01:00,2026-02-01T01:00:00+01:00["  # the same window with an offset
    same = oneatlas.all_features(acquisitionDate=offset, geometry=TOULOUSE.geojson())
    assert {f["properties"]["id"] for f in same} == {f["properties"]["id"] for f in features}


@pytest.mark.parametrize("bad", ["[2022-01-08T00:00:000Z,", "[a,b]", ",", "[", "2026-13-01T00:00:00Z"])
def test_malformed_ranges_are_a_400_api_error(oneatlas: OneAtlasSession, bad: str) -> None:
    response = oneatlas.search(acquisitionDate=bad)
    assert response.status_code == 400
    body = response.json()
    assert set(body) >= {"correlationId", "message", "internalCode", "timestamp"} and body["internalCode"] == 400


def test_geometry_as_geojson_wkt_and_bbox_agree(oneatlas: OneAtlasSession) -> None:
    box = shapely.box(1.40, 43.58, 1.48, 43.64)
    as_geojson = oneatlas.all_features(geometry=shapely.geometry.mapping(box), acquisitionDate="[2025-01-01T00:00:00Z,")
    as_wkt = oneatlas.all_features(geometry=box.wkt.lower(), acquisitionDate="[2025-01-01T00:00:00Z,")
    as_bbox = oneatlas.all_features(bbox="1.40,43.58,1.48,43.64", acquisitionDate="[2025-01-01T00:00:00Z,")
    ids = {f["properties"]["id"] for f in as_geojson}
    assert ids and ids == {f["properties"]["id"] for f in as_wkt} == {f["properties"]["id"] for f in as_bbox}
    assert all(shape(f["geometry"]).intersects(box) for f in as_geojson)


def test_relation_within_and_contains(oneatlas: OneAtlasSession) -> None:
    big = shapely.box(0.5, 43.0, 2.5, 44.2)
    small = shapely.Point(1.45, 43.60).buffer(0.005)
    within = oneatlas.all_features(geometry=big.wkt, relation="within", acquisitionDate="[2024-01-01T00:00:00Z,")
    contains = oneatlas.all_features(geometry=small.wkt, relation="contains", acquisitionDate="[2024-01-01T00:00:00Z,")
    assert within and all(big.contains(shape(f["geometry"])) for f in within)
    assert contains and all(shape(f["geometry"]).contains(small) for f in contains)
    assert oneatlas.search(geometry=big.wkt, relation="touches").status_code == 400


def test_field_filters(oneatlas: OneAtlasSession) -> None:
    features = oneatlas.all_features(
        geometry=TOULOUSE.geojson(), constellation="PHR,SPOT", processingLevel="SENSOR", incidenceAngle="[0,15]"
    )
    assert features
    assert {f["properties"]["constellation"] for f in features} <= {"PHR", "SPOT"}
    assert all(f["properties"]["processingLevel"] == "SENSOR" for f in features)
    assert all(f["properties"]["incidenceAngle"] <= 15 for f in features)
    pneo = oneatlas.all_features(geometry=TOULOUSE.geojson(), workspace="public-pneo")
    assert pneo and {f["properties"]["constellation"] for f in pneo} == {"PNEO"}


def test_identifier_and_id_filters(oneatlas: OneAtlasSession) -> None:
    sample = oneatlas.search_ok(itemsPerPage=3, geometry=TOULOUSE.geojson())["features"]
    ids = [f["properties"]["id"] for f in sample]
    by_id = oneatlas.search_ok(id=",".join(ids), itemsPerPage=10)["features"]
    assert sorted(f["properties"]["id"] for f in by_id) == sorted(ids)
    strip = sample[0]["properties"]["archiveIdentifier"]
    by_strip = oneatlas.search_ok(archiveIdentifier=strip, geometry=TOULOUSE.geojson())["features"]
    assert [f["properties"]["id"] for f in by_strip] == [ids[0]]
    assert oneatlas.search_ok(id="dd2595dd-30c8-455a-aeb0-bf1237dee598")["totalResults"] == 0


def test_full_text_q(oneatlas: OneAtlasSession) -> None:
    features = oneatlas.search_ok(q="PNEO AND OPTICAL", geometry=TOULOUSE.geojson(), itemsPerPage=100)["features"]
    assert features and all(f["properties"]["constellation"] == "PNEO" for f in features)
    either = oneatlas.search_ok(q="PNEO OR SPOT", geometry=TOULOUSE.geojson(), itemsPerPage=500)["features"]
    assert {f["properties"]["constellation"] for f in either} == {"PNEO", "SPOT"}


def test_many_items_share_a_last_update_instant(oneatlas: OneAtlasSession) -> None:
    features = oneatlas.all_features(
        lastUpdateDate="[2025-01-01T00:00:00Z,2025-07-01T00:00:00Z[", sortBy="lastUpdateDate"
    )
    counts = Counter(f["properties"]["lastUpdateDate"] for f in features)
    assert counts.most_common(1)[0][1] >= 20  # publication batches and reprocessing campaigns
    stamps = [parse_ns(f["properties"]["lastUpdateDate"]) for f in features]
    assert stamps == sorted(stamps)


def test_timestamp_precisions_as_documented(oneatlas: OneAtlasSession) -> None:
    features = oneatlas.search_ok(itemsPerPage=300, geometry=TOULOUSE.geojson())["features"]
    props = [f["properties"] for f in features]
    assert all(p["acquisitionDate"].endswith("Z") and len(p["acquisitionDate"]) == 24 for p in props)
    assert any(len(p["lastUpdateDate"].split(".")[-1]) >= 9 for p in props if "." in p["lastUpdateDate"])
    assert any(not p["processingDate"].endswith("Z") for p in props if p["constellation"] == "PHR")


def test_links_are_objects_or_lists_as_documented(oneatlas: OneAtlasSession) -> None:
    features = oneatlas.search_ok(itemsPerPage=500, geometry=TOULOUSE.geojson())["features"]
    spot = [f for f in features if f["properties"]["constellation"] == "SPOT" and "imagesWmts" in f["_links"]]
    phr = [f for f in features if f["properties"]["constellation"] == "PHR"]
    album = [f for f in features if f["properties"]["processingLevel"] == "ALBUM"]
    assert spot and isinstance(spot[0]["_links"]["imagesWmts"], dict)
    assert phr and isinstance(phr[0]["_links"]["imagesWmts"], list) and len(phr[0]["_links"]["imagesWmts"]) == 2
    assert album and all("wmts" not in f["_links"] and "quicklook" in f["_links"] for f in album)
    assert all("download" not in f["_links"] for f in features)  # only owned items can be downloaded


def test_antimeridian_footprints_are_served_with_folded_longitudes(oneatlas: OneAtlasSession) -> None:
    taveuni = load_aois().by_id()["taveuni-fiji"]
    features = oneatlas.all_features(geometry=taveuni.geojson())

    def span(feature: dict) -> float:
        xs = [x for x, _ in feature["geometry"]["coordinates"][0]]
        return max(xs) - min(xs)

    crossing = [f for f in features if span(f) > 180]
    assert crossing, "some footprints near 180° must cross it"
    assert all(-180 <= x <= 180 for f in crossing for x, _ in f["geometry"]["coordinates"][0])


def test_domains_description_and_deleted_search(oneatlas: OneAtlasSession) -> None:
    domains = oneatlas.client.get("/oneatlas/search/api/v2/opensearch/domains/processingLevel").json()
    assert "SENSOR" in domains["processingLevel"] and domains["warning"]
    description = oneatlas.client.get("/oneatlas/search/api/v2/opensearch/description.xml")
    assert description.status_code == 200 and "OpenSearchDescription" in description.text
    deleted = oneatlas.client.post(
        "/oneatlas/search/api/v1/deleted/search", json={"deletedDate": "[2020-01-01T00:00:00Z,", "itemsPerPage": 20}
    ).json()
    assert deleted["totalResults"] > 0 and set(deleted["data"][0]) == {"id", "deletedDate"}
    gone = deleted["data"][0]["id"]
    assert oneatlas.search_ok(id=gone)["totalResults"] == 0  # a deleted item is no longer searchable


def test_quicklook_and_thumbnail_are_real_jpegs(oneatlas: OneAtlasSession) -> None:
    from io import BytesIO

    from PIL import Image

    feature = oneatlas.search_ok(itemsPerPage=1, geometry=TOULOUSE.geojson())["features"][0]
    quicklook = oneatlas.client.get(feature["_links"]["quicklook"]["href"], params={"width": 250})
    thumbnail = oneatlas.client.get(feature["_links"]["thumbnail"]["href"])
    assert quicklook.headers["content-type"] == thumbnail.headers["content-type"] == "image/jpeg"
    assert Image.open(BytesIO(quicklook.content)).size == (250, 250)
    assert Image.open(BytesIO(thumbnail.content)).format == "JPEG"
    assert httpx.get(feature["_links"]["quicklook"]["href"]).status_code == 401  # needs the token
