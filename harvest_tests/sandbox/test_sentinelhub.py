"""Sentinel Hub on the sandbox: OAuth2, TPDI search/orders/deliveries/quotas, and the STAC catalog.

Every test talks to a real sandbox over loopback HTTP. The documented examples below are copied from
seed 003 and docs/providers.md#sentinel-hub (placeholders like "…" replaced by values of the documented type).
"""

from __future__ import annotations

import hashlib
import io
import zipfile
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import numpy as np
import orjson
import pytest
import shapely
from pyproj import Transformer
from shapely.geometry import shape
from shapely.geometry.base import BaseGeometry

from harvest.aois import load_aois
from harvest.providers.sandbox_endpoints import SENTINELHUB_CLIENT_ID, SENTINELHUB_CLIENT_SECRET
from harvest.sandbox.sentinelhub import catalog_truth_ids, import_truth_ids
from harvest.sandbox.server import RunningSandbox, running
from harvest.sandbox.world.sensors import SENSORS
from harvest_tests.conftest import advance, sandbox_config
from harvest_tests.contract import assert_same_shape

TOKEN_PATH = "/sentinelhub/auth/realms/main/protocol/openid-connect/token"
LEGACY_TOKEN_PATH = "/sentinelhub/oauth/token"
TPDI = "/sentinelhub/api/v1/dataimport"
STAC = "/sentinelhub/api/v1/catalog/1.0.0"
TOULOUSE = load_aois().by_id()["toulouse"]
EVER = {"from": "2018-01-01T00:00:00Z", "to": "2030-01-01T00:00:00Z"}
MERCATOR = Transformer.from_crs(4326, 3857, always_xy=True)
STAGE_S = 60.0  # SandboxConfig.tpdi_stage_s
ARCHIVE_STAGE_S = 10.0  # SandboxConfig.tpdi_archive_stage_s

# --- documented examples -------------------------------------------------------------------------

# docs/providers.md#sentinel-hub-authentication
TOKEN_EXAMPLE = {"access_token": "<JWT>", "token_type": "Bearer", "expires_in": 3600}
BOOM_EXAMPLE = {  # docs/providers.md#sentinel-hub-errors
    "error": {"status": 400, "reason": "Bad Request", "message": "…", "code": "COMMON_BAD_PAYLOAD", "errors": {}}
}
UNAUTHORIZED_EXAMPLE = {  # the Boom body without `errors`
    "error": {"status": 401, "reason": "Unauthorized", "message": "…", "code": "COMMON_UNAUTHORIZED"}
}
QUOTA_EXCEEDED_EXAMPLE = {  # docs/providers.md#sentinel-hub-tpdi-orders
    "error": {
        "status": 403,
        "reason": "Forbidden",
        "message": "…",
        "code": "COMMON_INSUFFICIENT_PERMISSIONS",
        "errors": {"availableQuota": 1.2, "requiredQuota": 1.93},
    }
}
# docs/providers.md#sentinel-hub-tpdi-search (seed 003: "Other fields returned by Airbus OneAtlas
# search may be included")
SEARCH_EXAMPLE = {
    "features": [
        {
            "type": "Feature",
            "geometry": {
                "type": "Polygon",
                "coordinates": [[[13.35, 52.5], [13.4, 52.5], [13.4, 52.53], [13.35, 52.5]]],
            },
            "properties": {
                "id": "f3092a17-cecc-4bad-9394-5263bc6663b3",
                "acquisitionDate": "2018-10-16T10:39:43.431Z",
                "constellation": "PHR",
                "cloudCover": 0.73,
                "incidenceAngle": 28.09,
                "processingLevel": "SENSOR",
                "lastUpdateDate": "2018-10-17T01:02:03.456Z",
            },
            "_links": {
                "quicklook": {
                    "href": "https://access.foundation.api.oneatlas.airbus.com/api/v1/items/f3092a17/quicklook"
                },
                "thumbnail": {
                    "href": "https://access.foundation.api.oneatlas.airbus.com/api/v1/items/f3092a17/thumbnail"
                },
            },
        }
    ],
    "links": {
        "@id": "https://services.sentinel-hub.com/api/v1/dataimport/search?count=10",
        "currentToken": "MTA=",
        "nextToken": "MjA=",
        "next": "https://services.sentinel-hub.com/api/v1/dataimport/search?count=10&viewtoken=MjA=",
    },
    "totalResults": 57,
}
ORDER_CREATED_EXAMPLE = {  # docs/providers.md#sentinel-hub-tpdi-orders
    "id": "497f6eca-6276-4993-bfeb-53cbbbba6f08",
    "name": "berlin-phr-2021",
    "userId": "3d07c219-0a88-45be-9cfc-91e9d095a1e9",
    "accountId": "3d07c219-0a88-45be-9cfc-91e9d095a1e9",
    "collectionId": None,
    "status": "CREATED",
    "sqkm": 1.93,
    "created": "2021-07-01T09:12:44.123Z",
    "input": {"provider": "AIRBUS", "bounds": {}, "data": []},
}
ORDER_EXAMPLE = {  # seed 003, create/get/confirm response sample
    "id": "497f6eca-6276-4993-bfeb-53cbbbba6f08",
    "name": "string",
    "accountId": "3d07c219-0a88-45be-9cfc-91e9d095a1e9",
    "collectionId": "0ffe69e2-b7af-4b1e-835c-867376165f50",
    "status": "CREATED",
    "sqkm": 0,
    "input": {},
}
ORDERS_EXAMPLE = {"data": [ORDER_EXAMPLE], "links": {}}  # seed 003, query orders (confirmed orders)
CREATED_ORDERS_EXAMPLE = {"data": [ORDER_CREATED_EXAMPLE], "links": {}}  # the same, unconfirmed
DELIVERY_EXAMPLE = {  # docs/providers.md#sentinel-hub-deliveries
    "provider": "AIRBUS",
    "id": "497f6eca-6276-4993-bfeb-53cbbbba6f08",
    "sqkm": 1.93,
    "status": "WAITING",
    "errorMessage": None,
    "productId": "dcd53ddb-8104-4e48-8cc0-5df1088c6113",
}
FAILED_DELIVERY_EXAMPLE = {**DELIVERY_EXAMPLE, "sqkm": 0, "errorMessage": "string"}  # seed 003
DELIVERIES_EXAMPLE = {"data": [DELIVERY_EXAMPLE], "links": {}}  # seed 003
FILES_EXAMPLE = [  # seed 003
    "VOL_PHR.XML",
    "INDEX.HTM",
    "IMG_PHR1A_P_001/IMG_PHR1A_P_202102240924289_ORT_15c5eeb9-53a1-4cdd-cca6-d265fb1bf0c6-001_R1C1.J2W",
]
ARCHIVE_WAITING_EXAMPLE = {  # docs/providers.md#sentinel-hub-deliveries
    "deliveryId": "73dc828d-801d-4d29-b7e4-e046662a5901",
    "format": "zip",
    "requested": "2019-08-24T14:15:22Z",
    "status": "WAITING",
    "size": None,
}
ARCHIVE_EXAMPLE = {**ARCHIVE_WAITING_EXAMPLE, "size": 0}  # seed 003 (size is given once DONE)
TILE_EXAMPLE = {  # seed 003
    "id": "497f6eca-6276-4993-bfeb-53cbbbba6f08",
    "deliveryId": "73dc828d-801d-4d29-b7e4-e046662a5901",
    "status": "WAITING",
}
TILES_EXAMPLE = {"data": [TILE_EXAMPLE]}  # seed 003
QUOTA_EXAMPLE = {"collectionId": "AIRBUS_PLEIADES", "quotaSqkm": 0, "quotaUsed": 0}  # seed 003
ACCOUNT_QUOTAS_EXAMPLE = {"data": [QUOTA_EXAMPLE]}  # seed 003, "Get import quotas"
LEGACY_QUOTAS_EXAMPLE = {  # docs/providers.md#sentinel-hub-quotas
    "data": [{"id": "…", "collectionId": "AIRBUS_PLEIADES", "quotaSqkm": 100.0, "quotaUsed": 12.5, "datasetId": "…"}]
}
STAC_SEARCH_SKELETON = {"type": "FeatureCollection", "features": [], "links": [], "context": {}}  # seed 003
STAC_SEARCH_EXAMPLE = {  # the postCatalogItemSearch 200 example of the Sentinel Hub OpenAPI
    "type": "FeatureCollection",
    "features": [
        {
            "bbox": [12.456873618680804, 44.138006014975964, 13.558241653952589, 45.144727105915536],
            "id": "S2B_MSIL2A_20201229T101329_N0214_R022_T33TUK_20201229T115442",
            "type": "Feature",
            "properties": {
                "proj:epsg": 32633,
                "datetime": "2020-12-29T10:18:19Z",
                "instruments": ["msi"],
                "constellation": "sentinel-2",
                "proj:geometry": {
                    "crs": {"type": "name", "properties": {"name": "urn:ogc:def:crs:EPSG::32633"}},
                    "coordinates": [[[[300000.99988415383, 5000039.000148304], [300000.9998, 4890241.0001]]]],
                    "type": "MultiPolygon",
                },
                "eo:cloud_cover": 93.93,
                "gsd": 10,
                "proj:bbox": [300000, 4890240, 409800, 5000040],
                "platform": "sentinel-2b",
            },
        }
    ],
    "links": [
        {"href": "https://services.sentinel-hub.com/catalog/v1/search", "rel": "self", "type": "application/geo+json"}
    ],
    "context": {"next": 1, "limit": 1, "returned": 1},
}


