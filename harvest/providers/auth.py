"""Credentials behind one small protocol: `headers()` for each request, `invalidate(seen)` after a 401.

`OneAtlasApiKeyAuth` and `ClientCredentialsAuth` exchange credentials for a bearer token at a token
endpoint, through the `ProviderHttp` they are given to (so token requests are retried, paced and
counted like any other), keep one token for every thread, refresh it before it expires, and drop
it only when the token a caller saw refused is the current one. `BasicAuth` has no tokens.
"""

from __future__ import annotations

import base64
import copy
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

import httpx

from harvest.providers.errors import (
    AuthenticationError,
    BadRequest,
    ClientError,
    PermissionDenied,
    ProviderError,
)
from harvest.providers.secrets import Secret, redact_logger

log = redact_logger(__name__)

ONEATLAS_TOKEN_PATH = "/auth/realms/IDP/protocol/openid-connect/token"  # noqa: S105 - a URL path
SENTINELHUB_TOKEN_PATH = "/auth/realms/main/protocol/openid-connect/token"  # noqa: S105 - a URL path
ONEATLAS_HINT = "OneAtlas rejected the API key: check ONEATLAS_API_KEY"
SENTINELHUB_HINT = "Sentinel Hub rejected the OAuth client: check SENTINELHUB_CLIENT_ID and SENTINELHUB_CLIENT_SECRET"
ARLULA_HINT = "Arlula rejected the API key and secret: check ARLULA_API_KEY and ARLULA_API_SECRET"
DEFAULT_REFRESH_MARGIN_S = 60.0
MIN_USABLE_SHARE = 0.1  # a token is used for at least this share of its lifetime, whatever the margin
DEFAULT_LIFETIME_S = 300.0  # when a token response has no expires_in


class TokenRequests(Protocol):
    """The session token requests go through (a `ProviderHttp`: retried, paced and counted like any other)."""

    provider: str

    def request(
        self,
        method: str,
        url: httpx.URL | str,
        *,
        data: Mapping[str, Any] | None = None,
        idempotent: bool | None = None,
        expected: tuple[int, ...] = (200,),
        authenticate: bool = True,
    ) -> httpx.Response:
        """Send a request; the response when its status is `expected`, else a `ProviderError`."""
        ...


class Auth(Protocol):
    """What `ProviderHttp` needs from credentials."""

    hint: str  # what to do when they are rejected, e.g. "... check ONEATLAS_API_KEY"

    def bind(self, http: TokenRequests) -> None:
        """Learn the session that carries them (token requests go through it); nothing to do for static ones."""
        ...

    def headers(self) -> dict[str, str]:
        """The Authorization header for the next request (may fetch a token)."""
        ...

    def invalidate(self, seen_header: str | None) -> bool:
        """Forget the credential sent as `seen_header` after a 401; True when trying again can help."""
        ...


class BasicAuth:
    """HTTP Basic credentials (Arlula): nothing expires, so a 401 is final."""

    def __init__(self, key: str, secret: Secret, *, hint: str = ARLULA_HINT) -> None:
        self.hint = hint
        self._encoded = Secret(base64.b64encode(f"{key}:{secret.reveal()}".encode()).decode())

    def bind(self, http: TokenRequests) -> None:
        """Basic credentials fetch nothing: no session to learn."""

    def headers(self) -> dict[str, str]:
        """The Basic Authorization header."""
        return {"Authorization": f"Basic {self._encoded.reveal()}"}

    def invalidate(self, seen_header: str | None) -> bool:
        """Basic credentials cannot be refreshed: never worth a second try."""
        return False

    def __repr__(self) -> str:
        return "BasicAuth(***)"


@dataclass(frozen=True)
class _Token:
    access: Secret
    refresh_at: float

    @property
    def header(self) -> str:
        return f"Bearer {self.access.reveal()}"


def usable_lifetime_s(expires_in_s: float, margin_s: float) -> float:
    """How long a token is used before refreshing: `expires_in - margin`, but at least 10% of `expires_in`."""
    return max(expires_in_s - margin_s, MIN_USABLE_SHARE * expires_in_s)


