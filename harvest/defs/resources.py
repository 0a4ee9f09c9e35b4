"""The one resource harvest's definitions use: providers, AOIs and the catalog, from the environment."""

import hashlib
import logging
import os
import threading
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path

import dagster as dg

from harvest import registry
from harvest.aoi_rules import ProviderAois, harvested_aois
from harvest.aois import AoiSet, aois_path, load_aois
from harvest.catalog.store import CatalogStore
from harvest.harvesting.days import DayResult
from harvest.harvesting.sources import SceneSource
from harvest.ordering.desks.factory import DeskSet
from harvest.ordering.ledger import Ledger
from harvest.ordering.placing import spending_allowed
from harvest.paths import data_dir

log = logging.getLogger(__name__)


class HarvestResource(dg.ConfigurableResource):
    """Provider sources (live with credentials in the environment, else the sandbox), AOIs and the catalog store."""

    data_dir: str = ""  # default: $HARVEST_DATA_DIR or ./data
    aois_file: str = ""  # default: $HARVEST_AOIS or data/aois.geojson
    sandbox_url: str = ""  # where providers without credentials are served; default: $HARVEST_SANDBOX_URL

    # Dagster re-creates a resource from its class and config, so in-process callers (the CLI's
    # progress bar, tests' clocks and sources) override these methods in a subclass.

    def day_done(self, result: DayResult) -> None:
        """Hears about every harvested day (nothing by default)."""

    def now(self) -> datetime:
        """The current UTC time."""
        return datetime.now(UTC)

    def root(self) -> Path:
        """The data directory: this resource's, else $HARVEST_DATA_DIR, else ./data."""
        return Path(self.data_dir) if self.data_dir else data_dir()

    def store(self) -> CatalogStore:
        return CatalogStore(self.root() / "catalog")

    def aoi_set(self) -> AoiSet:
        """The AOI file, validated (raises AoiFileError when nothing can be read)."""
        return load_aois(Path(self.aois_file) if self.aois_file else aois_path())

    def provider_aois(self, provider: str) -> ProviderAois:
        """The AOIs `provider` harvests, and those refused; AoiFileError when the file cannot be read or none is usable.

        A harvest never goes on without an AOI: it would replace every day with an empty answer.
        """
        return harvested_aois(provider, self.aoi_set())

    def source(self, provider: str) -> SceneSource:
        """A fresh source for `provider` (close it when done)."""
        return registry.open_source(provider, os.environ, self.sandbox_url or None)

    def kept_source(self, provider: str) -> SceneSource:
        """A source kept open across calls in this process (sensor ticks reuse its token and connections).

        Never close it; a change of endpoints or credentials in the environment gets a new one.
        """
        key = (type(self), provider, self.sandbox_url, _settings_fingerprint(os.environ))
        with _KEPT_LOCK:
            if key not in _KEPT:
                _KEPT[key] = self.source(provider)
            return _KEPT[key]


_KEPT: dict[tuple[type, str, str, str], SceneSource] = {}
_KEPT_LOCK = threading.Lock()
_SETTINGS_PREFIXES = ("ONEATLAS_", "ARLULA_", "SENTINELHUB_", "HARVEST_SANDBOX_URL")


def _settings_fingerprint(env: Mapping[str, str]) -> str:
    """A digest of the provider settings in the environment (never the secrets themselves)."""
    settings = sorted((k, v) for k, v in env.items() if k.startswith(_SETTINGS_PREFIXES))
    return hashlib.sha256(repr(settings).encode()).hexdigest()


class OrderingResource(dg.ConfigurableResource):
    """The spend ledger and the providers' order desks (live with credentials, else the sandbox)."""

    database_url: str = ""  # default: $HARVEST_DATABASE_URL, else a SQLite file under the data directory
    sandbox_url: str = ""  # where providers without credentials are served; default: $HARVEST_SANDBOX_URL

    def ledger(self) -> Ledger:
        """The ledger, migrated to the current schema (close it when done)."""
        return Ledger.open(self.database_url or None)

    def desks(self) -> DeskSet:
        """The order desks of one run, opened on first use (close the set when done)."""
        sandbox_url = self.sandbox_url or None
        return DeskSet(lambda provider: registry.open_desk(provider, os.environ, sandbox_url))

    def allow_spend(self) -> bool:
        """Whether live providers may be bought from (HARVEST_ALLOW_SPEND=1)."""
        return spending_allowed()


@dg.definitions
def resources() -> dg.Definitions:
    """The resources every harvest definition shares."""
    return dg.Definitions(resources={"harvest": HarvestResource(), "ordering": OrderingResource()})
