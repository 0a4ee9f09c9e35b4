"""Archive search requests: the current JSON body, the 2021 GET parameters and the 2020-12 seed's.

Dates are whole UTC days and both ends are inclusive; `startDate`/`endDate` timestamps (the Node
SDK's keys) are reduced to their UTC day as well.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from harvest.sandbox.arlula.overlap import AreaError, SearchArea, bbox_area, point_area, polygon_area
from harvest.sandbox.arlula.suppliers import SUPPLIERS
from harvest.timestamps import InvalidTimestamp, ns_to_date, parse_ns

# the seed's resolution labels: imagery of this resolution or better
RESOLUTION_LABELS: dict[str, float] = {
    "very high": math.nextafter(0.5, 0.0),
    "vhigh": math.nextafter(0.5, 0.0),
    "high": 1.0,
    "medium": 5.0,
    "med": 5.0,
    "low": 20.0,
    "very low": math.inf,
    "vlow": math.inf,
    "verylow": math.inf,
}
SORT_FIELDS = (
    "sceneID", "supplier", "date", "cloud", "offNadir", "gsd", "area", "overlap", "overlap.area",
    "overlap.percent", "fulfillment",
)  # fmt: skip


class QueryError(ValueError):
    """A search request the API refuses (HTTP 400)."""


@dataclass(frozen=True)
class ArchiveQuery:
    """A parsed archive search."""

    first_day: date
    last_day: date  # inclusive
    area: SearchArea
    max_gsd: float
    max_cloud: float | None
    max_off_nadir: float | None
    suppliers: frozenset[str] | None
    sort_field: str = "date"
    ascending: bool = False
    warnings: tuple[str, ...] = ()


def _day(value: object, name: str) -> date:
    if not isinstance(value, str) or not value.strip():
        raise QueryError(f"{name} must be a date (YYYY-MM-DD)")
    try:
        return ns_to_date(parse_ns(value))
    except InvalidTimestamp as exc:
        raise QueryError(f"{name} must be a date (YYYY-MM-DD), got {value!r}") from exc


def _number(value: object, name: str) -> float:
    if isinstance(value, bool):
        raise QueryError(f"{name} must be a number")
    if not isinstance(value, int | float | str):
        raise QueryError(f"{name} must be a number, got {value!r}")
    try:
        number = float(value)
    except ValueError as exc:
        raise QueryError(f"{name} must be a number, got {value!r}") from exc
    if math.isnan(number):
        raise QueryError(f"{name} must be a number")
    return number


def resolution_limit(value: object, name: str) -> float:
    """The coarsest GSD in metres a `gsd`/`res` value admits (a number or a label)."""
    if isinstance(value, str) and value.strip().lower() in RESOLUTION_LABELS:
        return RESOLUTION_LABELS[value.strip().lower()]
    number = _number(value, name)
    if number <= 0:
        raise QueryError(f"{name} must be positive, got {number:g}")
    return number


def _dates(start: object, end: object) -> tuple[date, date]:
    if start is None or start == "":
        raise QueryError("start is required (YYYY-MM-DD)")
    first = _day(start, "start")
    last = first if end is None or end == "" else _day(end, "end")
    if last < first:
        raise QueryError(f"end ({last}) is before start ({first})")
    return first, last


def _suppliers(value: object) -> tuple[frozenset[str] | None, tuple[str, ...]]:
    if value is None or value == "" or value == []:
        return None, ()
    words = value if isinstance(value, list) else str(value).split()
    wanted = frozenset(str(word).strip().lower() for word in words if str(word).strip())
    unknown = sorted(wanted - SUPPLIERS.keys())
    warnings = tuple(f"unknown supplier {name!r} ignored" for name in unknown)
    return wanted, warnings


def _cloud(value: object) -> float | None:
    if value is None or value == "":
        return None
    number = _number(value, "cloud")
    if not 0 <= number <= 100:
        raise QueryError(f"cloud is a percentage between 0 and 100, got {number:g}")
    return number


def _off_nadir(value: object) -> float | None:
    if value is None or value == "":
        return None
    return abs(_number(value, "offNadir"))


def _sort(value: object) -> tuple[str, bool]:
    if value is None:
        return "date", False
    if not isinstance(value, dict) or not isinstance(value.get("field"), str):
        raise QueryError('sort must be an object {"field": ..., "ascending": true|false}')
    field = value["field"]
    if field not in SORT_FIELDS:
        raise QueryError(f"cannot sort by {field!r}; use one of {', '.join(SORT_FIELDS)}")
    return field, bool(value.get("ascending", False))


def _present(value: object) -> bool:
    return value is not None and value != "" and value != [] and value != {}


def _body_area(body: Mapping[str, Any]) -> SearchArea:
    given = [name for name in ("polygon", "boundingBox", "latLong") if _present(body.get(name))]
    if len(given) != 1:
        raise QueryError("give exactly one of polygon, boundingBox and latLong")
    value = body[given[0]]
    if given[0] == "polygon":
        return polygon_area(value)
    if not isinstance(value, dict):
        raise QueryError(f"{given[0]} must be an object")
    if given[0] == "boundingBox":
        return bbox_area(value.get("north"), value.get("south"), value.get("east"), value.get("west"))
    return point_area(value.get("latitude"), value.get("longitude"))


def parse_body(body: object) -> ArchiveQuery:
    """`POST /api/archive/search` (JSON body, docs/providers.md#arlula-archive-search)."""
    if not isinstance(body, dict):
        raise QueryError("the request body must be a JSON object")
    start = body.get("start") if _present(body.get("start")) else body.get("startDate")
    end = body.get("end") if _present(body.get("end")) else body.get("endDate")
    first, last = _dates(start, end)
    if not _present(body.get("gsd")):
        raise QueryError("gsd is required: the coarsest ground sample distance wanted, in metres")
    try:
        area = _body_area(body)
    except AreaError as exc:
        raise QueryError(str(exc)) from exc
    suppliers, warnings = _suppliers(body.get("supplier"))
    field, ascending = _sort(body.get("sort"))
    return ArchiveQuery(
        first_day=first,
        last_day=last,
        area=area,
        max_gsd=resolution_limit(body["gsd"], "gsd"),
        max_cloud=_cloud(body.get("cloud")),
        max_off_nadir=_off_nadir(body.get("offNadir", body.get("off-nadir"))),
        suppliers=suppliers,
        sort_field=field,
        ascending=ascending,
        warnings=warnings,
    )


def _params_area(params: Mapping[str, str]) -> SearchArea:
    if _present(params.get("lat")) and _present(params.get("long")):
        return point_area(params["lat"], params["long"])  # a point wins over a box (seed 004)
    corners = [params.get(name) for name in ("north", "south", "east", "west")]
    if all(_present(c) for c in corners):
        return bbox_area(*corners)
    if _present(params.get("polygon")):
        return polygon_area(params["polygon"])
    raise QueryError("give a point (lat and long) or a bounding box (north, south, east and west)")


def parse_params(params: Mapping[str, str], *, resolution_key: str) -> ArchiveQuery:
    """GET searches: the seed's `/api/search` (`res`) and the 2021 `/api/archive/search` (`gsd`)."""
    first, last = _dates(params.get("start"), params.get("end"))
    resolution = params.get(resolution_key) or params.get("gsd") or params.get("res")
    if not resolution:
        raise QueryError(f"{resolution_key} is required: a resolution in metres or a label such as 'high'")
    try:
        area = _params_area(params)
    except AreaError as exc:
        raise QueryError(str(exc)) from exc
    suppliers, warnings = _suppliers(params.get("supplier"))
    return ArchiveQuery(
        first_day=first,
        last_day=last,
        area=area,
        max_gsd=resolution_limit(resolution, resolution_key),
        max_cloud=_cloud(params.get("cloud")),
        max_off_nadir=_off_nadir(params.get("off-nadir", params.get("offNadir"))),
        suppliers=suppliers,
        warnings=warnings,
    )
