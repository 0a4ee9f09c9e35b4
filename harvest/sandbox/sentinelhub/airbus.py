"""The AIRBUS input of TPDI search and orders, validated and translated into a OneAtlas search.

TPDI search proxies OneAtlas (docs/providers.md#sentinel-hub-tpdi-search): the dataFilter becomes
opensearch parameters that the OneAtlas search engine of the sandbox evaluates, so both APIs always
agree on what matches.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import shapely
from shapely.geometry.base import BaseGeometry

from harvest.sandbox.oneatlas.query import SearchError, SearchRequest, parse_search
from harvest.sandbox.sentinelhub.bounds import parse_bounds
from harvest.sandbox.sentinelhub.errors import PayloadError
from harvest.timestamps import InvalidTimestamp, format_rfc3339_nano, parse_ns

PROVIDER = "AIRBUS"
COLLECTIONS = {"PHR": "AIRBUS_PLEIADES", "SPOT": "AIRBUS_SPOT"}  # constellation -> TPDI collection id
PROCESSING_LEVELS = ("SENSOR", "ALBUM")
_WITH_TIME = re.compile(r"^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}")
_MAXIMA = (  # dataFilter field, OneAtlas field, largest allowed value
    ("maxCloudCoverage", "cloudCover", 100.0),
    ("maxSnowCoverage", "snowCover", 100.0),
    ("maxIncidenceAngle", "incidenceAngle", 90.0),
)


@dataclass(frozen=True)
class AirbusInput:
    """A validated AIRBUS input: what to search, or which products to order."""

    constellation: str
    area: BaseGeometry  # CRS84, cut at the antimeridian
    search: SearchRequest | None  # from the dataFilter
    product_ids: tuple[str, ...] | None  # from `products`


def check_provider(body: Any, parameter: str = "provider") -> None:
    """Refuse a body that is not an object naming provider AIRBUS."""
    if not isinstance(body, dict):
        raise PayloadError("", "the request body must be a JSON object")
    provider = body.get("provider")
    if provider is None:
        raise PayloadError(parameter, "is required")
    if provider != PROVIDER:
        raise PayloadError(parameter, f"unknown provider {provider!r}; this deployment offers {PROVIDER}")


def _instant(value: Any, parameter: str) -> str:
    if not isinstance(value, str) or not _WITH_TIME.match(value.strip()):
        raise PayloadError(parameter, f"must be an ISO 8601 date-time with a time part, got {value!r}")
    try:
        return format_rfc3339_nano(parse_ns(value))
    except InvalidTimestamp as exc:
        raise PayloadError(parameter, f"is not an ISO 8601 date-time: {value!r}") from exc


def _interval(value: Any, parameter: str) -> str:
    if not isinstance(value, dict) or "from" not in value or "to" not in value:
        raise PayloadError(parameter, "must be an object with from and to")
    start = _instant(value["from"], f"{parameter}.from")
    end = _instant(value["to"], f"{parameter}.to")
    if parse_ns(start) > parse_ns(end):
        raise PayloadError(parameter, "from is after to")
    return f"[{start},{end}]"


def _opensearch_params(data_filter: Any, constellation: str, area: BaseGeometry, parameter: str) -> dict[str, Any]:
    if not isinstance(data_filter, dict):
        raise PayloadError(parameter, "is required: an object with at least timeRange")
    if "timeRange" not in data_filter:
        raise PayloadError(f"{parameter}.timeRange", "is required")
    params: dict[str, Any] = {
        "constellation": constellation,
        "acquisitionDate": _interval(data_filter["timeRange"], f"{parameter}.timeRange"),
        "geometry": shapely.geometry.mapping(area),
    }
    for name, field, ceiling in _MAXIMA:
        value = data_filter.get(name)
        if value is None:
            continue
        if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value <= ceiling:
            raise PayloadError(f"{parameter}.{name}", f"must be a number between 0 and {ceiling:g}")
        params[field] = f"[0,{float(value)}]"
    level = data_filter.get("processingLevel")
    if level is not None:
        if level not in PROCESSING_LEVELS:
            raise PayloadError(f"{parameter}.processingLevel", f"must be one of {', '.join(PROCESSING_LEVELS)}")
        params["processingLevel"] = level
    if data_filter.get("expirationDate") is not None:
        params["expirationDate"] = _interval(data_filter["expirationDate"], f"{parameter}.expirationDate")
    return params


def _product_ids(products: Any, parameter: str) -> tuple[str, ...]:
    if not isinstance(products, list) or not products:
        raise PayloadError(parameter, "must be a non-empty array of {id}")
    ids: list[str] = []
    for index, product in enumerate(products):
        product_id = product.get("id") if isinstance(product, dict) else None
        if not isinstance(product_id, str) or not product_id:
            raise PayloadError(f"{parameter}[{index}].id", "is required")
        if product_id in ids:
            raise PayloadError(f"{parameter}[{index}].id", f"product {product_id} is listed twice")
        ids.append(product_id)
    return tuple(ids)


def parse_input(body: Any, *, prefix: str = "", allow_products: bool = False) -> AirbusInput:
    """Validate an AIRBUS search body (or an order's `input`) as docs/providers.md#sentinel-hub-tpdi-search lists."""
    dot = f"{prefix}." if prefix else ""
    if body is None and prefix:
        raise PayloadError(prefix, "is required")
    check_provider(body, f"{dot}provider")
    area = parse_bounds(body.get("bounds"), f"{dot}bounds")
    data = body.get("data")
    if not isinstance(data, list) or len(data) != 1:
        raise PayloadError(f"{dot}data", "must be an array of exactly 1 item")
    item = data[0]
    if not isinstance(item, dict):
        raise PayloadError(f"{dot}data[0]", "must be an object")
    constellation = item.get("constellation")
    if constellation is None:
        raise PayloadError(f"{dot}data[0].constellation", "is required")
    if constellation not in COLLECTIONS:
        raise PayloadError(f"{dot}data[0].constellation", f"must be one of {', '.join(COLLECTIONS)}")
    if allow_products and item.get("products") is not None:
        ids = _product_ids(item["products"], f"{dot}data[0].products")
        return AirbusInput(constellation, area, None, ids)
    params = _opensearch_params(item.get("dataFilter"), constellation, area, f"{dot}data[0].dataFilter")
    try:
        search = parse_search(params, end_semantics="iso")  # our own brackets: `]` closes inclusively
    except SearchError as exc:
        raise PayloadError(f"{dot}data[0].dataFilter", str(exc)) from exc
    return AirbusInput(constellation, area, search, None)
