"""The one resource harvest's definitions use: providers, AOIs and the catalog, from the environment."""

import logging
import os
from collections.abc import Callable
from pathlib import Path

import dagster as dg
from pydantic import PrivateAttr

from harvest.aoi_rules import ProviderAois, aois_for
from harvest.aois import AoiFileError, AoiSet, aois_path, load_aois
from harvest.catalog.store import CatalogStore
from harvest.harvesting import DayResult
from harvest.sources import SceneSource, build_source

log = logging.getLogger(__name__)


class HarvestResource(dg.ConfigurableResource):
    """Provider sources (live with credentials in the environment, else the sandbox), AOIs and the catalog store."""

    data_dir: str = ""  # default: $HARVEST_DATA_DIR or ./data
    aois_file: str = ""  # default: $HARVEST_AOIS or data/aois.geojson
    sandbox_url: str = ""  # where providers without credentials are served; default: $HARVEST_SANDBOX_URL

    _on_day: Callable[[DayResult], None] | None = PrivateAttr(default=None)

    def with_progress(self, on_day: Callable[[DayResult], None]) -> "HarvestResource":
        """A copy that reports every harvested day (the CLI's progress bar listens)."""
        copy = self.model_copy()
        copy._on_day = on_day
        return copy

    @property
    def on_day(self) -> Callable[[DayResult], None] | None:
        return self._on_day

    def store(self) -> CatalogStore:
        root = Path(self.data_dir or os.environ.get("HARVEST_DATA_DIR", "data"))
        return CatalogStore(root / "catalog")

    def aoi_set(self) -> AoiSet:
        """The AOI file, validated (raises AoiFileError when nothing can be read)."""
        return load_aois(Path(self.aois_file) if self.aois_file else aois_path())

    def provider_aois(self, provider: str) -> ProviderAois:
        """The AOIs `provider` harvests; a file that cannot be read at all means none, with the reason."""
        try:
            return aois_for(provider, self.aoi_set())
        except AoiFileError as exc:
            from harvest.aois import AoiProblem

            return ProviderAois(provider, (), (AoiProblem("(file)", str(exc)),))

    def source(self, provider: str) -> SceneSource:
        """A fresh source for `provider` (close it when done)."""
        return build_source(provider, os.environ, self.sandbox_url or os.environ.get("HARVEST_SANDBOX_URL") or None)


@dg.definitions
def resources() -> dg.Definitions:
    """The resources every harvest definition shares."""
    return dg.Definitions(resources={"harvest": HarvestResource()})
