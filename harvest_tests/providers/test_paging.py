"""Paging: next tokens/links with a cycle guard, and offset/page-number paging that stops at the right page."""

from __future__ import annotations

from typing import Any

import pytest

from harvest.providers.errors import ClientError, PagingError, ProviderError
from harvest.providers.paging import iter_pages, offset_pages


def linked(pages: dict[str, dict[str, Any]]) -> tuple[list[str], Any]:
    fetched: list[str] = []

    def fetch(url: str) -> dict[str, Any]:
        fetched.append(url)
        return pages[url]

    return fetched, fetch


def test_iter_pages_follows_next_links_until_none() -> None:
    fetched, fetch = linked(
        {
            "u1": {"items": [1, 2], "next": "u2"},
            "u2": {"items": [3], "next": "u3"},
            "u3": {"items": [], "next": None},
        }
    )
    pages = list(iter_pages(fetch, "u1", lambda page: page["next"]))
    assert [p["items"] for p in pages] == [[1, 2], [3], []]
    assert fetched == ["u1", "u2", "u3"]


def test_iter_pages_stops_on_empty_next_token() -> None:
    _, fetch = linked({"t0": {"next": ""}})
    assert len(list(iter_pages(fetch, "t0", lambda page: page["next"]))) == 1


def test_iter_pages_next_link_cycle_raises_paging_error() -> None:
    fetched, fetch = linked({"u1": {"next": "u2"}, "u2": {"next": "u1"}})
    pages = iter_pages(fetch, "u1", lambda page: page["next"])
    assert next(pages) == {"next": "u2"}
    assert next(pages) == {"next": "u1"}
    with pytest.raises(PagingError, match="'u1' was already fetched"):
        next(pages)
    assert fetched == ["u1", "u2"]


def test_paging_error_is_a_client_error_not_a_provider_error() -> None:
    assert issubclass(PagingError, ClientError)
    assert not issubclass(PagingError, ProviderError)


def test_iter_pages_max_pages() -> None:
    pages = iter_pages(lambda n: n, 0, lambda n: n + 1, max_pages=3)
    assert [next(pages) for _ in range(3)] == [0, 1, 2]
    with pytest.raises(PagingError, match="more than 3 pages"):
        next(pages)


def test_iter_pages_offset_zero_is_a_cursor_not_the_end() -> None:
    assert list(iter_pages(lambda n: {"n": n}, 0, lambda page: None)) == [{"n": 0}]


class Offsets:
    """A provider with `total` items served `page_size` at a time from a start index."""

    def __init__(self, total: int, *, report_total: bool = True) -> None:
        self.total = total
        self.report_total = report_total
        self.calls: list[int] = []

    def fetch(self, start: int, size: int) -> dict[str, Any]:
        self.calls.append(start)
        items = list(range(start, min(start + size, self.total)))
        return {"items": items, "total": self.total if self.report_total else None}


def pages_of(provider: Offsets, size: int, **kwargs: Any) -> list[list[int]]:
    return [
        page["items"]
        for page in offset_pages(
            lambda start: provider.fetch(start, size),
            items_of=lambda page: page["items"],
            page_size=size,
            **kwargs,
        )
    ]


def test_offset_pages_empty_first_page() -> None:
    provider = Offsets(0)
    assert pages_of(provider, 10, total_of=lambda page: page["total"]) == [[]]
    assert provider.calls == [0]


def test_offset_pages_short_last_page() -> None:
    provider = Offsets(25, report_total=False)
    assert [len(p) for p in pages_of(provider, 10)] == [10, 10, 5]
    assert provider.calls == [0, 10, 20]


def test_offset_pages_last_page_exactly_full_with_known_total_costs_no_extra_request() -> None:
    provider = Offsets(30)
    assert [len(p) for p in pages_of(provider, 10, total_of=lambda page: page["total"])] == [10, 10, 10]
    assert provider.calls == [0, 10, 20]


def test_offset_pages_last_page_exactly_full_without_total_ends_on_the_empty_page() -> None:
    provider = Offsets(30, report_total=False)
    assert [len(p) for p in pages_of(provider, 10)] == [10, 10, 10, 0]
    assert provider.calls == [0, 10, 20, 30]


def test_offset_pages_page_numbers() -> None:
    calls: list[int] = []

    def fetch(page_number: int) -> list[int]:
        calls.append(page_number)
        start = (page_number - 1) * 2
        return list(range(start, min(start + 2, 5)))

    pages = list(offset_pages(fetch, items_of=lambda page: page, page_size=2, start=1, step=1))
    assert pages == [[0, 1], [2, 3], [4]]
    assert calls == [1, 2, 3]


def test_offset_pages_guard_against_a_provider_ignoring_the_offset() -> None:
    pages = offset_pages(lambda start: [1, 2], items_of=lambda page: page, page_size=2, max_pages=3)
    assert len([next(pages) for _ in range(3)]) == 3
    with pytest.raises(PagingError):
        next(pages)


def test_offset_pages_is_lazy() -> None:
    provider = Offsets(100)
    pages = offset_pages(lambda start: provider.fetch(start, 10), items_of=lambda page: page["items"], page_size=10)
    next(pages)
    assert provider.calls == [0]
