"""OneAtlas catalog responses decoded straight into typed records (msgspec), not generic dicts.

A search page is 500 features of ~60 properties each; turning all of that into Python dicts costs
ten times more than the fields harvest reads. Pages are decoded into `CatalogItem`s that keep the
few fields used for paging and cataloguing, typed, plus the untouched bytes of `properties` (the
catalog's `raw` column) and the footprint. Unknown fields are skipped, missing ones are None.
Sentinel Hub's import search passes these same features through (`decode_import_page`).
"""

from __future__ import annotations

from typing import Any

import msgspec


class Link(msgspec.Struct, frozen=True, gc=False):
    """One `_links` entry."""

    href: str
    name: str | None = None
    resourceId: str | None = None


class ItemLinks(msgspec.Struct, frozen=True, gc=False):
    """The `_links` harvest uses (images* links, object or list, are skipped unread)."""

    quicklook: Link | None = None
    thumbnail: Link | None = None
    download: list[Link] | Link | None = None  # only on items in your own workspace


class ItemProperties(msgspec.Struct, frozen=True, gc=False):
    """The properties harvest reads; the complete set stays in `CatalogItem.raw`."""

    id: str
    acquisitionDate: str | None = None
    lastUpdateDate: str | None = None
    publicationDate: str | None = None
    archiveIdentifier: str | None = None
    parentIdentifier: str | None = None
    constellation: str | None = None
    platform: str | None = None
    cloudCover: float | None = None
    snowCover: float | None = None
    incidenceAngle: float | None = None
    resolution: float | None = None
    processingLevel: str | None = None
    productType: str | None = None
    internalReference: str | None = None
    customerReference: str | None = None
    workspaceName: str | None = None

    def value(self, field: str) -> Any:
        """A property by its OneAtlas name (e.g. the field a walk sorts on)."""
        return getattr(self, field)


class _Geometry(msgspec.Struct, frozen=True, gc=False):
    type: str
    coordinates: Any


class _Feature(msgspec.Struct, frozen=True, gc=False):
    geometry: _Geometry
    properties: msgspec.Raw
    links: ItemLinks = msgspec.field(name="_links", default_factory=ItemLinks)


class _SearchResponse(msgspec.Struct, frozen=True, gc=False):
    features: list[_Feature] = []
    totalResults: int | None = None  # absent: unknown, not zero
    startIndex: int | None = None
    itemsPerPage: int | None = None


class _ImportLinks(msgspec.Struct, frozen=True, gc=False):
    next: str | None = None


class _ImportResponse(msgspec.Struct, frozen=True, gc=False):
    features: list[_Feature] = []
    links: _ImportLinks = msgspec.field(default_factory=_ImportLinks)
    totalResults: int | None = None


class CatalogItem(msgspec.Struct, frozen=True, gc=False):
    """One catalog feature: typed properties, the raw `properties` JSON, footprint and links."""

    properties: ItemProperties
    raw: bytes
    geometry: dict[str, Any]
    links: ItemLinks

    @property
    def id(self) -> str:
        return self.properties.id


class SearchPage(msgspec.Struct, frozen=True, gc=False):
    """One page of opensearch results, with the paging it says it answers (None when not said)."""

    total: int | None  # saturates at 10,000
    start_index: int | None  # 0-based
    items_per_page: int | None
    items: list[CatalogItem]


class ImportPage(msgspec.Struct, frozen=True, gc=False):
    """One page of Sentinel Hub third-party import search results."""

    items: list[CatalogItem]
    next: str | None
    total: int | None


_PROPERTIES = msgspec.json.Decoder(ItemProperties)
_SEARCH = msgspec.json.Decoder(_SearchResponse)
_IMPORT = msgspec.json.Decoder(_ImportResponse)
_FEATURE = msgspec.json.Decoder(_Feature)


def _item(feature: _Feature) -> CatalogItem:
    raw = bytes(feature.properties)
    geometry = {"type": feature.geometry.type, "coordinates": feature.geometry.coordinates}
    return CatalogItem(_PROPERTIES.decode(raw), raw, geometry, feature.links)


def decode_search_page(content: bytes) -> SearchPage:
    """An opensearch response body (v1 or v2)."""
    response = _SEARCH.decode(content)
    items = [_item(f) for f in response.features]
    return SearchPage(response.totalResults, response.startIndex, response.itemsPerPage, items)


def decode_import_page(content: bytes) -> ImportPage:
    """A Sentinel Hub `dataimport/search` response body for provider AIRBUS."""
    response = _IMPORT.decode(content)
    return ImportPage([_item(f) for f in response.features], response.links.next, response.totalResults)


def decode_feature(content: bytes) -> CatalogItem:
    """One feature's JSON (e.g. a documented example)."""
    return _item(_FEATURE.decode(content))
