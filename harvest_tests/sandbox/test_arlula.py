"""The Arlula simulator over real loopback HTTP: contracts, search, ordering, downloads and faults."""

from __future__ import annotations

import base64
import hashlib
import json
import math
import re
import threading
from collections.abc import Callable, Iterator
from datetime import date, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pytest
import shapely
from shapely.geometry import Polygon

from harvest.aois import load_aois
from harvest.providers.sandbox_endpoints import ARLULA_API_KEY, ARLULA_API_SECRET
from harvest.sandbox.arlula import truth_ids
from harvest.sandbox.arlula.suppliers import CENTS_PER_KM2, SUPPLIERS
from harvest.sandbox.arlula.webhooks import WEBHOOKS
from harvest.sandbox.server import RunningSandbox, running
from harvest.sandbox.world.sensors import SENSOR_BY_PLATFORM
from harvest.timestamps import NS_PER_DAY, NS_PER_S, day_start_ns, parse_ns
from harvest_tests.conftest import advance, sandbox_config
from harvest_tests.contract import assert_same_shape

AUTH = (ARLULA_API_KEY, ARLULA_API_SECRET)
WINDOW = {"start": "2026-01-01", "end": "2026-10-31"}
AOIS = load_aois().by_id()
STAGE_S = 60.0

# --- documented examples -----------------------------------------------------------------------

# Seed 004, Search Result. The seed's own example writes `seats` as one object, but its Pricing
# Object section documents `seats` as an array of {min, max, additional}; the array is used here.
SEED_SEARCH_RESULT = {
    "supplier": "", "eula": "", "id": "", "sceneID": "", "date": "", "center": {"lat": 0, "long": 0},
    "bounding": [], "area": 0, "overlap": {"area": 0, "percent": {"scene": 0, "search": 0}, "polygon": []},
    "price": {"base": 0, "seats": [{"min": 0, "max": 0, "additional": 0}]}, "fulfillment": 0, "resolution": 0,
    "thumbnail": "", "cloud": 0, "annotations": [],
}  # fmt: skip
SEED_RESOURCE = {"id": "", "createdAt": "", "updatedAt": "", "order": "", "name": "", "type": ""}
SEED_DETAILED_ORDER = {
    "id": "", "createdAt": "", "updatedAt": "", "supplier": "", "imageryID": "", "sceneID": "", "status": "",
    "total": 0, "type": "", "expiration": None, "resources": [SEED_RESOURCE],
}  # fmt: skip
SEED_ORDER = {
    "id": "", "supplier": "", "imageryID": "", "status": "", "total": 0, "sceneID": "", "type": "",
    "expiration": None,
}  # fmt: skip

# docs/providers.md#arlula-archive-search (search response) and docs/providers.md#arlula-orders-datasets-and-resources
DOCUMENTED_SEARCH_RESPONSE = {
    "state": "", "errors": [], "warnings": [],
    "results": [{
        "sceneID": "LC08_L1TP_089083_20200112_20200127_01_T1", "supplier": "landsat", "platform": "landsat-8",
        "date": "2020-01-12T23:49:36.123Z", "thumbnail": "https://api.arlula.com/api/archive/thumbnail?id=...",
        "cloud": 3.2, "offNadir": 0.0, "gsd": 15,
        "bands": [{"name": "Red", "id": "B4", "min": 636, "max": 673}],
        "area": 34200.5, "center": {"lat": -33.87, "long": 151.21},
        "bounding": [[[150.1, -33.2], [152.3, -33.2], [152.3, -35.0], [150.1, -35.0], [150.1, -33.2]]],
        "overlap": {"area": 25.0, "percent": {"scene": 0.07, "search": 100},
                    "polygon": [[[151.17, -33.90], [151.26, -33.90], [151.26, -33.94], [151.17, -33.90]]]},
        "fulfillmentTime": 0, "orderingID": "eyJhbGciOiJIUzI1NiJ9.eyJzY2VuZSI6Ii4uLiJ9.AYTqwM",
        "bundles": [{"name": "Default", "key": "default", "bands": [], "price": 0}],
        "licenses": [{"name": "Standard", "href": "https://api.arlula.com/eula/landsat", "loadingPercent": 0,
                      "loadingAmount": 0}],
        "annotations": ["PONT: Your Point search was enlarged to an area centered on your search to meet ..."],
    }],
}  # fmt: skip
DOCUMENTED_RESOURCE = {
    "id": "9d1e", "createdAt": "…", "updatedAt": "…", "dataset": "b7adb198-…", "name": "LC08_…_B4.TIF",
    "type": "img_tiff", "format": "image/tiff", "roles": ["data"], "size": 63242112,
    "checksum": 'md5:"3b5d5c3712955042212316173ccf37be"',
}  # fmt: skip
DOCUMENTED_DATASET = {
    "id": "b7adb198-…", "createdAt": "…", "updatedAt": "…", "type": "archive", "status": "complete",
    "supplier": "landsat", "orderingID": "eyJ…", "sceneID": "LC08_…", "bundle": "default", "eula": "https://…",
    "total": 0, "discount": 0, "tax": 0, "refunded": 0, "order": "cade11f4-…", "campaign": None,
    "aoi": [[[151.17, -33.90], [151.26, -33.90], [151.26, -33.94], [151.17, -33.94], [151.17, -33.90]]],
    "datetime": "2020-01-12T23:49:36Z", "expiration": "2024-09-15T01:02:03Z", "resources": [DOCUMENTED_RESOURCE],
}  # fmt: skip
DOCUMENTED_ORDER = {
    "id": "cade11f4-8b4d-43e1-8cb1-3bce85111a01", "createdAt": "2024-08-15T01:02:03Z",
    "updatedAt": "2024-08-15T01:02:03Z", "status": "pending", "total": 0, "discount": 0, "tax": 0, "refunded": 0,
    "paymentMethod": None, "campaigns": [], "datasets": [{"id": "3f47…", "status": "pending"}],
}  # fmt: skip
DOCUMENTED_ORDER_LIST = {
    "content": [{k: v for k, v in DOCUMENTED_ORDER.items() if k not in ("campaigns", "datasets")}],
    "page": 0, "length": 20, "count": 137,
}  # fmt: skip


