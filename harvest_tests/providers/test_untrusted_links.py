"""Credentials go only to a provider's configured hosts: links in answers that name another host are refused.

Two loopback servers play the provider (its configured URLs) and a stranger (another port, so
another origin). The provider's answers link to the stranger; the stranger must receive nothing.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import shapely

from harvest.ordering.desks.oneatlas_data import DataApiDesk
from harvest.ordering.model import ProviderOrder, ProviderStatus
from harvest.providers.arlula import ArlulaClient
from harvest.providers.auth import BasicAuth
from harvest.providers.errors import UntrustedOrigin
from harvest.providers.http import ProviderHttp
from harvest.providers.oneatlas import OneAtlasClient
from harvest.providers.origins import origin_of
from harvest.providers.secrets import Secret
from harvest.providers.sentinelhub import SentinelHubClient
from harvest.providers.settings import ArlulaSettings, OneAtlasSettings, SentinelHubSettings
from harvest_tests.hostile import HostileServer, Reply, Request, hostile_server

TOKEN = {"access_token": "provider-token-0123456789", "expires_in": 3600, "token_type": "bearer"}


@pytest.fixture
def stranger() -> Iterator[HostileServer]:
    """A server on another origin that answers everything, and records who knocked."""
    with hostile_server(lambda request, reply: reply.json(200, {"data": [], "links": {}})) as server:
        yield server


@contextlib.contextmanager
def provider(answer: Callable[[Request, Reply], None]) -> Iterator[HostileServer]:
    """The provider's own host: tokens at the usual path, everything else from `answer`."""

    def handle(request: Request, reply: Reply) -> None:
        if request.path.endswith("/openid-connect/token"):
            reply.json(200, TOKEN)
        else:
            answer(request, reply)

    with hostile_server(handle) as server:
        yield server


def sentinelhub(url: str) -> SentinelHubClient:
    env = {
        "SENTINELHUB_CLIENT_ID": "live-client",
        "SENTINELHUB_CLIENT_SECRET": "live-secret-value",
        "SENTINELHUB_URL": url,
    }
    return SentinelHubClient(SentinelHubSettings.from_env(env), requests_per_s=None)


def oneatlas(url: str) -> OneAtlasClient:
    env = {"ONEATLAS_API_KEY": "live-oneatlas-key-123"}
    env |= {f"ONEATLAS_{name}_URL": url for name in ("AUTH", "SEARCH", "DATA", "ORDER", "ACCESS")}
    return OneAtlasClient(OneAtlasSettings.from_env(env), requests_per_s=None)


SEARCH_CALLS: dict[str, Callable[[SentinelHubClient], object]] = {
    "import search": lambda client: list(
        client.import_search(
            constellation="PHR", geometry=shapely.box(1, 43, 2, 44), time_from="2026-11-01", time_to="2026-11-02"
        )
    ),
    "order list": lambda client: list(client.orders()),
    "deliveries": lambda client: client.deliveries("order-1"),
}


@pytest.mark.parametrize("call", SEARCH_CALLS, ids=list(SEARCH_CALLS))
def test_a_sentinelhub_next_link_to_another_host_is_refused(call: str, stranger: HostileServer) -> None:
    def first_page(request: Request, reply: Reply) -> None:
        reply.json(200, {"data": [], "features": [], "links": {"next": f"{stranger.url}/api/v1/steal?page=2"}})

    with provider(first_page) as server:
        client = sentinelhub(server.url)
        with pytest.raises(UntrustedOrigin) as caught:
            SEARCH_CALLS[call](client)
        client.close()
    assert stranger.requests == []  # not the token, not the body: nothing at all
    message = str(caught.value)
    assert origin_of(stranger.url) in message and "configured hosts" in message
    assert "provider-token" not in message and "live-secret" not in message


def test_a_oneatlas_download_link_on_another_host_gets_no_token_and_lands_nothing(stranger: HostileServer) -> None:
    def delivered(request: Request, reply: Reply) -> None:
        href = f"{stranger.url}/api/v1/items/item-1/download"
        delivery = {"itemId": "item-1", "_links": {"download": {"href": href}}}
        reply.json(200, {"id": "order-1", "status": "delivered", "deliveries": [delivery]})

    with provider(delivered) as server:
        desk = DataApiDesk(oneatlas(server.url))
        with pytest.raises(UntrustedOrigin, match="not one of its configured hosts"):
            desk.status(ProviderOrder("oneatlas", "order-1", ProviderStatus.ACCEPTED))
        desk.close()
    assert stranger.requests == []  # neither HEAD nor GET reached it