class TokenAuth:
    """A bearer token from a token endpoint, shared by all threads and fetched by one of them at a time."""

    def __init__(
        self,
        token_url: str,
        *,
        hint: str,
        http: TokenRequests | None = None,
        refresh_margin_s: float = DEFAULT_REFRESH_MARGIN_S,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.token_url = token_url
        self.hint = hint
        self.http = http
        self.refresh_margin_s = refresh_margin_s
        self._clock = clock
        self._lock = threading.Lock()
        self._token: _Token | None = None
        self._finished = 0
        self._failure: ProviderError | None = None

    def bind(self, http: TokenRequests) -> None:
        """Send token requests through `http` (done by `ProviderHttp` unless `http=` was given)."""
        if self.http is None:
            self.http = http

    def form(self) -> dict[str, str]:
        """The token request's form fields."""
        raise NotImplementedError

    def headers(self) -> dict[str, str]:
        """`Authorization: Bearer …`, fetching a token first when there is none or it is due for refresh."""
        finished_before = self._finished  # token requests finished before this caller queued
        with self._lock:
            token = self._token
            if token is not None and self._clock() < token.refresh_at:
                return {"Authorization": token.header}
            if self._failure is not None and self._finished != finished_before:
                # another caller's token request failed while this one waited: share it, don't hammer
                raise copy.copy(self._failure)
            try:
                token = self._fetch()
            except ProviderError as exc:
                self._failure = exc
                raise
            else:
                self._token, self._failure = token, None
            finally:
                self._finished += 1
            return {"Authorization": token.header}

    def invalidate(self, seen_header: str | None) -> bool:
        """Drop the current token if it is the one that was refused; the next `headers()` fetches another."""
        with self._lock:
            if self._token is not None and (seen_header is None or self._token.header == seen_header):
                self._token = None
        return True

    def _fetch(self) -> _Token:
        http = self.http
        if http is None:
            raise ClientError(f"{type(self).__name__} is not bound to a ProviderHttp: pass it as auth= or http=")
        started = self._clock()
        try:
            response = http.request(
                "POST", self.token_url, data=self.form(), idempotent=True, authenticate=False, expected=(200,)
            )
        except (BadRequest, AuthenticationError, PermissionDenied) as exc:
            raise exc.recast(AuthenticationError, hint=self.hint) from exc
        try:
            body = response.json()
        except ValueError:
            body = None
        return self._parse(http.provider, body, started)

    def _parse(self, provider: str, body: object, started: float) -> _Token:
        def refuse(what: str) -> ProviderError:
            return ProviderError(provider, what, status=200, method="POST", url=self.token_url)

        if not isinstance(body, dict):
            raise refuse("the token endpoint answered 200 without a JSON object")
        access = body.get("access_token")
        if not isinstance(access, str) or not access:
            raise refuse("the token response has no access_token")
        token_type = body.get("token_type", "bearer")
        if str(token_type).lower() != "bearer":
            raise refuse(f"the token response has token_type {token_type!r}, not bearer")
        try:
            lifetime = float(body.get("expires_in") or DEFAULT_LIFETIME_S)
        except (TypeError, ValueError):
            lifetime = DEFAULT_LIFETIME_S
        log.debug("%s: obtained an access token valid for %.0f s", provider, lifetime)
        return _Token(Secret(access), refresh_at=started + usable_lifetime_s(lifetime, self.refresh_margin_s))


class OneAtlasApiKeyAuth(TokenAuth):
    """OneAtlas: the API key exchanged for a bearer token (`grant_type=api_key`, `client_id=IDP`)."""

    def __init__(
        self,
        api_key: Secret,
        token_url: str,
        *,
        client_id: str = "IDP",
        hint: str = ONEATLAS_HINT,
        http: TokenRequests | None = None,
        refresh_margin_s: float = DEFAULT_REFRESH_MARGIN_S,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        super().__init__(token_url, hint=hint, http=http, refresh_margin_s=refresh_margin_s, clock=clock)
        self.api_key = api_key
        self.client_id = client_id

    def form(self) -> dict[str, str]:
        """The form OneAtlas's Keycloak expects."""
        return {"apikey": self.api_key.reveal(), "grant_type": "api_key", "client_id": self.client_id}

    def __repr__(self) -> str:
        return f"OneAtlasApiKeyAuth(token_url={self.token_url!r})"


class ClientCredentialsAuth(TokenAuth):
    """OAuth2 client credentials (Sentinel Hub): `grant_type=client_credentials` with id and secret."""

    def __init__(
        self,
        client_id: str,
        client_secret: Secret,
        token_url: str,
        *,
        hint: str = SENTINELHUB_HINT,
        http: TokenRequests | None = None,
        refresh_margin_s: float = DEFAULT_REFRESH_MARGIN_S,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        super().__init__(token_url, hint=hint, http=http, refresh_margin_s=refresh_margin_s, clock=clock)
        self.client_id = client_id
        self.client_secret = client_secret

    def form(self) -> dict[str, str]:
        """The standard OAuth2 client-credentials form."""
        return {
            "grant_type": "client_credentials",
            "client_id": self.client_id,
            "client_secret": self.client_secret.reveal(),
        }

    def __repr__(self) -> str:
        return f"ClientCredentialsAuth(client_id={self.client_id!r}, token_url={self.token_url!r})"