# --- helpers -----------------------------------------------------------------------------------


def api(sandbox: RunningSandbox, **options: Any) -> httpx.Client:
    """A client for the Arlula API of a sandbox, with valid credentials."""
    return httpx.Client(base_url=f"{sandbox.url}/arlula", auth=AUTH, timeout=options.pop("timeout", 30), **options)


def ring(aoi_id: str) -> list[list[float]]:
    geometry = AOIS[aoi_id].geometry
    assert isinstance(geometry, shapely.Polygon)
    return [list(point) for point in geometry.exterior.coords]


def box_ring(west: float, south: float, east: float, north: float) -> list[list[float]]:
    return [[west, south], [east, south], [east, north], [west, north], [west, south]]


def search(client: httpx.Client, **body: Any) -> list[dict[str, Any]]:
    """POST /api/archive/search and return the results (asserting a 200 envelope)."""
    response = client.post("/api/archive/search", json={"gsd": 1000, **WINDOW, **body})
    assert response.status_code == 200, response.text
    return response.json()["results"]


def first(results: list[dict[str, Any]], supplier: str, skip: int = 0) -> dict[str, Any]:
    return [r for r in results if r["supplier"] == supplier][skip]


def bundle(result: dict[str, Any], key: str) -> dict[str, Any]:
    return next(b for b in result["bundles"] if b["key"] == key)


def license_(result: dict[str, Any], name: str) -> dict[str, Any]:
    return next(lic for lic in result["licenses"] if lic["name"] == name)


def dollars_up(cents: float) -> int:
    return math.ceil(cents / 100) * 100


def order_line(result: dict[str, Any], bundle_key: str, license_name: str = "Standard") -> dict[str, Any]:
    return {"id": result["orderingID"], "eula": license_(result, license_name)["href"], "bundleKey": bundle_key}


def md5_hex(data: bytes) -> str:
    return hashlib.md5(data, usedforsecurity=False).hexdigest()


def md5_of(checksum: str) -> str:
    match = re.fullmatch(r'md5:"([0-9a-f]{32})"', checksum)
    assert match, checksum
    return match.group(1)


def polygon_of(rings: list[list[list[float]]]) -> Polygon:
    return Polygon(rings[0], rings[1:])


class _Receiver(BaseHTTPRequestHandler):
    received: list[dict[str, Any]]

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length", "0"))
        self.received.append(json.loads(self.rfile.read(length)))
        self.send_response(204)
        self.end_headers()

    def log_message(self, format: str, *args: object) -> None:
        del format, args


@pytest.fixture
def webhook_receiver() -> Iterator[tuple[str, list[dict[str, Any]]]]:
    """(URL, bodies received) of a tiny local HTTP server that accepts webhook POSTs."""
    received: list[dict[str, Any]] = []
    handler = type("Receiver", (_Receiver,), {"received": received})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/hooks/arlula", received
    finally:
        server.shutdown()
        server.server_close()


# --- authentication ----------------------------------------------------------------------------


def test_basic_auth_is_required_and_api_test_checks_it(shared_sandbox: RunningSandbox) -> None:
    base = f"{shared_sandbox.url}/arlula"
    wrong = base64.b64encode(f"{ARLULA_API_KEY}:nope".encode()).decode()
    for headers in ({}, {"Authorization": f"Basic {wrong}"}, {"Authorization": "Bearer abc"}):
        for path in ("/api/test", "/api/orders", "/api/order/list"):
            response = httpx.get(base + path, headers=headers)
            assert response.status_code == 401
            assert response.json()["error"]
    point = {"latLong": {"latitude": 0, "longitude": 0}}
    assert httpx.post(base + "/api/archive/search", json={"gsd": 1, **WINDOW, **point}).status_code == 401
    with api(shared_sandbox) as client:
        for version in ({}, {"X-API-Version": "2023-01"}, {"X-API-Version": "2024-07"}, {"X-API-Version": "2020-12"}):
            assert client.get("/api/test", headers=version).status_code == 200


