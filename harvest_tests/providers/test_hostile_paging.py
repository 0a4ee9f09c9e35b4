"""OneAtlas search paging never trusts a page: a lying total, an ignored startPage or a capped page size
either gets every scene or raises saying what the provider did — never fewer scenes and "ok"."""

from __future__ import annotations

from collections import Counter
from datetime import date
from pathlib import Path

import pytest
import shapely

from harvest import registry
from harvest.aois import Aoi
from harvest.catalog.store import CatalogStore
from harvest.harvesting.days import harvest_days
from harvest.providers.errors import PagingError, ProviderError
from harvest_tests.hostile import Reply, Request
from harvest_tests.providers.hostile_catalogs import (
    SCENES,
    CatalogServer,
    Paging,
    catalog_server,
    oneatlas_client,
    opensearch,
    scene_id,
)

DAY = date(2026, 3, 1)
AOI = Aoi("hostile-aoi", "Hostile AOI", shapely.box(10, 10, 10.1, 10.1))


def walked(catalog: CatalogServer, page_size: int = 500) -> list[str]:
    """The ids a OneAtlas acquisition-date walk over the day gets from `catalog`."""
    client = oneatlas_client(catalog, page_size)
    try:
        items = client.walk(
            {"geometry": AOI.geojson()},
            field="acquisitionDate",
            since="2026-03-01T00:00:00.000Z",
            until="2026-03-01T23:59:59.999Z",
        )
        return [item.id for item in items]
    finally:
        client.close()


def every_scene(ids: list[str], scenes: int = SCENES) -> bool:
    return Counter(ids) == Counter(scene_id(n) for n in range(scenes))


@pytest.mark.parametrize("claimed", [0, 100, 500, 1_000])
def test_a_total_that_lies_low_does_not_end_the_walk_while_full_pages_keep_coming(claimed: int) -> None:
    with catalog_server(Paging(total=claimed), opensearch) as catalog:
        assert every_scene(walked(catalog))


@pytest.mark.parametrize("scenes", [500, 1_000])
def test_a_full_last_page_at_an_honest_total_costs_one_confirming_request(scenes: int) -> None:
    with catalog_server(Paging(scenes=scenes), opensearch) as catalog:
        assert every_scene(walked(catalog), scenes)
    assert sorted(page["startPage"] for page in catalog.pages) == list(range(1, scenes // 500 + 2))


def test_an_honest_total_ending_on_a_short_page_costs_no_extra_request() -> None:
    with catalog_server(Paging(), opensearch) as catalog:
        assert every_scene(walked(catalog))
    assert sorted(page["startPage"] for page in catalog.pages) == [1, 2, 3]  # pages 2 and 3 fly together


def test_a_server_ignoring_start_page_is_an_error_naming_the_repeated_page() -> None:
    with (
        catalog_server(Paging(ignore_cursor=True), opensearch) as catalog,
        pytest.raises(PagingError, match=r"ignored startPage: page 2 repeats page 1's items") as raised,
    ):
        walked(catalog)
    assert isinstance(raised.value, ProviderError)
    assert raised.value.provider == "OneAtlas"
    assert raised.value.url == f"{catalog.url}/api/v2/opensearch"


@pytest.mark.parametrize("echo_asked", [False, True], ids=["echoes-its-cap", "echoes-what-was-asked"])
def test_a_server_capping_the_page_size_is_followed_at_its_real_page_size(echo_asked: bool) -> None:
    with catalog_server(Paging(cap=100, echo_asked=echo_asked), opensearch) as catalog:
        assert every_scene(walked(catalog))
    assert {page["itemsPerPage"] for page in catalog.pages[1:]} == {100}


def test_a_short_page_before_the_total_is_an_error_not_the_end() -> None:
    # page 1 is full, page 2 stops at item 700 of 1,200: nothing says where the other 500 went
    with (
        catalog_server(Paging(drop_from=700), opensearch) as catalog,
        pytest.raises(PagingError, match=r"page 2 holds 200 items.*500 were asked.*1200 says 500 more"),
    ):
        walked(catalog)


def test_an_empty_first_page_with_a_total_above_zero_is_an_error() -> None:
    with (
        catalog_server(Paging(drop_from=0), opensearch) as catalog,
        pytest.raises(PagingError, match=r"page 1 holds 0 items.*1200 says 1200 more"),
    ):
        walked(catalog)


def test_a_page_with_more_items_than_asked_is_an_error() -> None:
    with (
        catalog_server(Paging(extra=1), opensearch) as catalog,
        pytest.raises(PagingError, match=r"page 1 holds 501 items although at most 500 were asked"),
    ):
        walked(catalog)


def test_a_page_whose_start_index_is_not_the_one_asked_is_an_error() -> None:
    # a server reading startPage as 0-based: page 1 answers items 500.., startIndex 500
    class ZeroBased(Paging):
        def window(self, start: int, asked: int, available: int | None = None) -> tuple[int, list[int]]:
            return super().window(start + asked, asked, available)

    with (
        catalog_server(ZeroBased(), opensearch) as catalog,
        pytest.raises(PagingError, match=r"page 1 says startIndex 500 where 0 was asked for"),
    ):
        walked(catalog)


def test_a_page_that_is_not_a_search_response_is_an_error_naming_the_page() -> None:
    def garbled_second_page(catalog: CatalogServer, request: Request, reply: Reply) -> None:
        body = request.json()
        if isinstance(body, dict) and body.get("startPage") == 2:
            reply.json(200, {"totalResults": "many", "features": []})
        else:
            opensearch(catalog, request, reply)

    with (
        catalog_server(Paging(), garbled_second_page) as catalog,
        pytest.raises(PagingError, match=r"page 2 is not a search response harvest can read.*totalResults"),
    ):
        walked(catalog)


def test_a_lying_total_past_the_window_moves_the_walk_on_instead_of_stopping_at_10000() -> None:
    with catalog_server(Paging(scenes=10_700, total=100), opensearch) as catalog:
        assert every_scene(walked(catalog), 10_700)


# -- end to end: a harvest over such a server fails instead of writing fewer scenes ----------------


def harvest(catalog: CatalogServer, store: CatalogStore) -> int:
    source = registry.get("oneatlas").source_for(oneatlas_client(catalog))
    try:
        return harvest_days(source, [AOI], [DAY], store).scenes
    finally:
        source.close()


@pytest.mark.parametrize(
    "paging",
    [Paging(ignore_cursor=True), Paging(drop_from=700), Paging(extra=3)],
    ids=["ignored-start-page", "short-page-before-the-total", "overfull-page"],
)
def test_harvest_days_over_a_hostile_catalog_raises_and_writes_nothing(paging: Paging, tmp_path: Path) -> None:
    store = CatalogStore(tmp_path)
    with (
        catalog_server(paging, opensearch) as catalog,
        pytest.raises(PagingError),
    ):
        harvest(catalog, store)
    assert not store.path("oneatlas", DAY).exists()
    assert store.days("oneatlas") == []


@pytest.mark.parametrize("paging", [Paging(total=100), Paging(cap=100)], ids=["total-100", "capped-at-100"])
def test_harvest_days_over_a_lying_or_capped_catalog_lands_every_scene(paging: Paging, tmp_path: Path) -> None:
    store = CatalogStore(tmp_path)
    with catalog_server(paging, opensearch) as catalog:
        assert harvest(catalog, store) == SCENES
    assert store.read_day("oneatlas", DAY).num_rows == SCENES
