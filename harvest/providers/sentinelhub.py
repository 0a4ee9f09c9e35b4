"""Sentinel Hub: third-party data import (AIRBUS search, order quotes, confirmation, deliveries) and STAC search.

Import search pages by re-POSTing the same body to `links.next` until it is absent; the catalog
pages with `context.next`, sent back in the body. Retry-After arrives in milliseconds. No page is
trusted (`paging.iter_pages`): a page holding more than asked, one that repeats an earlier page,
empty pages that keep linking on, or an import search that stops linking before its
`totalResults` raises `InconsistentPage`.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

import httpx
import orjson
import shapely
from shapely.geometry.base import BaseGeometry

from harvest.providers.auth import ClientCredentialsAuth
from harvest.providers.errors import ProviderError
from harvest.providers.http import ProviderHttp, RetryPolicy, session_for
from harvest.providers.oneatlas_wire import CatalogItem, ImportPage, decode_import_page
from harvest.providers.paging import Listing, iter_pages
from harvest.providers.settings import SentinelHubSettings

CRS84 = "http://www.opengis.net/def/crs/OGC/1.3/CRS84"
CATALOG = "/api/v1/catalog/1.0.0"
IMPORT = "/api/v1/dataimport"


class SentinelHubClient:
    """Talks to Sentinel Hub with OAuth2 client credentials through one shared, retrying session."""

    def __init__(
        self,
        settings: SentinelHubSettings,
        *,
        http: ProviderHttp | None = None,
        requests_per_s: float | None = 10.0,
        import_page_size: int = 50,
        catalog_page_size: int = 100,
    ) -> None:
        self.settings = settings
        self.import_page_size = import_page_size
        self.catalog_page_size = catalog_page_size
        auth = ClientCredentialsAuth(settings.client_id, settings.client_secret, settings.token_url)
        retry = RetryPolicy(retry_after_unit="ms")  # Sentinel Hub's Retry-After is in milliseconds
        self.http = http or session_for("Sentinel Hub", auth, settings, requests_per_s=requests_per_s, retry=retry)

    def close(self) -> None:
        self.http.close()

    # -- third-party data import -----------------------------------------------------------------

    def import_search(
        self,
        *,
        constellation: str,
        geometry: BaseGeometry,
        time_from: str,
        time_to: str,
        max_cloud: float = 100.0,
        processing_level: str | None = None,
    ) -> Iterator[CatalogItem]:
        """AIRBUS products (typed OneAtlas features) over `geometry`, acquired in [time_from, time_to] (ISO)."""
        data_filter: dict[str, Any] = {"timeRange": {"from": time_from, "to": time_to}, "maxCloudCoverage": max_cloud}
        if processing_level:
            data_filter["processingLevel"] = processing_level
        body = {
            "provider": "AIRBUS",
            "bounds": {"geometry": shapely.geometry.mapping(geometry), "properties": {"crs": CRS84}},
            "data": [{"constellation": constellation, "dataFilter": data_filter}],
        }
        first = f"{self.settings.url}{IMPORT}/search?count={self.import_page_size}"

        def fetch(url: str) -> ImportPage:
            return decode_import_page(self.http.request("POST", url, json=body, idempotent=True).content)

        for page in iter_pages(
            fetch, first, lambda page: page.next, listing=Listing("Sentinel Hub", "POST", first, "links.next"),
            items_of=lambda page: page.items, key_of=lambda item: item.id, asked=self.import_page_size,
            total_of=lambda page: page.total,
        ):  # fmt: skip
            yield from page.items

    def create_order(self, body: Mapping[str, Any]) -> dict[str, Any]:
        """POST /dataimport/orders: an unconfirmed order, i.e. a quote with its `sqkm`; never re-sent blindly."""
        return self.http.request_json("POST", f"{self.settings.url}{IMPORT}/orders", json=dict(body))

    def confirm_order(self, order_id: str) -> dict[str, Any]:
        """POST …/orders/{id}/confirm: spends quota; a second confirm answers 409, so it is not blindly repeated."""
        return self.http.request_json("POST", f"{self.settings.url}{IMPORT}/orders/{order_id}/confirm")

    def order(self, order_id: str) -> dict[str, Any]:
        return self.http.request_json("GET", f"{self.settings.url}{IMPORT}/orders/{order_id}")

    def orders(self, **filters: str) -> Iterator[dict[str, Any]]:
        """Orders (optionally filtered by status, collectionId, search), following `links.next`."""
        first = str(httpx.URL(f"{self.settings.url}{IMPORT}/orders", params=filters))

        def fetch(url: str) -> dict[str, Any]:
            return self.http.request_json("GET", url)

        for page in iter_pages(
            fetch, first, _next_link, listing=Listing("Sentinel Hub", "GET", first, "links.next"),
            items_of=_data, key_of=lambda order: order.get("id"),
        ):  # fmt: skip
            yield from _data(page)

    def deliveries(self, order_id: str) -> list[dict[str, Any]]:
        url = f"{self.settings.url}{IMPORT}/orders/{order_id}/deliveries"

        def fetch(page_url: str) -> dict[str, Any]:
            return self.http.request_json("GET", page_url)

        listing = Listing("Sentinel Hub", "GET", url, "links.next")
        pages = iter_pages(fetch, url, _next_link, listing=listing, items_of=_data, key_of=lambda d: d.get("id"))
        return [delivery for page in pages for delivery in _data(page)]

    def delivery_files(self, order_id: str, delivery_id: str) -> list[str]:
        """Relative paths of a delivery's files (409 Conflict while the delivery is not ready)."""
        url = f"{self.settings.url}{IMPORT}/orders/{order_id}/deliveries/{delivery_id}/files"
        files = orjson.loads(self.http.request("GET", url).content)
        if not isinstance(files, list) or not all(isinstance(name, str) for name in files):
            raise ProviderError(
                "Sentinel Hub", f"the file list of delivery {delivery_id} is not a list of paths", url=url
            )
        return files

    def delivery_file_url(self, order_id: str, delivery_id: str, path: str) -> str:
        return f"{self.settings.url}{IMPORT}/orders/{order_id}/deliveries/{delivery_id}/files/{path}"

    def quotas(self) -> list[dict[str, Any]]:
        """Import quotas per collection: quotaSqkm and quotaUsed."""
        return self.http.request_json("GET", f"{self.settings.url}{IMPORT}/accountquotas").get("data") or []

    # -- catalog (STAC) --------------------------------------------------------------------------

    def catalog_search(
        self,
        *,
        collection: str,
        start: str,
        end: str,
        geometry: BaseGeometry | None = None,
        bbox: tuple[float, float, float, float] | None = None,
    ) -> Iterator[dict[str, Any]]:
        """STAC items of `collection` in [start, end] (RFC 3339), by POST /search with `next` paging."""
        body: dict[str, Any] = {
            "collections": [collection],
            "datetime": f"{start}/{end}",
            "limit": self.catalog_page_size,
        }
        if geometry is not None:
            body["intersects"] = shapely.geometry.mapping(geometry)
        if bbox is not None:
            body["bbox"] = list(bbox)
        url = f"{self.settings.url}{CATALOG}/search"

        def fetch(cursor: int) -> dict[str, Any]:
            payload = body if cursor == 0 else {**body, "next": cursor}
            return self.http.request_json("POST", url, json=payload, idempotent=True)

        for page in iter_pages(
            fetch, 0, lambda page: (page.get("context") or {}).get("next"),
            listing=Listing("Sentinel Hub", "POST", url, "context.next"),
            items_of=lambda page: page.get("features") or [], key_of=lambda item: item.get("id"),
            asked=self.catalog_page_size,
        ):  # fmt: skip
            yield from page.get("features") or []


def _next_link(page: Mapping[str, Any]) -> str | None:
    """The `links.next` URL of an orders or deliveries page."""
    return (page.get("links") or {}).get("next")


def _data(page: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The entries of an orders or deliveries page."""
    return page.get("data") or []