# --- search: contracts -------------------------------------------------------------------------


def test_current_search_matches_the_documented_shape(shared_sandbox: RunningSandbox) -> None:
    with api(shared_sandbox) as client:
        response = client.post("/api/archive/search", json={"gsd": 1000, **WINDOW, "polygon": [ring("toulouse")]})
    assert response.status_code == 200
    body = response.json()
    assert {r["supplier"] for r in body["results"]} == set(SUPPLIERS)
    assert_same_shape(DOCUMENTED_SEARCH_RESPONSE, body)
    for result in body["results"]:
        assert result["thumbnail"].startswith(f"{shared_sandbox.url}/arlula/")
        assert len(result["bounding"][0]) == 5 and result["bounding"][0][0] == result["bounding"][0][-1]


def test_seed_search_matches_the_seed_example(shared_sandbox: RunningSandbox) -> None:
    with api(shared_sandbox) as client:
        response = client.get(
            "/api/search", params={"start": "2026-01-01", "end": "2026-10-31", "res": "vlow", "north": 43.64,
                                   "south": 43.58, "east": 1.48, "west": 1.40},
        )  # fmt: skip
    assert response.status_code == 200
    results = response.json()
    assert isinstance(results, list) and {r["supplier"] for r in results} == set(SUPPLIERS)
    for result in results:
        assert_same_shape(SEED_SEARCH_RESULT, result)
        assert isinstance(result["bounding"][0][0], float)  # [][]number: a single ring of [long, lat]
        assert isinstance(result["overlap"]["polygon"][0][0], float)


# --- search: behaviour -------------------------------------------------------------------------


@pytest.mark.parametrize("aoi_id", sorted(AOIS))
def test_polygon_search_returns_exactly_the_ground_truth(shared_sandbox: RunningSandbox, aoi_id: str) -> None:
    sandbox = shared_sandbox.sandbox
    first_day, last_day = date(2026, 3, 1), date(2026, 8, 31)
    with api(shared_sandbox) as client:
        results = search(client, start=str(first_day), end=str(last_day), cloud=100, polygon=[ring(aoi_id)])
    now = sandbox.now_ns()
    world, view = sandbox.world, sandbox.world.arlula
    rows = world.rows_intersecting(AOIS[aoi_id].geometry)
    rows = rows[view.contains(rows)]
    rows = rows[view.state(now).visible[view.position(rows)]]
    acquired = world.acq.acquired_ns[rows]
    rows = rows[(acquired >= day_start_ns(first_day)) & (acquired < day_start_ns(last_day) + NS_PER_DAY)]
    expected = truth_ids(sandbox, rows)
    assert len(expected) > 20
    assert sorted(r["sceneID"] for r in results) == sorted(expected)
    assert len(set(expected)) == len(expected)


def test_bbox_across_the_antimeridian(shared_sandbox: RunningSandbox) -> None:
    sandbox = shared_sandbox.sandbox
    box = {"north": -16.6, "south": -17.1, "east": -179.8, "west": 179.7}
    with api(shared_sandbox) as client:
        results = search(client, boundingBox=box)
    world, view = sandbox.world, sandbox.world.arlula
    halves = shapely.union(shapely.box(179.7, -17.1, 180, -16.6), shapely.box(-180, -17.1, -179.8, -16.6))
    rows = world.rows_intersecting(halves)
    rows = rows[view.contains(rows)]
    rows = rows[view.state(sandbox.now_ns()).visible[view.position(rows)]]
    acquired = world.acq.acquired_ns[rows]
    rows = rows[(acquired >= parse_ns("2026-01-01")) & (acquired < parse_ns("2026-11-01"))]
    assert len(rows) > 10
    assert sorted(r["sceneID"] for r in results) == sorted(truth_ids(sandbox, rows))
    for result in results:
        assert all(-180 <= lon <= 180 for lon, _ in result["overlap"]["polygon"][0])


def test_airbus_scene_ids_are_oneatlas_archive_identifiers(shared_sandbox: RunningSandbox) -> None:
    with api(shared_sandbox) as client:
        results = search(client, supplier="airbus", polygon=[ring("rotterdam-port")])
    assert results
    assert all(re.fullmatch(r"DS_(PHR1[AB]|PNEO[34]|SPOT[67])_\d{15}_\w+", r["sceneID"]) for r in results)
    assert {r["platform"] for r in results} <= {"PHR1A", "PHR1B", "PNEO3", "PNEO4", "SPOT6", "SPOT7"}


