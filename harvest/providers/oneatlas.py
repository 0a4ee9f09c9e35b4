"""Airbus OneAtlas: catalog search past the 10,000-result cap, deleted items, prices and both order APIs.

Search pages are at most 500 items and only the first 10,000 hits of a query are reachable
(`totalResults` saturates there), so a harvest walks windows of an ascending date field instead of
paging deeper: each window starts (inclusively) at the last value the previous one reached, features already
yielded at that boundary instant are skipped, and an instant shared by 10,000 or more items is
split further by acquisition date. Every matching feature comes out exactly once per version.
Pages are decoded into typed `CatalogItem`s (`oneatlas_wire`), not dicts: that is most of the speed,
and no page is trusted: each is checked against its request and the pages before it (`oneatlas_window`
for searches, `paging.offset_pages` for the other lists).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from harvest.providers.auth import OneAtlasApiKeyAuth
from harvest.providers.errors import ClientError
from harvest.providers.http import ProviderHttp, json_objects, session_for
from harvest.providers.oneatlas_window import RESULT_WINDOW, SearchWindow
from harvest.providers.oneatlas_wire import CatalogItem, SearchPage, decode_search_page
from harvest.providers.paging import InconsistentPage, Listing, offset_pages
from harvest.providers.secrets import redact_logger
from harvest.providers.settings import OneAtlasSettings
from harvest.timestamps import format_millis, parse_ns

log = redact_logger(__name__)

MAX_PAGE_SIZE = 500
_EARLIEST_MS = parse_ns("2000-01-01T00:00:00Z") // 1_000_000
_LATEST_MS = parse_ns("2100-01-01T00:00:00Z") // 1_000_000


class TieTooLarge(ClientError):
    """More than 10,000 items share one update instant and one acquisition millisecond."""


def _ms_range(low_ms: int, high_ms: int) -> str:
    return f"[{format_millis(low_ms * 1_000_000)},{format_millis(high_ms * 1_000_000)}]"


class OneAtlasClient:
    """Talks to the five OneAtlas hosts through one shared, retrying, authenticated session."""

    def __init__(
        self,
        settings: OneAtlasSettings,
        *,
        http: ProviderHttp | None = None,
        page_size: int = MAX_PAGE_SIZE,
        requests_per_s: float | None = 20.0,
    ) -> None:
        if not 1 <= page_size <= MAX_PAGE_SIZE:
            raise ValueError(f"page_size must be 1..{MAX_PAGE_SIZE}, got {page_size}")
        self.settings = settings
        self.page_size = page_size
        auth = OneAtlasApiKeyAuth(settings.api_key, settings.token_url)
        self.http = http or session_for("OneAtlas", auth, settings, requests_per_s=requests_per_s)

    def close(self) -> None:
        self.http.close()

    # -- search ---------------------------------------------------------------------------------

    def search_page(self, query: Mapping[str, Any], page: int, page_size: int | None = None) -> SearchPage:
        """POST /api/v2/opensearch for one 1-based page, decoded into typed catalog items."""
        return decode_search_page(self._page_body(query, page, page_size))

    def _page_body(self, query: Mapping[str, Any], page: int, page_size: int | None = None) -> bytes:
        body = {**query, "itemsPerPage": page_size or self.page_size, "startPage": page}
        response = self.http.request(
            "POST", f"{self.settings.search_url}/api/v2/opensearch", json=body, idempotent=True
        )
        return response.content

    def search(self, query: Mapping[str, Any]) -> Iterator[CatalogItem]:
        """Items of a query, page by page, within the reachable first 10,000 results."""
        for page in self._window(query):
            yield from page.items

    def _window(self, query: Mapping[str, Any], first: SearchPage | None = None) -> SearchWindow:
        """The checked, prefetched pages of a query's reachable window (`first`: page 1, if already fetched)."""
        url = f"{self.settings.search_url}/api/v2/opensearch"
        listing = Listing("OneAtlas", "POST", url, "startPage", "itemsPerPage")
        return SearchWindow(lambda page, size: self._page_body(query, page, size), self.page_size, listing, first=first)

    def walk(
        self,
        query: Mapping[str, Any],
        *,
        field: str = "lastUpdateDate",
        since: str | None = None,
        until: str | None = None,
    ) -> Iterator[CatalogItem]:
        """Every item matching `query` with `field` in [since, until], ascending, exactly once.

        `since`/`until` are the provider's own timestamp strings (kept raw: lastUpdateDate has
        nanoseconds that Python datetimes would lose). Pages stream through: memory holds one page
        and the ids that share the last instant seen, never a whole window.
        """
        lower, inclusive = since, True
        skip: set[str] = set()  # ids already yielded at the instant `lower`
        while True:
            window = {**query, "sortBy": field}
            if lower is not None or until is not None:
                window[field] = f"{'[' if inclusive else ']'}{lower or ''},{f'{until}]' if until else ''}"
            last: str | None = None
            at_last: set[str] = set()
            pages = self._window(window)
            for page in pages:
                for item in page.items:
                    value = item.properties.value(field)
                    if value != last:
                        last, at_last = value, set()
                    at_last.add(item.id)
                    if item.id not in skip:
                        yield item
            if not pages.capped or last is None:  # the window held everything
                return
            if lower is not None and parse_ns(last) == parse_ns(lower):
                # the whole window shares one instant: take that instant apart by acquisition date
                yield from self._walk_instant(query, field, last, exclude=skip | at_last)
                lower, inclusive, skip = last, False, set()
            else:
                lower, inclusive, skip = last, True, at_last

    def _walk_instant(
        self, query: Mapping[str, Any], field: str, instant: str, *, exclude: set[str]
    ) -> Iterator[CatalogItem]:
        """Every item whose `field` equals `instant`, bisecting acquisition time until each part fits."""
        pending = [(_EARLIEST_MS, _LATEST_MS)]
        while pending:
            low, high = pending.pop()
            part = {**query, field: instant, "acquisitionDate": _ms_range(low, high), "sortBy": "acquisitionDate"}
            first = self.search_page(part, 1)
            if first.total is not None and first.total >= RESULT_WINDOW:
                if low == high:
                    raise TieTooLarge(
                        f"OneAtlas has 10,000+ items updated at {instant} and acquired at {format_millis(low * 10**6)}"
                    )
                middle = (low + high) // 2
                pending.extend([(middle + 1, high), (low, middle)])
                continue
            pages = self._window(part, first)
            for page in pages:
                for item in page.items:
                    if item.id not in exclude:
                        yield item
            if pages.capped:  # its total said it fits in one window, yet the window filled up
                raise InconsistentPage(
                    "OneAtlas",
                    f"totalResults said {first.total} items were updated at {instant} and acquired in "
                    f"{part['acquisitionDate']}, yet {RESULT_WINDOW:,} came back and more may follow",
                    method=pages.listing.method,
                    url=pages.listing.url,
                )

    def deleted_since(self, since: str) -> Iterator[dict[str, Any]]:
        """Tombstones {id, deletedDate} of items deleted at or after `since` (start-index paging)."""
        url = f"{self.settings.search_url}/api/v1/deleted/search"

        def fetch(start: int) -> dict[str, Any]:
            body = {"deletedDate": f"[{since},", "itemsPerPage": MAX_PAGE_SIZE, "startIndex": start}
            return self.http.request_json("POST", url, json=body, idempotent=True)

        for page in offset_pages(
            fetch, items_of=lambda p: p.get("data") or [], page_size=MAX_PAGE_SIZE,
            total_of=lambda p: p.get("totalResults"), confirm_end=True,
            listing=Listing("OneAtlas", "POST", url, "startIndex", "itemsPerPage"),
            key_of=lambda t: (t.get("id"), t.get("deletedDate")),
            position_of=lambda p: p.get("startIndex"), size_of=lambda p: p.get("itemsPerPage"),
        ):  # fmt: skip
            yield from page.get("data") or []

    # -- data.api (Living Library) ----------------------------------------------------------------

    def me(self) -> dict[str, Any]:
        """The user, with its contract: balance and private workspace."""
        return self.http.request_json("GET", f"{self.settings.data_url}/api/v1/me")

    def price(self, body: Mapping[str, Any]) -> dict[str, Any]:
        """POST /api/v1/prices (data.api `kind` body); asking for a price buys nothing, so it is retried."""
        return self.http.request_json("POST", f"{self.settings.data_url}/api/v1/prices", json=body, idempotent=True)

    def place_data_order(self, body: Mapping[str, Any]) -> dict[str, Any]:
        """POST /api/v1/orders (data.api); never re-sent blindly: a lost answer raises OutcomeUnknown."""
        return self.http.request_json("POST", f"{self.settings.data_url}/api/v1/orders", json=body, expected=(201,))

    def data_order(self, order_id: str) -> dict[str, Any]:
        return self.http.request_json("GET", f"{self.settings.data_url}/api/v1/orders/{order_id}")

    def data_orders(self, *, customer_ref: str | None = None, status: str | None = None) -> Iterator[dict[str, Any]]:
        """The contract's data.api orders, newest first (page-number paging)."""
        params = {k: v for k, v in (("customerRef", customer_ref), ("status", status)) if v}
        url = f"{self.settings.data_url}/api/v1/orders"

        def fetch(page: int) -> dict[str, Any]:
            return self.http.request_json("GET", url, params={**params, "page": page, "itemsPerPage": 100})

        for page in offset_pages(
            fetch, items_of=lambda p: p.get("items") or [], page_size=100, start=1, step=1,
            total_of=lambda p: p.get("totalResults"), confirm_end=True,
            listing=Listing("OneAtlas", "GET", url, "page", "itemsPerPage"),
            key_of=lambda order: order.get("id"), size_of=lambda p: p.get("itemsPerPage"),
        ):  # fmt: skip
            yield from page.get("items") or []

    # -- order.api (pay-per-order) ---------------------------------------------------------------

    def contracts(self) -> list[dict[str, Any]]:
        contracts = self.http.request_json("GET", f"{self.settings.order_url}/api/v1/contracts").get("contracts", [])
        return json_objects("OneAtlas", contracts, "the order.api contract list")

    def product_types(self, contract_id: str) -> list[dict[str, Any]]:
        url = f"{self.settings.order_url}/api/v1/contracts/{contract_id}/productTypes"
        return json_objects("OneAtlas", self.http.request_json("GET", url).get("productTypes", []), "the product types")

    def quote(self, body: Mapping[str, Any]) -> dict[str, Any]:
        """POST /api/v1/prices (order.api; answers 201)."""
        url = f"{self.settings.order_url}/api/v1/prices"
        return self.http.request_json("POST", url, json=body, idempotent=True, expected=(200, 201))

    def place_sales_order(self, body: Mapping[str, Any]) -> dict[str, Any]:
        """POST /api/v1/orders (order.api): a SAL… sales order; never re-sent blindly."""
        url = f"{self.settings.order_url}/api/v1/orders"
        return self.http.request_json("POST", url, json=body, expected=(200, 201))

    def track_orders(self, criteria: str, *, page_size: int = 100) -> Iterator[dict[str, Any]]:
        """PNEO order tracking (POST /api/v2/orders/search with a Lucene-like `q`)."""
        url = f"{self.settings.order_url}/api/v2/orders/search"

        def fetch(start: int) -> dict[str, Any]:
            body = {
                "paging": {"itemsPerPage": page_size, "startIndex": start, "pagingMode": "item"},
                "criteria": {"q": criteria},
            }
            return self.http.request_json("POST", url, json=body, idempotent=True)

        for page in offset_pages(
            fetch, items_of=lambda p: p.get("features") or [], page_size=page_size,
            total_of=lambda p: (p.get("paging") or {}).get("totalResults"), confirm_end=True,
            listing=Listing("OneAtlas", "POST", url, "startIndex", "itemsPerPage"),
            key_of=lambda tracked: tracked.get("orderItemId"),
            position_of=lambda p: (p.get("paging") or {}).get("startIndex"),
            size_of=lambda p: (p.get("paging") or {}).get("itemsPerPage"),
        ):  # fmt: skip
            yield from page.get("features") or []

    def workspace_items(self, workspace: str, **criteria: str) -> list[CatalogItem]:
        """Delivered products in a private workspace, e.g. by internalReference or customerReference."""
        return list(self.search({"workspace": workspace, **criteria}))
