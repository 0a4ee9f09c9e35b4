"""OneAtlas error bodies: `ApiError` on search/data/access, `{errorCode, message}` on order.api."""

from __future__ import annotations

import time
import uuid

from starlette.requests import Request
from starlette.responses import Response

from harvest.sandbox.http import json_response

CORRELATION_HEADER = "X-Ads-Correlation-Id"


def correlation_id(request: Request | None) -> str:
    """The caller's X-Ads-Correlation-Id, or a fresh one (as the API does)."""
    given = request.headers.get(CORRELATION_HEADER) if request is not None else None
    return given or str(uuid.uuid4())


def api_error(
    status: int,
    message: str,
    *,
    request: Request | None = None,
    hint: str = "",
    headers: dict[str, str] | None = None,
) -> Response:
    """An ApiError; `timestamp` is in milliseconds like the spec's example (its text says seconds)."""
    cid = correlation_id(request)
    body = {
        "correlationId": cid,
        "hint": hint,
        "internalCode": status,
        "message": message,
        "timestamp": int(time.time() * 1000),
    }
    return json_response(body, status, {CORRELATION_HEADER: cid, **(headers or {})})


def order_api_error(
    status: int, message: str, *, error_code: str = "E2203", headers: dict[str, str] | None = None
) -> Response:
    """order.api's own error shapes (seed 000): 4xx `{errorCode, message}`, 500 `{code}`."""
    if status >= 500:
        return json_response({"code": "UNEXPECTED_SERVER_ERROR"}, status, headers)
    if status == 401:
        return json_response({"message": message}, status, headers)
    return json_response({"errorCode": error_code, "message": message}, status, headers)


def fault_api_error(status: int, message: str, headers: dict[str, str]) -> Response:
    return api_error(status, message, headers=headers)


def fault_order_api_error(status: int, message: str, headers: dict[str, str]) -> Response:
    return order_api_error(status, message, headers=headers)
