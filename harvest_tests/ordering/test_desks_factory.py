"""`open_desk`: desks from the environment, the OneAtlas flavour choice, and clear refusals."""

from __future__ import annotations

import httpx
import pytest

from harvest.ordering.desks.arlula import ArlulaDesk
from harvest.ordering.desks.base import NotOrderable
from harvest.ordering.desks.factory import oneatlas_flavour
from harvest.ordering.desks.oneatlas_data import DataApiDesk
from harvest.ordering.desks.oneatlas_order import OrderApiDesk
from harvest.ordering.desks.sentinelhub import SentinelHubImportDesk
from harvest.providers.errors import AuthenticationError, ConfigurationError
from harvest.providers.http import ProviderHttp, RetryPolicy
from harvest.providers.oneatlas import OneAtlasClient
from harvest.providers.settings import OneAtlasSettings
from harvest.registry import open_desk
from harvest.sandbox.server import RunningSandbox

LIVING_LIBRARY = {"contract": {"id": "c-1", "offers": ["order.data.product", "order.product"], "balance": 10}}


@pytest.mark.parametrize(
    ("provider", "extra", "kind"),
    [
        ("oneatlas", {}, DataApiDesk),  # the sandbox account has a Living Library contract
        ("oneatlas", {"ONEATLAS_ORDER_FLAVOUR": "order"}, OrderApiDesk),
        ("oneatlas", {"ONEATLAS_ORDER_FLAVOUR": " Data "}, DataApiDesk),
        ("arlula", {}, ArlulaDesk),
        ("sentinelhub-import", {}, SentinelHubImportDesk),
    ],
)
def test_desks_from_the_environment(
    shared_sandbox: RunningSandbox, provider: str, extra: dict[str, str], kind: type
) -> None:
    desk = open_desk(provider, {**shared_sandbox.env(), **extra})
    try:
        assert isinstance(desk, kind) and desk.provider == provider and desk.sandbox
        assert "sandbox" in desk.describe() and "secret" not in desk.describe()
    finally:
        desk.close()


def test_without_credentials_the_desk_is_the_sandbox_at_the_given_url(shared_sandbox: RunningSandbox) -> None:
    desk = open_desk("sentinelhub-import", {}, shared_sandbox.url)
    assert desk.sandbox and shared_sandbox.url in desk.describe()


@pytest.mark.parametrize(
    ("provider", "env", "error", "message"),
    [
        ("sentinelhub-catalog", {}, NotOrderable, "sells nothing: order through one of oneatlas, arlula"),
        ("planet", {}, ValueError, "unknown provider 'planet'"),
        ("arlula", {"ARLULA_API_VERSION": "2020-12"}, ConfigurationError, "unset ARLULA_API_VERSION"),
        ("oneatlas", {"ONEATLAS_ORDER_FLAVOUR": "tasking"}, ConfigurationError, "one of data, order, got 'tasking'"),
        (
            "oneatlas",
            {"ONEATLAS_API_KEY": "live-key-123", "ONEATLAS_ORDER_FLAVOUR": "order"},
            ConfigurationError,
            "need ONEATLAS_NOTIFICATION_EMAIL",
        ),
    ],
)
def test_clear_refusals(provider: str, env: dict[str, str], error: type[Exception], message: str) -> None:
    with pytest.raises(error, match=message) as caught:
        open_desk(provider, env, "http://127.0.0.1:9")  # nothing listens there: no request is sent
    assert "live-key-123" not in str(caught.value)


def _client(status: int, body: object) -> OneAtlasClient:
    def handler(request: httpx.Request) -> httpx.Response:
        assert request.url.path == "/oneatlas/data/api/v1/me"
        return httpx.Response(status, json=body)

    http = ProviderHttp("OneAtlas", transport=httpx.MockTransport(handler), retry=RetryPolicy(max_retries=0))
    return OneAtlasClient(OneAtlasSettings.from_env({}, "http://oneatlas.test"), http=http)


@pytest.mark.parametrize(
    ("status", "body", "flavour"),
    [
        (200, LIVING_LIBRARY, "data"),
        (200, {"contract": {"id": "c-2", "offers": ["order.subscription.streaming"]}}, "order"),
        (200, {"id": "user-without-contract"}, "order"),
        (403, {"message": "no data.api access"}, "order"),
        (404, {"message": "Not found"}, "order"),
    ],
)
def test_the_me_contract_chooses_the_flavour(status: int, body: object, flavour: str) -> None:
    assert oneatlas_flavour(_client(status, body), {}) == flavour


def test_a_refused_api_key_is_not_taken_for_a_flavour() -> None:
    with pytest.raises(AuthenticationError):
        oneatlas_flavour(_client(401, {"message": "Authentication failed"}), {})
