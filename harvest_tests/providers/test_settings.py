"""Settings from the environment: live hosts with credentials, the sandbox without, secrets never shown."""

from __future__ import annotations

import pytest

from harvest.providers import sandbox_endpoints as sandbox
from harvest.providers.errors import ConfigurationError
from harvest.providers.sandbox_endpoints import client_environment
from harvest.providers.secrets import Secret
from harvest.providers.settings import ArlulaSettings, OneAtlasSettings, SentinelHubSettings

SANDBOX = "http://127.0.0.1:8765"
LIVE_ENV = {
    "ONEATLAS_API_KEY": "live-oneatlas-key-abcdef",
    "ARLULA_API_KEY": "live-arlula-key",
    "ARLULA_API_SECRET": "live-arlula-secret-ghijkl",
    "SENTINELHUB_CLIENT_ID": "live-sh-client",
    "SENTINELHUB_CLIENT_SECRET": "live-sh-secret-mnopqr",
}
SECRETS = ("live-oneatlas-key-abcdef", "live-arlula-secret-ghijkl", "live-sh-secret-mnopqr")


def test_oneatlas_live_defaults_to_production_hosts() -> None:
    settings = OneAtlasSettings.from_env(LIVE_ENV)
    assert settings.api_key == Secret("live-oneatlas-key-abcdef")
    assert not settings.sandbox
    assert settings.auth_url == "https://authenticate.foundation.api.oneatlas.airbus.com"
    assert settings.search_url == "https://search.foundation.api.oneatlas.airbus.com"
    assert settings.data_url == "https://data.api.oneatlas.airbus.com"
    assert settings.order_url == "https://order.api.oneatlas.airbus.com"
    assert settings.access_url == "https://access.foundation.api.oneatlas.airbus.com"
    assert settings.token_url == (
        "https://authenticate.foundation.api.oneatlas.airbus.com/auth/realms/IDP/protocol/openid-connect/token"
    )
    assert settings.describe() == "OneAtlas: live, https://search.foundation.api.oneatlas.airbus.com"


def test_oneatlas_urls_from_env() -> None:
    env = {**LIVE_ENV, "ONEATLAS_SEARCH_URL": "https://proxy.example.com/search/", "ONEATLAS_AUTH_URL": "https://a"}
    settings = OneAtlasSettings.from_env(env)
    assert settings.search_url == "https://proxy.example.com/search"
    assert settings.auth_url == "https://a"
    assert not settings.sandbox


def test_oneatlas_without_credentials_is_the_sandbox() -> None:
    settings = OneAtlasSettings.from_env({"ONEATLAS_SEARCH_URL": "https://ignored"}, sandbox_url=SANDBOX + "/")
    assert settings.sandbox
    assert settings.api_key.reveal() == sandbox.ONEATLAS_API_KEY
    assert settings.auth_url == f"{SANDBOX}/oneatlas/auth"
    assert settings.search_url == f"{SANDBOX}/oneatlas/search"
    assert settings.data_url == f"{SANDBOX}/oneatlas/data"
    assert settings.order_url == f"{SANDBOX}/oneatlas/order"
    assert settings.access_url == f"{SANDBOX}/oneatlas/access"
    assert settings.describe() == f"OneAtlas: sandbox at {SANDBOX}"


def test_default_sandbox_url_is_where_harvest_sandbox_serve_listens() -> None:
    assert OneAtlasSettings.from_env({}).search_url == "http://127.0.0.1:8765/oneatlas/search"


def test_the_sandboxs_client_environment_counts_as_sandbox() -> None:
    env = client_environment("http://127.0.0.1:40123")
    oneatlas = OneAtlasSettings.from_env(env)
    arlula = ArlulaSettings.from_env(env)
    sentinelhub = SentinelHubSettings.from_env(env)
    assert (oneatlas.sandbox, arlula.sandbox, sentinelhub.sandbox) == (True, True, True)
    assert oneatlas.describe() == "OneAtlas: sandbox at http://127.0.0.1:40123"
    assert arlula.url == "http://127.0.0.1:40123/arlula"
    assert sentinelhub.token_url == "http://127.0.0.1:40123/sentinelhub/auth/realms/main/protocol/openid-connect/token"
    assert sentinelhub.describe() == "Sentinel Hub: sandbox at http://127.0.0.1:40123"


def test_demo_credentials_against_production_hosts_are_not_the_sandbox() -> None:
    env = {"ONEATLAS_API_KEY": sandbox.ONEATLAS_API_KEY}
    assert not OneAtlasSettings.from_env(env).sandbox


