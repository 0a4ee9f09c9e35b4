"""TPDI search, native search and product thumbnails: a proxy in front of the OneAtlas catalog."""

from __future__ import annotations

import orjson
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from harvest.sandbox.core import Sandbox, sandbox_of
from harvest.sandbox.http import raw_json_response
from harvest.sandbox.images import preview_jpeg
from harvest.sandbox.oneatlas.items import ItemFacts
from harvest.sandbox.oneatlas.lookup import CatalogItem, public_item
from harvest.sandbox.oneatlas.query import SearchEngine, SearchError, SearchHits, SearchRequest, parse_search
from harvest.sandbox.oneatlas.search import opensearch_envelope, renderer
from harvest.sandbox.sentinelhub.airbus import COLLECTIONS, check_provider, parse_input
from harvest.sandbox.sentinelhub.auth import refuse_unauthenticated
from harvest.sandbox.sentinelhub.body import json_body
from harvest.sandbox.sentinelhub.errors import PayloadError, bad_payload, boom, provider_error
from harvest.sandbox.sentinelhub.paging import binding, decode_token, parse_count, view_links

SEARCH_PATH = "/sentinelhub/api/v1/dataimport/search"
THUMBNAIL_WIDTH = 256
_OTHER_COLLECTIONS = ("PLANET_SCOPE", "PLANET_SKYSAT", "MAXAR_WORLDVIEW")


def engine(sandbox: Sandbox) -> SearchEngine:
    """The OneAtlas search engine over what TPDI sells (PHR and SPOT); Sandbox.now_ns drops it when the world grows."""
    return sandbox.cache("sentinelhub.engine", lambda: SearchEngine(sandbox.world.tpdi))


def _no_private_items() -> tuple[int, None]:
    return 0, None  # Sentinel Hub searches the public catalog, never a OneAtlas workspace


def hits(sandbox: Sandbox, request: SearchRequest, now_ns: int) -> SearchHits:
    """The reachable results of a OneAtlas search over the TPDI view."""
    return engine(sandbox).hits(request, now_ns, _no_private_items)


def render(sandbox: Sandbox, found: SearchHits, start: int, stop: int, now_ns: int) -> list[str]:
    """OneAtlas feature JSON texts for found[start:stop], passed through as TPDI does."""
    view = sandbox.world.tpdi
    positions = found.index[start:stop]
    if not len(positions):
        return []
    facts = ItemFacts.at(view, view.state(now_ns), positions)
    return renderer(sandbox).render(facts, sandbox.world.item_ids.encode_many(facts.keys))


async def search(request: Request) -> Response:
    """POST /search?count=&viewtoken=: one page of matching products with View links."""
    sandbox = sandbox_of(request)
    if (refused := refuse_unauthenticated(sandbox, request)) is not None:
        return refused
    try:
        body = await json_body(request)
        query = parse_input(body)
        count = parse_count(request.query_params.get("count"), sandbox.config.tpdi_search_max_count)
        bound_to = binding(body)
        token = request.query_params.get("viewtoken")
        offset = decode_token(token, bound_to) if token else 0
    except PayloadError as exc:
        return bad_payload(exc)
    assert query.search is not None
    now = sandbox.now_ns()
    found = hits(sandbox, query.search, now)
    total = len(found.index)  # OneAtlas reports at most its 10,000-result window
    features = render(sandbox, found, offset, offset + count, now)
    links = view_links(sandbox.link(SEARCH_PATH), {}, offset=offset, count=count, total=total, bound_to=bound_to)
    text = f'{{"features":[{",".join(features)}],"links":{orjson.dumps(links).decode()},"totalResults":{total}}}'
    return raw_json_response(text.encode())


async def native_search(request: Request) -> Response:
    """POST /nativesearch: OneAtlas opensearch parameters in, the OneAtlas response out, verbatim."""
    sandbox = sandbox_of(request)
    if (refused := refuse_unauthenticated(sandbox, request)) is not None:
        return refused
    try:
        body = await json_body(request)
        check_provider(body)
    except PayloadError as exc:
        return bad_payload(exc)
    now = sandbox.now_ns()
    params = {name: value for name, value in body.items() if name != "provider"}
    try:
        parsed = parse_search(params, end_semantics=sandbox.config.range_end_semantics)
    except SearchError as exc:
        return provider_error(400, str(exc), now)
    found = hits(sandbox, parsed, now)
    start = parsed.start_index
    features = render(sandbox, found, start, start + parsed.items_per_page, now)
    return raw_json_response(opensearch_envelope(len(found.index), start, parsed.items_per_page, features))


def sellable_item(sandbox: Sandbox, product_id: str, now_ns: int) -> CatalogItem | None:
    """The searchable PHR or SPOT product with this id, if any."""
    item = public_item(sandbox, product_id, now_ns)
    if item is None or item.constellation not in COLLECTIONS:
        return None
    return item


async def thumbnail(request: Request) -> Response:
    """GET /collections/{AIRBUS_PLEIADES|AIRBUS_SPOT}/products/{productId}/thumbnail: a JPEG."""
    sandbox = sandbox_of(request)
    if (refused := refuse_unauthenticated(sandbox, request)) is not None:
        return refused
    collection = request.path_params["collection_id"]
    if collection not in COLLECTIONS.values() and collection not in _OTHER_COLLECTIONS:
        return boom(400, f"Unknown collection {collection!r}")
    item = sellable_item(sandbox, request.path_params["product_id"], sandbox.now_ns())
    if item is None or COLLECTIONS[item.constellation] != collection:
        return boom(404, f"Product {request.path_params['product_id']} not found in {collection}")
    return Response(preview_jpeg(item.key, item.cloud, THUMBNAIL_WIDTH), media_type="image/jpeg")


def routes() -> list[BaseRoute]:
    """Search routes, relative to /api/v1/dataimport."""
    return [
        Route("/search", search, methods=["POST"]),
        Route("/nativesearch", native_search, methods=["POST"]),
        Route("/collections/{collection_id}/products/{product_id}/thumbnail", thumbnail, methods=["GET"]),
    ]
