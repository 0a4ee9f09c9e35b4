"""`ProviderHttp`: the one HTTP session per provider, with timeouts, auth, pacing, bounded retries and typed errors.

Retry rules (`RetryPolicy`):

- Statuses 408, 429, 500, 502, 503, 504 and transport errors are retried, at most `max_retries`
  times, after `Retry-After` when the server sends one (seconds, HTTP-date, or milliseconds with
  `retry_after_unit="ms"`), else after exponential backoff with full jitter. A `Retry-After` above
  `max_retry_after_s` is not waited for: the error (`RateLimited` for 429) is raised at once.
- Idempotent requests (GET, HEAD, PUT, DELETE, OPTIONS, or `idempotent=True`) are retried on all of them.
- Other requests (a POST without `idempotent=True`, e.g. placing an order) are sent again only after
  an answer that says the request was not processed:
  * connect errors, connect timeouts and pool timeouts: nothing was sent;
  * 408: the server says it did not receive the whole request;
  * 429: the request was refused by rate limiting, before any processing;
  * 503 with `Retry-After`: the server refused to process it and said when to come back;
  * 401 (with refreshable auth): the request was refused before processing; re-sent once with a new token.
  Anything else that leaves the outcome open — a read/write timeout, a dropped connection after
  sending, or a 500/502/504/503-without-Retry-After — raises `OutcomeUnknown` and is never re-sent.

Trust and bounds:

- Credentials go only to the session's `origins` (the provider's configured hosts): a request with
  credentials to any other origin — a `next` link or a download link in an answer that names another
  host — raises `UntrustedOrigin` before anything is sent. Requests without credentials
  (`authenticate=False`: presigned storage URLs) may go anywhere.
- A body read into memory (every request but `stream=True`) is bounded by `ResponseLimits`: past
  `max_body_bytes` it raises `ResponseTooLarge`, and past `deadline_s` from sending (a body that
  trickles in) `DeadlineExceeded`; neither is retried (a non-repeatable request gets `OutcomeUnknown`).
  Error bodies are read up to `MAX_ERROR_BODY_BYTES` only: they are for the message.
"""

from __future__ import annotations

import contextlib
import random as _random
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC
from email.utils import parsedate_to_datetime
from types import TracebackType
from typing import Any, Literal, Protocol, Self

import httpx
import orjson

from harvest.providers.auth import Auth
from harvest.providers.errors import (
    DeadlineExceeded,
    OutcomeUnknown,
    ProviderError,
    ResponseTooLarge,
    TransportError,
    UntrustedOrigin,
    error_from_response,
    request_id_of,
    safe_url,
)
from harvest.providers.origins import origin_of
from harvest.providers.ratelimit import RateLimiter
from harvest.providers.secrets import install_log_redaction, redact_logger

log = redact_logger(__name__)

IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "PUT", "DELETE", "OPTIONS", "TRACE"})
RETRY_STATUSES = frozenset({408, 429, 500, 502, 503, 504})
DEFAULT_TIMEOUT = httpx.Timeout(60.0, connect=10.0)  # read, write and pool 60 s; connect 10 s
DEFAULT_MAX_BODY_BYTES = 64 << 20  # a OneAtlas page of 500 items is a few MB
DEFAULT_DEADLINE_S = 300.0
MAX_ERROR_BODY_BYTES = 1 << 20
UNREADABLE = "{provider} answered something harvest cannot read: try again later"

# Raised before any byte of the request left: any request may be sent again.
_NOT_SENT: tuple[type[httpx.TransportError], ...] = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)
# Worth another try (for requests that may be repeated). Not retried: UnsupportedProtocol,
# LocalProtocolError and ProxyError, which another try does not fix. isinstance, not exact types.
_RETRYABLE_TRANSPORT: tuple[type[httpx.TransportError], ...] = (
    httpx.TimeoutException,
    httpx.NetworkError,
    httpx.RemoteProtocolError,
)


