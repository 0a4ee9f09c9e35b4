"""OneAtlas ordering on the sandbox: data.api `kind` orders and order.api SAL orders, to delivery."""

from __future__ import annotations

import hashlib
import zipfile
from io import BytesIO
from typing import Any

import pytest

from harvest.aois import load_aois
from harvest.sandbox.server import RunningSandbox
from harvest_tests.conftest import advance
from harvest_tests.sandbox.oneatlas_session import OneAtlasSession

TOULOUSE = load_aois().by_id()["toulouse"]


def sensor_item(session: OneAtlasSession, constellation: str = "PHR") -> dict[str, Any]:
    features = session.search_ok(
        geometry=TOULOUSE.geojson(), constellation=constellation, processingLevel="SENSOR", itemsPerPage=20
    )["features"]
    return features[0]


def data_order_body(item_id: str, reference: str = "ref-1") -> dict[str, Any]:
    return {
        "kind": "order.data.product",
        "products": [
            {
                "productType": "bundle",
                "radiometricProcessing": "REFLECTANCE",
                "imageFormat": "image/jp2",
                "crsCode": "urn:ogc:def:crs:EPSG::4326",
                "id": item_id,
                "aoi": TOULOUSE.geojson(),
            }
        ],
        "customerRef": reference,
    }


def sales_order_body(feature: dict[str, Any], contract: str = "CTR-SANDBOX-LEGACY") -> dict[str, Any]:
    product_type = {"PHR": "PleiadesArchiveMono", "SPOT": "SpotArchiveMono", "PNEO": "PleiadesNeoArchiveMono"}[
        feature["properties"]["constellation"]
    ]
    return {
        "contractId": contract,
        "customerReference": "Polygon 1",
        "primaryMarket": "NQUAL",
        "aoi": [{"id": 1, "name": "Polygon 1", "geometry": TOULOUSE.geojson()}],
        "items": [
            {
                "productTypeId": product_type,
                "dataSourceIds": [{"catalogId": "PublicMOC", "catalogItemId": feature["properties"]["id"]}],
                "datastripIds": [feature["properties"]["archiveIdentifier"]],
                "aoiId": 1,
            }
        ],
        "optionsPerProductType": [
            {"productTypeId": product_type, "options": [{"key": "spectral_processing", "value": "bundle"}]}
        ],
        "endUsers": [{}],
        "notificationEmails": ["ops@example.org"],
    }


@pytest.fixture
def sandbox(make_sandbox) -> RunningSandbox:
    return make_sandbox()


def test_me_shows_contract_balance_and_workspace(sandbox: RunningSandbox) -> None:
    me = OneAtlasSession(sandbox).client.get("/oneatlas/data/api/v1/me").json()
    contract = me["contract"]
    assert contract["balance"] == 250_000 and contract["workspaceId"] and contract["workspaceName"]
    assert me["_links"]["self"]["href"].startswith(sandbox.url)


def test_data_api_price_order_delivery_and_download(sandbox: RunningSandbox) -> None:
    session = OneAtlasSession(sandbox)
    item = sensor_item(session)
    body = data_order_body(item["properties"]["id"])
    price = session.client.post("/oneatlas/data/api/v1/prices", json=body).json()
    assert price["orderable"] == "ok" and price["price"]["credits"] == price["deliveries"][0]["price"] > 0
    assert price["deliveries"][0]["datas"]["sourceId"] == item["properties"]["archiveIdentifier"]

    created = session.client.post("/oneatlas/data/api/v1/orders", json=body)
    assert created.status_code == 201 and created.json()["status"] == "ordered"
    order_id = created.json()["id"]
    assert session.client.get(f"/oneatlas/data/api/v1/orders/{order_id}").json()["status"] == "ordered"
    balance = session.client.get("/oneatlas/data/api/v1/me").json()["contract"]["balance"]
    assert balance == 250_000 - price["price"]["credits"]

    advance(sandbox, 130)  # delivery takes 120 s of sandbox time, plus the visibility delay
    order = session.client.get(f"/oneatlas/data/api/v1/orders/{order_id}").json()
    assert order["status"] == "delivered"
    href = order["deliveries"][0]["_links"]["download"]["href"]
    listed = session.client.get("/oneatlas/data/api/v1/orders", params={"customerRef": "ref-1"}).json()
    assert listed["totalResults"] == 1 and listed["items"][0]["id"] == order_id

    head = session.client.head(href)
    full = session.client.get(href)
    assert head.status_code == full.status_code == 200
    assert head.headers["x-ads-checksum-method"] == "md5"
    assert head.headers["x-ads-checksum-value"] == hashlib.md5(full.content).hexdigest()
    assert int(head.headers["content-length"]) == len(full.content)
    assert zipfile.ZipFile(BytesIO(full.content)).testzip() is None
    tail = session.client.get(href, headers={"Range": "bytes=1000-"})
    assert tail.status_code == 206 and full.content[:1000] + tail.content == full.content

    # the delivery is in the private workspace, found by its customer reference
    workspace = session.search_ok(workspace="sandbox-workspace", customerReference="ref-1")
    assert workspace["totalResults"] == 1
    assert workspace["features"][0]["_links"]["download"][0]["href"] == href


