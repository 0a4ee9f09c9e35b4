"""Import quotas per collection, on the legacy `/quotas` and the current `/accountquotas` paths."""

from __future__ import annotations

import uuid
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from harvest.sandbox.core import Sandbox, sandbox_of
from harvest.sandbox.http import json_response
from harvest.sandbox.sentinelhub.airbus import COLLECTIONS
from harvest.sandbox.sentinelhub.auth import refuse_unauthenticated
from harvest.sandbox.sentinelhub.errors import boom
from harvest.sandbox.sentinelhub.ledger import quota_used


def _quotas(sandbox: Sandbox) -> list[dict[str, Any]]:
    """{collectionId, quotaSqkm, quotaUsed} per collection; available = quotaSqkm - quotaUsed."""
    used = quota_used(sandbox)
    return [
        {"collectionId": collection, "quotaSqkm": float(sandbox.config.tpdi_quota_sqkm), "quotaUsed": used[collection]}
        for collection in COLLECTIONS.values()
    ]


def _quota_id(seed: int, collection: str) -> str:
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"harvest-sandbox/sentinelhub/quota/{seed}/{collection}"))


def _selected(sandbox: Sandbox, request: Request) -> list[dict[str, Any]]:
    wanted = request.query_params.get("collectionId")
    return [q for q in _quotas(sandbox) if wanted is None or q["collectionId"] == wanted]


async def legacy_quotas(request: Request) -> Response:
    """GET /quotas[?collectionId=]: the older shape, with a quota id and datasetId."""
    sandbox = sandbox_of(request)
    if (refused := refuse_unauthenticated(sandbox, request)) is not None:
        return refused
    seed = sandbox.config.seed
    data = [
        {"id": _quota_id(seed, q["collectionId"]), **q, "datasetId": q["collectionId"]}
        for q in _selected(sandbox, request)
    ]
    return json_response({"data": data})


async def account_quotas(request: Request) -> Response:
    """GET /accountquotas[?collectionId=]."""
    sandbox = sandbox_of(request)
    if (refused := refuse_unauthenticated(sandbox, request)) is not None:
        return refused
    return json_response({"data": _selected(sandbox, request)})


async def account_quota(request: Request) -> Response:
    """GET /accountquotas/{collectionId}."""
    sandbox = sandbox_of(request)
    if (refused := refuse_unauthenticated(sandbox, request)) is not None:
        return refused
    wanted = request.path_params["collection_id"]
    for quota in _quotas(sandbox):
        if quota["collectionId"] == wanted:
            return json_response(quota)
    return boom(404, f"No import quota for collection {wanted}")


def routes() -> list[BaseRoute]:
    """Quota routes, relative to /api/v1/dataimport."""
    return [
        Route("/quotas", legacy_quotas, methods=["GET"]),
        Route("/accountquotas", account_quotas, methods=["GET"]),
        Route("/accountquotas/{collection_id}", account_quota, methods=["GET"]),
    ]
