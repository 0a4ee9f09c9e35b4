"""Request bodies as Sentinel Hub reads them: JSON, refused with a 400 when they are not."""

from __future__ import annotations

from typing import Any

import orjson
from starlette.requests import Request

from harvest.sandbox.http import read_json
from harvest.sandbox.sentinelhub.errors import PayloadError


async def json_body(request: Request) -> Any:
    """The request body as JSON (None when empty); PayloadError when it is not JSON."""
    try:
        return await read_json(request)
    except orjson.JSONDecodeError as exc:
        raise PayloadError("", f"the request body is not valid JSON: {exc}") from exc


async def json_object(request: Request) -> dict[str, Any]:
    """The request body, which must be a JSON object."""
    body = await json_body(request)
    if not isinstance(body, dict):
        raise PayloadError("", "the request body must be a JSON object")
    return body
