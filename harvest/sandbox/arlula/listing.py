"""Reading orders back: the 2024-07 lists and gets, and the seed's `/api/order/list` and `/api/order/get`.

Lists page from 0 with a default size of 20 and answer `{content, page, length, count}`, where
`length` is the page size and `count` the total; entries leave out nested datasets and resources.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from harvest.sandbox.arlula.auth import authenticated
from harvest.sandbox.arlula.errors import error
from harvest.sandbox.arlula.orders import DATASETS, ORDERS, dataset_progress, datasets_of, find_resource, newest_first
from harvest.sandbox.arlula.representations import dataset_json, legacy_order_json, order_json, resource_json
from harvest.sandbox.core import Sandbox, sandbox_of
from harvest.sandbox.http import json_response

DEFAULT_PAGE_SIZE = 20
MAX_PAGE_SIZE = 500


class _BadRequest(ValueError):
    pass


def _page(request: Request) -> tuple[int, int]:
    try:
        page = int(request.query_params.get("page", "0"))
        size = int(request.query_params.get("size", str(DEFAULT_PAGE_SIZE)))
    except ValueError as exc:
        raise _BadRequest("page and size must be integers") from exc
    if page < 0 or not 1 <= size <= MAX_PAGE_SIZE:
        raise _BadRequest(f"page starts at 0 and size must be between 1 and {MAX_PAGE_SIZE}")
    return page, size


def _paged(
    request: Request, documents: list[dict[str, Any]], render: Callable[[dict[str, Any]], dict[str, Any]]
) -> Response:
    try:
        page, size = _page(request)
    except _BadRequest as exc:
        return error(400, str(exc))
    chosen = newest_first(documents)[page * size : (page + 1) * size]
    return json_response(
        {"content": [render(d) for d in chosen], "page": page, "length": size, "count": len(documents)}
    )


def _uuid(text: str) -> str | None:
    try:
        return str(uuid.UUID(text))
    except ValueError:
        return None


def _lookup(sandbox: Sandbox, collection: str, text: str, what: str) -> dict[str, Any] | Response:
    """A document by id: 400 for a malformed id, 404 for an unknown one."""
    doc_id = _uuid(text)
    if doc_id is None:
        return error(400, f"malformed {what} id {text!r}")
    document = sandbox.state.get(collection, doc_id)
    return document if document is not None else error(404, f"{what} {doc_id} not found")


@authenticated
async def list_orders(request: Request) -> Response:
    """`GET /api/orders?page&size`."""
    sandbox = sandbox_of(request)
    now = sandbox.now_ns()
    return _paged(request, sandbox.state.all(ORDERS), lambda o: order_json(sandbox, o, now, nested=False))


@authenticated
async def get_order(request: Request) -> Response:
    """`GET /api/order/{id}`: the Order with its datasets."""
    sandbox = sandbox_of(request)
    found = _lookup(sandbox, ORDERS, request.path_params["order_id"], "order")
    if isinstance(found, Response):
        return found
    return json_response(order_json(sandbox, found, sandbox.now_ns()))


@authenticated
async def order_datasets(request: Request) -> Response:
    """`GET /api/order/{id}/datasets?page&size`."""
    sandbox = sandbox_of(request)
    found = _lookup(sandbox, ORDERS, request.path_params["order_id"], "order")
    if isinstance(found, Response):
        return found
    now = sandbox.now_ns()
    return _paged(request, datasets_of(sandbox, found), lambda d: dataset_json(sandbox, d, now, with_resources=False))


@authenticated
async def order_campaigns(request: Request) -> Response:
    """`GET /api/order/{id}/campaigns`: archive orders never have campaigns."""
    sandbox = sandbox_of(request)
    found = _lookup(sandbox, ORDERS, request.path_params["order_id"], "order")
    if isinstance(found, Response):
        return found
    return _paged(request, [], dict)


@authenticated
async def list_datasets(request: Request) -> Response:
    """`GET /api/datasets?page&size`."""
    sandbox = sandbox_of(request)
    now = sandbox.now_ns()
    return _paged(request, sandbox.state.all(DATASETS), lambda d: dataset_json(sandbox, d, now, with_resources=False))


@authenticated
async def get_dataset(request: Request) -> Response:
    """`GET /api/dataset/{id}`: the Dataset with its resources."""
    sandbox = sandbox_of(request)
    found = _lookup(sandbox, DATASETS, request.path_params["dataset_id"], "dataset")
    if isinstance(found, Response):
        return found
    return json_response(dataset_json(sandbox, found, sandbox.now_ns()))


@authenticated
async def get_resource(request: Request) -> Response:
    """`GET /api/resource/{id}`: a Resource of a completed dataset."""
    sandbox = sandbox_of(request)
    text = request.path_params["resource_id"]
    resource_id = _uuid(text)
    if resource_id is None:
        return error(400, f"malformed resource id {text!r}")
    found = find_resource(sandbox, resource_id)
    progress = None if found is None else dataset_progress(found[0], sandbox.now_ns())
    if found is None or progress is None or not progress.complete:
        return error(404, f"resource {resource_id} not found")
    return json_response(resource_json(sandbox, found[1], progress))


@authenticated
async def legacy_list(request: Request) -> Response:
    """`GET /api/order/list` (2020-12): every ordered scene, as a bare list."""
    sandbox = sandbox_of(request)
    now = sandbox.now_ns()
    datasets = newest_first(sandbox.state.all(DATASETS))
    return json_response([legacy_order_json(sandbox, d, now, detailed=False) for d in datasets])


@authenticated
async def legacy_get(request: Request) -> Response:
    """`GET /api/order/get?id=` (2020-12): a Detailed Order with its resources."""
    sandbox = sandbox_of(request)
    found = _lookup(sandbox, DATASETS, request.query_params.get("id", ""), "order")
    if isinstance(found, Response):
        return found
    return json_response(legacy_order_json(sandbox, found, sandbox.now_ns(), detailed=True))


def routes() -> list[Route]:
    """The read routes, relative to the API mount (fixed paths before `/api/order/{id}`)."""
    return [
        Route("/api/orders", list_orders, methods=["GET"]),
        Route("/api/order/list", legacy_list, methods=["GET"]),
        Route("/api/order/get", legacy_get, methods=["GET"]),
        Route("/api/order/{order_id}", get_order, methods=["GET"]),
        Route("/api/order/{order_id}/datasets", order_datasets, methods=["GET"]),
        Route("/api/order/{order_id}/campaigns", order_campaigns, methods=["GET"]),
        Route("/api/datasets", list_datasets, methods=["GET"]),
        Route("/api/dataset/{dataset_id}", get_dataset, methods=["GET"]),
        Route("/api/resource/{resource_id}", get_resource, methods=["GET"]),
    ]
