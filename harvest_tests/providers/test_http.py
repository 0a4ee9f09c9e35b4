"""ProviderHttp: retries in every form, what is never re-sent, timeouts, streaming, stats and logs (no real sleeps)."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from email.utils import format_datetime
from typing import Any

import httpx
import pytest

from harvest.providers.errors import (
    BadRequest,
    Conflict,
    Gone,
    NotFound,
    OutcomeUnknown,
    PermissionDenied,
    ProviderError,
    RateLimited,
    ServerError,
    TransportError,
)
from harvest.providers.http import ProviderHttp, RequestStats, RetryPolicy
from harvest.providers.ratelimit import RateLimiter
from harvest.providers.secrets import Secret

URL = "https://api.example.com/v1/things"
Answer = httpx.Response | Callable[[httpx.Request], httpx.Response]


def raises(cls: type[httpx.TransportError], text: str = "boom") -> Callable[[httpx.Request], httpx.Response]:
    """An answer that fails the way the network would."""

    def answer(request: httpx.Request) -> httpx.Response:
        raise cls(text, request=request)

    return answer


class Script:
    """A MockTransport handler answering from a list (the last answer repeats) and recording requests."""

    def __init__(self, *answers: Answer) -> None:
        self.answers = list(answers)
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        answer = self.answers.pop(0) if len(self.answers) > 1 else self.answers[0]
        return answer(request) if callable(answer) else answer


class Harness:
    """A ProviderHttp on a Script, recording sleeps instead of sleeping."""

    def __init__(self, *answers: Answer, random: float = 1.0, **kwargs: Any) -> None:
        self.script = Script(*answers)
        self.slept: list[float] = []
        self.http = ProviderHttp(
            "Test",
            transport=httpx.MockTransport(self.script),
            sleep=self.slept.append,
            random=lambda: random,
            **kwargs,
        )

    @property
    def sent(self) -> int:
        return len(self.script.requests)


def ok(body: object = None, **kwargs: Any) -> httpx.Response:
    return httpx.Response(200, json=body if body is not None else {"ok": True}, **kwargs)


def status(code: int, headers: dict[str, str] | None = None) -> httpx.Response:
    return httpx.Response(code, json={"message": f"status {code}"}, headers=headers)


# --- Retry-After in every form -------------------------------------------------------------------


def test_retry_after_seconds() -> None:
    h = Harness(status(429, {"Retry-After": "3"}), ok())
    assert h.http.request("GET", URL).json() == {"ok": True}
    assert h.slept == [3.0]
    assert h.sent == 2


def test_retry_after_http_date() -> None:
    now = 1_800_000_000.0
    date = format_datetime(datetime.fromtimestamp(now + 10, UTC), usegmt=True)
    h = Harness(status(503, {"Retry-After": date}), ok(), clock=lambda: now)
    h.http.request("GET", URL)
    assert h.slept == [10.0]


def test_retry_after_milliseconds_for_sentinel_hub() -> None:
    h = Harness(status(429, {"Retry-After": "1500"}), ok(), retry=RetryPolicy(retry_after_unit="ms"))
    h.http.request("GET", URL)
    assert h.slept == [1.5]


def test_no_retry_after_backs_off_exponentially_up_to_the_cap() -> None:
    h = Harness(*[status(503)] * 7, ok(), retry=RetryPolicy(max_retries=7))
    h.http.request("GET", URL)
    assert h.slept == [0.5, 1.0, 2.0, 4.0, 8.0, 8.0, 8.0]


def test_backoff_jitter_is_full_and_bounded() -> None:
    h = Harness(*[status(502)] * 3, ok(), random=0.25)
    h.http.request("GET", URL)
    assert h.slept == [0.125, 0.25, 0.5]


def test_retry_after_above_the_ceiling_raises_without_waiting() -> None:
    h = Harness(status(429, {"Retry-After": "3600"}), ok())
    with pytest.raises(RateLimited) as caught:
        h.http.request("GET", URL)
    assert caught.value.retry_after_s == 3600.0
    assert h.slept == []
    assert h.sent == 1


def test_ceiling_is_configurable() -> None:
    h = Harness(status(429, {"Retry-After": "30"}), ok(), retry=RetryPolicy(max_retry_after_s=10))
    with pytest.raises(RateLimited):
        h.http.request("GET", URL)
    assert h.slept == []


@pytest.mark.parametrize("code", [408, 429, 500, 502, 503, 504])
def test_each_retried_status(code: int) -> None:
    h = Harness(status(code), status(code), ok())
    assert h.http.request("GET", URL).status_code == 200
    assert h.sent == 3
    assert h.slept == [0.5, 1.0]


def test_retries_are_bounded() -> None:
    h = Harness(status(503))
    with pytest.raises(ServerError) as caught:
        h.http.request("GET", URL)
    assert h.sent == 6  # the first try and 5 retries
    assert caught.value.status == 503
    assert len(h.slept) == 5


def test_rate_limited_after_retries_keeps_retry_after() -> None:
    h = Harness(status(429, {"Retry-After": "2"}))
    with pytest.raises(RateLimited) as caught:
        h.http.request("GET", URL)
    assert caught.value.retry_after_s == 2.0
    assert h.slept == [2.0] * 5


@pytest.mark.parametrize(
    ("code", "cls"),
    [(400, BadRequest), (403, PermissionDenied), (404, NotFound), (409, Conflict), (410, Gone), (422, BadRequest)],
)
def test_refusals_are_not_retried(code: int, cls: type[ProviderError]) -> None:
    h = Harness(status(code), ok())
    with pytest.raises(cls):
        h.http.request("GET", URL)
    assert h.sent == 1
    assert h.slept == []


def test_unexpected_success_status_is_an_error() -> None:
    h = Harness(httpx.Response(201, json={}))
    with pytest.raises(ProviderError) as caught:
        h.http.request("POST", URL, json={})
    assert caught.value.status == 201


def test_expected_statuses() -> None:
    h = Harness(httpx.Response(302, headers={"Location": "https://storage.example.com/f"}))
    response = h.http.request("GET", URL, expected=(302,))
    assert response.headers["location"] == "https://storage.example.com/f"


# --- transport errors ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "cls",
    [
        httpx.ConnectError,
        httpx.ConnectTimeout,
        httpx.PoolTimeout,
        httpx.ReadError,
        httpx.ReadTimeout,
        httpx.WriteError,
        httpx.WriteTimeout,
        httpx.RemoteProtocolError,
    ],
)
def test_transport_errors_are_retried_for_gets(cls: type[httpx.TransportError]) -> None:
    h = Harness(raises(cls), ok())
    assert h.http.request("GET", URL).status_code == 200
    assert h.sent == 2
    assert h.http.stats.transport_errors == 1


def test_transport_errors_exhaust_into_transport_error() -> None:
    h = Harness(raises(httpx.ConnectError, "connection refused"))
    with pytest.raises(TransportError) as caught:
        h.http.request("GET", URL)
    assert h.sent == 6
    assert "ConnectError (connection refused)" in str(caught.value)


def test_unfixable_transport_errors_are_not_retried() -> None:
    h = Harness(raises(httpx.UnsupportedProtocol))
    with pytest.raises(TransportError):
        h.http.request("GET", URL)
    assert h.sent == 1


class BrokenBody(httpx.SyncByteStream):
    """A body that breaks off after its first chunk."""

    def __iter__(self) -> Iterator[bytes]:
        yield b'{"partial": '
        raise httpx.ReadError("connection reset by peer")


def test_body_broken_mid_read_is_retried_for_gets() -> None:
    h = Harness(lambda request: httpx.Response(200, stream=BrokenBody()), ok())
    assert h.http.request("GET", URL).json() == {"ok": True}
    assert h.sent == 2


# --- requests that must not be repeated --------------------------------------------------------------


def test_post_without_idempotent_is_sent_once_and_read_timeout_is_outcome_unknown() -> None:
    h = Harness(raises(httpx.ReadTimeout, "timed out"), ok())
    with pytest.raises(OutcomeUnknown) as caught:
        h.http.request("POST", URL, json={"order": 1}, headers={"Authorization": "Bearer tkn-0123.abc"})
    assert h.sent == 1
    assert h.slept == []
    error = caught.value
    assert error.request is not None
    assert error.request.method == "POST"
    assert json.loads(error.request.content) == {"order": 1}
    assert "authorization" not in error.request.headers
    assert "tkn-0123" not in str(error) + repr(error)


@pytest.mark.parametrize(
    "answer", [raises(httpx.ReadError), raises(httpx.WriteTimeout), raises(httpx.RemoteProtocolError), status(500)]
)
def test_post_with_unclear_outcome_is_never_resent(answer: Answer) -> None:
    h = Harness(answer, ok())
    with pytest.raises(OutcomeUnknown):
        h.http.request("POST", URL, json={})
    assert h.sent == 1


@pytest.mark.parametrize("code", [500, 502, 504])
def test_post_server_error_is_outcome_unknown_with_status(code: int) -> None:
    h = Harness(status(code), ok())
    with pytest.raises(OutcomeUnknown) as caught:
        h.http.request("POST", URL, json={})
    assert caught.value.status == code
    assert h.sent == 1


def test_post_503_without_retry_after_is_outcome_unknown() -> None:
    h = Harness(status(503), ok())
    with pytest.raises(OutcomeUnknown):
        h.http.request("POST", URL, json={})
    assert h.sent == 1


@pytest.mark.parametrize(
    "answer",
    [
        status(429),
        status(429, {"Retry-After": "1"}),
        status(503, {"Retry-After": "1"}),
        status(408),
        raises(httpx.ConnectError, "connection refused"),
        raises(httpx.ConnectTimeout),
        raises(httpx.PoolTimeout),
    ],
)
def test_post_not_processed_answers_are_retried(answer: Answer) -> None:
    h = Harness(answer, ok())
    assert h.http.request("POST", URL, json={}).status_code == 200
    assert h.sent == 2


def test_idempotent_post_is_retried_after_read_timeout() -> None:
    h = Harness(raises(httpx.ReadTimeout), status(500), ok())
    assert h.http.request("POST", URL, json={"q": 1}, idempotent=True).status_code == 200
    assert h.sent == 3
    assert [json.loads(r.content) for r in h.script.requests] == [{"q": 1}] * 3


def test_idempotent_false_overrides_the_method_default() -> None:
    h = Harness(raises(httpx.ReadTimeout), ok())
    with pytest.raises(OutcomeUnknown):
        h.http.request("PUT", URL, json={}, idempotent=False)


@pytest.mark.parametrize("method", ["GET", "HEAD", "PUT", "DELETE", "OPTIONS"])
def test_idempotent_methods_are_retried(method: str) -> None:
    h = Harness(raises(httpx.ReadTimeout), ok())
    assert h.http.request(method, URL).status_code == 200
    assert h.sent == 2


# --- timeouts, headers, streaming -------------------------------------------------------------------


def test_every_request_has_the_default_timeouts() -> None:
    h = Harness(ok())
    h.http.request("GET", URL)
    assert h.script.requests[0].extensions["timeout"] == {"connect": 10.0, "read": 60.0, "write": 60.0, "pool": 60.0}


def test_timeouts_are_configurable_per_session_and_per_call() -> None:
    h = Harness(ok(), timeout=httpx.Timeout(30.0, connect=5.0))
    h.http.request("GET", URL)
    h.http.request("GET", URL, timeout=2.0)
    assert h.script.requests[0].extensions["timeout"]["connect"] == 5.0
    assert h.script.requests[0].extensions["timeout"]["read"] == 30.0
    assert h.script.requests[1].extensions["timeout"]["read"] == 2.0


def test_default_headers_params_and_form() -> None:
    h = Harness(ok(), headers={"X-API-Version": "2023-01"})
    h.http.request("POST", URL, params={"a": "1"}, data={"f": "v"}, idempotent=True)
    sent = h.script.requests[0]
    assert sent.headers["x-api-version"] == "2023-01"
    assert sent.url.params["a"] == "1"
    assert sent.content == b"f=v"


def test_stream_yields_the_open_response_and_closes_it() -> None:
    h = Harness(httpx.Response(200, content=b"x" * 10_000))
    with h.http.stream("GET", URL) as response:
        assert sum(len(chunk) for chunk in response.iter_bytes()) == 10_000
    assert response.is_closed


def test_stream_turns_a_broken_body_into_transport_error() -> None:
    h = Harness(lambda request: httpx.Response(200, stream=BrokenBody()))
    with pytest.raises(TransportError) as caught, h.http.stream("GET", URL) as response:
        b"".join(response.iter_bytes())
    assert "interrupted" in str(caught.value)


def test_stream_error_status_is_parsed_and_retried() -> None:
    h = Harness(status(503), httpx.Response(404, json={"error": "no such file"}))
    with pytest.raises(NotFound) as caught, h.http.stream("GET", URL):
        pass
    assert caught.value.message == "no such file"
    assert h.sent == 2


def test_request_with_stream_true_leaves_the_body_unread() -> None:
    h = Harness(httpx.Response(200, content=b"abc"))
    response = h.http.request("GET", URL, stream=True)
    try:
        assert response.read() == b"abc"
    finally:
        response.close()


# --- pacing, stats, logs ---------------------------------------------------------------------------


def test_rate_limiter_is_asked_before_every_attempt() -> None:
    now = [0.0]
    waits: list[float] = []

    def sleep(seconds: float) -> None:
        waits.append(seconds)
        now[0] += seconds

    limiter = RateLimiter(2.0, burst=1, clock=lambda: now[0], sleep=sleep)
    h = Harness(status(503), ok(), ok(), rate_limiter=limiter, random=0.0)
    h.http.request("GET", URL)
    h.http.request("GET", URL)
    assert waits == [0.5, 0.5]  # three attempts at 2/s, the first one free


def test_stats_count_requests_retries_and_statuses() -> None:
    h = Harness(status(429), raises(httpx.ReadError), ok())
    before = h.http.stats
    h.http.request("GET", URL)
    used = h.http.stats - before
    assert used == RequestStats(requests=3, retries=2, transport_errors=1, by_status={200: 1, 429: 1})
    assert used.describe() == "3 requests, 2 retries, 1 transport error (200×1, 429×1)"


def test_debug_log_has_method_path_status_and_request_id_only(caplog: pytest.LogCaptureFixture) -> None:
    h = Harness(ok(headers={"x-request-id": "req-42"}))
    with caplog.at_level(logging.DEBUG, logger="harvest.providers"):
        h.http.request("GET", URL + "?q=secret-query", headers={"Authorization": "Bearer abc123.def"})
    messages = [r.getMessage() for r in caplog.records if r.name == "harvest.providers.http"]
    assert len(messages) == 1
    assert messages[0].startswith("Test GET api.example.com/v1/things -> 200 in ")
    assert messages[0].endswith("(request id req-42)")
    assert "secret-query" not in caplog.text
    assert "abc123" not in caplog.text


def test_echoed_secret_never_reaches_logs_or_errors(caplog: pytest.LogCaptureFixture) -> None:
    key = Secret("echo-me-secret-123")
    body = {"message": "bad key echo-me-secret-123", "hint": "you sent echo-me-secret-123"}
    h = Harness(httpx.Response(400, json=body, headers={"X-Echo": "echo-me-secret-123"}))
    with caplog.at_level(logging.DEBUG), pytest.raises(BadRequest) as caught:
        h.http.request("GET", URL, params={"apikey": key.reveal()})
    error = caught.value
    assert {"httpx", "harvest.providers.http"} <= {r.name for r in caplog.records}  # httpx logs the full URL
    for text in (str(error), repr(error), error.body or "", caplog.text, *(r.getMessage() for r in caplog.records)):
        assert "echo-me-secret-123" not in text