# --- helpers -------------------------------------------------------------------------------------


def fetch_token(
    sandbox: RunningSandbox, path: str = TOKEN_PATH, secret: str = SENTINELHUB_CLIENT_SECRET
) -> httpx.Response:
    form = {"grant_type": "client_credentials", "client_id": SENTINELHUB_CLIENT_ID, "client_secret": secret}
    return httpx.post(sandbox.url + path, data=form, timeout=10)


def session(sandbox: RunningSandbox, timeout: float = 30.0) -> httpx.Client:
    """An httpx client with a fresh bearer token."""
    response = fetch_token(sandbox)
    assert response.status_code == 200, response.text
    headers = {"Authorization": f"Bearer {response.json()['access_token']}"}
    return httpx.Client(base_url=sandbox.url, headers=headers, timeout=timeout)


def search_body(
    geometry: dict[str, Any] | None = None, constellation: str = "PHR", **data_filter: Any
) -> dict[str, Any]:
    return {
        "provider": "AIRBUS",
        "bounds": {"geometry": geometry or TOULOUSE.geojson()},
        "data": [{"constellation": constellation, "dataFilter": {"timeRange": EVER, **data_filter}}],
    }


def order_body(product_ids: list[str], constellation: str = "PHR", bounds: dict[str, Any] | None = None) -> dict:
    return {
        "name": "toulouse-phr",
        "input": {
            "provider": "AIRBUS",
            "bounds": bounds or {"geometry": TOULOUSE.geojson()},
            "data": [{"constellation": constellation, "products": [{"id": i} for i in product_ids]}],
        },
    }


def search_pages(client: httpx.Client, body: dict[str, Any], count: int) -> Iterator[dict[str, Any]]:
    """Every page of a TPDI search, re-posting the same body to `links.next`."""
    url = f"{TPDI}/search?count={count}"
    seen: set[str] = set()
    while True:
        assert url not in seen, "paging went round in a circle"
        seen.add(url)
        response = client.post(url, json=body)
        assert response.status_code == 200, response.text
        page = response.json()
        yield page
        if "next" not in page["links"]:
            assert "nextToken" not in page["links"]
            return
        url = page["links"]["next"]


def product_ids(client: httpx.Client, constellation: str = "PHR", count: int = 3) -> list[str]:
    page = client.post(f"{TPDI}/search?count={count}", json=search_body(constellation=constellation)).json()
    return [f["properties"]["id"] for f in page["features"]]


def visible_rows(sandbox: RunningSandbox, view_name: str, geometry: BaseGeometry) -> np.ndarray:
    """Ground truth: rows of a view visible now whose footprint intersects `geometry`."""
    world = sandbox.sandbox.world
    view = getattr(world, view_name)
    rows = world.rows_intersecting(geometry)
    rows = rows[view.contains(rows)]
    return rows[view.state(sandbox.sandbox.now_ns()).visible[view.position(rows)]]


def tpdi_truth(sandbox: RunningSandbox, constellation: str) -> list[str]:
    rows = visible_rows(sandbox, "tpdi", TOULOUSE.geometry)
    sensors = sandbox.sandbox.world.acq.sensor[rows]
    rows = rows[np.array([SENSORS[s].constellation == constellation for s in sensors.tolist()], dtype=bool)]
    return import_truth_ids(sandbox.sandbox, rows)


