"""Provider catalogs on loopback that page badly on purpose: a lying total, an ignored page cursor, a capped page.

Each server holds `scenes` numbered items and answers the provider's paging requests truthfully,
except for the one misbehaviour a test switches on. Clients built by `oneatlas_client`,
`sentinelhub_client` and `arlula_client` talk to such a server as if it were the live provider.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from harvest.providers.arlula import ArlulaClient
from harvest.providers.auth import ONEATLAS_TOKEN_PATH, SENTINELHUB_TOKEN_PATH
from harvest.providers.oneatlas import OneAtlasClient
from harvest.providers.secrets import Secret
from harvest.providers.sentinelhub import SentinelHubClient
from harvest.providers.settings import ArlulaSettings, OneAtlasSettings, SentinelHubSettings
from harvest.timestamps import parse_ns
from harvest_tests.hostile import HostileServer, Reply, Request, hostile_server

SCENES = 1_200
RESULT_WINDOW = 10_000
TOKEN = {"access_token": "hostile-token-0123456789", "expires_in": 3600, "token_type": "bearer"}
SQUARE = {"type": "Polygon", "coordinates": [[[10, 10], [10.1, 10], [10.1, 10.1], [10, 10.1], [10, 10]]]}


def scene_id(n: int) -> str:
    return f"scene-{n:05d}"


def acquired(n: int) -> str:
    """When scene `n` was acquired: `n` seconds after 2026-03-01T10:00Z."""
    return f"2026-03-01T{10 + n // 3600:02d}:{n // 60 % 60:02d}:{n % 60:02d}.000Z"


def feature(n: int) -> dict[str, Any]:
    """Scene `n` as a OneAtlas feature."""
    stamp = acquired(n)
    properties = {
        "id": scene_id(n),
        "acquisitionDate": stamp,
        "lastUpdateDate": stamp,
        "publicationDate": stamp,
        "constellation": "PHR",
        "platform": "PHR1A",
        "archiveIdentifier": f"DS_PHR1A_{n:05d}",
        "processingLevel": "SENSOR",
    }
    return {"type": "Feature", "geometry": SQUARE, "properties": properties}


@dataclass
class Paging:
    """How a hostile server pages `scenes` items; every field but `scenes` is one way to misbehave."""

    scenes: int = SCENES
    total: int | None = None  # the total it claims, when not the truth
    cap: int | None = None  # the most items it puts on a page, whatever was asked
    ignore_cursor: bool = False  # always serves the first page
    drop_from: int | None = None  # the item position after which it silently serves nothing
    echo_size: int | None = None  # the page size it claims, when not the one it used
    echo_asked: bool = False  # claims the page size that was asked for, not the one it used
    stop_linking_after: int | None = None  # pages after which next links vanish (link paging)
    extra: int = 0  # items it adds past what was asked
    give_up_after: int | None = None  # requests after which it serves empty pages (so a lax client ends)
    requests: int = 0

    def claimed_total(self, available: int | None = None) -> int:
        return (self.scenes if available is None else available) if self.total is None else self.total

    def window(self, start: int, asked: int, available: int | None = None) -> tuple[int, list[int]]:
        """The start index actually used and the positions served for a request at `start` of `asked`,
        out of `available` matching items (all `scenes` unless a filter narrowed them)."""
        self.requests += 1
        if self.give_up_after is not None and self.requests > self.give_up_after:
            return start, []
        size = min(asked, self.cap) if self.cap else asked
        if self.ignore_cursor:
            start = 0
        stop = min(start + size + self.extra, self.scenes if available is None else available)
        if self.drop_from is not None:
            stop = min(stop, max(self.drop_from, start))
        return start, list(range(start, stop))


@dataclass
class CatalogServer:
    """The running server, what it pages, and the requests it received."""

    server: HostileServer
    paging: Paging
    pages: list[dict[str, Any]] = field(default_factory=list)  # the paging part of every catalog request

    @property
    def url(self) -> str:
        return self.server.url


@contextlib.contextmanager
def catalog_server(paging: Paging, answer: Callable[[CatalogServer, Request, Reply], None]) -> Iterator[CatalogServer]:
    """Serve tokens at both providers' token paths and everything else with `answer`."""
    state: dict[str, CatalogServer] = {}

    def handle(request: Request, reply: Reply) -> None:
        if request.path in (ONEATLAS_TOKEN_PATH, SENTINELHUB_TOKEN_PATH):
            reply.json(200, TOKEN)
        else:
            answer(state["server"], request, reply)

    with hostile_server(handle) as server:
        state["server"] = CatalogServer(server, paging)
        yield state["server"]


