"""Typed errors: `ProviderError` when a provider said no (or could not be reached), `ClientError` when we erred.

Every `ProviderError` keeps the provider, status, the provider's own message (parsed from whichever
error body that provider uses), its request id, method, URL and a plain-words hint saying what to
do. `str(error)` is one line; no error text ever contains a registered `Secret`, an Authorization
header or a token (see `harvest.providers.secrets.redact`).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from http import HTTPStatus
from typing import Any, ClassVar, TypeVar

import httpx

from harvest.providers.secrets import MASK, redact

MAX_MESSAGE_CHARS = 500
MAX_BODY_CHARS = 4000
REQUEST_ID_HEADERS = ("x-ads-correlation-id", "x-request-id", "x-correlation-id", "x-amz-request-id")
SENSITIVE_HEADERS = frozenset({"authorization", "proxy-authorization", "cookie", "x-api-key", "apikey"})
_SECRET_QUERY_KEYS = re.compile(
    r"(?i)^(apikey|api_key|key|secret|client_secret|token|access_token|password|sig|signature|"
    r"x-amz-signature|x-amz-credential|x-amz-security-token|x-goog-signature)$"
)


class ClientError(Exception):
    """We misused a client or a provider answered something we cannot follow (not a provider refusal)."""


class PagingError(ClientError):
    """Paging cannot go on: a next token/URL repeated, or more pages than allowed."""


class ConfigurationError(ClientError):
    """Settings that cannot work, e.g. half of a credential pair."""


def safe_url(url: httpx.URL | str) -> str:
    """`url` without user info and with secret-looking query values masked."""
    parsed = httpx.URL(str(url))
    if parsed.userinfo:
        parsed = parsed.copy_with(username=None, password=None)
    if any(_SECRET_QUERY_KEYS.match(key) for key in parsed.params):
        params = [(k, MASK if _SECRET_QUERY_KEYS.match(k) else v) for k, v in parsed.params.multi_items()]
        parsed = parsed.copy_with(params=params)
    return redact(str(parsed).replace("%2A%2A%2A", MASK))


def _one_line(text: str, limit: int = MAX_MESSAGE_CHARS) -> str:
    text = " ".join(redact(text).split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _phrase(status: int | None) -> str:
    try:
        return HTTPStatus(status).phrase if status is not None else "no response"
    except ValueError:
        return f"HTTP {status}"


def _rebuild(cls: type[ProviderError], state: dict[str, Any]) -> ProviderError:
    error = cls.__new__(cls)
    error.__dict__.update(state)
    Exception.__init__(error, error.line())
    return error


class ProviderError(Exception):
    """A provider refused a request, failed it, or could not be reached."""

    default_hint: ClassVar[str] = "see the provider's message"

    def __init__(
        self,
        provider: str,
        message: str,
        *,
        status: int | None = None,
        request_id: str | None = None,
        method: str | None = None,
        url: httpx.URL | str | None = None,
        hint: str | None = None,
        code: str | None = None,
        body: str | None = None,
        retry_after_s: float | None = None,
    ) -> None:
        self.provider = provider
        self.status = status
        self.message = _one_line(message) or _phrase(status)
        self.code = _one_line(code, 80) if code else None
        self.request_id = _one_line(request_id, 120) if request_id else None
        self.method = method
        self.url = safe_url(url) if url is not None else None
        self.hint = _one_line(hint or self.default_hint.format(provider=provider))
        self.body = redact(body[:MAX_BODY_CHARS]) if body else None
        self.retry_after_s = retry_after_s
        super().__init__(self.line())

    def line(self) -> str:
        """The one-line description: provider, status, message, what to do, request id."""
        status = f" {self.status}" if self.status is not None else ""
        where = f" on {self.method} {self.url}" if self.method and self.url else ""
        code = f" [{self.code}]" if self.code and self.code not in self.message else ""
        request_id = f" (request id {self.request_id})" if self.request_id else ""
        message, hint = self.message.rstrip(". "), self.hint.rstrip(". ")
        return f"{self.provider}{status}{where}: {message}{code}. {hint}.{request_id}"

    def __str__(self) -> str:
        return self.line()

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(provider={self.provider!r}, status={self.status!r}, message={self.message!r}, "
            f"code={self.code!r}, request_id={self.request_id!r}, method={self.method!r}, url={self.url!r})"
        )

    def __reduce__(self) -> tuple[Any, ...]:
        return (_rebuild, (type(self), dict(self.__dict__)))

    def recast(self, cls: type[E], *, message: str | None = None, hint: str | None = None, **extra: Any) -> E:
        """The same provider answer told as another kind of error: its status, request id, URL, code and body kept."""
        return cls(
            self.provider,
            self.message if message is None else message,
            status=self.status,
            request_id=self.request_id,
            method=self.method,
            url=self.url,
            hint=hint,
            code=self.code,
            body=self.body,
            **extra,
        )


E = TypeVar("E", bound=ProviderError)


class AuthenticationError(ProviderError):
    """The provider rejected the credentials, or refused a freshly obtained token."""

    default_hint = "{provider} rejected the credentials: check them"


class PermissionDenied(ProviderError):
    """403: the credentials are valid but may not do this."""

    default_hint = "{provider} accepted the credentials but refused this action: check the account's rights or quota"


class NotFound(ProviderError):
    """404: no such resource (or not visible to this account)."""

    default_hint = "check the id or URL; the resource may not exist or not be visible to this account"


class BadRequest(ProviderError):
    """400/422: we sent something the provider refused."""

    default_hint = "harvest sent a request {provider} refused: fix the input or the client (see the message)"


class Conflict(ProviderError):
    """409: the resource is not in a state that allows this."""

    default_hint = "the resource is not in a state that allows this: re-read it before trying again"


class Gone(ProviderError):
    """410: the resource expired or was removed (e.g. an expired Arlula download)."""

    default_hint = "the resource has expired or was removed: request or order it again"


class RateLimited(ProviderError):
    """429 after all retries, or with a Retry-After above the ceiling; `retry_after_s` says how long to wait."""

    default_hint = "{provider} is rate limiting: lower the request rate or try again later"


class ServerError(ProviderError):
    """5xx after all retries."""

    default_hint = "{provider} failed on its side: try again later"


class TransportError(ProviderError):
    """The provider could not be reached (connection refused/reset, DNS, timeout) after all retries."""

    default_hint = "could not reach {provider}: check the network and the configured URL"


class UntrustedOrigin(ProviderError):
    """A link in a provider's answer points at a host its credentials are not configured for: nothing was sent."""

    default_hint = (
        "harvest sends {provider}'s credentials only to its configured hosts; if {provider} really serves "
        "from that host now, configure it as one of the provider's URLs, otherwise report the link to {provider}"
    )


