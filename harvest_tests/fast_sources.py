"""Scene sources pointed at a test sandbox: retries that never sleep, and small pages that make
OneAtlas's shared lastUpdateDate instants straddle page boundaries."""

from __future__ import annotations

from collections.abc import Callable

from harvest import registry
from harvest.harvesting.sources import (
    OneAtlasSource,
    SceneSource,
)
from harvest.providers.arlula import ArlulaClient
from harvest.providers.auth import BasicAuth, ClientCredentialsAuth, OneAtlasApiKeyAuth
from harvest.providers.http import ProviderHttp, RetryPolicy
from harvest.providers.oneatlas import OneAtlasClient
from harvest.providers.sentinelhub import SentinelHubClient
from harvest.providers.settings import ArlulaSettings, OneAtlasSettings, SentinelHubSettings
from harvest.sandbox.server import RunningSandbox

NO_WAIT = RetryPolicy(max_retries=8, initial_delay_s=0.001, max_delay_s=0.002)


def no_sleep(_: float) -> None:
    """Retries in tests do not wait for real."""


def oneatlas_source(sandbox: RunningSandbox, page_size: int = 500) -> OneAtlasSource:
    settings = OneAtlasSettings.from_env(sandbox.env())
    http = ProviderHttp(
        "OneAtlas",
        auth=OneAtlasApiKeyAuth(settings.api_key, settings.token_url),
        origins=settings.origins,
        retry=NO_WAIT,
        sleep=no_sleep,
    )
    return OneAtlasSource(OneAtlasClient(settings, http=http, page_size=page_size), registry.get("oneatlas").normaliser)


def sources(sandbox: RunningSandbox) -> dict[str, Callable[[], SceneSource]]:
    env = sandbox.env()
    arlula, hub = ArlulaSettings.from_env(env), SentinelHubSettings.from_env(env)

    def hub_http() -> ProviderHttp:
        auth = ClientCredentialsAuth(hub.client_id, hub.client_secret, hub.token_url)
        return ProviderHttp("Sentinel Hub", auth=auth, origins=hub.origins, retry=NO_WAIT, sleep=no_sleep)

    return {
        # 7 items a page: OneAtlas's shared lastUpdateDate instants straddle page boundaries
        "oneatlas": lambda: oneatlas_source(sandbox, page_size=7),
        "arlula": lambda: registry.get("arlula").source_for(
            ArlulaClient(
                arlula,
                http=ProviderHttp(
                    "Arlula",
                    auth=BasicAuth(arlula.api_key, arlula.api_secret),
                    origins=arlula.origins,
                    retry=NO_WAIT,
                    sleep=no_sleep,
                ),
                days_per_search=10,
            )
        ),
        "sentinelhub-import": lambda: registry.get("sentinelhub-import").source_for(
            SentinelHubClient(hub, http=hub_http(), import_page_size=5)
        ),
        "sentinelhub-catalog": lambda: registry.get("sentinelhub-catalog").source_for(
            SentinelHubClient(hub, http=hub_http(), catalog_page_size=4)
        ),
    }
