"""Arlula error bodies: the API's format is undocumented, so `{"error": "..."}`.

See docs/providers.md#arlula-in-the-sandbox.
"""

from __future__ import annotations

from starlette.responses import Response

from harvest.sandbox.http import json_response


def error(status: int, message: str, headers: dict[str, str] | None = None) -> Response:
    """An error response with Arlula's JSON body."""
    return json_response({"error": message}, status, headers)


def fault_error(status: int, message: str, headers: dict[str, str]) -> Response:
    """The body of an injected 429/5xx fault."""
    return error(status, message, headers)