# -- OneAtlas ------------------------------------------------------------------------------------


def _acquired_between(expression: str | None, scenes: int) -> range:
    """The scene numbers an `acquisitionDate` range such as `[a,b]` or `]a,b]` selects (ascending)."""
    if not expression:
        return range(scenes)
    low, _, high = expression.partition(",")
    first = 0
    if low[1:]:
        offset_s, rest = divmod(parse_ns(low[1:]) - parse_ns(acquired(0)), 10**9)
        first = max(0, offset_s + (1 if rest or low[0] == "]" else 0))
    last = scenes - 1
    if high.rstrip("[]"):
        offset_s, rest = divmod(parse_ns(high.rstrip("[]")) - parse_ns(acquired(0)), 10**9)
        last = min(last, offset_s - (1 if high.endswith("[") and not rest else 0))
    return range(first, last + 1)


def opensearch(catalog: CatalogServer, request: Request, reply: Reply) -> None:
    """POST /api/v2/opensearch: 1-based `startPage` of `itemsPerPage` over the scenes acquired in
    `acquisitionDate` (ascending), echoing startIndex and itemsPerPage; no page past the 10,000th result."""
    body = request.json()
    assert isinstance(body, dict)
    asked, page = int(body["itemsPerPage"]), int(body["startPage"])
    catalog.pages.append({"startPage": page, "itemsPerPage": asked})
    paging = catalog.paging
    size = min(asked, paging.cap) if paging.cap else asked
    if page * size > RESULT_WINDOW:
        reply.json(400, {"error": True, "message": "Result window is too large"})
        return
    matching = _acquired_between(body.get("acquisitionDate"), paging.scenes)
    start, served = paging.window((page - 1) * size, asked, len(matching))
    reply.json(
        200,
        {
            "error": False,
            "type": "FeatureCollection",
            "totalResults": min(paging.claimed_total(len(matching)), RESULT_WINDOW),
            "startIndex": start,
            "itemsPerPage": asked if paging.echo_asked else paging.echo_size or size,
            "features": [feature(matching[n]) for n in served],
        },
    )


def oneatlas_client(catalog: CatalogServer, page_size: int = 500) -> OneAtlasClient:
    url = catalog.url
    settings = OneAtlasSettings(
        Secret("hostile-api-key"), auth_url=url, search_url=url, data_url=url, order_url=url, access_url=url
    )
    return OneAtlasClient(settings, page_size=page_size, requests_per_s=None)


def offset_listing(
    items_key: str, position_key: str, *, page_numbers: bool
) -> Callable[[CatalogServer, Request, Reply], None]:
    """A OneAtlas list endpoint paged by start index (or 1-based page number), echoing its paging."""

    def answer(catalog: CatalogServer, request: Request, reply: Reply) -> None:
        body = request.json() if request.method == "POST" else None
        if isinstance(body, dict):
            paging_in = body.get("paging") or body
        else:
            paging_in = {name: values[0] for name, values in request.query.items()}
        asked = int(paging_in["itemsPerPage"])
        position = int(paging_in[position_key])
        catalog.pages.append({position_key: position, "itemsPerPage": asked})
        start = (position - 1) * asked if page_numbers else position
        used, served = catalog.paging.window(start, asked)
        echoed = {
            "itemsPerPage": catalog.paging.echo_size or asked,
            "startIndex": used,
            "totalResults": catalog.paging.claimed_total(),
        }
        items = [{"id": scene_id(n), "orderItemId": scene_id(n), "deletedDate": "2026-03-01T00:00:00Z"} for n in served]
        if position_key == "startIndex" and isinstance(body, dict) and "paging" in body:
            reply.json(200, {"paging": echoed, items_key: items})
        else:
            reply.json(200, {**echoed, items_key: items})

    return answer


