"""Page iteration: cursor/next-link paging with a cycle guard, and offset/page-number paging.

Both are generators that fetch lazily, so a caller that stops early sends no further requests.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterator, Sized
from typing import TypeVar

from harvest.providers.errors import PagingError

P = TypeVar("P")
C = TypeVar("C", bound=Hashable)


def iter_pages(
    fetch: Callable[[C], P],
    first: C,
    next_of: Callable[[P], C | None],
    *,
    max_pages: int | None = None,
) -> Iterator[P]:
    """Yield `fetch(first)`, then `fetch(next_of(page))` until `next_of` gives None or "".

    A cursor (token, URL, offset…) that comes back a second time raises `PagingError` instead of
    looping forever, as does going past `max_pages`.
    """
    seen: set[C] = set()
    cursor: C | None = first
    while cursor is not None and cursor != "":
        if cursor in seen:
            raise PagingError(f"paging loops: the next cursor {cursor!r} was already fetched")
        if max_pages is not None and len(seen) >= max_pages:
            raise PagingError(f"more than {max_pages} pages; stopping before {cursor!r}")
        seen.add(cursor)
        page = fetch(cursor)
        yield page
        cursor = next_of(page)


def offset_pages(
    fetch: Callable[[int], P],
    *,
    items_of: Callable[[P], Sized],
    page_size: int,
    start: int = 0,
    step: int | None = None,
    total_of: Callable[[P], int | None] | None = None,
    max_pages: int | None = None,
) -> Iterator[P]:
    """Yield `fetch(start)`, `fetch(start + step)`, … for start-index or page-number paging.

    `step` defaults to `page_size` (start-index paging); use `start=1, step=1` for page numbers.
    Stops after an empty page, after a short page (fewer than `page_size` items), and — when
    `total_of(page)` gives the total number of items from the first page fetched on — right after
    the page that reaches it, so a total that is an exact multiple of `page_size` costs no extra
    empty request. Past `max_pages`, raises `PagingError` (e.g. a provider that ignores the offset).
    """
    if page_size < 1:
        raise ValueError(f"page_size must be at least 1, got {page_size}")
    position = start
    fetched_items = 0
    pages = 0
    while True:
        if max_pages is not None and pages >= max_pages:
            raise PagingError(f"more than {max_pages} pages of {page_size}; stopping at position {position}")
        page = fetch(position)
        pages += 1
        count = len(items_of(page))
        fetched_items += count
        yield page
        if count == 0 or count < page_size:
            return
        total = total_of(page) if total_of is not None else None
        if total is not None and fetched_items >= total:
            return
        position += page_size if step is None else step
