"""Token providers: the token forms, refresh before expiry, single flight, 401 recovery and failures with hints."""

from __future__ import annotations

import logging
import threading
from typing import Any
from urllib.parse import parse_qs

import httpx
import pytest

from harvest.providers.auth import BasicAuth, ClientCredentialsAuth, OneAtlasApiKeyAuth, usable_lifetime_s
from harvest.providers.errors import AuthenticationError, ProviderError, ServerError
from harvest.providers.http import ProviderHttp
from harvest.providers.secrets import Secret

TOKEN_URL = "https://auth.example.com/auth/realms/IDP/protocol/openid-connect/token"
API_URL = "https://search.example.com/api/v2/opensearch"
ORIGINS = ("https://auth.example.com", "https://search.example.com")
API_KEY = "oneatlas-test-key-0123456789"


class FakeProvider:
    """A token endpoint issuing tok1, tok2, … and an API accepting those not in `refused`."""

    def __init__(self, *, expires_in: float = 3600, scheme: str = "bearer") -> None:
        self.expires_in = expires_in
        self.scheme = scheme
        self.issued: list[str] = []
        self.forms: list[dict[str, list[str]]] = []
        self.api_headers: list[str | None] = []
        self.refused: set[str] = set()
        self.token_answers: list[httpx.Response] = []  # scripted answers before normal issuing
        self.api_answers: list[httpx.Response] = []
        self.gate: threading.Event | None = None

    def __call__(self, request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/token"):
            return self.token(request)
        header = request.headers.get("authorization")
        self.api_headers.append(header)
        if request.url.path.startswith("/presigned"):
            return httpx.Response(200, content=b"bytes")
        if self.api_answers:
            return self.api_answers.pop(0)
        if header is None or header.removeprefix("Bearer ") not in self.issued or header in self.refused:
            return httpx.Response(401, json={"message": "Authentication failed (cause: Token expired)"})
        return httpx.Response(200, json={"ok": True})

    def token(self, request: httpx.Request) -> httpx.Response:
        self.forms.append(parse_qs(request.content.decode()))
        if self.gate is not None:
            assert self.gate.wait(timeout=10)
        if self.token_answers:
            return self.token_answers.pop(0)
        token = f"tok{len(self.issued) + 1}-abc.def"
        self.issued.append(token)
        body = {"access_token": token, "expires_in": self.expires_in, "token_type": self.scheme}
        return httpx.Response(200, json=body)

    @property
    def token_requests(self) -> int:
        return len(self.forms)


class ArrivalLock:
    """Wraps a TokenAuth's lock to signal each caller that reaches it (so tests know who is waiting)."""

    def __init__(self, lock: Any, arrived: threading.Semaphore) -> None:
        self.lock, self.arrived = lock, arrived

    def __enter__(self) -> None:
        self.arrived.release()
        self.lock.acquire()

    def __exit__(self, *exc: object) -> None:
        self.lock.release()


def gate_token_requests(http: ProviderHttp, provider: FakeProvider) -> tuple[threading.Semaphore, threading.Event]:
    """Hold token requests until the test sets the returned gate; count callers reaching the token lock."""
    arrived = threading.Semaphore(0)
    auth = http.auth
    assert isinstance(auth, OneAtlasApiKeyAuth)
    auth._lock = ArrivalLock(auth._lock, arrived)  # type: ignore[assignment]
    provider.gate = threading.Event()
    return arrived, provider.gate


class Clock:
    """A settable monotonic clock."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def oneatlas(provider: FakeProvider, clock: Clock | None = None, **kwargs: Any) -> tuple[ProviderHttp, list[float]]:
    slept: list[float] = []
    auth = OneAtlasApiKeyAuth(Secret(API_KEY), TOKEN_URL, clock=clock or Clock(), **kwargs)
    http = ProviderHttp(
        "OneAtlas",
        auth=auth,
        origins=ORIGINS,
        transport=httpx.MockTransport(provider),
        sleep=slept.append,
        random=lambda: 1.0,
    )
    return http, slept


def test_oneatlas_token_form_and_bearer_header() -> None:
    provider = FakeProvider(scheme="Bearer")
    http, _ = oneatlas(provider)
    assert http.request("GET", API_URL).json() == {"ok": True}
    assert provider.forms == [{"apikey": [API_KEY], "grant_type": ["api_key"], "client_id": ["IDP"]}]
    assert provider.api_headers == ["Bearer tok1-abc.def"]


def test_token_is_reused_until_refresh_is_due() -> None:
    provider, clock = FakeProvider(expires_in=3600), Clock()
    http, _ = oneatlas(provider, clock)
    http.request("GET", API_URL)
    clock.now += 3539  # 61 s before expiry: still fine
    http.request("GET", API_URL)
    assert provider.token_requests == 1
    clock.now += 1  # 60 s before expiry: refresh
    http.request("GET", API_URL)
    assert provider.token_requests == 2
    assert provider.api_headers == ["Bearer tok1-abc.def", "Bearer tok1-abc.def", "Bearer tok2-abc.def"]


def test_short_lived_token_is_used_for_at_least_a_tenth_of_its_life() -> None:
    assert usable_lifetime_s(3600, 60) == 3540
    assert usable_lifetime_s(30, 60) == 3.0
    provider, clock = FakeProvider(expires_in=30), Clock()
    http, _ = oneatlas(provider, clock)
    http.request("GET", API_URL)
    clock.now += 2.9
    http.request("GET", API_URL)
    assert provider.token_requests == 1
    clock.now += 0.1
    http.request("GET", API_URL)
    assert provider.token_requests == 2


def test_single_flight_under_20_threads() -> None:
    provider = FakeProvider()
    http, _ = oneatlas(provider)
    arrived, gate = gate_token_requests(http, provider)
    results: list[object] = []

    def call() -> None:
        results.append(http.request("GET", API_URL).status_code)

    threads = [threading.Thread(target=call) for _ in range(20)]
    for thread in threads:
        thread.start()
    for _ in threads:
        arrived.acquire()
    gate.set()  # every thread is inside headers() by now; the one token request may answer
    for thread in threads:
        thread.join(timeout=10)
    assert results == [200] * 20
    assert provider.token_requests == 1
    assert set(provider.api_headers) == {"Bearer tok1-abc.def"}


def test_waiters_share_a_failed_token_request_instead_of_repeating_it() -> None:
    provider = FakeProvider()
    provider.token_answers = [httpx.Response(401, json={"error": "invalid_grant", "error_description": "bad key"})]
    http, _ = oneatlas(provider)
    arrived, gate = gate_token_requests(http, provider)
    errors: list[BaseException] = []

    def call() -> None:
        try:
            http.request("GET", API_URL)
        except AuthenticationError as exc:
            errors.append(exc)

    threads = [threading.Thread(target=call) for _ in range(20)]
    for thread in threads:
        thread.start()
    for _ in threads:
        arrived.acquire()
    gate.set()
    for thread in threads:
        thread.join(timeout=10)
    assert len(errors) == 20
    assert provider.token_requests == 1
    assert all("check ONEATLAS_API_KEY" in str(e) for e in errors)
    assert len({id(e) for e in errors}) == 20  # copies: threads never share one traceback
    assert http.request("GET", API_URL).status_code == 200  # a later caller tries again
    assert provider.token_requests == 2


def test_401_reauthenticates_once_and_repeats() -> None:
    provider = FakeProvider()
    http, _ = oneatlas(provider)
    http.request("GET", API_URL)
    provider.refused.add("Bearer tok1-abc.def")  # the server drops the token long before expires_in
    assert http.request("POST", API_URL, json={"order": 1}).json() == {"ok": True}  # safe: a 401 is unprocessed
    assert provider.token_requests == 2
    assert provider.api_headers == ["Bearer tok1-abc.def", "Bearer tok1-abc.def", "Bearer tok2-abc.def"]
    assert http.stats.reauthentications == 1


def test_early_expired_token_is_recovered_after_time_passes() -> None:
    provider, clock = FakeProvider(expires_in=3600), Clock()
    http, _ = oneatlas(provider, clock)
    http.request("GET", API_URL)
    clock.now += 360  # a tenth of the advertised lifetime: the sandbox's token_expiry fault
    provider.refused.add("Bearer tok1-abc.def")
    assert http.request("GET", API_URL).status_code == 200
    assert provider.issued == ["tok1-abc.def", "tok2-abc.def"]


def test_401_twice_raises_authentication_error() -> None:
    provider = FakeProvider()
    provider.api_answers = [httpx.Response(401, json={"message": "nope"})] * 3
    http, _ = oneatlas(provider)
    with pytest.raises(AuthenticationError) as caught:
        http.request("GET", API_URL)
    assert provider.token_requests == 2
    assert len(provider.api_headers) == 2
    assert "refused a fresh access token" in str(caught.value)
    assert "check ONEATLAS_API_KEY" in str(caught.value)


def test_invalidate_drops_only_the_refused_token() -> None:
    provider = FakeProvider()
    auth = OneAtlasApiKeyAuth(Secret(API_KEY), TOKEN_URL)
    ProviderHttp("OneAtlas", auth=auth, origins=ORIGINS, transport=httpx.MockTransport(provider))
    assert auth.headers() == {"Authorization": "Bearer tok1-abc.def"}
    assert auth.invalidate("Bearer some-older-token")  # another thread already replaced that one
    assert auth.headers() == {"Authorization": "Bearer tok1-abc.def"}
    assert auth.invalidate("Bearer tok1-abc.def")
    assert auth.headers() == {"Authorization": "Bearer tok2-abc.def"}


@pytest.mark.parametrize(
    ("code", "body"),
    [
        (401, {"error": "invalid_grant", "error_description": "Invalid API key"}),
        (400, {"error": "invalid_grant", "error_description": "Invalid API key"}),
        (403, {"message": "Forbidden", "correlationId": "cid-9"}),
    ],
)
def test_token_endpoint_refusal_is_authentication_error_with_env_hint(code: int, body: dict[str, str]) -> None:
    provider = FakeProvider()
    provider.token_answers = [httpx.Response(code, json=body)]
    http, slept = oneatlas(provider)
    with pytest.raises(AuthenticationError) as caught:
        http.request("GET", API_URL)
    error = caught.value
    assert error.status == code
    assert error.hint == "OneAtlas rejected the API key: check ONEATLAS_API_KEY"
    assert "check ONEATLAS_API_KEY" in str(error)
    assert provider.token_requests == 1
    assert slept == []
    assert provider.api_headers == []


def test_token_endpoint_is_retried_like_any_request() -> None:
    provider = FakeProvider()
    provider.token_answers = [
        httpx.Response(503, json={"message": "busy"}),
        httpx.Response(429, headers={"Retry-After": "2"}),
    ]
    http, slept = oneatlas(provider)
    assert http.request("GET", API_URL).status_code == 200
    assert slept == [0.5, 2.0]
    assert provider.token_requests == 3


def test_token_endpoint_transport_error_is_retried() -> None:
    calls: list[int] = []
    provider = FakeProvider()

    def flaky(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/token") and not calls:
            calls.append(1)
            raise httpx.ReadTimeout("timed out", request=request)
        return provider(request)

    auth = OneAtlasApiKeyAuth(Secret(API_KEY), TOKEN_URL)
    http = ProviderHttp(
        "OneAtlas", auth=auth, origins=ORIGINS, transport=httpx.MockTransport(flaky), sleep=lambda s: None
    )
    assert http.request("GET", API_URL).status_code == 200


def test_token_endpoint_server_errors_exhausted_are_server_errors() -> None:
    provider = FakeProvider()
    provider.token_answers = [httpx.Response(500, json={"message": "down"})] * 6
    http, _ = oneatlas(provider)
    with pytest.raises(ServerError):
        http.request("GET", API_URL)


@pytest.mark.parametrize(
    "body", [{"token_type": "bearer"}, {"access_token": "x", "token_type": "mac"}, "not json"], ids=str
)
def test_malformed_token_response(body: object) -> None:
    provider = FakeProvider()
    answer = httpx.Response(200, text=body) if isinstance(body, str) else httpx.Response(200, json=body)
    provider.token_answers = [answer]
    http, _ = oneatlas(provider)
    with pytest.raises(ProviderError):
        http.request("GET", API_URL)


def test_client_credentials_form_and_hint() -> None:
    provider = FakeProvider()
    provider.token_answers = [httpx.Response(200, json={"access_token": "sh-tok-1.x", "expires_in": 3600})]
    auth = ClientCredentialsAuth("sh-client", Secret("sh-secret-value-42"), "https://sh.example.com/token")
    http = ProviderHttp("Sentinel Hub", auth=auth, origins=ORIGINS, transport=httpx.MockTransport(provider))
    assert auth.headers() == {"Authorization": "Bearer sh-tok-1.x"}
    assert provider.forms == [
        {"grant_type": ["client_credentials"], "client_id": ["sh-client"], "client_secret": ["sh-secret-value-42"]}
    ]
    provider.token_answers = [httpx.Response(401, json={"error": "invalid_client", "error_description": "bad"})]
    auth.invalidate(None)
    with pytest.raises(AuthenticationError) as caught:
        http.request("GET", API_URL)
    assert "check SENTINELHUB_CLIENT_ID and SENTINELHUB_CLIENT_SECRET" in str(caught.value)
    assert "sh-secret-value-42" not in repr(auth)


def test_basic_auth_has_no_second_try() -> None:
    seen: list[str | None] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request.headers.get("authorization"))
        return httpx.Response(401, json={"error": "invalid credentials"})

    auth = BasicAuth("arlula-key", Secret("arlula-secret-xyz"))
    http = ProviderHttp(
        "Arlula", auth=auth, origins=["https://api.arlula.example"], transport=httpx.MockTransport(handler)
    )
    with pytest.raises(AuthenticationError) as caught:
        http.request("GET", "https://api.arlula.example/api/test")
    assert seen == ["Basic YXJsdWxhLWtleTphcmx1bGEtc2VjcmV0LXh5eg=="]
    assert "check ARLULA_API_KEY and ARLULA_API_SECRET" in str(caught.value)
    assert "YXJsdWxh" not in str(caught.value)


def test_authenticate_false_sends_no_credentials() -> None:
    provider = FakeProvider()
    http, _ = oneatlas(provider)
    http.request("GET", "https://storage.example.com/presigned/f.tif", authenticate=False)
    assert provider.api_headers == [None]
    assert provider.token_requests == 0


def test_no_secret_in_logs_even_when_echoed(caplog: pytest.LogCaptureFixture) -> None:
    provider = FakeProvider()
    echo = {"error": "invalid_grant", "error_description": f"apikey {API_KEY} is not valid"}
    provider.token_answers = [httpx.Response(200, json={"access_token": "tok-echo-1.x", "expires_in": 60})]
    provider.api_answers = [
        httpx.Response(400, json={"message": f"you sent Bearer tok-echo-1.x and {API_KEY}"}),
    ]
    http, _ = oneatlas(provider)
    with caplog.at_level(logging.DEBUG), pytest.raises(ProviderError) as bad_request:
        http.request("GET", API_URL)
    provider.token_answers = [httpx.Response(401, json=echo)]
    assert http.auth is not None
    http.auth.invalidate(None)
    with caplog.at_level(logging.DEBUG), pytest.raises(AuthenticationError) as refused:
        http.request("GET", API_URL)
    texts = [caplog.text, *(r.getMessage() for r in caplog.records)]
    for error in (bad_request.value, refused.value):
        texts += [str(error), repr(error), error.body or ""]
    assert caplog.records
    for text in texts:
        assert API_KEY not in text
        assert "tok-echo-1.x" not in text
