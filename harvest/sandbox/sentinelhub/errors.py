"""Sentinel Hub error bodies: the Boom wrapper `{"error": {status, reason, message, code[, errors]}}`."""

from __future__ import annotations

import uuid
from http import HTTPStatus
from typing import Any

import orjson
from starlette.responses import Response

from harvest.sandbox.http import json_response

CODES = {
    400: "COMMON_BAD_PAYLOAD",
    401: "COMMON_UNAUTHORIZED",
    403: "COMMON_INSUFFICIENT_PERMISSIONS",
    404: "COMMON_NOT_FOUND",
    # not in the documented list, which is not exhaustive (docs/providers.md#sentinel-hub-errors)
    409: "COMMON_CONFLICT",
    429: "RATE_LIMIT_EXCEEDED",
}


class PayloadError(ValueError):
    """A request the API refuses with 400, naming the offending parameter."""

    def __init__(self, parameter: str, violation: str) -> None:
        super().__init__(f"{parameter}: {violation}" if parameter else violation)
        self.parameter = parameter
        self.violation = violation


def boom(
    status: int,
    message: str,
    *,
    code: str | None = None,
    errors: dict[str, Any] | None = None,
    headers: dict[str, str] | None = None,
) -> Response:
    """An error in the Boom wrapper; `code` defaults to the one Sentinel Hub uses for `status`."""
    error: dict[str, Any] = {
        "status": status,
        "reason": HTTPStatus(status).phrase,
        "message": message,
        "code": code or CODES.get(status, "COMMON_EXCEPTION"),
    }
    if errors is not None:
        error["errors"] = errors
    return json_response({"error": error}, status, headers)


def bad_payload(exc: PayloadError) -> Response:
    """400 for a refused request body or parameter."""
    return boom(400, str(exc), errors={"parameter": exc.parameter, "violation": exc.violation})


def provider_error(status: int, message: str, now_ns: int) -> Response:
    """An error forwarded from Airbus: `error.message` is itself a JSON text (docs/providers.md#sentinel-hub-errors)."""
    forwarded = {
        "correlationId": str(uuid.uuid4()),
        "hint": "Check the search parameters",
        "internalCode": status,
        "message": message,
        "timestamp": now_ns // 1_000_000,
    }
    return boom(status, orjson.dumps(forwarded).decode())


def oauth_error(status: int, error: str, description: str) -> Response:
    """The token endpoint's own OAuth2 error body."""
    return json_response({"error": error, "error_description": description}, status)


def fault_error(status: int, message: str, headers: dict[str, str]) -> Response:
    """The body of an injected 429 or 5xx."""
    return boom(status, message, headers=headers)
