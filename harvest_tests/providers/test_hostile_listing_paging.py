"""Sentinel Hub, Arlula and OneAtlas list paging never trusts a page: every entry, or an error saying what
the provider did — never fewer entries and "ok"."""

from __future__ import annotations

from collections import Counter
from typing import Any

import pytest
import shapely

from harvest.providers.errors import PagingError, ProviderError
from harvest.providers.oneatlas import OneAtlasClient
from harvest.providers.paging import InconsistentPage
from harvest.providers.sentinelhub import SentinelHubClient
from harvest_tests.hostile import Reply, Request
from harvest_tests.providers.hostile_catalogs import (
    CatalogServer,
    Paging,
    arlula_client,
    arlula_listing,
    catalog_server,
    import_search,
    offset_listing,
    oneatlas_client,
    scene_id,
    sentinelhub_client,
    stac_search,
)

AREA = shapely.box(10, 10, 10.1, 10.1)


def exactly(ids: list[str], scenes: int) -> bool:
    return Counter(ids) == Counter(scene_id(n) for n in range(scenes))


def imported(client: SentinelHubClient) -> list[str]:
    features = client.import_search(
        constellation="PHR", geometry=AREA, time_from="2026-03-01T00:00:00Z", time_to="2026-03-01T23:59:59Z"
    )
    return [item.id for item in features]


def catalogued(client: SentinelHubClient) -> list[str]:
    items = client.catalog_search(
        collection="sentinel-2-l2a", start="2026-03-01T00:00:00Z", end="2026-03-01T23:59:59Z", geometry=AREA
    )
    return [item["id"] for item in items]


def through_sentinelhub(paging: Paging, answer: Any, read: Any) -> tuple[list[str], CatalogServer]:
    with catalog_server(paging, answer) as catalog:
        client = sentinelhub_client(catalog)
        try:
            return read(client), catalog
        finally:
            client.close()


# -- Sentinel Hub import search (links.next, totalResults) --------------------------------------


def test_import_search_follows_next_links_to_the_last_page() -> None:
    ids, catalog = through_sentinelhub(Paging(scenes=157), import_search, imported)
    assert exactly(ids, 157)
    assert [page["viewtoken"] for page in catalog.pages] == [0, 50, 100, 150]


def test_import_search_that_stops_linking_before_its_total_is_an_error() -> None:
    with pytest.raises(PagingError, match=r"page 2 links to no further page, yet its total of 157 says 57 more"):
        through_sentinelhub(Paging(scenes=157, stop_linking_after=2), import_search, imported)


def test_import_search_ignoring_the_view_token_is_an_error_not_a_loop() -> None:
    with pytest.raises(PagingError, match=r"ignored links.next: page 2 repeats page 1's items") as raised:
        through_sentinelhub(Paging(scenes=157, ignore_cursor=True, stop_linking_after=10), import_search, imported)
    assert isinstance(raised.value, ProviderError)
    assert raised.value.provider == "Sentinel Hub"


def test_import_search_page_with_more_items_than_asked_is_an_error() -> None:
    with pytest.raises(PagingError, match=r"page 1 holds 51 items although at most 50 were asked"):
        through_sentinelhub(Paging(scenes=157, extra=1), import_search, imported)


def test_import_search_with_a_total_that_lies_low_still_follows_every_link() -> None:
    ids, _ = through_sentinelhub(Paging(scenes=157, total=20), import_search, imported)
    assert exactly(ids, 157)


def test_empty_import_pages_that_keep_linking_on_are_an_error_not_a_loop() -> None:
    def empty_pages(catalog: CatalogServer, request: Request, reply: Reply) -> None:
        catalog.pages.append({})
        following = f"{catalog.url}{request.path}?count=50&viewtoken={len(catalog.pages)}"
        links = {"next": following} if len(catalog.pages) < 5 else {}
        reply.json(200, {"features": [], "links": links, "totalResults": 0})

    with pytest.raises(PagingError, match=r"pages 1 and 2 are empty, yet link to further pages"):
        through_sentinelhub(Paging(), empty_pages, imported)


# -- Sentinel Hub STAC catalog (context.next) -----------------------------------------------------


def test_catalog_search_ignoring_next_is_an_error_not_a_loop() -> None:
    with pytest.raises(PagingError, match=r"ignored context.next: page 2 repeats page 1's items"):
        through_sentinelhub(Paging(scenes=157, ignore_cursor=True, stop_linking_after=10), stac_search, catalogued)