def test_real_credentials_against_sandbox_urls_are_not_the_sandbox() -> None:
    env = {**client_environment("http://127.0.0.1:40123"), "ONEATLAS_API_KEY": "someone-elses-key"}
    assert not OneAtlasSettings.from_env(env).sandbox


def test_arlula_live_and_api_version() -> None:
    settings = ArlulaSettings.from_env(LIVE_ENV)
    assert (settings.api_key, settings.api_secret, settings.url) == (
        "live-arlula-key",
        Secret("live-arlula-secret-ghijkl"),
        "https://api.arlula.com",
    )
    assert settings.api_version == "current"
    assert not settings.sandbox
    assert settings.describe() == "Arlula: live, https://api.arlula.com (API version current)"
    assert ArlulaSettings.from_env({**LIVE_ENV, "ARLULA_API_VERSION": "2020-12"}).api_version == "2020-12"
    with pytest.raises(ConfigurationError, match="ARLULA_API_VERSION"):
        ArlulaSettings.from_env({**LIVE_ENV, "ARLULA_API_VERSION": "2024-07"})


def test_arlula_without_credentials_is_the_sandbox() -> None:
    settings = ArlulaSettings.from_env({"ARLULA_API_VERSION": "2020-12"}, sandbox_url=SANDBOX)
    assert settings.sandbox
    assert settings.url == f"{SANDBOX}/arlula"
    assert (settings.api_key, settings.api_secret.reveal()) == (sandbox.ARLULA_API_KEY, sandbox.ARLULA_API_SECRET)
    assert settings.api_version == "2020-12"
    assert settings.describe() == f"Arlula: sandbox at {SANDBOX} (API version 2020-12)"


def test_sentinelhub_live_defaults() -> None:
    settings = SentinelHubSettings.from_env(LIVE_ENV)
    assert settings.url == settings.auth_url == "https://services.sentinel-hub.com"
    assert settings.token_url == "https://services.sentinel-hub.com/auth/realms/main/protocol/openid-connect/token"
    assert not settings.sandbox
    assert settings.describe() == "Sentinel Hub: live, https://services.sentinel-hub.com"


def test_sentinelhub_auth_url_defaults_to_the_api_host() -> None:
    settings = SentinelHubSettings.from_env({**LIVE_ENV, "SENTINELHUB_URL": "https://creodias.sentinel-hub.com"})
    assert settings.auth_url == "https://creodias.sentinel-hub.com"
    settings = SentinelHubSettings.from_env({**LIVE_ENV, "SENTINELHUB_AUTH_URL": "https://login.example.com"})
    assert (settings.url, settings.auth_url) == ("https://services.sentinel-hub.com", "https://login.example.com")


def test_sentinelhub_without_credentials_is_the_sandbox() -> None:
    settings = SentinelHubSettings.from_env({}, sandbox_url=SANDBOX)
    assert settings.sandbox
    assert settings.url == settings.auth_url == f"{SANDBOX}/sentinelhub"
    assert settings.client_id == sandbox.SENTINELHUB_CLIENT_ID


@pytest.mark.parametrize(
    ("cls", "env", "missing"),
    [
        (ArlulaSettings, {"ARLULA_API_KEY": "k"}, "ARLULA_API_SECRET"),
        (ArlulaSettings, {"ARLULA_API_SECRET": "s"}, "ARLULA_API_KEY"),
        (SentinelHubSettings, {"SENTINELHUB_CLIENT_ID": "c"}, "SENTINELHUB_CLIENT_SECRET"),
    ],
)
def test_half_a_credential_pair_is_refused(
    cls: type[ArlulaSettings] | type[SentinelHubSettings], env: dict[str, str], missing: str
) -> None:
    with pytest.raises(ConfigurationError, match=f"{missing} is not"):
        cls.from_env(env)


def test_empty_values_count_as_absent() -> None:
    assert OneAtlasSettings.from_env({"ONEATLAS_API_KEY": "  "}).sandbox


def test_no_secret_in_repr_or_describe() -> None:
    all_settings = [cls.from_env(LIVE_ENV) for cls in (OneAtlasSettings, ArlulaSettings, SentinelHubSettings)]
    for settings in all_settings:
        for text in (repr(settings), str(settings), settings.describe()):
            for secret in SECRETS:
                assert secret not in text
    assert "Secret('***')" in repr(all_settings[0])
