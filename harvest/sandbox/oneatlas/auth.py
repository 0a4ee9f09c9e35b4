"""OneAtlas authentication: API key to bearer token (grant_type=api_key), and token checks."""

from __future__ import annotations

import uuid

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from harvest.providers.sandbox_endpoints import ONEATLAS_API_KEY
from harvest.sandbox.core import Sandbox, sandbox_of
from harvest.sandbox.http import json_response, read_form
from harvest.sandbox.oneatlas.errors import api_error, order_api_error

AUDIENCE = "oneatlas"
TOKEN_PATH = "/auth/realms/IDP/protocol/openid-connect/token"  # noqa: S105 - a URL path


async def token(request: Request) -> Response:
    sandbox = sandbox_of(request)
    form = await read_form(request)
    if form.get("grant_type") != "api_key":
        return json_response(
            {"error": "unsupported_grant_type", "error_description": "Unsupported grant_type; use api_key"}, 400
        )
    if form.get("client_id") not in ("IDP", "AAA"):
        return json_response(
            {"error": "invalid_client", "error_description": "Invalid client or Invalid client credentials"}, 401
        )
    if form.get("apikey") != ONEATLAS_API_KEY:
        return json_response({"error": "invalid_grant", "error_description": "Invalid API key"}, 401)
    advertised = sandbox.config.token_lifetime_s
    early = sandbox.faults.decide(("token_expiry",), "oneatlas.auth")
    lifetime = advertised * (early.param or 0.1) if early else advertised
    access_token = sandbox.tokens.mint(
        subject="sandbox-user", audience=AUDIENCE, issued_ns=sandbox.now_ns(), lifetime_s=lifetime
    )
    return json_response(
        {
            "access_token": access_token,
            "expires_in": int(advertised),
            "refresh_expires_in": 0,
            "token_type": "bearer",
            "not-before-policy": 0,
            "session_state": str(uuid.uuid4()),
            "scope": "",
        }
    )


def refuse_unauthenticated(sandbox: Sandbox, request: Request, *, order_api: bool = False) -> Response | None:
    """The provider's 401 when the bearer token is missing, invalid or expired; None when it is fine."""
    check = sandbox.tokens.check(request.headers.get("authorization"), audience=AUDIENCE, now_ns=sandbox.now_ns())
    if check.ok:
        return None
    cause = {"expired": "Token expired", "missing": "Missing token"}.get(check.reason, "Invalid token")
    if order_api:
        return order_api_error(401, f"Authentication failed (cause: {cause})")
    return api_error(401, f"Authentication failed (cause: {cause})", request=request, hint="Get a new access token")


def routes() -> list[Route]:
    return [Route(TOKEN_PATH, token, methods=["POST"])]
