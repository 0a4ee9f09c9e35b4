"""Every answer read into memory is bounded: its size, and its time from sending to the last byte.

Hostile servers on loopback send pages that never end, bodies that trickle, and error bodies that
never end; the clock that measures the deadline is injected (a tick per reading), so nothing waits.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable

import httpx
import pytest

from harvest.providers.errors import (
    ConfigurationError,
    DeadlineExceeded,
    OutcomeUnknown,
    ResponseTooLarge,
    ServerError,
)
from harvest.providers.http import ProviderHttp, ResponseLimits, RetryPolicy
from harvest.providers.settings import ArlulaSettings, OneAtlasSettings, SentinelHubSettings, response_limits
from harvest_tests.hostile import Reply, Request, hostile_server

MIB = 1 << 20


def endless(request: Request, reply: Reply) -> None:
    """A 200 JSON page that never ends (no Content-Length: it would end when the connection closes)."""
    reply.start(200, {"Content-Type": "application/json"})
    reply.write(b'{"features": [')
    while reply.write(b'{"type": "Feature", "properties": {}},' * 1000):
        pass


def trickle(request: Request, reply: Reply) -> None:
    """A page whose bytes come one at a time, each well within the read timeout, for ever."""
    reply.start(200, {"Content-Type": "application/json"})
    while reply.write(b" "):
        pass


def ticking(step_s: float) -> Callable[[], float]:
    """A monotonic clock that moves `step_s` every time it is read."""
    counter = itertools.count()
    return lambda: next(counter) * step_s


def session(**options: object) -> ProviderHttp:
    return ProviderHttp("Test", retry=RetryPolicy(max_retries=2), sleep=lambda _: None, **options)  # type: ignore[arg-type]


def test_a_page_that_never_ends_is_cut_at_the_size_limit() -> None:
    with hostile_server(endless) as server:
        http = session(limits=ResponseLimits(max_body_bytes=4 * MIB, size_setting="TEST_MAX_RESPONSE_MB"))
        with pytest.raises(ResponseTooLarge) as caught:
            http.request("POST", f"{server.url}/search", json={}, idempotent=True)
        http.close()
    assert "passed 4,194,304 bytes" in str(caught.value) and "TEST_MAX_RESPONSE_MB" in str(caught.value)
    assert len(server.requests) == 1  # not retried: the same question would get the same endless answer


def test_a_trickling_body_fails_at_the_deadline() -> None:
    with hostile_server(trickle) as server:
        limits = ResponseLimits(deadline_s=300, deadline_setting="TEST_RESPONSE_DEADLINE_S")
        http = session(limits=limits, monotonic=ticking(1.0))
        with pytest.raises(DeadlineExceeded) as caught:
            http.request("GET", f"{server.url}/page")
        http.close()
    assert "no complete answer 300 s after sending" in str(caught.value)
    assert "TEST_RESPONSE_DEADLINE_S" in str(caught.value)
    assert len(server.requests) == 1


def test_an_order_whose_answer_never_ends_is_an_unknown_outcome() -> None:
    with hostile_server(endless) as server:
        http = session(limits=ResponseLimits(max_body_bytes=MIB))
        with pytest.raises(OutcomeUnknown, match="may have been processed") as caught:
            http.request("POST", f"{server.url}/orders", json={"scene": "x"})
        http.close()
    assert caught.value.request is not None and caught.value.request.method == "POST"
    assert len(server.requests) == 1


def test_an_error_body_that_never_ends_is_read_only_for_its_message() -> None:
    def failing(request: Request, reply: Reply) -> None:
        reply.start(500, {"Content-Type": "application/json"})
        reply.write(b'{"message": "overloaded", "pad": "')
        while reply.write(b"x" * 65_536):
            pass

    with hostile_server(failing) as server:
        http = session()
        with pytest.raises(ServerError) as caught:
            http.request("GET", f"{server.url}/page")
        http.close()
    assert len(server.requests) == 3  # retried as any 500 is
    assert caught.value.body is not None and len(caught.value.body) <= 4000


def test_an_answer_within_the_limits_reads_as_usual() -> None:
    document = {"features": [{"id": n} for n in range(2000)]}
    with hostile_server(lambda request, reply: reply.json(200, document)) as server:
        http = session(limits=ResponseLimits(max_body_bytes=MIB, deadline_s=60), monotonic=ticking(0.001))
        response = http.request("GET", f"{server.url}/page")
        http.close()
    assert response.json() == document


def test_a_broken_body_is_retried_like_any_dropped_connection() -> None:
    answers = iter([False, True])

    def flaky(request: Request, reply: Reply) -> None:
        if next(answers):
            reply.json(200, {"ok": True})
        else:
            reply.start(200, {"Content-Length": "1000"})
            reply.write(b'{"ok": ')  # then the connection drops

    with hostile_server(flaky) as server:
        http = session()
        assert http.request("GET", f"{server.url}/page").json() == {"ok": True}
        http.close()
    assert len(server.requests) == 2


@pytest.mark.parametrize(
    ("settings", "prefix"),
    [(OneAtlasSettings, "ONEATLAS"), (ArlulaSettings, "ARLULA"), (SentinelHubSettings, "SENTINELHUB")],
)
def test_each_provider_has_its_own_limits(
    settings: type[OneAtlasSettings | ArlulaSettings | SentinelHubSettings], prefix: str
) -> None:
    configured = settings.from_env({f"{prefix}_MAX_RESPONSE_MB": "2.5", f"{prefix}_RESPONSE_DEADLINE_S": "30"})
    assert configured.limits == ResponseLimits(
        int(2.5 * MIB), 30.0, f"{prefix}_MAX_RESPONSE_MB", f"{prefix}_RESPONSE_DEADLINE_S"
    )
    assert settings.from_env({}).limits == response_limits({}, prefix)


@pytest.mark.parametrize("value", ["0", "-1", "lots", "inf", "nan"])
def test_a_limit_that_cannot_work_is_refused_naming_the_variable(value: str) -> None:
    with pytest.raises(ConfigurationError, match=f"ONEATLAS_MAX_RESPONSE_MB must be a positive number, got '{value}'"):
        OneAtlasSettings.from_env({"ONEATLAS_MAX_RESPONSE_MB": value})


def test_streamed_bodies_are_left_to_the_caller() -> None:
    with hostile_server(endless) as server:
        http = session(limits=ResponseLimits(max_body_bytes=1024))
        with http.stream("GET", f"{server.url}/file") as response:
            first = next(response.iter_bytes())
        http.close()
    assert first.startswith(b'{"features"')


def test_transport_errors_and_timeouts_still_count_as_retries() -> None:
    calls = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(request)
        if len(calls) == 1:
            raise httpx.ReadTimeout("slow", request=request)
        return httpx.Response(200, json={"ok": True})

    http = session(transport=httpx.MockTransport(handler))
    assert http.request("GET", "https://api.example.com/x").json() == {"ok": True}
    assert http.stats.retries == 1
