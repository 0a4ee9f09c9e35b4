"""The Sentinel Hub Catalog (STAC API 1.0.0): landing page, collections, items and item search."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode

import numpy as np
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from harvest.sandbox.core import Sandbox, sandbox_of
from harvest.sandbox.http import json_response
from harvest.sandbox.images import preview_jpeg
from harvest.sandbox.sentinelhub.auth import refuse_unauthenticated
from harvest.sandbox.sentinelhub.body import json_object
from harvest.sandbox.sentinelhub.errors import PayloadError, bad_payload, boom
from harvest.sandbox.sentinelhub.s2_names import row_of_item
from harvest.sandbox.sentinelhub.stac_fields import apply_fields
from harvest.sandbox.sentinelhub.stac_items import (
    COLLECTION_ID,
    GEOJSON,
    STAC_VERSION,
    catalog_link,
    render_items,
)
from harvest.sandbox.sentinelhub.stac_query import StacQuery, matching_rows, parse_query
from harvest.timestamps import format_seconds

CONFORMANCE = (
    "https://api.stacspec.org/v1.0.0/core",
    "https://api.stacspec.org/v1.0.0/collections",
    "https://api.stacspec.org/v1.0.0/ogcapi-features",
    "https://api.stacspec.org/v1.0.0/item-search",
    "https://api.stacspec.org/v1.0.0/item-search#fields",
    "https://api.stacspec.org/v1.0.0/item-search#filter",
    "https://api.stacspec.org/v1.0.0-rc.1/item-search#context",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/geojson",
    "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/filter",
    "http://www.opengis.net/spec/cql2/1.0/conf/basic-cql2",
    "http://www.opengis.net/spec/cql2/1.0/conf/cql2-text",
    "http://www.opengis.net/spec/cql2/1.0/conf/cql2-json",
)
_JSON = "application/json"


def _link(href: str, rel: str, media_type: str = _JSON, **extra: Any) -> dict[str, Any]:
    return {"href": href, "rel": rel, "type": media_type, **extra}


async def landing(request: Request) -> Response:
    """GET /api/v1/catalog/1.0.0/: the root catalog, with search links for GET and POST."""
    sandbox = sandbox_of(request)
    search = catalog_link(sandbox, "/search")
    return json_response(
        {
            "stac_version": STAC_VERSION,
            "type": "Catalog",
            "id": "sentinel-hub",
            "title": "Sentinel Hub STAC catalog",
            "description": "STAC v1.0.0 implementation of the Sentinel Hub catalog (harvest sandbox)",
            "conformsTo": list(CONFORMANCE),
            "links": [
                _link(catalog_link(sandbox, "/"), "self"),
                _link(catalog_link(sandbox, "/"), "root"),
                _link(catalog_link(sandbox, "/conformance"), "conformance"),
                _link(catalog_link(sandbox, "/collections"), "data"),
                _link(search, "search", GEOJSON, method="GET"),
                _link(search, "search", GEOJSON, method="POST"),
                _link(catalog_link(sandbox, f"/collections/{COLLECTION_ID}"), "child", title="Sentinel 2 L2A"),
            ],
        }
    )


async def conformance(request: Request) -> Response:
    """GET /conformance."""
    del request
    return json_response({"conformsTo": list(CONFORMANCE)})


def _collection(sandbox: Sandbox) -> dict[str, Any]:
    own = catalog_link(sandbox, f"/collections/{COLLECTION_ID}")
    return {
        "stac_version": STAC_VERSION,
        "stac_extensions": ["https://stac-extensions.github.io/eo/v1.0.0/schema.json"],
        "type": "Collection",
        "id": COLLECTION_ID,
        "title": "Sentinel 2 L2A",
        "description": "Sentinel 2 imagery processed with Sen2Cor to L2A (bottom of atmosphere reflectance)",
        "keywords": ["sentinel", "copernicus", "esa", "msi", "l2a", "reflectance"],
        "license": "proprietary",
        "providers": [
            {"name": "ESA", "roles": ["producer"], "url": "https://esa.int/"},
            {"name": "Sinergise", "roles": ["processor", "host"], "url": "https://www.sinergise.com/"},
        ],
        "extent": {
            "spatial": {"bbox": [[-180.0, -56.0, 180.0, 83.0]]},
            "temporal": {"interval": [["2016-11-01T00:00:00Z", None]]},
        },
        "summaries": {
            "platform": ["sentinel-2a", "sentinel-2b", "sentinel-2c"],
            "instruments": ["msi"],
            "constellation": ["sentinel-2"],
            "gsd": [10],
            "eo:cloud_cover": {"minimum": 0, "maximum": 100},
        },
        "links": [
            _link(own, "self"),
            _link(catalog_link(sandbox, "/"), "root"),
            _link(catalog_link(sandbox, "/"), "parent"),
            _link(f"{own}/items", "items", GEOJSON),
            _link("https://creativecommons.org/licenses/by-sa/3.0/igo/", "license", "text/html"),
        ],
    }


async def collections(request: Request) -> Response:
    """GET /collections."""
    sandbox = sandbox_of(request)
    if (refused := refuse_unauthenticated(sandbox, request)) is not None:
        return refused
    return json_response(
        {
            "collections": [_collection(sandbox)],
            "links": [
                _link(catalog_link(sandbox, "/collections"), "self"),
                _link(catalog_link(sandbox, "/"), "root"),
            ],
        }
    )


async def collection(request: Request) -> Response:
    """GET /collections/{collectionId}."""
    sandbox = sandbox_of(request)
    if (refused := refuse_unauthenticated(sandbox, request)) is not None:
        return refused
    if request.path_params["collection_id"] != COLLECTION_ID:
        return boom(404, f"Collection {request.path_params['collection_id']} not found")
    return json_response(_collection(sandbox))


NextLink = Callable[[int], dict[str, Any]]  # the rel=next link for a page starting at an offset


def _page(
    sandbox: Sandbox, query: StacQuery, next_link: NextLink
) -> tuple[list[dict[str, Any]], dict[str, Any] | None, dict[str, int]]:
    """One page of items, the `next` link (if any) and the `context` object."""
    rows = matching_rows(sandbox, query, sandbox.now_ns())
    page = rows[query.offset : query.offset + query.limit]
    items = [apply_fields(item, query.fields) for item in render_items(sandbox, page)]
    following = query.offset + query.limit
    context: dict[str, int] = {}
    link = None
    if following < len(rows):
        context["next"] = following
        link = next_link(following)
    context.update(limit=query.limit, returned=len(items))
    return items, link, context


def _get_next(url: str, request: Request) -> NextLink:
    def build(offset: int) -> dict[str, Any]:
        params = [(k, v) for k, v in request.query_params.multi_items() if k != "next"]
        href = f"{url}?{urlencode([*params, ('next', str(offset))])}"
        return _link(href, "next", GEOJSON, title="Next set of results")

    return build


async def search_get(request: Request) -> Response:
    """GET /search?collections=&datetime=&bbox=&intersects=&ids=&limit=&next=&filter=&fields=."""
    sandbox = sandbox_of(request)
    if (refused := refuse_unauthenticated(sandbox, request)) is not None:
        return refused
    try:
        query = parse_query(dict(request.query_params))
    except PayloadError as exc:
        return bad_payload(exc)
    url = catalog_link(sandbox, "/search")
    items, link, context = _page(sandbox, query, _get_next(url, request))
    links = [_link(f"{url}?{request.url.query}", "self", GEOJSON), *([link] if link else [])]
    return json_response({"type": "FeatureCollection", "features": items, "links": links, "context": context})


async def search_post(request: Request) -> Response:
    """POST /search: the body as sentinelhub-py's CatalogSearchIterator sends it, `next` included."""
    sandbox = sandbox_of(request)
    if (refused := refuse_unauthenticated(sandbox, request)) is not None:
        return refused
    try:
        query = parse_query(await json_object(request))
    except PayloadError as exc:
        return bad_payload(exc)
    url = catalog_link(sandbox, "/search")

    def next_link(offset: int) -> dict[str, Any]:
        repeat_with = {"next": offset}
        return _link(url, "next", GEOJSON, title="Next set of results", method="POST", body=repeat_with, merge=True)

    items, link, context = _page(sandbox, query, next_link)
    links = [_link(url, "self", GEOJSON), *([link] if link else [])]
    return json_response({"type": "FeatureCollection", "features": items, "links": links, "context": context})