def test_gsd_is_required_and_bad_requests_are_400(shared_sandbox: RunningSandbox) -> None:
    point = {"latLong": {"latitude": 43.6, "longitude": 1.44}}
    bodies = [
        {**WINDOW, **point},  # no gsd
        {"gsd": 1, **point},  # no start
        {"gsd": 1, "start": "2026-02-01", "end": "2026-01-01", **point},  # end before start
        {"gsd": 1, **WINDOW},  # no geometry
        {"gsd": 1, **WINDOW, **point, "boundingBox": {"north": 1, "south": 0, "east": 1, "west": 0}},
        {"gsd": 1, **WINDOW, "polygon": "POLYGON ((0 0, 1 1"},
        {"gsd": 1, **WINDOW, **point, "cloud": 120},
        {"gsd": 1, **WINDOW, **point, "sort": {"field": "price"}},
        {"gsd": 1, **WINDOW, "latLong": {"latitude": 95, "longitude": 0}},
    ]
    with api(shared_sandbox) as client:
        for body in bodies:
            response = client.post("/api/archive/search", json=body)
            assert response.status_code == 400, body
            assert response.json()["error"]
        assert client.post("/api/archive/search", content=b"{not json").status_code == 400
        assert client.get("/api/search", params={"start": "2026-01-01", "lat": 1, "long": 1}).status_code == 400


def test_point_bbox_and_polygon_searches(shared_sandbox: RunningSandbox) -> None:
    west, south, east, north = 1.40, 43.58, 1.48, 43.64
    box = {"north": north, "south": south, "east": east, "west": west}
    with api(shared_sandbox) as client:
        by_polygon = search(client, polygon=[box_ring(west, south, east, north)])
        by_wkt = search(client, polygon=shapely.box(west, south, east, north).wkt)
        by_bbox = search(client, boundingBox=box)
        by_point = search(client, latLong={"latitude": 43.61, "longitude": 1.44})
        legacy_both = client.get("/api/search", params={**WINDOW, "res": 1000, "lat": 43.61, "long": 1.44, **box})
        legacy_point = client.get("/api/search", params={**WINDOW, "res": 1000, "lat": 43.61, "long": 1.44})
        by_get = client.get("/api/archive/search", params={**WINDOW, "gsd": 1000, **box})
    assert by_polygon and [r["sceneID"] for r in by_polygon] == [r["sceneID"] for r in by_bbox]
    assert [r["overlap"] for r in by_polygon] == [r["overlap"] for r in by_bbox] == [r["overlap"] for r in by_wkt]
    assert by_get.status_code == 200 and by_get.json()["results"] == by_bbox
    for result in by_point:
        assert result["overlap"]["percent"]["search"] == -1
        if result["supplier"] == "landsat":
            assert result["annotations"] == ["NAOI: This supplier does not support AOI imagery ordering"]
        else:
            assert result["annotations"][0].startswith("PONT: ") and result["annotations"][0].endswith("25sqkm")
            # a square centred on the point, grown where the scene's edge cuts it
            assert 25 <= result["overlap"]["area"] < 80
            assert polygon_of(result["overlap"]["polygon"]).contains(shapely.Point(1.44, 43.61))
    inside = [r for r in by_point if r["supplier"] != "landsat" and r["overlap"]["percent"]["scene"] < 50]
    assert sum(r["overlap"]["area"] < 26 for r in inside) > len(inside) / 2
    assert legacy_both.status_code == legacy_point.status_code == 200
    assert legacy_both.json() == legacy_point.json()  # a point wins over a bounding box (seed 004)
    assert {r["sceneID"] for r in legacy_point.json()} == {r["sceneID"] for r in by_point}


def test_small_areas_are_enlarged_to_the_minimum_order(shared_sandbox: RunningSandbox) -> None:
    tiny = shapely.box(1.440, 43.600, 1.444, 43.603)  # about 0.1 km²
    with api(shared_sandbox) as client:
        results = search(client, polygon=[[list(p) for p in tiny.exterior.coords]])
        covering = search(client, boundingBox={"north": 46, "south": 41, "east": 4, "west": -1}, supplier="siwei 21at")
    assert results
    for result in results:
        overlap = result["overlap"]
        if result["supplier"] == "landsat":
            assert result["annotations"] == ["NAOI: This supplier does not support AOI imagery ordering"]
            continue
        assert result["annotations"] == [
            "ENLR: The intersection of your search area and this scene was less than the suppliers minimum "
            "order of 25sqkm, the AOI was enlarged to meet the minimum order"
        ]
        assert overlap["area"] >= 25 and overlap["percent"]["search"] > 10_000
        footprint = polygon_of(result["bounding"])
        if footprint.contains(tiny):
            assert polygon_of(overlap["polygon"]).buffer(1e-6).contains(tiny)
    covr = "COVR: Your AOI covers this whole scene. Pricing is for the whole scene"
    whole = [r for r in covering if covr in r["annotations"]]
    assert whole
    for result in whole:
        assert result["overlap"]["percent"]["scene"] == 100
        assert result["overlap"]["area"] == pytest.approx(result["area"], rel=1e-3)