def assert_boom(response: httpx.Response, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    error = response.json()["error"]
    assert (error["status"], error["code"]) == (status, code)
    return error


@pytest.fixture(scope="module")
def client(shared_sandbox: RunningSandbox) -> Iterator[httpx.Client]:
    with session(shared_sandbox) as shared:
        yield shared


@pytest.fixture
def private(make_sandbox: Callable[..., RunningSandbox]) -> RunningSandbox:
    return make_sandbox()


# --- OAuth2 --------------------------------------------------------------------------------------


@pytest.mark.parametrize("path", [TOKEN_PATH, LEGACY_TOKEN_PATH])
def test_both_token_paths_issue_bearer_tokens(shared_sandbox: RunningSandbox, path: str) -> None:
    response = fetch_token(shared_sandbox, path)
    assert response.status_code == 200
    assert_same_shape(TOKEN_EXAMPLE, response.json())
    assert response.json()["token_type"] == "Bearer" and response.json()["expires_in"] == 3600
    headers = {"Authorization": f"Bearer {response.json()['access_token']}"}
    assert httpx.get(f"{shared_sandbox.url}{TPDI}/quotas", headers=headers).status_code == 200


def test_client_credentials_may_come_as_http_basic(shared_sandbox: RunningSandbox) -> None:
    auth = (SENTINELHUB_CLIENT_ID, SENTINELHUB_CLIENT_SECRET)
    response = httpx.post(shared_sandbox.url + TOKEN_PATH, data={"grant_type": "client_credentials"}, auth=auth)
    assert response.status_code == 200 and response.json()["access_token"]


def test_wrong_secret_and_grant_are_oauth_errors(shared_sandbox: RunningSandbox) -> None:
    wrong = fetch_token(shared_sandbox, secret="not-the-secret")
    assert wrong.status_code == 401 and wrong.json()["error"] == "invalid_client"
    assert wrong.json()["error_description"]
    form = {"grant_type": "password", "client_id": SENTINELHUB_CLIENT_ID, "client_secret": SENTINELHUB_CLIENT_SECRET}
    grant = httpx.post(shared_sandbox.url + LEGACY_TOKEN_PATH, data=form)
    assert grant.status_code == 400 and grant.json()["error"] == "unsupported_grant_type"


@pytest.mark.parametrize("authorization", [None, "Bearer garbled", "Bearer a.b.c", "Basic Zm9vOmJhcg=="])
def test_missing_or_garbled_bearer_is_a_boom_401(shared_sandbox: RunningSandbox, authorization: str | None) -> None:
    headers = {"Authorization": authorization} if authorization else {}
    response = httpx.post(f"{shared_sandbox.url}{TPDI}/search", json=search_body(), headers=headers)
    assert_boom(response, 401, "COMMON_UNAUTHORIZED")
    assert_same_shape(UNAUTHORIZED_EXAMPLE, response.json())


def test_expired_token_is_refused(make_sandbox: Callable[..., RunningSandbox]) -> None:
    sandbox = make_sandbox(token_lifetime_s=60)
    with session(sandbox) as client:
        assert client.get(f"{TPDI}/accountquotas").status_code == 200
        advance(sandbox, 61)
        assert_boom(client.get(f"{TPDI}/accountquotas"), 401, "COMMON_UNAUTHORIZED")
        assert_boom(client.get(f"{STAC}/collections"), 401, "COMMON_UNAUTHORIZED")


def test_token_expiry_fault_kills_a_token_before_its_advertised_lifetime(
    make_sandbox: Callable[..., RunningSandbox],
) -> None:
    sandbox = make_sandbox(token_lifetime_s=100, faults="token_expiry=1:0.5@sentinelhub.auth")
    with session(sandbox) as client:
        advance(sandbox, 60)  # within the advertised 100 s, past the real 50 s
        assert_boom(client.get(f"{TPDI}/accountquotas"), 401, "COMMON_UNAUTHORIZED")


# --- TPDI search ---------------------------------------------------------------------------------


def test_search_response_has_the_documented_shape(client: httpx.Client) -> None:
    response = client.post(f"{TPDI}/search?count=3", json=search_body())
    assert response.status_code == 200
    page = response.json()
    assert_same_shape(SEARCH_EXAMPLE, page)
    assert len(page["features"]) == 3 and page["totalResults"] > 3
    assert all(f["properties"]["constellation"] == "PHR" for f in page["features"])
    assert page["links"]["next"].startswith(str(client.base_url).rstrip("/") + TPDI + "/search?")


@pytest.mark.parametrize("constellation", ["PHR", "SPOT"])
def test_search_pages_to_the_end_and_returns_exactly_the_truth(
    shared_sandbox: RunningSandbox, client: httpx.Client, constellation: str
) -> None:
    pages = list(search_pages(client, search_body(constellation=constellation), count=17))
    ids = [f["properties"]["id"] for page in pages for f in page["features"]]
    truth = tpdi_truth(shared_sandbox, constellation)
    assert len(ids) == len(set(ids)), "a product appeared on two pages"
    assert sorted(ids) == sorted(truth)
    assert {page["totalResults"] for page in pages} == {len(truth)}
    assert len(pages) == -(-len(truth) // 17)


def test_search_survives_the_world_growing_a_year(make_sandbox: Callable[..., RunningSandbox]) -> None:
    sandbox = make_sandbox(clock="frozen@2026-12-31T23:00:00Z")
    with session(sandbox) as client:
        assert client.post(f"{TPDI}/search?count=5", json=search_body(maxCloudCoverage=50)).status_code == 200
    advance(sandbox, 3 * 3600)  # into 2027: the world now generates 2028 and rebuilds its views
    with session(sandbox) as client:
        ids = _all_ids(client, search_body())
    assert sorted(ids) == sorted(tpdi_truth(sandbox, "PHR"))


def test_count_is_clamped_to_the_maximum(client: httpx.Client) -> None:
    page = client.post(f"{TPDI}/search?count=100000", json=search_body()).json()
    assert len(page["features"]) == 50  # SandboxConfig.tpdi_search_max_count
    assert "count=50" in page["links"]["next"]


def test_viewtoken_is_bound_to_the_request_body(client: httpx.Client) -> None:
    first = client.post(f"{TPDI}/search?count=5", json=search_body()).json()
    same = client.post(first["links"]["next"], json=search_body())
    assert same.status_code == 200
    other = client.post(first["links"]["next"], json=search_body(maxCloudCoverage=10))
    assert_boom(other, 400, "COMMON_BAD_PAYLOAD")
    assert "viewtoken" in other.json()["error"]["message"]
    garbled = client.post(f"{TPDI}/search?count=5&viewtoken=%%%", json=search_body())
    assert_boom(garbled, 400, "COMMON_BAD_PAYLOAD")


def _without(body: dict[str, Any], *path: str) -> dict[str, Any]:
    copy = orjson.loads(orjson.dumps(body))
    node = copy
    for key in path[:-1]:
        node = node[0] if key == "0" else node[key]
    del node[path[-1]]
    return copy


def _with(body: dict[str, Any], change: Callable[[dict[str, Any]], None]) -> dict[str, Any]:
    copy = orjson.loads(orjson.dumps(body))
    change(copy)
    return copy


INVALID_SEARCHES = {
    "provider missing": _without(search_body(), "provider"),
    "provider unknown": _with(search_body(), lambda b: b.update(provider="PLANET_LABS")),
    "data empty": _with(search_body(), lambda b: b.update(data=[])),
    "data has two items": _with(search_body(), lambda b: b.update(data=b["data"] * 2)),
    "constellation missing": _without(search_body(), "data", "0", "constellation"),
    "constellation not sold": _with(search_body(), lambda b: b["data"][0].update(constellation="PNEO")),
    "timeRange missing": _without(search_body(), "data", "0", "dataFilter", "timeRange"),
    "date without time": _with(
        search_body(), lambda b: b["data"][0]["dataFilter"].update(timeRange={"from": "2019-01-31", "to": EVER["to"]})
    ),
    "no bbox and no geometry": _with(search_body(), lambda b: b.update(bounds={"properties": {}})),
    "bounds missing": _without(search_body(), "bounds"),
    "cloud cover above 100": search_body(maxCloudCoverage=120),
    "unknown processing level": search_body(processingLevel="ORTHO"),
    "unknown CRS": _with(search_body(), lambda b: b["bounds"].update(properties={"crs": "urn:what"})),
}


@pytest.mark.parametrize("case", list(INVALID_SEARCHES))
def test_invalid_searches_are_bad_payloads(client: httpx.Client, case: str) -> None:
    response = client.post(f"{TPDI}/search", json=INVALID_SEARCHES[case])
    assert_boom(response, 400, "COMMON_BAD_PAYLOAD")
    assert_same_shape(BOOM_EXAMPLE, response.json())


@pytest.mark.parametrize("count", ["0", "-3", "ten"])
def test_bad_count_and_bad_json_are_refused(client: httpx.Client, count: str) -> None:
    assert_boom(client.post(f"{TPDI}/search?count={count}", json=search_body()), 400, "COMMON_BAD_PAYLOAD")
    not_json = client.post(f"{TPDI}/search", content=b"{nope", headers={"Content-Type": "application/json"})
    assert_boom(not_json, 400, "COMMON_BAD_PAYLOAD")


def _all_ids(client: httpx.Client, body: dict[str, Any]) -> list[str]:
    return [f["properties"]["id"] for page in search_pages(client, body, 50) for f in page["features"]]


def test_bbox_in_another_crs_and_geometry_over_bbox(client: httpx.Client) -> None:
    minx, miny, maxx, maxy = TOULOUSE.bounds
    crs84 = {"bbox": [minx, miny, maxx, maxy], "properties": {"crs": "http://www.opengis.net/def/crs/OGC/1.3/CRS84"}}
    west, south = MERCATOR.transform(minx, miny)
    east, north = MERCATOR.transform(maxx, maxy)
    mercator = {"bbox": [west, south, east, north], "properties": {"crs": "http://www.opengis.net/def/crs/EPSG/0/3857"}}
    by_crs84 = _all_ids(client, {**search_body(), "bounds": crs84})
    assert sorted(_all_ids(client, {**search_body(), "bounds": mercator})) == sorted(by_crs84)
    far_box = {"bbox": [100.0, 10.0, 100.1, 10.1], "geometry": TOULOUSE.geojson()}
    assert sorted(_all_ids(client, {**search_body(), "bounds": far_box})) == sorted(_all_ids(client, search_body()))


def test_data_filter_narrows_the_results(client: httpx.Client) -> None:
    everything = set(_all_ids(client, search_body()))
    clear = client.post(f"{TPDI}/search", json=search_body(maxCloudCoverage=10, processingLevel="SENSOR")).json()
    assert clear["features"]
    for feature in clear["features"]:
        assert feature["properties"]["cloudCover"] <= 10
        assert feature["properties"]["processingLevel"] == "SENSOR"
        assert feature["properties"]["id"] in everything
    window = {"from": "2024-01-01T00:00:00Z", "to": "2024-03-31T23:59:59Z"}
    body = search_body()
    body["data"][0]["dataFilter"]["timeRange"] = window
    for feature in client.post(f"{TPDI}/search", json=body).json()["features"]:
        assert window["from"] <= feature["properties"]["acquisitionDate"] <= window["to"]


def test_native_search_passes_opensearch_parameters_through(client: httpx.Client) -> None:
    native = client.post(
        f"{TPDI}/nativesearch",
        json={
            "provider": "AIRBUS",
            "geometry": TOULOUSE.geojson(),
            "constellation": "PHR",
            "acquisitionDate": f"[{EVER['from']},{EVER['to']}]",
            "itemsPerPage": 10,
        },
    )
    assert native.status_code == 200, native.text
    envelope = native.json()
    assert envelope["type"] == "FeatureCollection" and envelope["itemsPerPage"] == 10
    proxied = client.post(f"{TPDI}/search?count=10", json=search_body()).json()
    assert [f["properties"]["id"] for f in envelope["features"]] == [f["properties"]["id"] for f in proxied["features"]]
    assert envelope["totalResults"] == proxied["totalResults"]
    bad = client.post(f"{TPDI}/nativesearch", json={"provider": "AIRBUS", "cloudCover": "[0,,"})
    error = assert_boom(bad, 400, "COMMON_BAD_PAYLOAD")
    # Airbus's own error, JSON-encoded (docs/providers.md#sentinel-hub-errors)
    assert orjson.loads(error["message"])["message"]
    assert_boom(client.post(f"{TPDI}/nativesearch", json={"cloudCover": "[0,10]"}), 400, "COMMON_BAD_PAYLOAD")


def test_thumbnails_are_jpegs_of_the_right_collection(client: httpx.Client) -> None:
    phr = product_ids(client, "PHR", 1)[0]
    response = client.get(f"{TPDI}/collections/AIRBUS_PLEIADES/products/{phr}/thumbnail")
    assert response.status_code == 200 and response.headers["content-type"] == "image/jpeg"
    assert response.content[:3] == b"\xff\xd8\xff"
    assert_boom(client.get(f"{TPDI}/collections/AIRBUS_SPOT/products/{phr}/thumbnail"), 404, "COMMON_NOT_FOUND")
    missing = "00000000-0000-4000-8000-000000000000"
    assert_boom(client.get(f"{TPDI}/collections/AIRBUS_PLEIADES/products/{missing}/thumbnail"), 404, "COMMON_NOT_FOUND")


# --- orders --------------------------------------------------------------------------------------


def create_order(client: httpx.Client, ids: list[str], **kwargs: Any) -> dict[str, Any]:
    response = client.post(f"{TPDI}/orders", json=order_body(ids, **kwargs))
    assert response.status_code == 200, response.text
    return response.json()


def test_order_lifecycle_from_quote_to_done(private: RunningSandbox) -> None:
    with session(private) as client:
        ids = product_ids(client, "PHR", 2)
        created = create_order(client, ids)
        assert_same_shape(ORDER_CREATED_EXAMPLE, created)
        assert created["status"] == "CREATED" and created["collectionId"] is None
        assert created["input"]["data"][0]["products"] == [{"id": i} for i in ids]
        order_url = f"{TPDI}/orders/{created['id']}"
        assert client.get(order_url).json() == created
        deliveries = client.get(f"{order_url}/deliveries").json()
        assert_same_shape(DELIVERIES_EXAMPLE, deliveries)
        assert sorted(d["productId"] for d in deliveries["data"]) == sorted(ids)
        assert created["sqkm"] == pytest.approx(sum(d["sqkm"] for d in deliveries["data"]), abs=0.02)

        before = client.get(f"{TPDI}/accountquotas/AIRBUS_PLEIADES").json()["quotaUsed"]
        confirmed = client.post(f"{order_url}/confirm")
        assert confirmed.status_code == 200
        assert_same_shape(ORDER_EXAMPLE, confirmed.json())
        assert confirmed.json()["status"] == "RUNNING" and confirmed.json()["collectionId"]
        used = client.get(f"{TPDI}/accountquotas/AIRBUS_PLEIADES").json()["quotaUsed"]
        assert used == pytest.approx(before + created["sqkm"])

        assert_boom(client.post(f"{order_url}/confirm"), 409, "COMMON_CONFLICT")
        assert_boom(client.delete(order_url), 409, "COMMON_CONFLICT")
        first = deliveries["data"][0]["id"]
        seen = []
        for _ in range(5):
            seen.append(client.get(f"{order_url}/deliveries/{first}").json()["status"])
            advance(private, STAGE_S)
        assert seen == ["WAITING", "DELIVERED", "PREPARING", "INGESTING", "DONE"]
        advance(private, STAGE_S)  # the second delivery runs a little behind the first
        assert {d["status"] for d in client.get(f"{order_url}/deliveries").json()["data"]} == {"DONE"}
        assert client.get(order_url).json()["status"] == "DONE"
        assert [o["id"] for o in client.get(f"{TPDI}/orders", params={"status": "DONE"}).json()["data"]] == [
            created["id"]
        ]

        assert client.delete(order_url).status_code == 204
        assert client.get(f"{TPDI}/orders").json()["data"] == []
        hidden = client.get(f"{TPDI}/orders", params={"deleted": "true"}).json()["data"]
        assert [o["id"] for o in hidden] == [created["id"]]
        assert client.get(order_url).status_code == 200  # "still available"
        assert client.get(f"{TPDI}/accountquotas/AIRBUS_PLEIADES").json()["quotaUsed"] == pytest.approx(used)


def test_deliveries_filter_by_status_and_tiles_follow_ingestion(private: RunningSandbox) -> None:
    with session(private) as client:
        order = create_order(client, product_ids(client, "SPOT", 1), constellation="SPOT")
        client.post(f"{TPDI}/orders/{order['id']}/confirm").raise_for_status()
        delivery = client.get(f"{TPDI}/orders/{order['id']}/deliveries").json()["data"][0]
        base = f"{TPDI}/orders/{order['id']}/deliveries/{delivery['id']}"
        assert client.get(f"{base}/tiles").json() == {"data": []}
        advance(private, 2 * STAGE_S)
        waiting = client.get(f"{TPDI}/orders/{order['id']}/deliveries", params={"status": "WAITING"}).json()
        assert waiting["data"] == []
        preparing = client.get(f"{TPDI}/orders/{order['id']}/deliveries", params={"status": "PREPARING"}).json()
        assert [d["id"] for d in preparing["data"]] == [delivery["id"]]
        tiles = client.get(f"{base}/tiles").json()
        assert_same_shape(TILES_EXAMPLE, tiles)
        assert tiles["data"][0]["status"] == "QUEUED"
        advance(private, 2 * STAGE_S)
        tile = client.get(f"{base}/tiles/{tiles['data'][0]['id']}").json()
        assert_same_shape(TILE_EXAMPLE, tile)
        assert tile["status"] == "INGESTED"
        assert_boom(client.get(f"{base}/tiles/{delivery['id']}"), 404, "COMMON_NOT_FOUND")
        assert_boom(client.get(f"{TPDI}/orders/{order['id']}/deliveries/{order['id']}"), 404, "COMMON_NOT_FOUND")


def test_deleting_a_created_order_is_permanent(private: RunningSandbox) -> None:
    with session(private) as client:
        order = create_order(client, product_ids(client, "PHR", 1))
        assert client.delete(f"{TPDI}/orders/{order['id']}").status_code == 204
        assert_boom(client.get(f"{TPDI}/orders/{order['id']}"), 404, "COMMON_NOT_FOUND")
        assert client.get(f"{TPDI}/orders", params={"deleted": "true"}).json()["data"] == []
        assert_boom(client.post(f"{TPDI}/orders/{order['id']}/confirm"), 404, "COMMON_NOT_FOUND")


def _small_box(sandbox: RunningSandbox, product_id: str, side_deg: float) -> dict[str, Any]:
    """A bbox of `side_deg` around the centre of a product's footprint."""
    world = sandbox.sandbox.world
    row = world.row_of_item_id(product_id)
    assert row is not None
    x, y = float(world.acq.lon[row]), float(world.acq.lat[row])
    return {"bbox": [x - side_deg / 2, y - side_deg / 2, x + side_deg / 2, y + side_deg / 2]}


def test_sqkm_is_the_area_inside_the_aoi_or_the_minimum(make_sandbox: Callable[..., RunningSandbox]) -> None:
    sandbox = make_sandbox(tpdi_min_order_sqkm=2.0)
    with session(sandbox) as client:
        product = product_ids(client, "PHR", 1)[0]
        tiny = create_order(client, [product], bounds=_small_box(sandbox, product, 0.005))  # ~0.2 km²
        assert tiny["sqkm"] == 2.0
        delivery = client.get(f"{TPDI}/orders/{tiny['id']}/deliveries").json()["data"][0]
        assert 0 < delivery["sqkm"] < 2.0
        larger = create_order(client, [product], bounds=_small_box(sandbox, product, 0.05))  # ~22 km²
        assert 15 < larger["sqkm"] < 30


def test_query_orders_take_every_match(private: RunningSandbox) -> None:
    with session(private) as client:
        window = {"from": "2025-01-01T00:00:00Z", "to": "2025-06-30T23:59:59Z"}
        query = search_body()
        query["data"][0]["dataFilter"]["timeRange"] = window
        expected = _all_ids(client, query)
        assert expected
        response = client.post(f"{TPDI}/orders", json={"name": "by-query", "input": query})
        assert response.status_code == 200, response.text
        order = response.json()
        deliveries = client.get(f"{TPDI}/orders/{order['id']}/deliveries").json()["data"]
        assert sorted(d["productId"] for d in deliveries) == sorted(expected)


def test_invalid_orders_are_refused(private: RunningSandbox) -> None:
    with session(private) as client:
        phr = product_ids(client, "PHR", 1)[0]
        missing = "00000000-0000-4000-8000-000000000000"
        cases = [
            order_body([missing]),
            order_body([phr], constellation="SPOT"),
            order_body([phr, phr]),
            order_body([phr], bounds={"bbox": [100.0, 10.0, 100.1, 10.1]}),
            {**order_body([phr]), "collectionId": "not-a-uuid"},
            {"name": "no input"},
        ]
        for body in cases:
            assert_boom(client.post(f"{TPDI}/orders", json=body), 400, "COMMON_BAD_PAYLOAD")
        assert client.get(f"{TPDI}/orders").json()["data"] == []


def test_confirm_beyond_the_quota_is_forbidden(make_sandbox: Callable[..., RunningSandbox]) -> None:
    sandbox = make_sandbox(tpdi_quota_sqkm=1.0)
    with session(sandbox) as client:
        order = create_order(client, product_ids(client, "PHR", 1))
        response = client.post(f"{TPDI}/orders/{order['id']}/confirm")
        error = assert_boom(response, 403, "COMMON_INSUFFICIENT_PERMISSIONS")
        assert_same_shape(QUOTA_EXCEEDED_EXAMPLE, response.json())
        assert error["errors"] == {"availableQuota": 1.0, "requiredQuota": order["sqkm"]}
        assert client.get(f"{TPDI}/orders/{order['id']}").json()["status"] == "CREATED"
        assert client.get(f"{TPDI}/accountquotas/AIRBUS_PLEIADES").json()["quotaUsed"] == 0


def test_order_list_pages_and_filters(private: RunningSandbox) -> None:
    with session(private) as client:
        ids = product_ids(client, "PHR", 3)
        made = [create_order(client, [i]) for i in ids]
        client.post(f"{TPDI}/orders/{made[0]['id']}/confirm").raise_for_status()
        first = client.get(f"{TPDI}/orders", params={"count": 2}).json()
        assert_same_shape(CREATED_ORDERS_EXAMPLE, first)
        assert len(first["data"]) == 2 and "nextToken" in first["links"]
        second = client.get(first["links"]["next"]).json()
        assert "nextToken" not in second["links"] and "next" not in second["links"]
        assert [o["id"] for o in first["data"] + second["data"]] == [o["id"] for o in made]
        running_list = client.get(f"{TPDI}/orders", params={"status": "RUNNING"}).json()
        assert_same_shape(ORDERS_EXAMPLE, running_list)
        running_orders = running_list["data"]
        assert [o["id"] for o in running_orders] == [made[0]["id"]]
        collection = running_orders[0]["collectionId"]
        by_collection = client.get(f"{TPDI}/orders", params={"collectionId": collection}).json()["data"]
        assert [o["id"] for o in by_collection] == [made[0]["id"]]
        assert len(client.get(f"{TPDI}/orders", params={"search": "toulouse&phr|nothing"}).json()["data"]) == 3
        assert client.get(f"{TPDI}/orders", params={"search": "berlin"}).json()["data"] == []
        wrong_filter = client.get(
            f"{TPDI}/orders", params={"status": "RUNNING", "viewtoken": first["links"]["nextToken"]}
        )
        assert_boom(wrong_filter, 400, "COMMON_BAD_PAYLOAD")
        assert_boom(client.get(f"{TPDI}/orders", params={"status": "SHIPPED"}), 400, "COMMON_BAD_PAYLOAD")


def test_failed_deliveries_make_a_failed_order(make_sandbox: Callable[..., RunningSandbox]) -> None:
    sandbox = make_sandbox(tpdi_failure_rate=1.0)
    with session(sandbox) as client:
        order = create_order(client, product_ids(client, "PHR", 2))
        client.post(f"{TPDI}/orders/{order['id']}/confirm").raise_for_status()
        advance(sandbox, 6 * STAGE_S)
        deliveries = client.get(f"{TPDI}/orders/{order['id']}/deliveries").json()["data"]
        for delivery in deliveries:
            assert_same_shape(FAILED_DELIVERY_EXAMPLE, delivery)
            assert delivery["status"] in ("DELIVERY_FAILED", "NON_INGESTIBLE", "IMPORT_FAILED")
        assert client.get(f"{TPDI}/orders/{order['id']}").json()["status"] == "FAILED"
        assert client.delete(f"{TPDI}/orders/{order['id']}").status_code == 204


def test_some_failed_deliveries_make_a_partial_order(make_sandbox: Callable[..., RunningSandbox]) -> None:
    sandbox = make_sandbox(tpdi_failure_rate=0.5)
    with session(sandbox) as client:
        order = create_order(client, product_ids(client, "PHR", 6))
        client.post(f"{TPDI}/orders/{order['id']}/confirm").raise_for_status()
        advance(sandbox, 6 * STAGE_S)
        statuses = {d["status"] for d in client.get(f"{TPDI}/orders/{order['id']}/deliveries").json()["data"]}
        assert "DONE" in statuses and statuses - {"DONE"}  # seed 7 fails some of these six, not all
        assert client.get(f"{TPDI}/orders/{order['id']}").json()["status"] == "PARTIAL"
        assert_boom(client.delete(f"{TPDI}/orders/{order['id']}"), 409, "COMMON_CONFLICT")


# --- files and archives --------------------------------------------------------------------------


def confirmed_delivery(sandbox: RunningSandbox, client: httpx.Client) -> str:
    """The URL of the single delivery of a freshly confirmed PHR order."""
    order = create_order(client, product_ids(client, "PHR", 1))
    client.post(f"{TPDI}/orders/{order['id']}/confirm").raise_for_status()
    delivery = client.get(f"{TPDI}/orders/{order['id']}/deliveries").json()["data"][0]
    return f"{TPDI}/orders/{order['id']}/deliveries/{delivery['id']}"


def test_files_wait_for_delivery_and_ranges_resume_downloads(make_sandbox: Callable[..., RunningSandbox]) -> None:
    sandbox = make_sandbox(product_size_bytes=300_000)
    with session(sandbox) as client:
        base = confirmed_delivery(sandbox, client)
        assert_boom(client.get(f"{base}/files"), 409, "COMMON_CONFLICT")
        assert_boom(client.get(f"{base}/files/VOL_PHR1.XML"), 409, "COMMON_CONFLICT")
        advance(sandbox, STAGE_S)
        files = client.get(f"{base}/files").json()
        assert_same_shape(FILES_EXAMPLE, files)
        assert "INDEX.HTM" in files and any(f.startswith("IMG_PHR1") and f.endswith(".JP2") for f in files)
        image = next(f for f in files if f.endswith(".JP2"))
        size = int(client.head(f"{base}/files/{image}").headers["content-length"])
        assert size > 250_000
        full = client.get(f"{base}/files/{image}").content
        assert len(full) == size
        head = client.get(f"{base}/files/{image}", headers={"Range": "bytes=0-99999"})
        assert head.status_code == 206 and head.headers["content-range"] == f"bytes 0-99999/{size}"
        rest = client.get(f"{base}/files/{image}", headers={"Range": f"bytes={len(head.content)}-"})
        assert rest.status_code == 206
        resumed = hashlib.md5(head.content + rest.content, usedforsecurity=False).hexdigest()
        assert resumed == hashlib.md5(full, usedforsecurity=False).hexdigest()
        assert client.get(f"{base}/files/{image}", headers={"Range": f"bytes={size}-"}).status_code == 416
        assert_boom(client.get(f"{base}/files/NOT_THERE.XML"), 404, "COMMON_NOT_FOUND")


def test_archive_is_prepared_on_the_clock_then_downloadable(make_sandbox: Callable[..., RunningSandbox]) -> None:
    sandbox = make_sandbox(product_size_bytes=200_000)
    with session(sandbox) as client:
        base = confirmed_delivery(sandbox, client)
        assert_boom(client.post(f"{base}/archive/create?format=zip"), 409, "COMMON_CONFLICT")
        advance(sandbox, STAGE_S)
        assert_boom(client.get(f"{base}/archive/status"), 404, "COMMON_NOT_FOUND")
        assert_boom(client.post(f"{base}/archive/create?format=tar"), 400, "COMMON_BAD_PAYLOAD")
        created = client.post(f"{base}/archive/create?format=zip").json()
        assert_same_shape(ARCHIVE_WAITING_EXAMPLE, created)
        assert (created["status"], created["size"], created["format"]) == ("WAITING", None, "zip")
        assert_boom(client.get(f"{base}/archive"), 409, "COMMON_CONFLICT")
        advance(sandbox, ARCHIVE_STAGE_S)
        assert client.get(f"{base}/archive/status?format=zip").json()["status"] == "PREPARING"
        advance(sandbox, ARCHIVE_STAGE_S)
        done = client.get(f"{base}/archive/status").json()
        assert_same_shape(ARCHIVE_EXAMPLE, done)
        assert done["status"] == "DONE" and done["requested"] == created["requested"]
        assert int(client.head(f"{base}/archive").headers["content-length"]) == done["size"]
        archive = client.get(f"{base}/archive?format=zip")
        assert archive.status_code == 200 and len(archive.content) == done["size"]
        with zipfile.ZipFile(io.BytesIO(archive.content)) as zipped:
            assert sorted(zipped.namelist()) == sorted(client.get(f"{base}/files").json())
            assert zipped.testzip() is None
        again = client.post(f"{base}/archive/create?format=zip").json()
        assert again["requested"] == created["requested"] and again["status"] == "DONE"


# --- quotas --------------------------------------------------------------------------------------


def test_quotas_on_the_legacy_and_current_paths(client: httpx.Client) -> None:
    legacy = client.get(f"{TPDI}/quotas").json()
    assert_same_shape(LEGACY_QUOTAS_EXAMPLE, legacy)
    assert {q["collectionId"] for q in legacy["data"]} == {"AIRBUS_PLEIADES", "AIRBUS_SPOT"}
    only = client.get(f"{TPDI}/quotas", params={"collectionId": "AIRBUS_SPOT"}).json()["data"]
    assert [q["collectionId"] for q in only] == ["AIRBUS_SPOT"]
    current = client.get(f"{TPDI}/accountquotas").json()
    assert_same_shape(ACCOUNT_QUOTAS_EXAMPLE, current)
    one = client.get(f"{TPDI}/accountquotas/AIRBUS_PLEIADES").json()
    assert_same_shape(QUOTA_EXAMPLE, one)
    assert one == {"collectionId": "AIRBUS_PLEIADES", "quotaSqkm": 5000.0, "quotaUsed": 0.0}
    filtered = client.get(f"{TPDI}/accountquotas", params={"collectionId": "AIRBUS_PLEIADES"}).json()["data"]
    assert filtered == [one]
    assert_boom(client.get(f"{TPDI}/accountquotas/MAXAR_WORLDVIEW"), 404, "COMMON_NOT_FOUND")


# --- persistence and faults ----------------------------------------------------------------------


def test_orders_quota_and_archives_survive_a_restart(tmp_path: Any) -> None:
    config = sandbox_config(tmp_path / "state")
    with running(config) as first, session(first) as client:
        base = confirmed_delivery(first, client)
        order_id = base.split("/")[-3]
        advance(first, STAGE_S)
        client.post(f"{base}/archive/create").raise_for_status()
        before = {
            "order": client.get(f"{TPDI}/orders/{order_id}").json(),
            "quota": client.get(f"{TPDI}/accountquotas/AIRBUS_PLEIADES").json(),
            "files": client.get(f"{base}/files").json(),
            "archive": client.get(f"{base}/archive/status").json(),
        }
    with running(config) as second, session(second) as client:
        after = {
            "order": client.get(f"{TPDI}/orders/{order_id}").json(),
            "quota": client.get(f"{TPDI}/accountquotas/AIRBUS_PLEIADES").json(),
            "files": client.get(f"{base}/files").json(),
            "archive": client.get(f"{base}/archive/status").json(),
        }
        assert after == before
        assert after["quota"]["quotaUsed"] > 0
        advance(second, 4 * STAGE_S)
        assert client.get(f"{TPDI}/orders/{order_id}").json()["status"] == "DONE"
        fresh = create_order(client, product_ids(client, "PHR", 1))
        assert fresh["id"] != order_id  # the id sequence carried on too


def test_rate_limit_is_a_boom_429_with_retry_after_in_milliseconds(
    make_sandbox: Callable[..., RunningSandbox],
) -> None:
    sandbox = make_sandbox(faults="429=1@sentinelhub.tpdi")
    with session(sandbox) as client:
        response = client.post(f"{TPDI}/search", json=search_body())
        assert_boom(response, 429, "RATE_LIMIT_EXCEEDED")
        assert response.headers["retry-after"] == "1000"
        assert client.get(f"{STAC}/collections").status_code == 200  # another fault group


def test_server_errors_on_the_token_endpoint_carry_an_error_body(make_sandbox: Callable[..., RunningSandbox]) -> None:
    sandbox = make_sandbox(faults="503=1@sentinelhub.auth")
    response = fetch_token(sandbox)
    assert_boom(response, 503, "COMMON_EXCEPTION")  # sentinelhub-py retries 5xx on the token endpoint


def test_order_timeout_leaves_the_order_in_place(make_sandbox: Callable[..., RunningSandbox]) -> None:
    sandbox = make_sandbox(faults="order_timeout=1:1s@sentinelhub.tpdi")
    with session(sandbox) as client:
        ids = product_ids(client, "PHR", 1)
        with pytest.raises(httpx.ReadTimeout):
            client.post(f"{TPDI}/orders", json=order_body(ids), timeout=0.3)
        orders = client.get(f"{TPDI}/orders").json()["data"]
        assert [(o["status"], o["input"]["data"][0]["products"]) for o in orders] == [("CREATED", [{"id": ids[0]}])]


def test_truncate_fault_cuts_a_file_download(make_sandbox: Callable[..., RunningSandbox]) -> None:
    sandbox = make_sandbox(product_size_bytes=200_000)
    with session(sandbox) as client:
        base = confirmed_delivery(sandbox, client)
        advance(sandbox, STAGE_S)
        image = next(f for f in client.get(f"{base}/files").json() if f.endswith(".JP2"))
        httpx.post(f"{sandbox.url}/_sandbox/faults", json={"spec": "truncate=1@sentinelhub.tpdi"}).raise_for_status()
        with pytest.raises(httpx.HTTPError):
            client.get(f"{base}/files/{image}")


# --- STAC catalog --------------------------------------------------------------------------------


def test_landing_page_and_conformance_are_public(shared_sandbox: RunningSandbox) -> None:
    landing = httpx.get(f"{shared_sandbox.url}{STAC}/").json()
    assert landing["stac_version"] == "1.0.0" and landing["type"] == "Catalog"
    searches = {link["method"] for link in landing["links"] if link["rel"] == "search"}
    assert searches == {"GET", "POST"}
    assert all(link["href"].startswith(shared_sandbox.url) for link in landing["links"])
    conformance = httpx.get(f"{shared_sandbox.url}{STAC}/conformance").json()
    assert conformance["conformsTo"] == landing["conformsTo"]
    assert "https://api.stacspec.org/v1.0.0/item-search" in conformance["conformsTo"]


def test_collections(client: httpx.Client) -> None:
    listed = client.get(f"{STAC}/collections").json()
    assert [c["id"] for c in listed["collections"]] == ["sentinel-2-l2a"]
    one = client.get(f"{STAC}/collections/sentinel-2-l2a").json()
    assert one["type"] == "Collection" and one["extent"]["spatial"]["bbox"]
    assert_boom(client.get(f"{STAC}/collections/sentinel-1-grd"), 404, "COMMON_NOT_FOUND")


def stac_truth(sandbox: RunningSandbox, geometry: BaseGeometry) -> list[str]:
    return catalog_truth_ids(sandbox.sandbox, visible_rows(sandbox, "stac", geometry))


def test_stac_post_search_pages_like_sentinelhub_py(shared_sandbox: RunningSandbox, client: httpx.Client) -> None:
    payload: dict[str, Any] = {
        "collections": ["sentinel-2-l2a"],
        "datetime": "2018-01-01T00:00:00Z/..",
        "intersects": TOULOUSE.geojson(),
        "limit": 100,
        "filter-lang": "cql2-text",
    }
    ids: list[str] = []
    pages = 0
    while True:  # CatalogSearchIterator: payload["next"] = results["context"].get("next")
        response = client.post(f"{STAC}/search", json=payload)
        assert response.status_code == 200, response.text
        results = response.json()
        assert_same_shape(STAC_SEARCH_SKELETON, results)
        last_page = {**STAC_SEARCH_EXAMPLE, "context": {"limit": 1, "returned": 1}}  # no `next` at the end
        assert_same_shape(STAC_SEARCH_EXAMPLE if "next" in results["context"] else last_page, results)
        ids.extend(feature["id"] for feature in results["features"])
        pages += 1
        payload["next"] = results["context"].get("next")
        if payload["next"] is None:
            assert not [link for link in results["links"] if link["rel"] == "next"]
            break
        assert [link["body"] for link in results["links"] if link["rel"] == "next"] == [{"next": payload["next"]}]
    truth = stac_truth(shared_sandbox, TOULOUSE.geometry)
    assert pages > 1
    assert len(ids) == len(set(ids))
    assert sorted(ids) == sorted(truth)


def test_stac_get_search_follows_next_links(shared_sandbox: RunningSandbox, client: httpx.Client) -> None:
    minx, miny, maxx, maxy = TOULOUSE.bounds
    params = {
        "collections": "sentinel-2-l2a",
        "datetime": "../2030-01-01T00:00:00Z",
        "bbox": f"{minx},{miny},{maxx},{maxy}",
    }
    url: str | None = f"{STAC}/search?{httpx.QueryParams({**params, 'limit': 100})}"
    ids: list[str] = []
    while url:
        page = client.get(url).json()
        assert page["context"]["returned"] == len(page["features"]) <= 100
        ids.extend(f["id"] for f in page["features"])
        url = next((link["href"] for link in page["links"] if link["rel"] == "next"), None)
    assert sorted(ids) == sorted(stac_truth(shared_sandbox, shapely.box(minx, miny, maxx, maxy)))
    assert len(ids) == len(set(ids))


def test_stac_items_are_real_stac_items(shared_sandbox: RunningSandbox, client: httpx.Client) -> None:
    body = {"collections": ["sentinel-2-l2a"], "datetime": "2024-01-01T00:00:00Z/2024-12-31T23:59:59Z", "limit": 3}
    feature = client.post(f"{STAC}/search", json={**body, "intersects": TOULOUSE.geojson()}).json()["features"][0]
    assert feature["stac_version"] == "1.0.0" and feature["collection"] == "sentinel-2-l2a"
    mission, level, sensing, baseline, orbit, tile, _ = feature["id"].split("_")
    assert (mission[:2], level, tile, baseline[0], orbit[0]) == ("S2", "MSIL2A", "T31TCJ", "N", "R")
    props = feature["properties"]
    assert props["platform"] == f"sentinel-2{mission[2].lower()}" and props["proj:epsg"] == 32631
    assert props["datetime"].startswith(f"{sensing[:4]}-{sensing[4:6]}-{sensing[6:8]}")
    assert shape(feature["geometry"]).intersects(TOULOUSE.geometry)
    self_link = next(link["href"] for link in feature["links"] if link["rel"] == "self")
    assert client.get(self_link).json() == feature
    thumbnail = httpx.get(feature["assets"]["thumbnail"]["href"])  # public, like Sentinel Hub's previews
    assert thumbnail.status_code == 200 and thumbnail.content[:3] == b"\xff\xd8\xff"
    assert_boom(client.get(f"{STAC}/collections/sentinel-2-l2a/items/S2A_MSIL2A_nothing"), 404, "COMMON_NOT_FOUND")
    by_id = client.post(f"{STAC}/search", json={**body, "ids": [feature["id"]]}).json()["features"]
    assert [f["id"] for f in by_id] == [feature["id"]]
    instant = client.post(f"{STAC}/search", json={**body, "datetime": props["datetime"], "ids": None}).json()
    assert feature["id"] in [f["id"] for f in instant["features"]]


def test_stac_collection_items_endpoint(client: httpx.Client) -> None:
    minx, miny, maxx, maxy = TOULOUSE.bounds
    page = client.get(
        f"{STAC}/collections/sentinel-2-l2a/items", params={"bbox": f"{minx},{miny},{maxx},{maxy}", "limit": 5}
    ).json()
    assert page["numberReturned"] == len(page["features"]) == 5 and page["timeStamp"]
    following = next(link["href"] for link in page["links"] if link["rel"] == "next")
    second = client.get(following).json()
    assert not {f["id"] for f in page["features"]} & {f["id"] for f in second["features"]}


def test_stac_search_filters_fields_and_limits(client: httpx.Client) -> None:
    base = {"collections": ["sentinel-2-l2a"], "datetime": "2018-01-01T00:00:00Z/..", "intersects": TOULOUSE.geojson()}
    clear = client.post(f"{STAC}/search", json={**base, "filter": "eo:cloud_cover < 20", "limit": 100}).json()
    assert clear["features"] and all(f["properties"]["eo:cloud_cover"] < 20 for f in clear["features"])
    cql_json = {"op": "<", "args": [{"property": "eo:cloud_cover"}, 20]}
    same = client.post(f"{STAC}/search", json={**base, "filter": cql_json, "filter-lang": "cql2-json", "limit": 100})
    assert [f["id"] for f in same.json()["features"]] == [f["id"] for f in clear["features"]]
    slim = client.post(f"{STAC}/search", json={**base, "fields": {"include": ["id", "properties.datetime"]}}).json()
    assert set(slim["features"][0]) == {"id", "type", "properties"}
    assert set(slim["features"][0]["properties"]) == {"datetime"}
    unbounded = client.post(f"{STAC}/search", json={**base, "datetime": "../..", "limit": 100}).json()
    assert unbounded["features"]
    clamped = client.post(f"{STAC}/search", json={**base, "limit": 1000}).json()
    assert clamped["context"]["limit"] == 100
    bad = [
        {**base, "limit": 0},
        {**base, "datetime": None},
        {**base, "collections": ["sentinel-1-grd"]},
        {**base, "bbox": [1, 43, 2, 44]},
        {**base, "datetime": "2020-01-01T00:00:00Z/2019-01-01T00:00:00Z"},
        {**base, "datetime": ".."},
        {**base, "datetime": "2020-13-45T00:00:00Z"},
        {**base, "filter": "view:sun_elevation > 3"},
        {**base, "next": -1},
    ]
    for body in bad:
        assert_boom(client.post(f"{STAC}/search", json=body), 400, "COMMON_BAD_PAYLOAD")
    assert_boom(client.get(f"{STAC}/search", params={"collections": "sentinel-2-l2a"}), 400, "COMMON_BAD_PAYLOAD")


def test_sentinel2_items_appear_once_published(make_sandbox: Callable[..., RunningSandbox]) -> None:
    sandbox = make_sandbox()
    world = sandbox.sandbox.world
    now = sandbox.sandbox.now_ns()
    rows = world.stac.rows
    upcoming = rows[world.acq.published_ns[rows] > now]
    row = upcoming[np.argmin(world.acq.published_ns[upcoming])]
    item_id = catalog_truth_ids(sandbox.sandbox, np.array([row]))[0]
    url = f"{STAC}/collections/sentinel-2-l2a/items/{item_id}"
    with session(sandbox) as client:
        assert client.get(url).status_code == 404
    wait_s = (int(world.acq.published_ns[row]) + int(world.visibility_lag_ns[row]) - now) / 1e9
    advance(sandbox, wait_s - 1)
    with session(sandbox) as client:  # a new token: the clock ran past the first one's hour
        assert client.get(url).status_code == 404
        advance(sandbox, 2)
        assert client.get(url).json()["id"] == item_id


def test_truth_ids_are_unique_and_well_formed(shared_sandbox: RunningSandbox) -> None:
    world = shared_sandbox.sandbox.world
    stac_ids = catalog_truth_ids(shared_sandbox.sandbox, world.stac.rows)
    assert len(set(stac_ids)) == len(stac_ids)
    assert all(len(i.split("_")) == 7 and i.startswith("S2") for i in stac_ids)
    tpdi_ids = import_truth_ids(shared_sandbox.sandbox, world.tpdi.rows[:100])
    assert [world.row_of_item_id(i) for i in tpdi_ids] == world.tpdi.rows[:100].tolist()
