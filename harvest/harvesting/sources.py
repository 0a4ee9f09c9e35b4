"""Scene sources: what harvest asks each provider for, turned into scene-catalog rows.

A source answers one question — the scenes acquired in a time window over some AOIs — with one
row per scene (`aoi_ids` lists every AOI it covers). OneAtlas also answers "what changed since
this update instant", the question its sensor asks. A source is built by the provider registry
(`harvest.registry.open_source`) from a client and the normaliser that turns the client's answers
into rows: a provider without credentials is the built-in sandbox, and its rows say so (`sandbox`).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol

import pyarrow as pa
import shapely

from harvest.aois import Aoi
from harvest.catalog.footprints import footprint_from_geojson
from harvest.catalog.merge import merge_scene_rows
from harvest.providers.arlula import ArlulaClient
from harvest.providers.http import RequestStats
from harvest.providers.oneatlas import OneAtlasClient
from harvest.providers.oneatlas_wire import CatalogItem
from harvest.providers.sentinelhub import SentinelHubClient
from harvest.timestamps import InvalidTimestamp, format_millis, from_datetime, parse_ns

IMPORT_CONSTELLATIONS = ("PHR", "SPOT")
CATALOG_COLLECTION = "sentinel-2-l2a"


@dataclass(frozen=True)
class Window:
    """A half-open UTC time window [start, end)."""

    start: datetime
    end: datetime

    def __post_init__(self) -> None:
        if self.start.tzinfo is None or self.end.tzinfo is None:
            raise ValueError("Window needs UTC-aware datetimes")
        if self.end <= self.start:
            raise ValueError(f"empty window: {self.start} .. {self.end}")

    @property
    def first_ms(self) -> str:
        return format_millis(from_datetime(self.start))

    @property
    def last_ms(self) -> str:
        """The last millisecond inside the window (providers' ranges include both ends)."""
        return format_millis(from_datetime(self.end) - 1_000_000)


class ItemNormaliser(Protocol):
    """Turns a provider's items over some AOIs into scene-catalog rows."""

    def __call__(self, items: Iterable[Any], /, *, sandbox: bool, aoi_ids: list[str] | None = None) -> pa.RecordBatch:
        """One record batch of rows, each listing the AOIs it was found over."""
        ...


class OfferNormaliser(Protocol):
    """Turns each AOI's offers (AOI id, results) into scene-catalog rows (Arlula prices per AOI)."""

    def __call__(
        self, per_aoi: Sequence[tuple[str, Sequence[Mapping[str, Any]]]], *, sandbox: bool
    ) -> pa.RecordBatch: ...


class SceneSource(Protocol):
    """A provider catalog, as harvest queries it."""

    provider: str
    sandbox: bool

    def scenes(self, aois: Sequence[Aoi], window: Window) -> pa.Table: ...

    def stats(self) -> RequestStats: ...

    def describe(self) -> str: ...

    def close(self) -> None: ...


class _ClientSource:
    """What every source does the same way: request counts, a description, closing the client."""

    provider: str
    client: OneAtlasClient | ArlulaClient | SentinelHubClient

    def __init__(self, client: OneAtlasClient | ArlulaClient | SentinelHubClient) -> None:
        self.client = client
        self.sandbox = client.settings.sandbox

    def stats(self) -> RequestStats:
        return self.client.http.stats

    def describe(self) -> str:
        return self.client.settings.describe()

    def close(self) -> None:
        self.client.close()


class OneAtlasSource(_ClientSource):
    """OneAtlas: per AOI, every item acquired in the window (walked past the 10,000 cap)."""

    provider = "oneatlas"
    client: OneAtlasClient

    def __init__(self, client: OneAtlasClient, normalise: ItemNormaliser) -> None:
        super().__init__(client)
        self.normalise = normalise

    def scenes(self, aois: Sequence[Aoi], window: Window) -> pa.Table:
        batches = []
        for aoi in aois:
            items = self.client.walk(
                {"geometry": aoi.geojson()}, field="acquisitionDate", since=window.first_ms, until=window.last_ms
            )
            batches.append(self.normalise(items, sandbox=self.sandbox, aoi_ids=[aoi.id]))
        return merge_scene_rows(batches)

    def changed_since(
        self, since: str, *, aois: Sequence[Aoi] = (), page_batch: int = 5_000
    ) -> Iterator[pa.RecordBatch]:
        """Items whose lastUpdateDate is at or after `since` (raw string), over the AOIs' union (or
        everywhere), ascending, in record batches of about `page_batch` rows."""
        query: dict[str, Any] = {}
        if aois:
            query["geometry"] = shapely.geometry.mapping(shapely.union_all([a.geometry for a in aois]))
        pending: list[CatalogItem] = []
        for item in self.client.walk(query, field="lastUpdateDate", since=since):
            pending.append(item)
            if len(pending) >= page_batch:
                yield self.normalise(pending, sandbox=self.sandbox)
                pending = []
        if pending:
            yield self.normalise(pending, sandbox=self.sandbox)

    def deleted_since(self, since: str) -> list[dict[str, Any]]:
        return list(self.client.deleted_since(since))


class ArlulaSource(_ClientSource):
    """Arlula: per AOI, every scene captured on the window's days, with that AOI's offer."""

    provider = "arlula"
    client: ArlulaClient

    def __init__(self, client: ArlulaClient, normalise: OfferNormaliser) -> None:
        super().__init__(client)
        self.normalise = normalise

    def scenes(self, aois: Sequence[Aoi], window: Window) -> pa.Table:
        start, end = window.start.date(), (window.end - timedelta(microseconds=1)).date()
        first, last = from_datetime(window.start), from_datetime(window.end)
        per_aoi = []
        for aoi in aois:
            results = self.client.search(start=start, end=end, geometry=aoi.geometry)
            kept = [r for r in results if _inside(r.get("date"), first, last) and _covers(r, aoi)]
            per_aoi.append((aoi.id, kept))
        return merge_scene_rows([self.normalise(per_aoi, sandbox=self.sandbox)])


def _inside(moment: str | None, first_ns: int, end_ns: int) -> bool:
    try:
        return moment is not None and first_ns <= parse_ns(moment) < end_ns
    except InvalidTimestamp:
        return False


def _covers(result: Mapping[str, Any], aoi: Aoi) -> bool:
    """Whether a result's footprint meets the AOI (the 2020-12 API searches the AOI's bounding box)."""
    bounding = result.get("bounding")
    if not bounding:
        return True
    ring = [bounding] if isinstance(bounding[0][0], int | float) else bounding
    return bool(footprint_from_geojson({"type": "Polygon", "coordinates": ring}).intersects(aoi.geometry))


class SentinelHubImportSource(_ClientSource):
    """Sentinel Hub third-party import, provider AIRBUS: Pléiades and SPOT products over each AOI."""

    provider = "sentinelhub-import"
    client: SentinelHubClient

    def __init__(self, client: SentinelHubClient, normalise: ItemNormaliser) -> None:
        super().__init__(client)
        self.normalise = normalise

    def scenes(self, aois: Sequence[Aoi], window: Window) -> pa.Table:
        batches = []
        for aoi in aois:
            for constellation in IMPORT_CONSTELLATIONS:
                features = self.client.import_search(
                    constellation=constellation,
                    geometry=aoi.geometry,
                    time_from=window.first_ms,
                    time_to=window.last_ms,
                )
                batches.append(self.normalise(features, sandbox=self.sandbox, aoi_ids=[aoi.id]))
        return merge_scene_rows(batches)


class SentinelHubCatalogSource(_ClientSource):
    """Sentinel Hub's STAC catalog: Sentinel-2 L2A items over each AOI."""

    provider = "sentinelhub-catalog"
    client: SentinelHubClient

    def __init__(
        self, client: SentinelHubClient, normalise: ItemNormaliser, collection: str = CATALOG_COLLECTION
    ) -> None:
        super().__init__(client)
        self.normalise = normalise
        self.collection = collection

    def scenes(self, aois: Sequence[Aoi], window: Window) -> pa.Table:
        batches = []
        for aoi in aois:
            items = self.client.catalog_search(
                collection=self.collection, start=window.first_ms, end=window.last_ms, geometry=aoi.geometry
            )
            batches.append(self.normalise(items, sandbox=self.sandbox, aoi_ids=[aoi.id]))
        return merge_scene_rows(batches)
