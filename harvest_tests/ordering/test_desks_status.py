"""Each desk's status mapping (provider word → ProviderStatus) and deliverables, on httpx.MockTransport."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from harvest.delivery.deliverable import Deliverable
from harvest.ordering.desks.arlula import ArlulaDesk
from harvest.ordering.desks.oneatlas_data import DataApiDesk
from harvest.ordering.desks.oneatlas_order import AWAITING, IN_WORKSPACE, OrderApiDesk
from harvest.ordering.desks.sentinelhub import SentinelHubImportDesk
from harvest.ordering.model import ProviderOrder, ProviderStatus
from harvest.providers.arlula import ArlulaClient
from harvest.providers.http import ProviderHttp, RetryPolicy
from harvest.providers.oneatlas import OneAtlasClient
from harvest.providers.sentinelhub import SentinelHubClient
from harvest.providers.settings import ArlulaSettings, OneAtlasSettings, SentinelHubSettings

BASE = "http://provider.test"
MD5 = "0123456789ABCDEF0123456789ABCDEF"
A, D, F = ProviderStatus.ACCEPTED, ProviderStatus.DELIVERED, ProviderStatus.FAILED
Handler = Callable[[httpx.Request], httpx.Response]


def mock_http(handler: Handler) -> ProviderHttp:
    return ProviderHttp("Mock", transport=httpx.MockTransport(handler), retry=RetryPolicy(max_retries=0))


def head(request: httpx.Request, size: int, md5: str | None = None) -> httpx.Response:
    headers = {"Content-Length": str(size)}
    if md5:
        headers |= {"X-Ads-Checksum-Method": "md5", "X-Ads-Checksum-Value": md5}
    return httpx.Response(200, headers=headers, request=request)


def stub(order_id: str) -> ProviderOrder:
    return ProviderOrder("test", order_id, ProviderStatus.ACCEPTED)


@pytest.mark.parametrize(
    ("word", "expected"),
    [("ordered", A), ("delivered", D), ("failed", F), ("rejected", F), ("cancelled", F), ("archiving", A)],
)
def test_oneatlas_data_api(word: str, expected: ProviderStatus) -> None:
    download = f"{BASE}/oneatlas/data/api/v1/items/item-1/download"

    def handler(request: httpx.Request) -> httpx.Response:
        if request.method == "HEAD" and str(request.url) == download:
            return head(request, 2048, MD5)
        assert request.url.path == "/oneatlas/data/api/v1/orders/o-1"
        order = {"id": "o-1", "status": word, "price": 10, "payload": {"customerRef": "hvkey"}}
        if word == "delivered":
            order["deliveries"] = [{"id": "d-1", "itemId": "item-1", "_links": {"download": {"href": download}}}]
        return httpx.Response(200, json=order)

    desk = DataApiDesk(OneAtlasClient(OneAtlasSettings.from_env({}, BASE), http=mock_http(handler)))
    order = desk.status(stub("o-1"))
    assert (order.provider, order.order_id, order.status, order.detail) == ("oneatlas", "o-1", expected, word)
    if expected is D:
        assert order.deliverables == (Deliverable(download, "item-1.zip", 2048, MD5.lower()),)
    else:
        assert order.deliverables == ()


@pytest.mark.parametrize(
    ("tracked", "in_workspace", "expected", "detail"),
    [
        (None, False, A, AWAITING),  # SPOT/Pléiades: no tracking, not delivered yet
        ("IN_PROGRESS", False, A, "IN_PROGRESS"),
        ("DELIVERED", False, A, "DELIVERED"),  # tracking says so, but nothing to download yet
        ("CANCELLED", False, F, "CANCELLED"),
        (None, True, D, IN_WORKSPACE),
        ("IN_PROGRESS", True, D, IN_WORKSPACE),  # the workspace is the truth
    ],
)
def test_oneatlas_order_api(tracked: str | None, in_workspace: bool, expected: ProviderStatus, detail: str) -> None:
    download = f"{BASE}/oneatlas/data/api/v1/items/item-9/download"

    def handler(request: httpx.Request) -> httpx.Response:
        path = request.url.path
        if path == "/oneatlas/order/api/v1/contracts":
            delivery = [{"deliveryPlatformId": "PublicMOC", "deliveryWorkspace": "ws-1"}]
            return httpx.Response(200, json={"contracts": [{"contractId": "CTR1", "delivery": delivery}]})
        if path == "/oneatlas/search/api/v2/opensearch":
            body: dict[str, Any] = json.loads(request.content)
            assert body["workspace"] == "ws-1" and body["internalReference"] == "SAL1"
            features = []
            if in_workspace:
                polygon = {"type": "Polygon", "coordinates": [[[1, 43], [1.1, 43], [1.1, 43.1], [1, 43]]]}
                properties = {"id": "item-9", "internalReference": "SAL1", "customerReference": "hvkey"}
                links = {"download": [{"href": download, "name": "Download"}]}
                features = [{"type": "Feature", "geometry": polygon, "properties": properties, "_links": links}]
            return httpx.Response(200, json={"features": features, "totalResults": len(features), "startIndex": 0})
        if path == "/oneatlas/order/api/v2/orders/search":
            features = [] if tracked is None else [{"salesOrderId": "SAL1", "status": tracked}]
            return httpx.Response(200, json={"paging": {"totalResults": len(features)}, "features": features})
        if request.method == "HEAD" and str(request.url) == download:
            return head(request, 4096, MD5)
        raise AssertionError(f"unexpected {request.method} {request.url}")

    client = OneAtlasClient(OneAtlasSettings.from_env({}, BASE), http=mock_http(handler))
    order = OrderApiDesk(client, notification_email="ops@example.org").status(stub("SAL1"))
    assert (order.order_id, order.status, order.detail) == ("SAL1", expected, detail)
    assert order.deliverables == ((Deliverable(download, "item-9.zip", 4096, MD5.lower()),) if expected is D else ())


@pytest.mark.parametrize(
    ("word", "expected"),
    [("created", A), ("pending", A), ("processing", A), ("post-processing", A), ("manual", A),
     ("complete", D), ("failed", F), ("rejected", F), ("cancelled", F), ("queued-somewhere", A)],
)  # fmt: skip
def test_arlula(word: str, expected: ProviderStatus) -> None:
    resource = {"id": "r-1", "name": "SCENE_B4.TIF", "size": 63242112, "checksum": f'md5:"{MD5}"'}
    fetched: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        fetched.append(request.url.path)
        if request.url.path == "/arlula/api/dataset/ds-2":  # a dataset listed without its resources
            return httpx.Response(200, json={"id": "ds-2", "resources": [{**resource, "id": "r-2", "checksum": None}]})
        assert request.url.path == "/arlula/api/order/o-1"
        listed = [resource] if word == "complete" else []
        datasets = [{"id": "ds-1", "status": word, "resources": listed}, {"id": "ds-2"}]
        return httpx.Response(200, json={"id": "o-1", "status": word, "datasets": datasets})

    desk = ArlulaDesk(ArlulaClient(ArlulaSettings.from_env({}, BASE), http=mock_http(handler)))
    order = desk.status(stub("o-1"))
    assert (order.provider, order.status, order.detail) == ("arlula", expected, word)
    if expected is D:
        assert order.deliverables == (
            Deliverable(f"{BASE}/arlula/api/resource/r-1/data", "SCENE_B4.TIF", 63242112, MD5.lower()),
            Deliverable(f"{BASE}/arlula/api/resource/r-2/data", "SCENE_B4.TIF", 63242112, None),
        )
        assert fetched == ["/arlula/api/order/o-1", "/arlula/api/dataset/ds-2"]
    else:
        assert order.deliverables == () and fetched == ["/arlula/api/order/o-1"]


@pytest.mark.parametrize(
    ("word", "expected"),
    [("CREATED", A), ("RUNNING", A), ("DONE", D), ("PARTIAL", D), ("FAILED", F), ("CANCELLED", F), ("PAUSED", A)],
)
def test_sentinelhub_import(word: str, expected: ProviderStatus) -> None:
    orders = "/sentinelhub/api/v1/dataimport/orders/o-1"
    deliveries = [{"id": "d-1", "status": "DONE"}, {"id": "d-2", "status": "DELIVERY_FAILED"}]

    def handler(request: httpx.Request) -> httpx.Response:
        path = request.url.path
        if path == orders:
            return httpx.Response(200, json={"id": "o-1", "name": "hvkey", "status": word, "sqkm": 1.5})
        if path == f"{orders}/deliveries":
            return httpx.Response(200, json={"data": deliveries, "links": {}})
        if path == f"{orders}/deliveries/d-1/files":
            return httpx.Response(200, json=["VOL_PHR.XML", "IMG_PHR1A_P_001/IMG_R1C1.JP2"])
        if request.method == "HEAD" and path.startswith(f"{orders}/deliveries/d-1/files/"):
            return head(request, len(path))
        raise AssertionError(f"unexpected {request.method} {request.url}")  # d-2 failed: no files asked for

    desk = SentinelHubImportDesk(SentinelHubClient(SentinelHubSettings.from_env({}, BASE), http=mock_http(handler)))
    order = desk.status(stub("o-1"))
    assert (order.provider, order.status, order.detail) == ("sentinelhub-import", expected, word)
    names = [d.filename for d in order.deliverables]
    assert names == (["VOL_PHR.XML", "IMG_PHR1A_P_001/IMG_R1C1.JP2"] if expected is D else [])
    assert all(d.url.endswith("/d-1/files/" + d.filename) and d.size and d.md5 is None for d in order.deliverables)


def test_an_unknown_status_word_is_logged(caplog: pytest.LogCaptureFixture) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json={"id": "o-1", "status": "teleporting"})

    desk = DataApiDesk(OneAtlasClient(OneAtlasSettings.from_env({}, BASE), http=mock_http(handler)))
    with caplog.at_level(logging.WARNING):
        assert desk.status(stub("o-1")).status is ProviderStatus.ACCEPTED
    assert "unknown order status 'teleporting'" in caplog.text
