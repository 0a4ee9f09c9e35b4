"""The reachable window of one OneAtlas opensearch query, page by page: prefetched, and every page checked.

Page 1 says how many results there are (`totalResults`, saturating at 10,000); the following pages
are requested `PREFETCH` at a time in the background while the caller works on the current one,
so neither the provider nor the caller waits for the other. No page is trusted (`paging.PageAudit`):
its startIndex and itemsPerPage must be the ones asked for, it holds at most the items asked, it
does not start like an earlier page, and it is not short while the total says more remain.

- A server that answers page 1 with fewer items than asked while its total says more remain caps
  the page size: the window goes on at that real size (asking for it, so page numbers line up).
- A total is a hint, not a stop: a page that is full always leads to the next one, up to the
  10,000-result window, so a full page that ends exactly at the total costs one confirming
  request, and a full page past the total proves it wrong.
- Only a short page ends the window; a window whose last reachable page is full is `capped`: the
  query has more results than it can page through.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor

import msgspec

from harvest.providers.oneatlas_wire import SearchPage, decode_search_page
from harvest.providers.paging import Listing, PageAudit
from harvest.providers.secrets import redact_logger

log = redact_logger(__name__)

RESULT_WINDOW = 10_000
PREFETCH = 2  # pages requested ahead of the one being worked on

FetchPage = Callable[[int, int], bytes]  # (1-based page number, items per page) -> the response body


def _first_id(page: SearchPage) -> str | None:
    return page.items[0].id if page.items else None


def _decode(body: bytes, audit: PageAudit) -> SearchPage:
    try:
        return decode_search_page(body)
    except msgspec.DecodeError as exc:
        raise audit.error(f"page {audit.pages + 1} is not a search response harvest can read ({exc})") from exc


class _Prefetch:
    """Pages of one size requested ahead, in order, in a thread pool."""

    def __init__(self, pool: ThreadPoolExecutor, fetch: FetchPage, size: int) -> None:
        self.pool, self.fetch, self.size = pool, fetch, size
        self.pending: deque[Future[bytes]] = deque()
        self.asked_up_to = 1  # page 1 is fetched before any prefetching

    def ask_through(self, number: int) -> None:
        """Have every page up to `number` requested."""
        while self.asked_up_to < number:
            self.asked_up_to += 1
            self.pending.append(self.pool.submit(self.fetch, self.asked_up_to, self.size))

    def next_body(self) -> bytes:
        """The body of the next page in order, once it has arrived."""
        return self.pending.popleft().result()

    def cancel(self) -> None:
        for future in self.pending:
            future.cancel()


class SearchWindow:
    """The checked pages of one query up to the 10,000-result cap; `capped` once the window is used up."""

    def __init__(self, fetch: FetchPage, page_size: int, listing: Listing, *, first: SearchPage | None = None) -> None:
        self.fetch = fetch
        self.page_size = page_size
        self.listing = listing
        self.first = first
        self.capped = False  # set when the last reachable page was full: more results may exist

    def __iter__(self) -> Iterator[SearchPage]:
        self.capped = False
        audit = PageAudit(self.listing)
        first = self.first if self.first is not None else _decode(self.fetch(1, self.page_size), audit)
        size = self._page_size(first, audit)
        if len(first.items) < size:
            audit.short_page(len(first.items), size, first.total)
            yield first
            return
        last = RESULT_WINDOW // size  # the last page the window can reach
        total = audit.trusted_total(first.total)
        with ThreadPoolExecutor(PREFETCH, thread_name_prefix="oneatlas-prefetch") as pool:
            ahead = _Prefetch(pool, self.fetch, size)
            try:
                ahead.ask_through(self._foreseen(1, total, size, last))
                yield first
                for number in range(2, last + 1):
                    page = _decode(ahead.next_body(), audit)
                    count = len(page.items)
                    audit.take(count, _first_id(page), asked=size)
                    audit.echoed("startIndex", page.start_index, (number - 1) * size)
                    audit.echoed("itemsPerPage", page.items_per_page, size)
                    if count < size:
                        audit.short_page(count, size, page.total)
                        yield page
                        return
                    total = audit.trusted_total(page.total)
                    ahead.ask_through(self._foreseen(number, total, size, last))
                    yield page
                self.capped = True
            finally:
                ahead.cancel()

    @staticmethod
    def _foreseen(current: int, total: int | None, size: int, last: int) -> int:
        """The last page to have requested while page `current` (full) is worked on: `PREFETCH` ahead,
        but no further than one page past where the total says the results end."""
        ends = last if total is None else total // size + 1
        return min(last, current + PREFETCH, max(current + 1, ends))

    def _page_size(self, first: SearchPage, audit: PageAudit) -> int:
        """Check page 1 and say the page size to go on with: the one asked, or the provider's cap."""
        asked, count = self.page_size, len(first.items)
        audit.take(count, _first_id(first), asked=asked)
        audit.echoed("startIndex", first.start_index, 0)
        said = first.items_per_page
        if said is not None and said < asked and count <= said:
            self._adapt(asked, said)
            return said
        audit.echoed("itemsPerPage", said, asked)
        total = audit.trusted_total(first.total)
        if 0 < count < asked and total is not None and count < total:
            self._adapt(asked, count)
            return count
        return asked

    def _adapt(self, asked: int, real: int) -> None:
        log.warning(
            "%s caps pages at %d items (%d were asked for) on %s: going on %d at a time",
            self.listing.provider, real, asked, self.listing.shown_url(), real,
        )  # fmt: skip