def test_dates_are_whole_inclusive_days_in_either_key_style(shared_sandbox: RunningSandbox) -> None:
    polygon = {"polygon": [ring("sydney-harbour")]}
    with api(shared_sandbox) as client:
        sample = search(client, **polygon)[3]
        day = date.fromisoformat(sample["date"][:10])

        def ids(**dates: str) -> set[str]:
            return {r["sceneID"] for r in search(client, **polygon, **dates)}

        same_day = ids(start=str(day), end=str(day))
        assert sample["sceneID"] in same_day
        assert sample["sceneID"] in ids(start=str(day - timedelta(days=3)), end=str(day))
        assert sample["sceneID"] in ids(start=str(day), end=str(day + timedelta(days=3)))
        assert sample["sceneID"] not in ids(start=str(day + timedelta(days=1)), end=str(day + timedelta(days=3)))
        assert sample["sceneID"] not in ids(start=str(day - timedelta(days=3)), end=str(day - timedelta(days=1)))
        node_style = ids(start="", end="", startDate=f"{day}T00:00:00.000Z", endDate=f"{day}T00:00:00.000Z")
        assert node_style == same_day
        assert all(r["date"].startswith(str(day)) for r in search(client, **polygon, start=str(day), end=str(day)))


def test_supplier_cloud_off_nadir_and_gsd_filters(shared_sandbox: RunningSandbox) -> None:
    polygon = {"polygon": [ring("toulouse")]}
    with api(shared_sandbox) as client:
        everything = search(client, **polygon)
        picked = search(client, **polygon, supplier="AIRBUS Landsat")
        response = client.post("/api/archive/search", json={"gsd": 1000, **WINDOW, **polygon, "supplier": "acme"})
        clear = search(client, **polygon, cloud=10)
        steep = search(client, **polygon, offNadir=5)
        sharp = search(client, **polygon, gsd=0.5)
        very_high = client.get("/api/search", params={**WINDOW, "res": "very high", "lat": 43.6, "long": 1.44}).json()
    assert {r["supplier"] for r in picked} == {"airbus", "landsat"}
    assert len(picked) == sum(r["supplier"] in ("airbus", "landsat") for r in everything)
    assert response.json()["results"] == [] and response.json()["warnings"]
    assert clear and all(r["cloud"] <= 10 for r in clear) and len(clear) < len(everything)
    assert steep and all(r["offNadir"] <= 5 for r in steep) and len(steep) < len(everything)
    assert sharp and all(r["gsd"] <= 0.5 for r in sharp)
    assert very_high and {r["resolution"] for r in very_high} == {0.3}


def test_sorting(shared_sandbox: RunningSandbox) -> None:
    polygon = {"polygon": [ring("rondonia-frontier")]}
    with api(shared_sandbox) as client:
        default = search(client, **polygon)
        by_cloud = search(client, **polygon, sort={"field": "cloud", "ascending": True})
        by_overlap = search(client, **polygon, sort={"field": "overlap.area", "ascending": False})
    dates = [r["date"] for r in default]
    assert dates == sorted(dates, reverse=True)
    assert [r["cloud"] for r in by_cloud] == sorted(r["cloud"] for r in by_cloud)
    areas = [r["overlap"]["area"] for r in by_overlap]
    assert areas == sorted(areas, reverse=True)


def test_prices_are_deterministic_cents_per_km2(shared_sandbox: RunningSandbox) -> None:
    polygon = {"polygon": [ring("toulouse")]}
    with api(shared_sandbox) as client:
        results = search(client, **polygon)
        again = search(client, **polygon)
        legacy = client.get("/api/search", params={**WINDOW, "res": 1000, "lat": 43.61, "long": 1.44}).json()
    assert results == again
    for result in results:
        constellation = SENSOR_BY_PLATFORM[result["platform"]].constellation
        visual = bundle(result, "default" if result["supplier"] == "landsat" else "visual")
        ordered_km2 = result["area"] if result["supplier"] == "landsat" else result["overlap"]["area"]
        assert visual["price"] == pytest.approx(ordered_km2 * CENTS_PER_KM2[constellation], abs=1)
        assert all(isinstance(b["price"], int) for b in result["bundles"])
    phr = next(r for r in results if r["platform"].startswith("PHR"))
    assert bundle(phr, "visual")["price"] == pytest.approx(phr["overlap"]["area"] * 1000, abs=1)
    assert license_(phr, "Multi-organisation")["loadingPercent"] == 50
    for result in legacy:
        if result["supplier"] == "landsat":
            assert result["price"] == {"base": 0, "seats": []}
            continue
        assert result["price"]["base"] % 100 == 0 and result["price"]["base"] >= 100
        assert result["price"]["seats"][0] == {"min": 1, "max": 1, "additional": 0}
        assert result["price"]["seats"][1]["min"] == 2 and result["price"]["seats"][1]["max"] == 0


def test_thumbnails_are_public_jpegs(shared_sandbox: RunningSandbox) -> None:
    with api(shared_sandbox) as client:
        result = search(client, polygon=[ring("taveuni-fiji")])[0]
    response = httpx.get(result["thumbnail"])  # no credentials
    assert response.status_code == 200
    assert response.headers["content-type"] == "image/jpeg" and response.content[:3] == b"\xff\xd8\xff"
    assert httpx.get(f"{shared_sandbox.url}/arlula/api/archive/thumbnail?id=nope").status_code == 404
    eula = httpx.get(license_(result, "Standard")["href"])
    assert eula.status_code == 200 and "license" in eula.text