def test_a_link_on_the_configured_host_is_followed_with_credentials() -> None:
    seen: list[str] = []

    def pages(request: Request, reply: Reply) -> None:
        seen.append(request.headers.get("authorization", ""))
        following = f"http://{request.host}/api/v1/dataimport/orders?viewtoken=2"
        more = {"next": following} if "viewtoken" not in request.query else {}
        reply.json(200, {"data": [{"id": f"o{len(seen)}"}], "links": more})

    with provider(pages) as server:
        client = sentinelhub(server.url)
        assert [order["id"] for order in client.orders()] == ["o1", "o2"]
        client.close()
    assert seen == ["Bearer provider-token-0123456789"] * 2


def test_storage_redirects_go_anywhere_but_without_credentials(tmp_path: Path) -> None:
    from harvest.delivery.deliverable import Deliverable
    from harvest.delivery.download import download

    def storage(request: Request, reply: Reply) -> None:
        reply.send(200, b"the product", {"Content-Type": "application/octet-stream"})

    with hostile_server(storage) as bucket:
        location = f"{bucket.url}/bucket/f.tif"
        with provider(lambda request, reply: reply.send(302, headers={"Location": location})) as server:
            settings = ArlulaSettings.from_env(
                {"ARLULA_API_KEY": "live-key", "ARLULA_API_SECRET": "live-secret-value", "ARLULA_URL": server.url}
            )
            client = ArlulaClient(settings, requests_per_s=None)
            deliverable = Deliverable(url=f"{server.url}/api/resource/r1/data", filename="f.tif", size=11)
            landed = download(client.http, deliverable, tmp_path)
            client.close()
    assert landed.path.read_bytes() == b"the product"
    assert [request.headers.get("authorization") for request in bucket.requests] == [None]
    assert server.requests[0].headers.get("authorization", "").startswith("Basic ")


def test_credentials_without_origins_are_refused_at_construction() -> None:
    with pytest.raises(ValueError, match="origins="):
        ProviderHttp("Arlula", auth=BasicAuth("key", Secret("secret-value-123")))


def test_every_client_trusts_exactly_its_configured_hosts() -> None:
    hub = SentinelHubSettings.from_env(
        {
            "SENTINELHUB_CLIENT_ID": "c",
            "SENTINELHUB_CLIENT_SECRET": "s-value",
            "SENTINELHUB_AUTH_URL": "https://login.example.com",
        }
    )
    assert SentinelHubClient(hub).http.origins == {"https://services.sentinel-hub.com", "https://login.example.com"}
    atlas = OneAtlasSettings.from_env(
        {"ONEATLAS_API_KEY": "k" * 12, "ONEATLAS_DATA_URL": "https://data.example.com:8443/"}
    )
    assert OneAtlasClient(atlas).http.origins == {
        "https://authenticate.foundation.api.oneatlas.airbus.com",
        "https://search.foundation.api.oneatlas.airbus.com",
        "https://data.example.com:8443",
        "https://order.api.oneatlas.airbus.com",
        "https://access.foundation.api.oneatlas.airbus.com",
    }
    arlula = ArlulaSettings.from_env({"ARLULA_API_KEY": "k", "ARLULA_API_SECRET": "s-value"})
    assert ArlulaClient(arlula).http.origins == {"https://api.arlula.com"}


@pytest.mark.parametrize(
    ("url", "origin"),
    [
        ("https://API.Example.com/x?y=1", "https://api.example.com"),
        ("https://api.example.com:443/x", "https://api.example.com"),
        ("http://127.0.0.1:8765/oneatlas/auth", "http://127.0.0.1:8765"),
        ("http://127.0.0.1/x", "http://127.0.0.1"),
        ("https://api.example.com:8443", "https://api.example.com:8443"),
    ],
)
def test_origins_are_scheme_host_and_port(url: str, origin: str) -> None:
    assert origin_of(url) == origin


def test_an_authenticated_download_from_another_host_is_refused(stranger: HostileServer, tmp_path: Path) -> None:
    from harvest.delivery.deliverable import Deliverable
    from harvest.delivery.download import download

    http = ProviderHttp("OneAtlas", auth=BasicAuth("key", Secret("secret-value-123")), origins=["https://data.example"])
    with pytest.raises(UntrustedOrigin):
        download(http, Deliverable(url=f"{stranger.url}/product.zip", filename="product.zip"), tmp_path / "order")
    assert stranger.requests == []
    assert sorted(p.name for p in tmp_path.rglob("*") if p.is_file()) == []
