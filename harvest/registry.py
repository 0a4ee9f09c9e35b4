"""The provider sources harvest knows, each declared once: everything keyed by a provider id is read from here.

A provider source is one catalog harvest searches (Sentinel Hub has two: its third-party import
and its STAC catalog). Its entry names what the rest of harvest needs: the Dagster names it is
known by (asset, sensor, job, pool; persisted ids, so written out rather than derived), how much it
may be asked at once, how old its newest scene may be, how large an AOI it searches, how to open
its client and source and which normaliser turns its answers into catalog rows, and — if it sells —
its order desk and the product options a policy may set. A new provider is one entry here plus its
client, normaliser, source, desk and simulator.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, Literal

import pyarrow as pa

from harvest.catalog.normalize.arlula import arlula_scenes
from harvest.catalog.normalize.oneatlas import oneatlas_scenes
from harvest.catalog.normalize.sentinelhub import catalog_scenes, import_scenes
from harvest.harvesting.sources import (
    ArlulaSource,
    OneAtlasSource,
    SceneSource,
    SentinelHubCatalogSource,
    SentinelHubImportSource,
)
from harvest.ordering.desks.arlula import ArlulaOptions
from harvest.ordering.desks.base import NotOrderable, OrderDesk, StrictOptions
from harvest.ordering.desks.factory import arlula_desk, oneatlas_desk, sentinelhub_import_desk
from harvest.ordering.desks.oneatlas_products import OneAtlasOptions
from harvest.ordering.desks.sentinelhub import SentinelHubImportOptions
from harvest.providers.arlula import ArlulaClient
from harvest.providers.oneatlas import OneAtlasClient
from harvest.providers.sentinelhub import SentinelHubClient
from harvest.providers.settings import ArlulaSettings, OneAtlasSettings, SentinelHubSettings

log = logging.getLogger(__name__)

# "update_feed": a sensor follows the provider's feed of updated and deleted items (OneAtlas);
# "recent_captures": a sensor re-searches the last days and harvests the days that changed
Watch = Literal["update_feed", "recent_captures"]
Opener = Callable[[Mapping[str, str], str | None], Any]  # (environment, sandbox URL) -> a configured client
DeskOpener = Callable[[Mapping[str, str], str | None], OrderDesk]


@dataclass(frozen=True)
class ProviderSource:
    """One provider source: its id, names, limits, and how to open its client, source and desk."""

    id: str  # the `provider` column and every CLI --provider, e.g. "sentinelhub-import"
    display_name: str
    description: str  # the catalog asset's one line, shown by the Dagster UI
    asset: str
    sensor: str
    job: str
    pool: str
    pool_limit: int  # steps calling the provider at once, across every run of the instance
    watch: Watch
    max_age: timedelta  # the newest scene older than this: the catalog is stale (revisit times differ)
    max_aoi_km2: float  # a larger AOI is refused for this provider (almost always a mistake that burns quota)
    client: Opener
    source: Callable[[Any, Any], SceneSource]  # (client, normaliser) -> the source
    normaliser: Callable[..., pa.RecordBatch]
    desk: DeskOpener | None = None  # None: it sells nothing
    options: type[StrictOptions] | None = None  # the product options a policy may set, if it sells

    def __post_init__(self) -> None:
        if (self.desk is None) != (self.options is None):
            raise ValueError(
                f"provider {self.id}: a seller names both its desk and its product options, others neither"
            )

    @property
    def sells(self) -> bool:
        """Whether harvest can order from it."""
        return self.desk is not None

    def source_for(self, client: Any) -> SceneSource:
        """This provider's source over an already configured client."""
        return self.source(client, self.normaliser)


def _oneatlas_client(env: Mapping[str, str], sandbox_url: str | None) -> OneAtlasClient:
    return OneAtlasClient(OneAtlasSettings.from_env(env, sandbox_url))


def _arlula_client(env: Mapping[str, str], sandbox_url: str | None) -> ArlulaClient:
    return ArlulaClient(ArlulaSettings.from_env(env, sandbox_url))


def _sentinelhub_client(env: Mapping[str, str], sandbox_url: str | None) -> SentinelHubClient:
    return SentinelHubClient(SentinelHubSettings.from_env(env, sandbox_url))