class ResponseTooLarge(ProviderError):
    """A response body grew past the provider's limit (a page that never ends, a wrong answer)."""

    default_hint = "{provider} sent far more than such an answer should be: try again later, or raise the limit"


class DeadlineExceeded(TransportError):
    """A response took longer than the provider's deadline from sending to its last byte (a trickling body)."""

    default_hint = "{provider} is answering too slowly: try again later, or raise the deadline"


class OutcomeUnknown(ProviderError):
    """A non-idempotent request may have reached the provider but no clear answer came back: reconcile first.

    `request` is a copy of what was sent (without credentials), so the caller can look for its effect
    (e.g. list recent orders) before deciding to send it again.
    """

    default_hint = "the request may have been processed: look for its effect on {provider} (e.g. list orders) first"

    def __init__(self, provider: str, message: str, *, request: httpx.Request | None = None, **fields: Any) -> None:
        self.request = sanitized_request(request) if request is not None else None
        super().__init__(provider, message, **fields)


_BY_STATUS: dict[int, type[ProviderError]] = {
    400: BadRequest,
    401: AuthenticationError,
    403: PermissionDenied,
    404: NotFound,
    409: Conflict,
    410: Gone,
    422: BadRequest,
    429: RateLimited,
}


def error_class(status: int) -> type[ProviderError]:
    """The `ProviderError` subclass for an HTTP status."""
    if status >= 500:
        return ServerError
    return _BY_STATUS.get(status, ProviderError)


@dataclass(frozen=True)
class ParsedError:
    """What a provider's error body says: message, error code, request id, hint."""

    message: str
    code: str | None = None
    request_id: str | None = None
    provider_hint: str | None = None


