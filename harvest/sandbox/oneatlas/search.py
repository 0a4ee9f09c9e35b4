"""OneAtlas search host: opensearch v1/v2, domains, description document and deleted search."""

from __future__ import annotations

from typing import Any

import numpy as np
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from harvest.sandbox.core import Sandbox, sandbox_of
from harvest.sandbox.http import json_response, raw_json_response, read_json
from harvest.sandbox.oneatlas.auth import refuse_unauthenticated
from harvest.sandbox.oneatlas.errors import api_error
from harvest.sandbox.oneatlas.items import (
    CONSTELLATIONS,
    PLATFORMS,
    PROCESSING_LEVELS,
    PRODUCT_TYPES,
    PRODUCTION_STATUSES,
    ItemFacts,
)
from harvest.sandbox.oneatlas.query import (
    RESULT_WINDOW,
    SearchEngine,
    SearchError,
    SearchHits,
    SearchRequest,
    parse_search,
)
from harvest.sandbox.oneatlas.ranges import RangeSyntaxError, parse_interval
from harvest.sandbox.oneatlas.render import FeatureRenderer
from harvest.sandbox.oneatlas.workspace import delivered_items
from harvest.timestamps import InvalidTimestamp, format_rfc3339_nano, parse_ns


def engine(sandbox: Sandbox) -> SearchEngine:
    return sandbox.cache("oneatlas.engine", lambda: SearchEngine(sandbox.world.oneatlas))


def renderer(sandbox: Sandbox) -> FeatureRenderer:
    return sandbox.cache("oneatlas.renderer", lambda: FeatureRenderer(sandbox.base_url, sandbox.config.seed))


def query_params(request: Request) -> dict[str, Any]:
    """GET parameters; a repeated parameter means a comma list."""
    params: dict[str, Any] = {}
    for name, value in request.query_params.multi_items():
        params[name] = f"{params[name]},{value}" if name in params else value
    return params


def render_features(sandbox: Sandbox, hits: SearchHits, start: int, stop: int, now_ns: int) -> list[str]:
    """Feature JSON texts for hits[start:stop], public and delivered items interleaved in order."""
    source = hits.source[start:stop]
    index = hits.index[start:stop]
    view = sandbox.world.oneatlas
    out: list[str | None] = [None] * len(source)
    public = np.nonzero(source == 0)[0]
    if len(public):
        facts = ItemFacts.at(view, view.state(now_ns), index[public])
        ids = sandbox.world.item_ids.encode_many(facts.keys)
        for slot, text in zip(public.tolist(), renderer(sandbox).render(facts, ids), strict=True):
            out[slot] = text
    delivered = np.nonzero(source == 1)[0]
    if len(delivered):
        _, items = delivered_items(sandbox, now_ns)
        assert items is not None
        subset = items.subset(index[delivered])
        texts = renderer(sandbox).render(subset, subset.item_ids, subset.overrides)
        for slot, text in zip(delivered.tolist(), texts, strict=True):
            out[slot] = text
    return [text for text in out if text is not None]


def run_search(sandbox: Sandbox, request: Request, params: dict[str, Any]) -> Response:
    refused = refuse_unauthenticated(sandbox, request)
    if refused is not None:
        return refused
    try:
        parsed: SearchRequest = parse_search(params, end_semantics=sandbox.config.range_end_semantics)
    except SearchError as exc:
        return api_error(400, str(exc), request=request, hint="Check the search parameters")
    now = sandbox.now_ns()
    hits = engine(sandbox).hits(parsed, now, lambda: delivered_items(sandbox, now))
    start = parsed.start_index
    features = render_features(sandbox, hits, start, start + parsed.items_per_page, now)
    return raw_json_response(
        opensearch_envelope(min(hits.total, RESULT_WINDOW), start, parsed.items_per_page, features)
    )


def opensearch_envelope(total: int, start_index: int, items_per_page: int, features: list[str]) -> bytes:
    """A SearchResponse body around already rendered features."""
    head = (
        f'{{"error":false,"type":"FeatureCollection","totalResults":{total},'
        f'"startIndex":{start_index},"itemsPerPage":{items_per_page},"features":['
    )
    return (head + ",".join(features) + "]}").encode()


async def opensearch_v1(request: Request) -> Response:
    return run_search(sandbox_of(request), request, query_params(request))


async def opensearch_v2_get(request: Request) -> Response:
    return run_search(sandbox_of(request), request, query_params(request))


async def opensearch_v2_post(request: Request) -> Response:
    try:
        body = await read_json(request) or {}
    except ValueError:
        return api_error(400, "The request body is not valid JSON", request=request)
    if not isinstance(body, dict):
        return api_error(400, "The request body must be a JSON object of search parameters", request=request)
    return run_search(sandbox_of(request), request, body)