@dataclass(frozen=True)
class RetryPolicy:
    """How often and how long to wait before sending a request again."""

    max_retries: int = 5
    initial_delay_s: float = 0.5
    max_delay_s: float = 8.0
    max_retry_after_s: float = 120.0  # a longer Retry-After is not waited for
    retry_after_unit: Literal["s", "ms"] = "s"  # Sentinel Hub sends milliseconds
    statuses: frozenset[int] = RETRY_STATUSES

    def backoff_s(self, retry: int, random: Callable[[], float]) -> float:
        """Full jitter: uniform in [0, min(max_delay_s, initial_delay_s * 2**retry)]."""
        return random() * min(self.max_delay_s, self.initial_delay_s * 2.0**retry)

    def retry_after_s(self, headers: httpx.Headers, now: float) -> float | None:
        """The server's requested delay in seconds (`now` is the wall clock, for HTTP-dates), if any."""
        if (ms := headers.get("retry-after-ms")) is not None:
            with contextlib.suppress(ValueError):
                return max(0.0, float(ms) / 1000)
        value = headers.get("retry-after")
        if value is None or not value.strip():
            return None
        try:
            number = float(value)
        except ValueError:
            pass
        else:
            return max(0.0, number / 1000 if self.retry_after_unit == "ms" else number)
        try:
            moment = parsedate_to_datetime(value)
        except (TypeError, ValueError):
            return None
        if moment.tzinfo is None:  # "-0000": UTC without a claim to be local time
            moment = moment.replace(tzinfo=UTC)
        return max(0.0, moment.timestamp() - now)


@dataclass(frozen=True)
class ResponseLimits:
    """Bounds on an answer read into memory: its body's size, and the time from sending to its last byte.

    `size_setting` and `deadline_setting` name the settings that raise them (e.g. ONEATLAS_MAX_RESPONSE_MB),
    so the error says what to change.
    """

    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES
    deadline_s: float = DEFAULT_DEADLINE_S
    size_setting: str = ""
    deadline_setting: str = ""

    def __post_init__(self) -> None:
        if self.max_body_bytes < 1 or not self.deadline_s > 0:
            raise ValueError(f"response limits must be positive, got {self.max_body_bytes} bytes, {self.deadline_s} s")


@dataclass(frozen=True)
class RequestStats:
    """Requests sent to a provider: attempts (retries and token requests included), by status."""

    requests: int = 0
    retries: int = 0
    reauthentications: int = 0
    transport_errors: int = 0
    by_status: Mapping[int, int] = field(default_factory=dict)

    def __sub__(self, other: RequestStats) -> RequestStats:
        statuses = Counter(self.by_status)
        statuses.subtract(other.by_status)
        return RequestStats(
            self.requests - other.requests,
            self.retries - other.retries,
            self.reauthentications - other.reauthentications,
            self.transport_errors - other.transport_errors,
            {k: v for k, v in sorted(statuses.items()) if v},
        )

    def describe(self) -> str:
        """E.g. "12 requests, 2 retries, 1 re-authentication (200×10, 503×2)"."""
        parts = [f"{self.requests} request{'s' * (self.requests != 1)}"]
        if self.retries:
            parts.append(f"{self.retries} retr{'ies' if self.retries != 1 else 'y'}")
        if self.reauthentications:
            parts.append(f"{self.reauthentications} re-authentication{'s' * (self.reauthentications != 1)}")
        if self.transport_errors:
            parts.append(f"{self.transport_errors} transport error{'s' * (self.transport_errors != 1)}")
        statuses = ", ".join(f"{status}×{n}" for status, n in sorted(self.by_status.items()))
        return ", ".join(parts) + (f" ({statuses})" if statuses else "")


class _Counters:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._values: Counter[str] = Counter()
        self._statuses: Counter[int] = Counter()

    def add(self, name: str, status: int | None = None) -> None:
        with self._lock:
            self._values[name] += 1
            if status is not None:
                self._statuses[status] += 1

    def snapshot(self) -> RequestStats:
        with self._lock:
            v = self._values
            return RequestStats(
                v["requests"], v["retries"], v["reauthentications"], v["transport_errors"], dict(self._statuses)
            )


class Endpoints(Protocol):
    """What a provider's settings tell its session: where credentials may go, and how large an answer may be."""

    @property
    def origins(self) -> frozenset[str]:
        """The provider's configured hosts."""
        ...

    @property
    def limits(self) -> ResponseLimits:
        """Bounds on one answer."""
        ...


def session_for(
    provider: str,
    auth: Auth,
    endpoints: Endpoints,
    *,
    requests_per_s: float | None,
    retry: RetryPolicy | None = None,
) -> ProviderHttp:
    """A provider client's session: its credentials for its own hosts, its limits, paced to `requests_per_s`."""
    limiter = RateLimiter(requests_per_s, burst=max(1, int(requests_per_s))) if requests_per_s else None
    return ProviderHttp(
        provider, auth=auth, origins=endpoints.origins, limits=endpoints.limits, rate_limiter=limiter, retry=retry
    )


def json_objects(provider: str, value: object, what: str) -> list[dict[str, Any]]:
    """`value` (decoded JSON) as a list of objects; a ProviderError saying what `what` was otherwise."""
    if isinstance(value, list) and all(isinstance(item, dict) for item in value):
        return value
    raise ProviderError(
        provider,
        f"{what} is not a list of JSON objects",
        hint=UNREADABLE.format(provider=provider),
    )