def test_downloading_a_public_item_is_permission_denied(sandbox: RunningSandbox) -> None:
    session = OneAtlasSession(sandbox)
    item = sensor_item(session)
    response = session.client.get(f"/oneatlas/data/api/v1/items/{item['properties']['id']}/download")
    assert response.status_code == 403 and "permission denied" in response.json()["message"]


def test_data_api_refuses_bad_orders(sandbox: RunningSandbox) -> None:
    session = OneAtlasSession(sandbox)
    album = session.search_ok(geometry=TOULOUSE.geojson(), processingLevel="ALBUM", itemsPerPage=1)["features"][0]
    far_away = {"type": "Polygon", "coordinates": [[[10, 10], [10.1, 10], [10.1, 10.1], [10, 10.1], [10, 10]]]}
    item_id = sensor_item(session)["properties"]["id"]
    cases = [
        ({**data_order_body(item_id), "kind": "order.nope"}, 400),
        (data_order_body(album["properties"]["id"]), 400),
        (data_order_body("dd2595dd-30c8-455a-aeb0-bf1237dee598"), 404),
        ({**data_order_body(item_id), "products": [{**data_order_body(item_id)["products"][0], "aoi": far_away}]}, 400),
    ]
    for body, status in cases:
        response = session.client.post("/oneatlas/data/api/v1/orders", json=body)
        assert response.status_code == status, response.text
        assert response.json()["message"]
    assert session.client.get("/oneatlas/data/api/v1/orders").json()["totalResults"] == 0


def test_order_api_contracts_product_types_prices_and_sal_orders(sandbox: RunningSandbox) -> None:
    session = OneAtlasSession(sandbox)
    contracts = session.client.get("/oneatlas/order/api/v1/contracts").json()["contracts"]
    assert {c["backendSource"] for c in contracts} == {"legacy", "neo"}
    assert isinstance(contracts[0]["creditRemaining"], str)
    types = session.client.get("/oneatlas/order/api/v1/contracts/CTR-SANDBOX-LEGACY/productTypes").json()
    assert {t["productTypeId"] for t in types["productTypes"]} == {"PleiadesArchiveMono", "SpotArchiveMono"}

    feature = sensor_item(session)
    body = sales_order_body(feature)
    quote = session.client.post("/oneatlas/order/api/v1/prices", json=body)
    assert quote.status_code == 201 and quote.json()["currency"] == "EUR" and quote.json()["totalAmount"] >= 250
    created = session.client.post("/oneatlas/order/api/v1/orders", json=body)
    assert created.status_code == 201
    sales_order = created.json()["salesOrderId"]
    assert sales_order.startswith("SAL") and created.json()["totalAmount"] == quote.json()["totalAmount"]
    assert session.search_ok(workspace="sandbox-workspace", internalReference=sales_order)["totalResults"] == 0

    advance(sandbox, 130)
    delivered = session.search_ok(workspace="sandbox-workspace", internalReference=sales_order)["features"]
    assert len(delivered) == 1
    props = delivered[0]["properties"]
    assert props["customerReference"] == "Polygon 1" and props["productionStatus"] == "IN_CLOUD"
    assert props["archiveIdentifier"] == feature["properties"]["archiveIdentifier"]
    download = session.client.get(delivered[0]["_links"]["download"][0]["href"])
    assert download.status_code == 200 and download.headers["x-ads-checksum-value"]


def test_order_api_errors_have_its_own_shapes(sandbox: RunningSandbox) -> None:
    session = OneAtlasSession(sandbox)
    feature = sensor_item(session)
    unknown = session.client.post("/oneatlas/order/api/v1/orders", json=sales_order_body(feature, "CTR-NOPE"))
    assert unknown.status_code == 404 and unknown.json() == {
        "errorCode": "E2203",
        "message": "CIS contract 'CTR-NOPE' not found.",
    }
    incomplete = session.client.post("/oneatlas/order/api/v1/orders", json={"contractId": "CTR-SANDBOX-LEGACY"})
    assert incomplete.status_code == 400 and set(incomplete.json()) == {"errorCode", "message"}
    session.client.headers["Authorization"] = "Bearer not.a.token"
    assert session.client.get("/oneatlas/order/api/v1/contracts").json() == {
        "message": "Authentication failed (cause: Invalid token)"
    }


def test_pneo_orders_are_tracked_by_customer_reference(sandbox: RunningSandbox) -> None:
    session = OneAtlasSession(sandbox)
    feature = sensor_item(session, "PNEO")
    body = sales_order_body(feature, "CTR-SANDBOX-NEO")
    body["customerReference"] = "neo-ref-42"
    sales_order = session.client.post("/oneatlas/order/api/v1/orders", json=body).json()["salesOrderId"]
    query = {"paging": {"itemsPerPage": 25, "startIndex": 0}, "criteria": {"q": "(customerReference:*ref-42*)"}}
    tracked = session.client.post("/oneatlas/order/api/v2/orders/search", json=query).json()
    assert [f["salesOrderId"] for f in tracked["features"]] == [sales_order]
    assert tracked["features"][0]["status"] == "IN_PROGRESS"
    advance(sandbox, 130)
    tracked = session.client.post("/oneatlas/order/api/v2/orders/search", json=query).json()
    assert tracked["features"][0]["status"] == "DELIVERED"