async def collection_items(request: Request) -> Response:
    """GET /collections/{collectionId}/items?bbox=&datetime=&limit=&next= (OGC API Features)."""
    sandbox = sandbox_of(request)
    if (refused := refuse_unauthenticated(sandbox, request)) is not None:
        return refused
    if request.path_params["collection_id"] != COLLECTION_ID:
        return boom(404, f"Collection {request.path_params['collection_id']} not found")
    try:
        query = parse_query(dict(request.query_params), collection=COLLECTION_ID)
    except PayloadError as exc:
        return bad_payload(exc)
    url = catalog_link(sandbox, f"/collections/{COLLECTION_ID}/items")
    items, link, context = _page(sandbox, query, _get_next(url, request))
    links = [_link(url, "self", GEOJSON), *([link] if link else [])]
    return json_response(
        {
            "type": "FeatureCollection",
            "features": items,
            "links": links,
            "timeStamp": format_seconds(sandbox.now_ns()),
            "numberReturned": len(items),
            "context": context,
        }
    )


def _visible_row(sandbox: Sandbox, item_id: str) -> int | None:
    row = row_of_item(sandbox, item_id)
    if row is None:
        return None
    view = sandbox.world.stac
    position = int(view.position(np.array([row]))[0])
    return row if view.state(sandbox.now_ns()).visible[position] else None


