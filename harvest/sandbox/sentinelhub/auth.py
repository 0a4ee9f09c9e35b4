"""Sentinel Hub OAuth2 client credentials (Keycloak and legacy token paths) and bearer checks."""

from __future__ import annotations

import base64
import binascii

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from harvest.providers.sandbox_endpoints import SENTINELHUB_CLIENT_ID, SENTINELHUB_CLIENT_SECRET
from harvest.sandbox.core import Sandbox, sandbox_of
from harvest.sandbox.http import json_response, read_form
from harvest.sandbox.sentinelhub.errors import boom, oauth_error

AUDIENCE = "sentinelhub"
KEYCLOAK_PREFIX = "/sentinelhub/auth"
KEYCLOAK_TOKEN_PATH = "/realms/main/protocol/openid-connect/token"  # noqa: S105 - a URL path
LEGACY_PREFIX = "/sentinelhub/oauth"
LEGACY_TOKEN_PATH = "/token"  # noqa: S105 - a URL path
UNAUTHORIZED = (
    "You are not authorized! Please provide a valid access token within the header "
    "[Authorization: Bearer <accessToken>] of your request."
)


def _basic_credentials(header: str | None) -> tuple[str, str] | None:
    scheme, _, encoded = (header or "").partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        client_id, _, secret = base64.b64decode(encoded.strip()).decode().partition(":")
    except (binascii.Error, UnicodeDecodeError):
        return None
    return client_id, secret


async def token(request: Request) -> Response:
    """Client credentials grant: form body, or HTTP Basic for the client as RFC 6749 also allows."""
    sandbox = sandbox_of(request)
    form = await read_form(request)
    if form.get("grant_type") != "client_credentials":
        return oauth_error(400, "unsupported_grant_type", "Unsupported grant type; use client_credentials")
    client_id, secret = _basic_credentials(request.headers.get("authorization")) or (
        form.get("client_id"),
        form.get("client_secret"),
    )
    if client_id != SENTINELHUB_CLIENT_ID or secret != SENTINELHUB_CLIENT_SECRET:
        return oauth_error(401, "invalid_client", "Invalid client or Invalid client credentials")
    advertised = sandbox.config.token_lifetime_s
    early = sandbox.faults.decide(("token_expiry",), "sentinelhub.auth")
    lifetime = advertised * (early.param or 0.1) if early else advertised
    access_token = sandbox.tokens.mint(
        subject=client_id, audience=AUDIENCE, issued_ns=sandbox.now_ns(), lifetime_s=lifetime
    )
    return json_response(
        {
            "access_token": access_token,
            "expires_in": int(advertised),
            "refresh_expires_in": 0,
            "token_type": "Bearer",
            "not-before-policy": 0,
            "scope": "email profile",
        }
    )


def refuse_unauthenticated(sandbox: Sandbox, request: Request) -> Response | None:
    """The 401 Boom body when the bearer token is missing, garbled or expired; None when it is fine."""
    check = sandbox.tokens.check(request.headers.get("authorization"), audience=AUDIENCE, now_ns=sandbox.now_ns())
    if check.ok:
        return None
    detail = {"expired": " (the access token has expired)"}.get(check.reason, "")
    return boom(401, UNAUTHORIZED + detail)


def keycloak_routes() -> list[BaseRoute]:
    """The current token endpoint, under KEYCLOAK_PREFIX."""
    return [Route(KEYCLOAK_TOKEN_PATH, token, methods=["POST"])]


def legacy_routes() -> list[BaseRoute]:
    """The legacy `/oauth/token` endpoint, under LEGACY_PREFIX."""
    return [Route(LEGACY_TOKEN_PATH, token, methods=["POST"])]
