"""Page iteration that never trusts a page: next-link/cursor paging and offset/page-number paging.

Both are generators that fetch lazily, so a caller that stops early sends no further requests.
Given a `Listing` (who is paged) and a way to read a page's items, every page is checked against
what was asked and what earlier pages said, with cheap checks (counts, the first item of each page):

- a page never holds more items than were asked for;
- a page never starts with the item an earlier page started with (the provider ignored the cursor);
- two empty pages in a row never link on (fresh links to nothing could go on forever);
- paging values the provider echoes (start index, page size) are the ones asked for;
- a page shorter than asked, or a missing next link, while the total says more remain is an error,
  not the end;
- a full page that goes past the total proves the total wrong: paging goes on while full pages come.

A check that fails raises `InconsistentPage`, naming the provider, the request and the page.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

from harvest.providers.errors import PagingError, ProviderError, safe_url
from harvest.providers.secrets import redact_logger

log = redact_logger(__name__)

P = TypeVar("P")
C = TypeVar("C", bound=Hashable)


@dataclass(frozen=True)
class Listing:
    """Which listing pages belong to, for messages: provider, method, URL and the request field that pages."""

    provider: str
    method: str
    url: str
    cursor: str  # e.g. "startPage", "startIndex", "page", "the next link"
    size_name: str = "page size"  # what the provider calls the page size it echoes, e.g. "itemsPerPage"

    def shown_url(self) -> str:
        """The URL as logs and messages may show it (no credentials, secret-looking values masked)."""
        return safe_url(self.url) if self.url else "a listing"


_SOMEONE = Listing("the provider", "", "", "the page cursor")


class InconsistentPage(ProviderError, PagingError):
    """A page contradicts its request or the pages before it: what was listed cannot be vouched for."""

    default_hint = (
        "harvest stopped rather than keep an incomplete listing; nothing of it was used: try again later, "
        "and report it to {provider} if it persists"
    )


@dataclass
class PageAudit:
    """The pages of one listing so far; each new page is checked against its request and the ones before."""

    listing: Listing = _SOMEONE
    pages: int = 0  # pages taken so far
    items: int = 0  # items on them
    total_wrong: bool = False  # a page went past the total: totals are ignored from then on
    _starts: dict[Hashable, int] = field(default_factory=dict)  # first item key -> page number

    def error(self, message: str) -> InconsistentPage:
        where = self.listing
        return InconsistentPage(where.provider, message, method=where.method or None, url=where.url or None)

    def take(self, count: int, first: Hashable | None, *, asked: int | None = None) -> int:
        """Account for the next page (`count` items, its first item's key); returns its 1-based number."""
        number = self.pages + 1
        if asked is not None and count > asked:
            raise self.error(f"page {number} holds {count} items although at most {asked} were asked for")
        if first is not None:
            earlier = self._starts.setdefault(first, number)
            if earlier != number:
                raise self.error(f"ignored {self.listing.cursor}: page {number} repeats page {earlier}'s items")
        self.pages, self.items = number, self.items + count
        return number

    def echoed(self, name: str, said: int | None, asked: int) -> None:
        """A paging value the last page echoes back must be the one that was asked for."""
        if said is not None and said != asked:
            raise self.error(f"page {self.pages} says {name} {said!r} where {asked} was asked for")

    def trusted_total(self, total: int | None) -> int | None:
        """The total the last page states, unless a page already proved totals wrong."""
        if total is None or self.total_wrong:
            return None
        if not isinstance(total, int) or isinstance(total, bool):
            raise self.error(f"page {self.pages} gives {total!r} as its total, not a number")
        if self.items > total:
            self.total_wrong = True
            log.warning(
                "%s: page %d reaches item %d of %s, but says the total is %d; paging on while full pages come",
                self.listing.provider, self.pages, self.items, self.listing.shown_url(), total,
            )  # fmt: skip
            return None
        return total

    def short_page(self, count: int, asked: int, total: int | None) -> None:
        """A page with fewer items than asked ends the listing, unless the total says more remain."""
        total = self.trusted_total(total)
        if total is not None and self.items < total:
            raise self.error(
                f"page {self.pages} holds {count} items where {asked} were asked for, yet its total of "
                f"{total} says {total - self.items} more remain"
            )

    def unlinked_end(self, total: int | None) -> None:
        """A page without a next link ends the listing, unless the total says more remain."""
        total = self.trusted_total(total)
        if total is not None and self.items < total:
            raise self.error(
                f"page {self.pages} links to no further page, yet its total of {total} says "
                f"{total - self.items} more remain after the {self.items} listed"
            )


def _first_key(items: Sequence[Any], key_of: Callable[[Any], Hashable] | None) -> Hashable | None:
    return key_of(items[0]) if key_of is not None and len(items) else None


def iter_pages(
    fetch: Callable[[C], P],
    first: C,
    next_of: Callable[[P], C | None],
    *,
    max_pages: int | None = None,
    listing: Listing | None = None,
    items_of: Callable[[P], Sequence[Any]] | None = None,
    key_of: Callable[[Any], Hashable] | None = None,
    asked: int | None = None,
    total_of: Callable[[P], int | None] | None = None,
) -> Iterator[P]:
    """Yield `fetch(first)`, then `fetch(next_of(page))` until `next_of` gives None or "".

    A cursor (token, URL, offset…) that comes back a second time raises `PagingError` instead of
    looping forever, as does going past `max_pages`. With `items_of`, each page is checked (see
    the module docstring): at most `asked` items, no page starting like an earlier one (by
    `key_of`), no two empty pages in a row that link on, and no end before `total_of(page)` items.
    """
    audit = PageAudit(listing or _SOMEONE)
    seen: set[C] = set()
    cursor: C | None = first
    empty_in_a_row = 0
    while cursor is not None and cursor != "":
        if cursor in seen:
            raise PagingError(f"paging loops: the next cursor {cursor!r} was already fetched")
        if max_pages is not None and len(seen) >= max_pages:
            raise PagingError(f"more than {max_pages} pages; stopping before {cursor!r}")
        seen.add(cursor)
        page = fetch(cursor)
        cursor = next_of(page)
        if items_of is not None:
            items = items_of(page)
            number = audit.take(len(items), _first_key(items, key_of), asked=asked)
            total = total_of(page) if total_of is not None else None
            if cursor is None or cursor == "":
                audit.unlinked_end(total)
            elif items:
                empty_in_a_row = 0
            else:
                empty_in_a_row += 1
                if empty_in_a_row == 2:  # fresh links to nothing could go on forever
                    raise audit.error(f"pages {number - 1} and {number} are empty, yet link to further pages")
        yield page


def offset_pages(
    fetch: Callable[[int], P],
    *,
    items_of: Callable[[P], Sequence[Any]],
    page_size: int,
    start: int = 0,
    step: int | None = None,
    total_of: Callable[[P], int | None] | None = None,
    max_pages: int | None = None,
    listing: Listing | None = None,
    key_of: Callable[[Any], Hashable] | None = None,
    position_of: Callable[[P], int | None] | None = None,
    size_of: Callable[[P], int | None] | None = None,
    confirm_end: bool = False,
) -> Iterator[P]:
    """Yield `fetch(start)`, `fetch(start + step)`, … for start-index or page-number paging.

    `step` defaults to `page_size` (start-index paging); use `start=1, step=1` for page numbers.
    Stops after an empty page, after a short page (fewer than `page_size` items), and — when
    `total_of(page)` gives the total number of items from the first page fetched on — right after
    the page that reaches it, so a total that is an exact multiple of `page_size` costs no extra
    empty request (with `confirm_end`, one more page is asked for, and must be empty). Past
    `max_pages`, raises `PagingError` (e.g. a provider that ignores the offset).

    Each page is checked (see the module docstring): `position_of(page)` and `size_of(page)`, when
    the page echoes them, must be the position and size asked for; `key_of` names an item, to spot
    a page that repeats an earlier one; a short page before the total raises `InconsistentPage`,
    and a full page past it proves the total wrong, so paging goes on until a short page.
    """
    if page_size < 1:
        raise ValueError(f"page_size must be at least 1, got {page_size}")
    audit = PageAudit(listing or _SOMEONE)
    position = start
    while True:
        if max_pages is not None and audit.pages >= max_pages:
            raise PagingError(f"more than {max_pages} pages of {page_size}; stopping at position {position}")
        page = fetch(position)
        items = items_of(page)
        count = len(items)
        audit.take(count, _first_key(items, key_of), asked=page_size)
        if position_of is not None:
            audit.echoed(audit.listing.cursor, position_of(page), position)
        if size_of is not None:
            audit.echoed(audit.listing.size_name, size_of(page), page_size)
        total = total_of(page) if total_of is not None else None
        if count < page_size:
            audit.short_page(count, page_size, total)
            yield page
            return
        total = audit.trusted_total(total)
        yield page
        if total is not None and audit.items >= total and not confirm_end:
            return
        position += page_size if step is None else step