def test_searches_follow_publication_and_deletion(make_sandbox: Callable[..., RunningSandbox]) -> None:
    sandbox = make_sandbox()
    world = sandbox.sandbox.world
    now = sandbox.sandbox.now_ns()
    delay = world.delay_ns
    acq = world.acq
    rows = world.arlula.rows
    soon = rows[(acq.published_ns[rows] + delay > now) & (acq.published_ns[rows] + delay < now + NS_PER_DAY)]
    doomed = rows[(acq.deleted_ns[rows] + delay > now) & (acq.deleted_ns[rows] + delay < now + 60 * NS_PER_DAY)]
    assert len(soon) and len(doomed)
    new_row, gone_row = int(soon[0]), int(doomed[0])
    new_id, gone_id = truth_ids(sandbox.sandbox, np.array([new_row, gone_row]))

    def found(client: httpx.Client, row: int) -> set[str]:
        day = np.datetime_as_string(np.datetime64(int(acq.acquired_ns[row]), "ns"), unit="D")
        point = {"latitude": float(acq.lat[row]), "longitude": float(acq.lon[row])}
        return {r["sceneID"] for r in search(client, start=str(day), end=str(day), latLong=point)}

    with api(sandbox) as client:
        assert new_id not in found(client, new_row)
        assert gone_id in found(client, gone_row)
        advance(sandbox, (int(acq.published_ns[new_row]) + delay - now) / NS_PER_S + 1)
        assert new_id in found(client, new_row)
        advance(sandbox, (int(acq.deleted_ns[gone_row]) + delay - sandbox.sandbox.now_ns()) / NS_PER_S + 1)
        assert gone_id not in found(client, gone_row)


# --- ordering ----------------------------------------------------------------------------------


def test_invalid_orders_are_400(shared_sandbox: RunningSandbox) -> None:
    with api(shared_sandbox) as client:
        result = first(search(client, polygon=[ring("toulouse")]), "airbus")
        header, payload, signature = result["orderingID"].split(".")
        claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
        claims["km2"] = 1.0
        forged = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
        good = order_line(result, "visual")
        bodies = [
            {**good, "id": f"{header}.{forged}.{signature}"},  # tampered AOI
            {**good, "id": "not-an-ordering-id"},
            {**good, "id": result["orderingID"][:-2]},
            {**good, "eula": "https://api.arlula.com/eula/someone-else"},
            {**good, "eula": None},
            {**good, "eula": "http://[::1"},
            {**good, "bundleKey": "ultra"},
            {**good, "webhooks": "http://example.org/hook"},
            {**good, "webhooks": ["ftp://example.org/hook"]},
            {**good, "webhooks": ["http://"]},
        ]
        for body in bodies:
            response = client.post("/api/archive/order", json=body)
            assert response.status_code == 400, body
            assert response.json()["error"]
        assert client.post("/api/archive/order/batch", json={"orders": []}).status_code == 400
        batch = client.post("/api/archive/order/batch", json={"orders": [good, {**good, "bundleKey": "ultra"}]})
        assert batch.status_code == 400 and "orders[1]" in batch.json()["error"]
        legacy = {"id": result["orderingID"], "eula": license_(result, "Standard")["href"]}
        assert client.post("/api/order/new", json={**legacy, "seats": 0}).status_code == 400
        assert client.post("/api/order/new", json={**legacy, "eula": "x"}).status_code == 400
        assert client.get("/api/order/not-a-uuid").status_code == 400
        assert client.get("/api/order/3f2504e0-4f89-41d3-9a0c-0305e82c3301").status_code == 404
        assert client.get("/api/dataset/3f2504e0-4f89-41d3-9a0c-0305e82c3301").status_code == 404
        assert client.get("/api/orders", params={"page": -1}).status_code == 400