async def item(request: Request) -> Response:
    """GET /collections/{collectionId}/items/{itemId}."""
    sandbox = sandbox_of(request)
    if (refused := refuse_unauthenticated(sandbox, request)) is not None:
        return refused
    row = _visible_row(sandbox, request.path_params["item_id"])
    if request.path_params["collection_id"] != COLLECTION_ID or row is None:
        return boom(404, f"Item {request.path_params['item_id']} not found")
    return json_response(render_items(sandbox, np.array([row]))[0])


async def preview(request: Request) -> Response:
    """GET /previews/{itemId}.jpg: the thumbnail asset (public, like Sentinel Hub's own previews)."""
    sandbox = sandbox_of(request)
    row = _visible_row(sandbox, request.path_params["item_id"])
    if row is None:
        return boom(404, f"No preview for {request.path_params['item_id']}")
    acq = sandbox.world.acq
    return Response(preview_jpeg(int(acq.key[row]), float(acq.cloud[row]), 343), media_type="image/jpeg")


def routes() -> list[BaseRoute]:
    """Catalog routes, relative to /api/v1/catalog."""
    root = "/1.0.0"
    return [
        Route(root, landing, methods=["GET"]),
        Route(root + "/", landing, methods=["GET"]),
        Route(root + "/conformance", conformance, methods=["GET"]),
        Route(root + "/collections", collections, methods=["GET"]),
        Route(root + "/collections/{collection_id}", collection, methods=["GET"]),
        Route(root + "/collections/{collection_id}/items", collection_items, methods=["GET"]),
        Route(root + "/collections/{collection_id}/items/{item_id}", item, methods=["GET"]),
        Route(root + "/search", search_get, methods=["GET"]),
        Route(root + "/search", search_post, methods=["POST"]),
        Route("/previews/{item_id}.jpg", preview, methods=["GET"]),
    ]
