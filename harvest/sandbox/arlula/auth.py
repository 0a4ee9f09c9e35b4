"""HTTP Basic authentication with the API key and secret on every call; no tokens, nothing expires."""

from __future__ import annotations

import base64
import binascii
import functools
import hmac
from collections.abc import Awaitable, Callable

from starlette.requests import Request
from starlette.responses import Response

from harvest.providers.sandbox_endpoints import ARLULA_API_KEY, ARLULA_API_SECRET
from harvest.sandbox.arlula.errors import error
from harvest.sandbox.http import json_response

Handler = Callable[[Request], Awaitable[Response]]

_CHALLENGE = {"WWW-Authenticate": 'Basic realm="Arlula API"'}
_EXPECTED = f"{ARLULA_API_KEY}:{ARLULA_API_SECRET}".encode()


def refuse_unauthenticated(request: Request) -> Response | None:
    """The 401 for a missing or wrong `Authorization: Basic` header; None when the credentials are good."""
    header = request.headers.get("authorization")
    if not header:
        return error(401, "Missing API credentials: use HTTP Basic auth with your API key and secret", _CHALLENGE)
    scheme, _, encoded = header.partition(" ")
    if scheme.lower() != "basic":
        return error(401, "Unsupported authorization scheme: use HTTP Basic auth", _CHALLENGE)
    try:
        given = base64.b64decode(encoded.strip(), validate=True)
    except (binascii.Error, ValueError):
        return error(401, "Malformed HTTP Basic credentials", _CHALLENGE)
    if not hmac.compare_digest(given, _EXPECTED):
        return error(401, "Invalid API key or secret", _CHALLENGE)
    return None


def authenticated(handler: Handler) -> Handler:
    """Wrap an endpoint so that it only runs for valid credentials."""

    @functools.wraps(handler)
    async def guarded(request: Request) -> Response:
        """Refuse bad credentials, else run the endpoint."""
        refused = refuse_unauthenticated(request)
        return refused if refused is not None else await handler(request)

    return guarded


@authenticated
async def api_test(request: Request) -> Response:
    """`GET /api/test`: 200 when the credentials are valid, and nothing else."""
    del request
    return json_response({"status": "ok"})