def test_order_lifecycle_lists_and_webhook(
    make_sandbox: Callable[..., RunningSandbox], webhook_receiver: tuple[str, list[dict[str, Any]]]
) -> None:
    hook_url, received = webhook_receiver
    sandbox = make_sandbox(arlula_stage_s=STAGE_S, arlula_expiry_days=30.0)
    with api(sandbox) as client:
        results = search(client, polygon=[ring("toulouse")])
        pleiades, other = first(results, "airbus"), first(results, "airbus", skip=1)
        siwei, landsat = first(results, "siwei"), first(results, "landsat")

        line = order_line(pleiades, "analytic", "Multi-organisation")
        response = client.post(
            "/api/archive/order",
            json={**line, "webhooks": [hook_url, "http://127.0.0.1:9/unreachable"], "emails": ["ops@example.org"]},
        )
        assert response.status_code == 200, response.text
        order = response.json()
        assert_same_shape(DOCUMENTED_ORDER, order)
        assert order["status"] == "pending"
        assert order["total"] == dollars_up(bundle(pleiades, "analytic")["price"] * 1.5)
        (dataset,) = order["datasets"]
        assert dataset["orderingID"] == pleiades["orderingID"] and dataset["sceneID"] == pleiades["sceneID"]
        assert dataset["aoi"] == pleiades["overlap"]["polygon"]
        assert dataset["bundle"] == "analytic" and dataset["expiration"] is None and dataset["resources"] == []

        statuses = []
        for _ in range(3):
            statuses.append(client.get(f"/api/order/{order['id']}").json()["status"])
            advance(sandbox, STAGE_S)
        done = client.get(f"/api/order/{order['id']}").json()
        assert statuses == ["pending", "processing", "post-processing"] and done["status"] == "complete"
        advance(sandbox, STAGE_S)  # later ticks never send again
        assert len(received) == 1
        event = received[0]
        assert event["event"] == "archive.order.complete"
        assert parse_ns(event["timestamp"]) == parse_ns(order["createdAt"]) + int(3 * STAGE_S * NS_PER_S)
        assert event["payload"]["id"] == order["id"] and event["payload"]["status"] == "complete"
        assert event["payload"]["datasets"][0]["resources"]
        attempts = sandbox.sandbox.state.all(WEBHOOKS)
        assert sorted(a["url"] for a in attempts) == sorted([hook_url, "http://127.0.0.1:9/unreachable"])
        assert {a["url"]: a["status"] for a in attempts}[hook_url] == 204
        assert next(a for a in attempts if a["url"] != hook_url)["error"]

        full = client.get(f"/api/dataset/{dataset['id']}").json()
        assert_same_shape(DOCUMENTED_DATASET, full)
        completed = parse_ns(order["createdAt"]) + int(3 * STAGE_S * NS_PER_S)
        assert parse_ns(full["expiration"]) == completed + 30 * NS_PER_DAY
        assert {r["type"] for r in full["resources"]} >= {"img_tiff", "thumb"}

        batch = client.post(
            "/api/archive/order/batch",
            json={"orders": [order_line(other, "visual"), order_line(siwei, "panchromatic", "Media and publication")]},
        )
        assert batch.status_code == 200
        assert len(batch.json()["datasets"]) == 2
        assert batch.json()["total"] == dollars_up(bundle(other, "visual")["price"]) + dollars_up(
            bundle(siwei, "panchromatic")["price"] + 25_000
        )
        legacy_body = {"id": landsat["orderingID"], "eula": license_(landsat, "Standard")["href"], "seats": 1}
        legacy = client.post("/api/order/new", json=legacy_body)
        assert legacy.status_code == 200
        assert_same_shape(SEED_DETAILED_ORDER, legacy.json())
        assert legacy.json()["status"] == "complete" and legacy.json()["expiration"] is None  # landsat: instant, public

        listing = client.get("/api/orders").json()
        assert_same_shape(DOCUMENTED_ORDER_LIST, listing)
        assert listing["count"] == 3 and listing["page"] == 0 and listing["length"] == 20
        assert all("datasets" not in o and "campaigns" not in o for o in listing["content"])
        page = client.get("/api/orders", params={"page": 1, "size": 2}).json()
        assert page["count"] == 3 and page["length"] == 2 and [o["id"] for o in page["content"]] == [order["id"]]
        datasets = client.get("/api/datasets").json()
        assert datasets["count"] == 4 and all("resources" not in d for d in datasets["content"])
        assert client.get(f"/api/order/{batch.json()['id']}/datasets").json()["count"] == 2

        legacy_list = client.get("/api/order/list").json()
        assert len(legacy_list) == 4
        for entry in legacy_list:
            assert_same_shape(SEED_ORDER, entry)
        detailed = client.get("/api/order/get", params={"id": dataset["id"]}).json()
        assert_same_shape(SEED_DETAILED_ORDER, detailed)
        assert detailed["imageryID"] == pleiades["orderingID"] and detailed["status"] == "complete"
        assert [r["id"] for r in detailed["resources"]] == [r["id"] for r in full["resources"]]
        assert client.get(f"/api/order/{legacy.json()['id']}").status_code == 404  # a dataset, not an Order
        landsat_order = next(o for o in listing["content"] if o["total"] == 0)
        landsat_dataset = client.get(f"/api/order/{landsat_order['id']}").json()["datasets"][0]
        assert landsat_dataset["id"] == legacy.json()["id"] and landsat_dataset["status"] == "complete"


