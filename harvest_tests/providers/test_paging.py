"""Paging: next tokens/links with a cycle guard, and offset/page-number paging that stops at the right page."""

from __future__ import annotations

from typing import Any

import pytest

from harvest.providers.errors import ClientError, PagingError, ProviderError
from harvest.providers.paging import InconsistentPage, Listing, iter_pages, offset_pages


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


# -- pages are checked against the request and the pages before them ------------------------------

SOMEWHERE = Listing("Example", "GET", "https://api.example.com/list?token=abc123", "startIndex", "size")


def checked(provider: Offsets, size: int, **kwargs: Any) -> list[list[int]]:
    return pages_of(provider, size, total_of=lambda page: page["total"], listing=SOMEWHERE, **kwargs)


def test_offset_pages_short_page_before_the_total_is_an_error_not_the_end() -> None:
    class Dropping(Offsets):
        def fetch(self, start: int, size: int) -> dict[str, Any]:
            page = super().fetch(start, size)
            return {**page, "items": page["items"][: 10 if start < 20 else 3]}

    with pytest.raises(InconsistentPage, match=r"page 3 holds 3 items where 10 were asked for.*45 says 22 more"):
        checked(Dropping(45), 10)


def test_offset_pages_full_page_past_the_total_goes_on_until_a_short_page() -> None:
    class Understating(Offsets):
        def fetch(self, start: int, size: int) -> dict[str, Any]:
            return {**super().fetch(start, size), "total": 5}

    provider = Understating(25)
    assert [len(p) for p in checked(provider, 10)] == [10, 10, 5]


def test_offset_pages_confirm_end_asks_for_one_more_page_after_a_full_page_at_the_total() -> None:
    provider = Offsets(30)
    assert [len(p) for p in checked(provider, 10, confirm_end=True)] == [10, 10, 10, 0]
    assert provider.calls == [0, 10, 20, 30]


def test_offset_pages_page_repeating_an_earlier_one_is_an_error() -> None:
    with pytest.raises(InconsistentPage, match=r"ignored startIndex: page 2 repeats page 1's items"):
        list(offset_pages(lambda start: [1, 2], items_of=lambda p: p, page_size=2, key_of=hash, listing=SOMEWHERE))


def test_offset_pages_echoes_must_be_what_was_asked() -> None:
    def fetch(start: int) -> dict[str, Any]:
        return {"items": [start, start + 1], "start": 0, "size": 2}

    pages = offset_pages(
        fetch, items_of=lambda page: page["items"], page_size=2, listing=SOMEWHERE,
        position_of=lambda page: page["start"], size_of=lambda page: page["size"],
    )  # fmt: skip
    assert next(pages)["items"] == [0, 1]
    with pytest.raises(InconsistentPage, match=r"page 2 says startIndex 0 where 2 was asked for"):
        next(pages)


def test_offset_pages_total_that_is_not_a_number_is_an_error() -> None:
    with pytest.raises(InconsistentPage, match=r"page 1 gives '30' as its total, not a number"):
        list(offset_pages(lambda start: {"items": [1], "total": "30"}, items_of=lambda p: p["items"], page_size=1,
                          total_of=lambda p: p["total"]))  # type: ignore[arg-type,return-value]  # fmt: skip


def test_iter_pages_ending_before_the_total_is_an_error() -> None:
    _, fetch = linked(
        {"u1": {"items": [1, 2], "next": "u2", "total": 5}, "u2": {"items": [3], "next": None, "total": 5}}
    )
    pages = iter_pages(
        fetch, "u1", lambda page: page["next"], listing=SOMEWHERE, items_of=lambda page: page["items"],
        total_of=lambda page: page["total"],
    )  # fmt: skip
    with pytest.raises(InconsistentPage, match=r"page 2 links to no further page, yet its total of 5 says 2 more"):
        list(pages)


def test_iter_pages_two_empty_pages_in_a_row_that_link_on_are_an_error() -> None:
    def fetch(n: int) -> dict[str, Any]:
        return {"items": [], "next": n + 1}

    pages = iter_pages(fetch, 0, lambda page: page["next"], items_of=lambda p: p["items"])
    with pytest.raises(InconsistentPage, match=r"pages 1 and 2 are empty, yet link to further pages"):
        list(pages)


def test_iter_pages_page_with_more_than_asked_is_an_error() -> None:
    pages = iter_pages(lambda n: {"items": [1, 2, 3]}, 0, lambda page: None, items_of=lambda p: p["items"], asked=2)
    with pytest.raises(InconsistentPage, match=r"page 1 holds 3 items although at most 2 were asked for"):
        list(pages)


def test_inconsistent_page_names_provider_and_request_in_one_line_without_secrets() -> None:
    with pytest.raises(InconsistentPage) as raised:
        list(offset_pages(lambda start: [1], items_of=lambda page: page, page_size=1, key_of=lambda item: item,
                          listing=SOMEWHERE))  # fmt: skip
    error = raised.value
    assert isinstance(error, PagingError) and isinstance(error, ProviderError)
    assert (error.provider, error.method) == ("Example", "GET")
    message = str(error)
    assert message.startswith("Example on GET https://api.example.com/list?token=") and "\n" not in message
    assert "abc123" not in message and "try again later" in message