_DOMAINS = {
    "constellation": list(CONSTELLATIONS),
    "platform": list(PLATFORMS),
    "processingLevel": list(PROCESSING_LEVELS),
    "productType": list(PRODUCT_TYPES),
    "productionStatus": list(PRODUCTION_STATUSES),
    "sensorType": ["OPTICAL"],
    "spectralRange": ["VISIBLE"],
}


async def domains(request: Request) -> Response:
    sandbox = sandbox_of(request)
    refused = refuse_unauthenticated(sandbox, request)
    if refused is not None:
        return refused
    name = request.path_params["property_name"]
    if name not in _DOMAINS:
        return api_error(404, f"No domain for property {name!r}", request=request)
    return json_response({name: _DOMAINS[name], "warning": "Result is not exhaustive"})


async def description(request: Request) -> Response:
    sandbox = sandbox_of(request)
    template = (
        f"{sandbox.base_url}/oneatlas/search/api/v2/opensearch?bbox={{geo:box?}}&amp;geometry={{geo:geometry?}}"
        "&amp;itemsPerPage={count?}&amp;startPage={startPage?}&amp;acquisitionDate={time:start?}"
    )
    xml = (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<OpenSearchDescription xmlns="http://a9.com/-/spec/opensearch/1.1/" '
        'xmlns:geo="http://a9.com/-/opensearch/extensions/geo/1.0/" '
        'xmlns:time="http://a9.com/-/opensearch/extensions/time/1.0/">\n'
        "  <ShortName>OneAtlas</ShortName>\n"
        "  <Description>OneAtlas catalog search (harvest sandbox)</Description>\n"
        f'  <Url type="application/json" template="{template}"/>\n'
        "</OpenSearchDescription>\n"
    )
    return Response(xml, media_type="application/opensearchdescription+xml")


async def deleted_search(request: Request) -> Response:
    sandbox = sandbox_of(request)
    refused = refuse_unauthenticated(sandbox, request)
    if refused is not None:
        return refused
    try:
        body = await read_json(request) or {}
        items_per_page = int(body.get("itemsPerPage", 50))
        start_index = int(body.get("startIndex", 0))
        window = (
            parse_interval(str(body["deletedDate"]), parse_ns, end_semantics=sandbox.config.range_end_semantics)
            if body.get("deletedDate")
            else None
        )
    except (ValueError, TypeError, AttributeError, RangeSyntaxError, InvalidTimestamp) as exc:
        return api_error(400, f"Invalid deleted search: {exc}", request=request)
    if not 1 <= items_per_page <= 500 or start_index < 0:
        return api_error(400, "itemsPerPage must be 1..500 and startIndex >= 0", request=request)
    view = sandbox.world.oneatlas
    state = view.state(sandbox.now_ns())
    positions = np.nonzero(state.deleted)[0]
    deleted_ns = sandbox.world.acq.deleted_ns[view.rows[positions]]
    if window is not None:
        keep = window.mask(deleted_ns)
        positions, deleted_ns = positions[keep], deleted_ns[keep]
    keys = sandbox.world.acq.key[view.rows[positions]]
    order = np.lexsort([keys, deleted_ns])
    page = order[start_index : start_index + items_per_page]
    ids = sandbox.world.item_ids.encode_many(keys[page])
    data = [
        {"id": item_id, "deletedDate": format_rfc3339_nano(int(ns))}
        for item_id, ns in zip(ids, deleted_ns[page].tolist(), strict=True)
    ]
    return json_response(
        {"itemsPerPage": items_per_page, "startIndex": start_index, "totalResults": len(order), "data": data}
    )


async def delete_item(request: Request) -> Response:
    sandbox = sandbox_of(request)
    refused = refuse_unauthenticated(sandbox, request)
    if refused is not None:
        return refused
    return api_error(403, "User has not enough rights to delete this item", request=request)


def routes() -> list[Route]:
    return [
        Route("/api/v1/opensearch", opensearch_v1, methods=["GET"]),
        Route("/api/v2/opensearch", opensearch_v2_get, methods=["GET"]),
        Route("/api/v2/opensearch", opensearch_v2_post, methods=["POST"]),
        Route("/api/v2/opensearch/domains/{property_name}", domains, methods=["GET"]),
        Route("/api/v2/opensearch/description.xml", description, methods=["GET"]),
        Route("/api/v1/deleted/search", deleted_search, methods=["POST"]),
        Route("/api/v1/items/{item_id}", delete_item, methods=["DELETE"]),
    ]