def test_downloads_redirect_resume_checksum_and_expire(make_sandbox: Callable[..., RunningSandbox]) -> None:
    sandbox = make_sandbox(arlula_stage_s=STAGE_S, arlula_expiry_days=30.0, product_size_bytes=300_000)
    with api(sandbox) as client:
        result = first(search(client, polygon=[ring("rotterdam-port")]), "21at")
        order = client.post("/api/archive/order", json=order_line(result, "visual")).json()
        dataset_id = order["datasets"][0]["id"]
        advance(sandbox, 3 * STAGE_S)
        dataset = client.get(f"/api/dataset/{dataset_id}").json()
        resource = next(r for r in dataset["resources"] if r["type"] == "img_tiff")
        assert_same_shape(DOCUMENTED_RESOURCE, client.get(f"/api/resource/{resource['id']}").json())

        redirect = client.get(f"/api/resource/{resource['id']}/data")
        assert redirect.status_code == 302
        filename = re.search(r'"([\w\.]+)"', redirect.headers["content-disposition"])
        assert filename and filename.group(1) == resource["name"]
        location = redirect.headers["location"]
        assert location.startswith(f"{sandbox.url}/arlula/storage/")

        head = httpx.head(location)
        assert head.status_code == 200 and int(head.headers["content-length"]) == resource["size"]
        whole = httpx.get(location)  # no credentials
        assert whole.status_code == 200 and len(whole.content) == resource["size"]
        assert md5_hex(whole.content) == md5_of(resource["checksum"])
        part = httpx.get(location, headers={"Range": "bytes=0-99999"})
        rest = httpx.get(location, headers={"Range": "bytes=100000-"})
        assert part.status_code == rest.status_code == 206
        assert part.content + rest.content == whole.content
        with_auth = httpx.get(location, auth=AUTH)  # ignored by default
        assert with_auth.status_code == 200 and with_auth.content == whole.content
        token = location.split("/")[-2]
        forged = location.replace(token, token[:-3] + ("AAA" if not token.endswith("AAA") else "BBB"))
        assert httpx.get(forged).status_code == 403

        legacy = client.get("/api/order/resource/get", params={"id": resource["id"]})
        assert legacy.status_code == 302
        assert legacy.headers["content-disposition"] == redirect.headers["content-disposition"]
        followed = client.get(f"/api/resource/{resource['id']}/data", follow_redirects=True)
        assert followed.status_code == 200 and followed.content == whole.content

        advance(sandbox, 30 * 86_400 - 1)
        assert client.get(f"/api/resource/{resource['id']}/data").status_code == 302
        advance(sandbox, 2)
        gone = client.get(f"/api/resource/{resource['id']}/data")
        assert gone.status_code == 410 and gone.json()["error"]
        assert client.get("/api/order/resource/get", params={"id": resource["id"]}).status_code == 410
        assert client.get("/api/order/get", params={"id": dataset_id}).json()["expiration"] == dataset["expiration"]


def test_orders_survive_a_restart(tmp_path: Path) -> None:
    config = sandbox_config(tmp_path / "restarted", arlula_stage_s=STAGE_S)
    with running(config) as sandbox, api(sandbox) as client:
        results = search(client, polygon=[ring("sydney-harbour")])
        placed = client.post("/api/archive/order", json=order_line(first(results, "airbus"), "visual")).json()
        advance(sandbox, STAGE_S)
        kept_for_later = first(results, "siwei")
    with running(config) as sandbox, api(sandbox) as client:
        listing = client.get("/api/orders").json()
        assert [o["id"] for o in listing["content"]] == [placed["id"]]
        again = client.get(f"/api/order/{placed['id']}").json()
        assert again["status"] == "processing" and again["datasets"][0]["id"] == placed["datasets"][0]["id"]
        assert client.post("/api/archive/order", json=order_line(kept_for_later, "visual")).status_code == 200
        advance(sandbox, 2 * STAGE_S)
        assert client.get(f"/api/order/{placed['id']}").json()["status"] == "complete"


def test_order_timeout_and_download_faults(make_sandbox: Callable[..., RunningSandbox]) -> None:
    sandbox = make_sandbox(faults="order_timeout=1:0.5s@arlula", arlula_storage_refuses_auth=True)

    def set_faults(spec: str) -> None:
        httpx.post(f"{sandbox.url}/_sandbox/faults", json={"spec": spec}).raise_for_status()

    with api(sandbox) as client:
        result = first(search(client, polygon=[ring("toulouse")]), "landsat")
        line = {"id": result["orderingID"], "eula": license_(result, "Standard")["href"], "bundleKey": "default"}
        with api(sandbox, timeout=0.2) as impatient, pytest.raises(httpx.ReadTimeout):
            impatient.post("/api/archive/order", json=line)
        datasets = client.get("/api/datasets").json()
        assert datasets["count"] == 1 and datasets["content"][0]["orderingID"] == result["orderingID"]
        assert client.get("/api/orders").json()["count"] == 1

        set_faults("")
        dataset = client.get(f"/api/dataset/{datasets['content'][0]['id']}").json()
        resource = next(r for r in dataset["resources"] if r["type"] == "img_tiff")
        location = client.get(f"/api/resource/{resource['id']}/data").headers["location"]
        assert httpx.get(location, auth=AUTH).status_code == 400  # this sandbox's storage refuses credentials

        set_faults("truncate=1@arlula.storage")
        with pytest.raises(httpx.HTTPError):
            httpx.get(location)
        set_faults("corrupt=1@arlula.storage")
        corrupt = httpx.get(location)
        assert corrupt.status_code == 200 and len(corrupt.content) == resource["size"]
        assert md5_hex(corrupt.content) != md5_of(resource["checksum"])
        set_faults("")
        clean = httpx.get(location)
        assert md5_hex(clean.content) == md5_of(resource["checksum"])