def test_catalog_search_capped_below_the_limit_still_gets_every_item() -> None:
    ids, catalog = through_sentinelhub(Paging(scenes=157, cap=20), stac_search, catalogued)
    assert exactly(ids, 157)
    assert len(catalog.pages) == 8


# -- Arlula lists (0-based page, length, count) ---------------------------------------------------


def arlula_orders(paging: Paging) -> list[str]:
    with catalog_server(paging, arlula_listing) as catalog:
        client = arlula_client(catalog)
        try:
            return [order["id"] for order in client.orders(page_size=50)]
        finally:
            client.close()


def test_arlula_count_that_lies_low_does_not_end_the_list_while_full_pages_come() -> None:
    assert exactly(arlula_orders(Paging(scenes=120, total=30)), 120)


@pytest.mark.parametrize(
    ("paging", "message"),
    [
        (Paging(scenes=120, cap=20), r"page 1 says length 20 where 50 was asked for"),
        (Paging(scenes=120, ignore_cursor=True), r"ignored page: page 2 repeats page 1's items"),
        (Paging(scenes=120, drop_from=70), r"page 2 holds 20 items where 50 were asked for.*120 says 50 more"),
        (Paging(scenes=120, echo_size=20), r"page 1 says length 20 where 50 was asked for"),
    ],
    ids=["capped", "ignored-page", "short-before-count", "wrong-length"],
)
def test_arlula_list_that_contradicts_itself_is_an_error(paging: Paging, message: str) -> None:
    with pytest.raises(InconsistentPage, match=message) as raised:
        arlula_orders(paging)
    assert raised.value.provider == "Arlula"
    assert raised.value.url is not None and raised.value.url.endswith("/api/orders")


# -- OneAtlas lists: deleted items, order tracking, data orders -----------------------------------


def through_oneatlas(paging: Paging, answer: Any, read: Any) -> list[str]:
    with catalog_server(paging, answer) as catalog:
        client: OneAtlasClient = oneatlas_client(catalog)
        try:
            return read(client)
        finally:
            client.close()


def deleted(client: OneAtlasClient) -> list[str]:
    return [tombstone["id"] for tombstone in client.deleted_since("2026-01-01T00:00:00Z")]


def tracked(client: OneAtlasClient) -> list[str]:
    return [entry["orderItemId"] for entry in client.track_orders("(customerReference:x)")]


def data_orders(client: OneAtlasClient) -> list[str]:
    return [order["id"] for order in client.data_orders()]


DELETED = offset_listing("data", "startIndex", page_numbers=False)
TRACKING = offset_listing("features", "startIndex", page_numbers=False)
DATA_ORDERS = offset_listing("items", "page", page_numbers=True)


def test_deleted_items_with_an_ignored_start_index_is_an_error_not_a_loop() -> None:
    with pytest.raises(PagingError, match=r"ignored startIndex: page 2 repeats page 1's items"):
        through_oneatlas(Paging(ignore_cursor=True, give_up_after=10), DELETED, deleted)


def test_deleted_items_short_before_the_total_is_an_error() -> None:
    with pytest.raises(PagingError, match=r"page 2 holds 200 items where 500 were asked for.*1200 says 500 more"):
        through_oneatlas(Paging(drop_from=700), DELETED, deleted)


def test_deleted_items_ending_exactly_at_the_total_are_confirmed_by_one_more_page() -> None:
    assert exactly(through_oneatlas(Paging(scenes=1_000, total=500), DELETED, deleted), 1_000)


def test_order_tracking_with_a_total_that_lies_low_gets_every_entry() -> None:
    assert exactly(through_oneatlas(Paging(scenes=250, total=100), TRACKING, tracked), 250)


def test_order_tracking_with_a_wrong_start_index_is_an_error() -> None:
    class OffByOne(Paging):
        def window(self, start: int, asked: int, available: int | None = None) -> tuple[int, list[int]]:
            return super().window(start + 1 if start else 0, asked, available)

    with pytest.raises(PagingError, match=r"page 2 says startIndex 101 where 100 was asked for"):
        through_oneatlas(OffByOne(scenes=250), TRACKING, tracked)


def test_data_orders_ignoring_the_page_number_is_an_error() -> None:
    with pytest.raises(PagingError, match=r"ignored page: page 2 repeats page 1's items"):
        through_oneatlas(Paging(scenes=250, ignore_cursor=True), DATA_ORDERS, data_orders)