# -- Sentinel Hub --------------------------------------------------------------------------------


def import_search(catalog: CatalogServer, request: Request, reply: Reply) -> None:
    """POST /api/v1/dataimport/search?count=&viewtoken=: OneAtlas features, `links.next` while more remain."""
    asked = int(request.query["count"][0])
    offset = int(request.query.get("viewtoken", ["0"])[0])
    catalog.pages.append({"count": asked, "viewtoken": offset})
    paging = catalog.paging
    start, served = paging.window(offset, asked)
    following = start + len(served)
    links: dict[str, str] = {}
    linking = paging.stop_linking_after is None or len(catalog.pages) < paging.stop_linking_after
    if following < paging.scenes and linking:
        # a server ignoring the cursor still hands out fresh tokens, so the links never repeat
        token = following if not paging.ignore_cursor else len(catalog.pages) * asked
        links["next"] = f"{catalog.url}{request.path}?{urlencode({'count': asked, 'viewtoken': token})}"
    reply.json(200, {"features": [feature(n) for n in served], "links": links, "totalResults": paging.claimed_total()})


def stac_search(catalog: CatalogServer, request: Request, reply: Reply) -> None:
    """POST /api/v1/catalog/1.0.0/search: STAC items, `context.next` (an offset) while more remain."""
    body = request.json()
    assert isinstance(body, dict)
    asked, offset = int(body["limit"]), int(body.get("next", 0))
    catalog.pages.append({"limit": asked, "next": offset})
    paging = catalog.paging
    start, served = paging.window(offset, asked)
    context: dict[str, int] = {"limit": asked, "returned": len(served)}
    linking = paging.stop_linking_after is None or len(catalog.pages) < paging.stop_linking_after
    if start + len(served) < paging.scenes and linking:
        context["next"] = start + len(served) if not paging.ignore_cursor else len(catalog.pages) * asked
    items = [
        {
            "type": "Feature",
            "id": scene_id(n),
            "geometry": SQUARE,
            "properties": {"datetime": feature(n)["properties"]["acquisitionDate"]},
        }
        for n in served
    ]
    reply.json(200, {"type": "FeatureCollection", "features": items, "context": context})


def sentinelhub_client(catalog: CatalogServer, page_size: int = 50) -> SentinelHubClient:
    settings = SentinelHubSettings("hostile-client", Secret("hostile-secret"), url=catalog.url, auth_url=catalog.url)
    return SentinelHubClient(settings, requests_per_s=None, import_page_size=page_size, catalog_page_size=page_size)


# -- Arlula --------------------------------------------------------------------------------------


def arlula_listing(catalog: CatalogServer, request: Request, reply: Reply) -> None:
    """GET /api/orders?page=&size=: 0-based pages, `{content, page, length, count}`."""
    page, asked = int(request.query["page"][0]), int(request.query["size"][0])
    catalog.pages.append({"page": page, "size": asked})
    paging = catalog.paging
    size = min(asked, paging.cap) if paging.cap else asked
    start, served = paging.window(page * size, asked)
    reply.json(
        200,
        {
            "content": [{"id": scene_id(n)} for n in served],
            "page": start // size if size else 0,
            "length": paging.echo_size or size,
            "count": paging.claimed_total(),
        },
    )


def arlula_client(catalog: CatalogServer) -> ArlulaClient:
    settings = ArlulaSettings("hostile-key", Secret("hostile-secret"), url=catalog.url)
    return ArlulaClient(settings, requests_per_s=None)