SOURCES: tuple[ProviderSource, ...] = (
    ProviderSource(
        id="oneatlas",
        display_name="OneAtlas",
        description="OneAtlas archive scenes (Pléiades, Pléiades Neo, SPOT) over the AOIs, a GeoParquet file a day.",
        asset="oneatlas_scenes",
        sensor="oneatlas_updates",
        job="harvest_oneatlas",
        pool="provider-oneatlas",
        pool_limit=2,
        watch="update_feed",
        max_age=timedelta(days=3),
        max_aoi_km2=50_000.0,
        client=_oneatlas_client,
        source=OneAtlasSource,
        normaliser=oneatlas_scenes,
        desk=oneatlas_desk,
        options=OneAtlasOptions,
    ),
    ProviderSource(
        id="arlula",
        display_name="Arlula",
        description="Arlula marketplace scenes over the AOIs with each AOI's price, a GeoParquet file a day.",
        asset="arlula_scenes",
        sensor="arlula_recent_captures",
        job="harvest_arlula",
        pool="provider-arlula",
        pool_limit=2,
        watch="recent_captures",
        max_age=timedelta(days=7),
        max_aoi_km2=10_000.0,  # one search answers everything at once (no paging)
        client=_arlula_client,
        source=ArlulaSource,
        normaliser=arlula_scenes,
        desk=arlula_desk,
        options=ArlulaOptions,
    ),
    ProviderSource(
        id="sentinelhub-import",
        display_name="Sentinel Hub import",
        description="Pléiades and SPOT products offered by Sentinel Hub import, a GeoParquet file a day.",
        asset="sentinelhub_import_scenes",
        sensor="sentinelhub_import_recent_captures",
        job="harvest_sentinelhub_import",
        pool="provider-sentinelhub-import",
        pool_limit=1,  # one Sentinel Hub account for both of its sources
        watch="recent_captures",
        max_age=timedelta(days=3),
        max_aoi_km2=10_000.0,
        client=_sentinelhub_client,
        source=SentinelHubImportSource,
        normaliser=import_scenes,
        desk=sentinelhub_import_desk,
        options=SentinelHubImportOptions,
    ),
    ProviderSource(
        id="sentinelhub-catalog",
        display_name="Sentinel Hub catalog",
        description="Sentinel-2 L2A items from Sentinel Hub's STAC catalog over the AOIs, a file a day.",
        asset="sentinelhub_catalog_scenes",
        sensor="sentinelhub_catalog_recent_captures",
        job="harvest_sentinelhub_catalog",
        pool="provider-sentinelhub-catalog",
        pool_limit=1,
        watch="recent_captures",
        max_age=timedelta(days=10),
        max_aoi_km2=250_000.0,
        client=_sentinelhub_client,
        source=SentinelHubCatalogSource,
        normaliser=catalog_scenes,
    ),
)

IDS: tuple[str, ...] = tuple(source.id for source in SOURCES)
SELLERS: tuple[str, ...] = tuple(source.id for source in SOURCES if source.sells)
_BY_ID = {source.id: source for source in SOURCES}


def get(provider: str) -> ProviderSource:
    """The entry of `provider`; ValueError naming the known ids otherwise."""
    try:
        return _BY_ID[provider]
    except KeyError:
        raise ValueError(f"unknown provider {provider!r}; one of {', '.join(IDS)}") from None


def sellers() -> tuple[ProviderSource, ...]:
    """The provider sources harvest can order from."""
    return tuple(source for source in SOURCES if source.sells)


def open_source(provider: str, env: Mapping[str, str] | None = None, sandbox_url: str | None = None) -> SceneSource:
    """The source of `provider`, configured from the environment (the sandbox without credentials)."""
    entry = get(provider)
    source = entry.source_for(entry.client(os.environ if env is None else env, sandbox_url))
    if source.sandbox:
        log.info("%s: no credentials in the environment, using the sandbox (%s)", provider, source.describe())
    return source


def open_desk(provider: str, env: Mapping[str, str] | None = None, sandbox_url: str | None = None) -> OrderDesk:
    """The order desk of `provider`, from the environment; NotOrderable for a source that sells nothing."""
    entry = get(provider)
    if entry.desk is None:
        raise NotOrderable(
            f"{provider} ({entry.display_name}) sells nothing: order through one of {', '.join(SELLERS)}"
        )
    desk = entry.desk(os.environ if env is None else env, sandbox_url)
    if desk.sandbox:
        log.info("%s orders: no credentials in the environment, using the sandbox (%s)", provider, desk.describe())
    return desk