def _describe(exc: httpx.TransportError) -> str:
    text = str(exc).strip()
    return f"{type(exc).__name__} ({text})" if text else type(exc).__name__


def _where(url: httpx.URL) -> str:
    return f"{url.host}{url.path}"


class ProviderHttp:
    """One provider's HTTP session, shared by all its clients and threads.

    `request()` returns the response when its status is in `expected`, and otherwise raises a
    `ProviderError` subclass after the retries described in this module's docstring. URLs are
    absolute (OneAtlas alone has five hosts). `stats` counts what it took.
    """

    def __init__(
        self,
        provider: str,
        *,
        auth: Auth | None = None,
        origins: Iterable[str] = (),
        limits: ResponseLimits | None = None,
        rate_limiter: RateLimiter | None = None,
        retry: RetryPolicy | None = None,
        timeout: httpx.Timeout | float = DEFAULT_TIMEOUT,
        headers: Mapping[str, str] | None = None,
        follow_redirects: bool = False,
        transport: httpx.BaseTransport | None = None,
        sleep: Callable[[float], None] = time.sleep,
        random: Callable[[], float] = _random.random,
        clock: Callable[[], float] = time.time,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        trusted = frozenset(origin_of(origin) for origin in origins)
        if auth is not None and not trusted:
            raise ValueError(
                f"ProviderHttp({provider!r}) has credentials but no origins: pass origins= (the provider's "
                "configured hosts, the only places its credentials may be sent)"
            )
        self.provider = provider
        self.auth = auth
        self.origins = trusted
        self.limits = limits or ResponseLimits()
        self._monotonic = monotonic
        self.rate_limiter = rate_limiter
        self.retry = retry or RetryPolicy()
        self._sleep = sleep
        self._random = random
        self._clock = clock  # wall clock, only to read Retry-After HTTP-dates
        self._counters = _Counters()
        self._client = httpx.Client(
            timeout=timeout, headers=headers, follow_redirects=follow_redirects, transport=transport
        )
        install_log_redaction()
        if auth is not None:
            auth.bind(self)

    @property
    def stats(self) -> RequestStats:
        """A snapshot of the counters; subtract two snapshots for what one job took."""
        return self._counters.snapshot()

    def request(
        self,
        method: str,
        url: httpx.URL | str,
        *,
        params: Mapping[str, Any] | None = None,
        json: Any = None,
        data: Mapping[str, Any] | None = None,
        headers: Mapping[str, str] | None = None,
        idempotent: bool | None = None,
        expected: tuple[int, ...] = (200,),
        stream: bool = False,
        timeout: httpx.Timeout | float | None = None,
        authenticate: bool = True,
    ) -> httpx.Response:
        """Send a request, retrying as the module docstring says; the response if its status is `expected`.

        `idempotent` defaults to True for GET/HEAD/PUT/DELETE/OPTIONS; pass True for a POST that can
        safely be repeated (a search, a price quote). With `stream=True` the body is not read: close
        the response (or use `stream()`), and bound what you read. `authenticate=False` sends no
        credentials (token requests, presigned download URLs); with credentials, `url` must be on
        one of the session's origins (`UntrustedOrigin` otherwise, before anything is sent).
        """
        method = method.upper()
        repeatable = method in IDEMPOTENT_METHODS if idempotent is None else idempotent
        auth = self.auth if authenticate else None
        if auth is not None:
            self._check_origin(method, url)
        retries = 0
        reauthenticated = False
        while True:
            auth_headers = auth.headers() if auth is not None else {}
            request = self._client.build_request(
                method,
                url,
                params=params,
                json=json,
                data=data,
                headers={**(headers or {}), **auth_headers},
                timeout=timeout if timeout is not None else httpx.USE_CLIENT_DEFAULT,
            )
            if self.rate_limiter is not None:
                self.rate_limiter.acquire()
            self._counters.add("requests")
            started = self._monotonic()
            try:
                response = self._client.send(request, stream=True)
                if not stream and response.status_code in expected:
                    self._read_body(response, request, repeatable, started)
            except httpx.TransportError as exc:
                self._counters.add("transport_errors")
                log.debug(
                    "%s %s %s -> %s after %.0f ms",
                    self.provider,
                    method,
                    _where(request.url),
                    _describe(exc),
                    (self._monotonic() - started) * 1000,
                )
                delay = self._after_transport_error(exc, request, repeatable, retries)
            else:
                self._counters.add("responses", response.status_code)
                log.debug(
                    "%s %s %s -> %d in %.0f ms (request id %s)",
                    self.provider,
                    method,
                    _where(request.url),
                    response.status_code,
                    (self._monotonic() - started) * 1000,
                    request_id_of(response) or "-",
                )
                if response.status_code in expected:
                    return response
                self._read_error_body(response, started)
                if (
                    response.status_code == 401
                    and auth is not None
                    and not reauthenticated
                    and auth.invalidate(auth_headers.get("Authorization"))
                ):
                    reauthenticated = True
                    self._counters.add("reauthentications")
                    log.info(
                        "%s refused the access token on %s %s; re-authenticating",
                        self.provider,
                        method,
                        _where(request.url),
                    )
                    continue
                delay = self._after_error_status(response, request, repeatable, retries, auth, reauthenticated)
            retries += 1
            self._counters.add("retries")
            log.info(
                "%s: retry %d/%d of %s %s in %.2f s",
                self.provider,
                retries,
                self.retry.max_retries,
                method,
                _where(request.url),
                delay,
            )
            self._sleep(delay)

    def request_json(
        self,
        method: str,
        url: httpx.URL | str,
        *,
        params: Mapping[str, Any] | None = None,
        json: Any = None,
        idempotent: bool | None = None,
        expected: tuple[int, ...] = (200,),
    ) -> dict[str, Any]:
        """`request()`, then the body as a JSON object; an answer that is not one is the provider's error.

        For a request that cannot safely be repeated (placing an order) such an answer is an
        `OutcomeUnknown`: the request may have been processed.
        """
        response = self.request(method, url, params=params, json=json, idempotent=idempotent, expected=expected)
        try:
            body = orjson.loads(response.content)
        except orjson.JSONDecodeError:
            body = None
        if isinstance(body, dict):
            return body
        what = (
            "an empty body" if not response.content else "JSON that is not an object" if body is not None else "no JSON"
        )
        repeatable = method.upper() in IDEMPOTENT_METHODS if idempotent is None else idempotent
        message = f"answered {response.status_code} with {what}, where a JSON object was expected"
        where: dict[str, Any] = {"status": response.status_code, "method": method.upper(), "url": response.request.url}
        if not repeatable:
            raise OutcomeUnknown(self.provider, f"{message}; the request may have been processed", **where)
        raise ProviderError(
            self.provider,
            message,
            hint=UNREADABLE.format(provider=self.provider),
            **where,
        )

    @contextlib.contextmanager
    def stream(
        self,
        method: str,
        url: httpx.URL | str,
        *,
        params: Mapping[str, Any] | None = None,
        json: Any = None,
        data: Mapping[str, Any] | None = None,
        headers: Mapping[str, str] | None = None,
        idempotent: bool | None = None,
        expected: tuple[int, ...] = (200,),
        timeout: httpx.Timeout | float | None = None,
        authenticate: bool = True,
    ) -> Iterator[httpx.Response]:
        """`request(..., stream=True)` as a context manager that closes the response.

        A connection lost while the body is read is raised as `TransportError` (not retried: the
        caller decides whether to resume with a Range request).
        """
        response = self.request(
            method,
            url,
            params=params,
            json=json,
            data=data,
            headers=headers,
            idempotent=idempotent,
            expected=expected,
            stream=True,
            timeout=timeout,
            authenticate=authenticate,
        )
        try:
            yield response
        except httpx.TransportError as exc:
            raise TransportError(
                self.provider,
                f"the response body broke off: {_describe(exc)}",
                status=response.status_code,
                request_id=request_id_of(response),
                method=response.request.method,
                url=response.request.url,
                hint=f"the download from {self.provider} was interrupted: resume or fetch it again",
            ) from exc
        finally:
            response.close()

    def close(self) -> None:
        """Close the connection pool."""
        self._client.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"ProviderHttp({self.provider!r})"

    def _check_origin(self, method: str, url: httpx.URL | str) -> None:
        """Refuse to send credentials to a host that is not one of the provider's."""
        origin = origin_of(url)
        if origin not in self.origins:
            raise UntrustedOrigin(
                self.provider,
                f"a link in its answer points at {origin}, which is not one of its configured hosts "
                f"({', '.join(sorted(self.origins))}); nothing was sent there",
                method=method,
                url=url,
            )

    def _read_body(self, response: httpx.Response, request: httpx.Request, repeatable: bool, started: float) -> None:
        """Read an expected response's body within the limits; transport errors go to the retry loop."""
        limits = self.limits
        chunks: list[bytes] = []
        size = 0
        try:
            for chunk in response.iter_bytes():
                size += len(chunk)
                if size > limits.max_body_bytes:
                    raise self._unbounded(ResponseTooLarge, request, repeatable, self._too_large(size))
                chunks.append(chunk)
                if self._monotonic() - started > limits.deadline_s:
                    raise self._unbounded(DeadlineExceeded, request, repeatable, self._too_slow(size))
        finally:
            response.close()
        response._content = b"".join(chunks)  # what `Response.read()` sets: .content, .text and .json() read it

    def _too_large(self, size: int) -> str:
        limit = self.limits.max_body_bytes
        setting = f" (raise it with {self.limits.size_setting})" if self.limits.size_setting else ""
        return f"the response body passed {limit:,} bytes ({size:,} received), the limit for one answer{setting}"

    def _too_slow(self, size: int) -> str:
        deadline = self.limits.deadline_s
        setting = f" (raise it with {self.limits.deadline_setting})" if self.limits.deadline_setting else ""
        return f"no complete answer {deadline:g} s after sending ({size:,} bytes received){setting}"

    def _unbounded(
        self, cls: type[ProviderError], request: httpx.Request, repeatable: bool, message: str
    ) -> ProviderError:
        where: dict[str, Any] = {"method": request.method, "url": request.url}
        if not repeatable:
            return OutcomeUnknown(
                self.provider, f"{message}; the request may have been processed", request=request, **where
            )
        return cls(self.provider, message, **where)

    def _read_error_body(self, response: httpx.Response, started: float) -> None:
        """Read at most MAX_ERROR_BODY_BYTES of an error response (it is only for the message), then release it."""
        chunks: list[bytes] = []
        size = 0
        try:
            for chunk in response.iter_bytes():
                chunks.append(chunk)
                size += len(chunk)
                if size >= MAX_ERROR_BODY_BYTES or self._monotonic() - started > self.limits.deadline_s:
                    break
        except httpx.HTTPError:
            pass  # the body is only for the error message
        finally:
            response.close()
        response._content = b"".join(chunks)[:MAX_ERROR_BODY_BYTES]

    def _after_transport_error(
        self, exc: httpx.TransportError, request: httpx.Request, repeatable: bool, retries: int
    ) -> float:
        """Seconds to wait before sending again; raises when the error is final."""
        where: dict[str, Any] = {"method": request.method, "url": request.url}
        if not isinstance(exc, _RETRYABLE_TRANSPORT):
            raise TransportError(self.provider, _describe(exc), **where) from exc
        if not repeatable and not isinstance(exc, _NOT_SENT):
            raise OutcomeUnknown(
                self.provider,
                f"{_describe(exc)} after the request was sent; it may or may not have been processed",
                request=request,
                **where,
            ) from exc
        if retries >= self.retry.max_retries:
            raise TransportError(
                self.provider, f"{_describe(exc)}, {retries} retr{'ies' if retries != 1 else 'y'} exhausted", **where
            ) from exc
        return self.retry.backoff_s(retries, self._random)

    def _after_error_status(
        self,
        response: httpx.Response,
        request: httpx.Request,
        repeatable: bool,
        retries: int,
        auth: Auth | None,
        reauthenticated: bool,
    ) -> float:
        """Seconds to wait before sending again; raises the error when there is no retry."""
        status = response.status_code
        if status not in self.retry.statuses:
            raise self._error(response, auth, reauthenticated)
        retry_after = self.retry.retry_after_s(response.headers, self._clock())
        if retry_after is not None and retry_after > self.retry.max_retry_after_s:
            raise self._error(response, auth, reauthenticated, retry_after)
        not_processed = status in (408, 429) or (status == 503 and retry_after is not None)
        if not repeatable and not not_processed:
            error = self._error(response, auth, reauthenticated, retry_after)
            message = f"{error.message} (HTTP {status} to a request that cannot safely be repeated)"
            raise error.recast(OutcomeUnknown, message=message, request=request)
        if retries >= self.retry.max_retries:
            raise self._error(response, auth, reauthenticated, retry_after)
        if retry_after is not None and retry_after > 0:
            return retry_after
        return self.retry.backoff_s(retries, self._random)

    def _error(
        self, response: httpx.Response, auth: Auth | None, reauthenticated: bool, retry_after: float | None = None
    ) -> ProviderError:
        hint = None
        if response.status_code == 401 and auth is not None:
            hint = f"{self.provider} refused a fresh access token: {auth.hint}" if reauthenticated else auth.hint
        elif response.status_code == 401:
            hint = f"{self.provider} wants credentials for {safe_url(response.request.url)}"
        return error_from_response(self.provider, response, hint_for_auth=hint, retry_after_s=retry_after)