def _try_json(text: str) -> Any:
    stripped = text.strip()
    if not stripped or stripped[0] not in '{["':
        return None
    try:
        return json.loads(stripped)
    except ValueError:
        return None


def _text(value: Any) -> str | None:
    if value is None or value == "":
        return None
    return value if isinstance(value, str) else json.dumps(value, separators=(",", ":"))


def _from_mapping(body: dict[str, Any]) -> ParsedError | None:
    error = body.get("error")
    if isinstance(error, dict):  # Sentinel Hub Boom: {"error": {status, reason, message, code, errors}}
        message = _text(error.get("message")) or _text(error.get("reason")) or ""
        code = _text(error.get("code"))
        inner = _try_json(message)
        if isinstance(inner, dict) and (nested := _from_mapping(inner)) is not None:  # a forwarded provider error
            return ParsedError(nested.message, code or nested.code, nested.request_id, nested.provider_hint)
        if isinstance(error.get("errors"), dict | list) and error["errors"]:
            message = f"{message} {_text(error['errors'])}"
        return ParsedError(message, code)
    if isinstance(error, str):  # Keycloak/OAuth {"error", "error_description"}, or Arlula {"error": "..."}
        description = _text(body.get("error_description"))
        return ParsedError(f"{description} ({error})", error) if description else ParsedError(error)
    if "message" in body:  # OneAtlas ApiError, order.api {"errorCode", "message"} / {"message"}
        return ParsedError(
            _text(body["message"]) or "",
            _text(body.get("errorCode")),
            _text(body.get("correlationId")),
            _text(body.get("hint")),
        )
    if "code" in body:  # order.api 500 {"code": "UNEXPECTED_SERVER_ERROR"}
        return ParsedError(_text(body["code"]) or "", _text(body["code"]))
    return None


def parse_error_body(text: str) -> ParsedError:
    """The message (and code, request id, hint) in an error body of any of the providers' shapes."""
    data = _try_json(text)
    if isinstance(data, dict) and (parsed := _from_mapping(data)) is not None:
        return parsed
    if isinstance(data, str):
        return ParsedError(data)
    stripped = text.strip()
    if stripped.startswith("<"):  # HTML from a proxy, or S3-style XML
        match = re.search(r"<Message>(.*?)</Message>", stripped, re.S)
        return ParsedError(match.group(1) if match else "")
    return ParsedError(stripped)


def request_id_of(response: httpx.Response) -> str | None:
    """The request id a provider put in its response headers, if any."""
    for name in REQUEST_ID_HEADERS:
        if value := response.headers.get(name):
            return str(value)
    return None


def sanitized_request(request: httpx.Request) -> httpx.Request:
    """A copy of `request` without credentials, kept by `OutcomeUnknown` for inspection."""
    headers = {k: v for k, v in request.headers.items() if k.lower() not in SENSITIVE_HEADERS}
    try:
        content = request.content
    except httpx.RequestNotRead:
        content = b""
    return httpx.Request(request.method, safe_url(request.url), headers=headers, content=content)


def error_from_response(
    provider: str,
    response: httpx.Response,
    *,
    hint_for_auth: str | None = None,
    retry_after_s: float | None = None,
    hint: str | None = None,
) -> ProviderError:
    """The `ProviderError` subclass for a (read) error response, with the provider's message parsed."""
    try:
        text = response.text
    except httpx.ResponseNotRead:
        text = ""
    parsed = parse_error_body(text)
    cls = error_class(response.status_code)
    if cls is AuthenticationError and hint is None:
        hint = hint_for_auth
    message = parsed.message
    if parsed.provider_hint and parsed.provider_hint not in message:
        message = f"{message} (hint: {parsed.provider_hint})"
    try:
        request: httpx.Request | None = response.request
    except RuntimeError:  # a response built without a request (only in tests)
        request = None
    return cls(
        provider,
        message,
        status=response.status_code,
        request_id=request_id_of(response) or parsed.request_id,
        method=request.method if request is not None else None,
        url=request.url if request is not None else None,
        hint=hint,
        code=parsed.code,
        body=text,
        retry_after_s=retry_after_s,
    )
