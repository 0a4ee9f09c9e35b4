"""Archive search endpoints: `POST /api/archive/search`, its 2021 GET form, and the seed's `/api/search`."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from harvest.sandbox.arlula.auth import authenticated
from harvest.sandbox.arlula.catalog import search
from harvest.sandbox.arlula.errors import error
from harvest.sandbox.arlula.query import ArchiveQuery, QueryError, parse_body, parse_params
from harvest.sandbox.arlula.results import current_json, legacy_json
from harvest.sandbox.core import sandbox_of
from harvest.sandbox.http import json_response, read_json


def _envelope(request: Request, query: ArchiveQuery) -> Response:
    sandbox = sandbox_of(request)
    results = [current_json(sandbox, result) for result in search(sandbox, query)]
    return json_response({"state": "", "errors": [], "warnings": list(query.warnings), "results": results})


@authenticated
async def archive_search(request: Request) -> Response:
    """`POST /api/archive/search` with a JSON body; answers with the `{results, ...}` envelope."""
    try:
        body = await read_json(request)
    except ValueError:
        return error(400, "the request body is not valid JSON")
    try:
        query = parse_body(body)
    except QueryError as exc:
        return error(400, str(exc))
    return _envelope(request, query)


@authenticated
async def archive_search_get(request: Request) -> Response:
    """`GET /api/archive/search?start&end&gsd&lat&long|north&south&east&west...` (SDKs of 2021-2023)."""
    try:
        query = parse_params(request.query_params, resolution_key="gsd")
    except QueryError as exc:
        return error(400, str(exc))
    return _envelope(request, query)


@authenticated
async def legacy_search(request: Request) -> Response:
    """`GET /api/search` of API 2020-12: a bare list of Search Results."""
    try:
        query = parse_params(request.query_params, resolution_key="res")
    except QueryError as exc:
        return error(400, str(exc))
    sandbox = sandbox_of(request)
    return json_response([legacy_json(sandbox, result) for result in search(sandbox, query)])


def routes() -> list[Route]:
    """The search routes, relative to the API mount."""
    return [
        Route("/api/archive/search", archive_search, methods=["POST"]),
        Route("/api/archive/search", archive_search_get, methods=["GET"]),
        Route("/api/search", legacy_search, methods=["GET"]),
    ]
