"""Order candidates: the catalog's offers that satisfy each enabled AOI's policy, ranked, quoted and compared.

    table, summary = select_candidates(scenes, aoi_set, policies, owned=ledger.owns)
    table = attach_quotes(table, desk.quote, rates=policies.overall.rates)
    write_candidates(table, path)        # GeoParquet 1.1, atomic

One row per (offer, AOI): `aoi_ids` of a scene row says which AOIs it touches. Coverage is the
geodesic area of footprint ∩ AOI over the AOI's (both are cut at ±180°, so the intersection is
right across the antimeridian). Rows are ranked within their AOI by coverage (descending), cloud
(ascending), acquisition time (newest first) and price (ascending; the quote once there is one).
Prices are compared only where that is honest: in the same unit, or in EUR through a rate of the
policy file's `overall.rates`; km² of quota and money never without a rate.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import orjson
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import shapely
from shapely.geometry import GeometryCollection
from shapely.geometry.base import BaseGeometry

from harvest.aois import Aoi, AoiSet
from harvest.buying.policy import AoiPolicy, PolicySet, in_eur
from harvest.catalog.column_values import integers, strings
from harvest.catalog.geodesy import area_km2
from harvest.catalog.geoparquet import write_table
from harvest.catalog.schema import DESCRIPTIONS, SCENE_SCHEMA, ColumnInfo
from harvest.ordering.model import OrderRequest, Quote, Unit, order_key
from harvest.providers.errors import ClientError, ProviderError
from harvest.providers.secrets import redact
from harvest.timestamps import to_datetime

# Airbus sells only SENSOR-level items; ALBUM items are previews (docs/providers.md#oneatlas-catalog-search)
UNORDERABLE_LEVELS = frozenset({"ALBUM"})
# ranking buckets: offers of one acquisition differ in the last digits providers round to
COVERAGE_DIGITS = 3
CLOUD_DIGITS = 1
EUR_PLACES = Decimal("0.000001")
COMPARABLE_EUR = pa.decimal128(38, 6)
_UNITS = frozenset(unit.value for unit in Unit)
# errors a quote may fail with and leave the row standing; anything else is a bug and propagates
QUOTE_ERRORS: tuple[type[Exception], ...] = (ProviderError, ClientError, ValueError, LookupError)

# scene columns a candidate carries, in three places of the candidate schema
_FACTS = ("provider", "scene_id", "acquisition_id", "constellation", "platform", "acquired", "cloud_cover",
          "incidence_angle", "gsd_m", "processing_level")  # fmt: skip
_LIST_PRICE = ("price_amount", "price_currency", "price_unit")
_EXTRAS = ("quicklook_url", "sandbox")
_SCENE_COLUMNS = (*_FACTS, *_LIST_PRICE, *_EXTRAS)


def _scene_columns(names: Sequence[str], prefix: str = "") -> tuple[tuple[str, pa.DataType, bool, str], ...]:
    return tuple(
        (name, SCENE_SCHEMA.field(name).type, SCENE_SCHEMA.field(name).nullable, prefix + DESCRIPTIONS[name])
        for name in names
    )


COLUMNS: tuple[tuple[str, pa.DataType, bool, str], ...] = (
    ("aoi_id", pa.string(), False, "the AOI this offer is a candidate for"),
    ("rank", pa.int32(), False, "1 = best within the AOI: coverage desc, cloud asc, newest, price asc"),
    ("order_key", pa.string(), False, "the deterministic order key (provider, scene, AOI, options)"),
    *_scene_columns(_FACTS),
    ("coverage", pa.float64(), False, "fraction of the AOI's area the footprint covers (geodesic)"),
    ("covered_km2", pa.float64(), False, "area of footprint ∩ AOI in km² (geodesic)"),
    ("options", pa.string(), False, "product options for the provider, JSON with sorted keys"),
    *_scene_columns(_LIST_PRICE, "catalog list price: "),
    ("quote_amount", pa.string(), True, "the quoted amount as an exact decimal, in quote_unit"),
    ("quote_unit", pa.string(), True, "EUR, credits, USD cents or km2, as the provider quoted it"),
    ("quote_area_km2", pa.float64(), True, "the area the provider priced"),
    ("quote_reference", pa.string(), True, "a provider-side quote id (a Sentinel Hub order created as a quote)"),
    ("quote_error", pa.string(), True, "why the quote failed (the row stays, unquoted)"),
    ("comparable_eur", COMPARABLE_EUR, True, "the quote in EUR, only when EUR or a rate in overall.rates"),
    ("cheapest", pa.bool_(), True,
     "cheapest offer of the acquisition for the AOI; null when not comparable with all of its offers"),
    *_scene_columns(_EXTRAS),
    ("aoi_geometry", pa.string(), False, "the AOI as GeoJSON (EPSG:4326), what the order is for"),
    ("raw", pa.string(), False, "the provider's own properties, JSON (Arlula's aoi_offers carry the orderingID)"),
    ("geometry", pa.binary(), False, "the scene footprint, WKB, EPSG:4326, cut at the antimeridian"),
)  # fmt: skip
CANDIDATE_SCHEMA = pa.schema([pa.field(name, kind, nullable=nullable) for name, kind, nullable, _ in COLUMNS])
_QUOTE_COLUMNS = ("quote_amount", "quote_unit", "quote_area_km2", "quote_reference", "quote_error", "comparable_eur")


def describe_candidate_columns() -> tuple[ColumnInfo, ...]:
    """The candidate columns as plain descriptions (e.g. for a Dagster table schema)."""
    return tuple(ColumnInfo(name, str(kind), nullable, text) for name, kind, nullable, text in COLUMNS)


@dataclass(frozen=True)
class SelectionSummary:
    """What a selection kept, and why it left the other (offer, AOI) pairs out."""

    candidates: int
    by_aoi: dict[str, int]
    excluded: dict[str, int]  # reason -> pairs, e.g. {"cloud_cover": 4, "owned": 1}


def nothing_owned(provider: str, scene_id: str) -> bool:
    """The `owned` predicate of a library that owns nothing yet."""
    return False


def select_candidates(
    scenes: pa.Table,
    aois: AoiSet | Sequence[Aoi],
    policies: PolicySet,
    *,
    owned: Callable[[str, str], bool] = nothing_owned,
) -> tuple[pa.Table, SelectionSummary]:
    """The (offer, AOI) pairs of SCENE_SCHEMA rows that each enabled AOI's policy allows, ranked (CANDIDATE_SCHEMA).

    `owned(provider, scene_id)` says whether a scene is already bought: its acquisition is left out
    for every provider, so the same imagery is never paid for twice.
    """
    by_id = {aoi.id: aoi for aoi in (aois.aois if isinstance(aois, AoiSet) else aois)}
    enabled = {aoi_id: policy for aoi_id, policy in policies.enabled().items() if aoi_id in by_id}
    rows = scenes.select([*_SCENE_COLUMNS, "aoi_ids", "raw", "geometry"]).to_pylist()
    excluded: Counter[str] = Counter()
    owned_acquisitions = {row["acquisition_id"] for row in rows if owned(row["provider"], row["scene_id"])}
    pairs: list[tuple[dict[str, Any], Aoi, dict[str, Any]]] = []
    for row in rows:
        for aoi_id in row["aoi_ids"]:
            if aoi_id not in enabled:
                continue
            reason = _refusal(row, enabled[aoi_id], owned_acquisitions)
            options = None if reason else _options(row, aoi_id, enabled[aoi_id])
            if reason or options is None:
                excluded[reason or "product_options"] += 1
                continue
            pairs.append((row, by_id[aoi_id], options))
    coverage, covered = _coverage([row["geometry"] for row, _, _ in pairs], [aoi for _, aoi, _ in pairs])
    records = []
    for (row, aoi, options), fraction, km2 in zip(pairs, coverage, covered, strict=True):
        minimum = enabled[aoi.id].min_aoi_coverage
        if fraction <= 0 or (minimum is not None and fraction < minimum):
            excluded["min_aoi_coverage" if fraction > 0 else "no_overlap"] += 1
            continue
        records.append(_record(row, aoi, options, fraction, km2))
    table = _ranked(records, lambda record: _list_price_key(record, policies.overall.rates))
    by_aoi = Counter(strings(table.column("aoi_id")))
    return table, SelectionSummary(len(table), dict(sorted(by_aoi.items())), dict(sorted(excluded.items())))


def attach_quotes(
    candidates: pa.Table,
    quote: Callable[[OrderRequest], Quote],
    *,
    rates: Mapping[Unit, Decimal] | None = None,
    errors: tuple[type[Exception], ...] = QUOTE_ERRORS,
) -> pa.Table:
    """The candidates quoted, re-ranked by quoted price, with the cheapest offer of each acquisition marked.

    A failed quote (one of `errors`) keeps its row, with the error text. `rates` are EUR per unit
    (the policy file's `overall.rates`); EUR needs none. `cheapest` compares an offer only with the
    offers of its (AOI, acquisition) that share its unit or can both be put in EUR.
    """
    rates = dict(rates or {})
    records = candidates.to_pylist()
    for record, request in zip(records, order_requests(candidates), strict=True):
        record.update(dict.fromkeys(_QUOTE_COLUMNS))
        try:
            answer = quote(request)
            _check(answer, request)
        except errors as exc:
            record["quote_error"] = redact(f"{type(exc).__name__}: {exc}")
            continue
        unit = Unit(answer.unit)
        record["quote_amount"] = format(answer.amount, "f")
        record["quote_unit"] = unit.value
        record["quote_area_km2"] = answer.area_km2
        record["quote_reference"] = answer.reference
        eur = in_eur(answer.amount, unit, rates)
        record["comparable_eur"] = None if eur is None else eur.quantize(EUR_PLACES)
    table = _ranked(records, _quoted_price_key)
    return table.set_column(
        table.schema.get_field_index("cheapest"),
        CANDIDATE_SCHEMA.field("cheapest"),
        pa.array(_cheapest(table), pa.bool_()),
    )


def order_requests(candidates: pa.Table) -> list[OrderRequest]:
    """The OrderRequest of every candidate row; ValueError if a row's order_key does not match its content."""
    names = ["provider", "scene_id", "aoi_id", "aoi_geometry", "options", "order_key", "constellation"]
    acquired = integers(pc.cast(candidates.column("acquired"), pa.int64()))
    requests = []
    for row, acquired_ns in zip(candidates.select(names).to_pylist(), acquired, strict=True):
        request = OrderRequest.build(
            row["provider"],
            row["scene_id"],
            row["aoi_id"],
            json.loads(row["aoi_geometry"]),
            json.loads(row["options"]),
            acquired=to_datetime(acquired_ns),
            constellation=row["constellation"],
        )
        if request.key != row["order_key"]:
            raise ValueError(
                f"candidate {row['provider']}/{row['scene_id']} for aoi {row['aoi_id']!r} has order_key "
                f"{row['order_key']}, but its provider, scene, AOI and options give {request.key}; "
                "the candidate file was edited, select the candidates again"
            )
        requests.append(request)
    return requests


def write_candidates(candidates: pa.Table, path: str | Path) -> Path:
    """Write candidates as GeoParquet 1.1 (WKB footprints, bbox covering), atomically; returns the path."""
    return write_table(path, candidates.select(CANDIDATE_SCHEMA.names).cast(CANDIDATE_SCHEMA))


def read_candidates(path: str | Path) -> pa.Table:
    """A candidate file written by write_candidates, as a CANDIDATE_SCHEMA table."""
    return pq.read_table(path).select(CANDIDATE_SCHEMA.names).cast(CANDIDATE_SCHEMA)


def _refusal(row: Mapping[str, Any], policy: AoiPolicy, owned_acquisitions: set[str]) -> str | None:
    """Why the policy refuses this offer, or None; an unknown value never passes a limit."""
    if row["provider"] not in policy.providers:  # a policy lists only providers that sell (see policy.Seller)
        return "provider"
    if row["processing_level"] in UNORDERABLE_LEVELS:
        return "processing_level"
    if not policy.allows_constellation(row["constellation"]):
        return "constellation"
    for column, limit in (
        ("cloud_cover", policy.max_cloud_cover),
        ("incidence_angle", policy.max_incidence_angle),
        ("gsd_m", policy.max_gsd_m),
    ):
        if limit is not None and (row[column] is None or row[column] > limit):
            return column
    if row["acquisition_id"] in owned_acquisitions:
        return "owned"
    return None


def _options(row: Mapping[str, Any], aoi_id: str, policy: AoiPolicy) -> dict[str, Any] | None:
    """The offer's product options under the policy, or None when the offer cannot be had with them.

    Every default is spelled out, so the order key does not change when a policy names the default.
    """
    options = policy.product_options.for_provider(row["provider"])
    if row["provider"] != "arlula":
        return options
    offer = (orjson.loads(row["raw"]).get("aoi_offers") or {}).get(aoi_id) or {}
    for option, field, items in (("bundle", "key", offer.get("bundles")), ("license", "name", offer.get("licenses"))):
        offered = [item[field] for item in items or () if isinstance(item, dict) and item.get(field)]
        if not offered:
            continue  # an offer without the list (2020-12 API): the desk decides
        options.setdefault(option, offered[0])
        if options[option] not in offered:
            return None
    return options


def _coverage(footprints: Sequence[bytes], aois: Sequence[Aoi]) -> tuple[list[float], list[float]]:
    """(fraction of each AOI covered, km² covered) per (footprint, AOI) pair, geodesic."""
    if not footprints:
        return [], []
    shapes = shapely.from_wkb(list(footprints))
    invalid = ~shapely.is_valid(shapes)
    shapes[invalid] = shapely.make_valid(shapes[invalid])
    overlaps = shapely.intersection(shapes, [aoi.geometry for aoi in aois])
    aoi_km2 = {aoi.id: area_km2(aoi.geometry) for aoi in aois}
    covered = [_polygonal_km2(overlap) for overlap in overlaps]
    return [km2 / aoi_km2[aoi.id] for km2, aoi in zip(covered, aois, strict=True)], covered


def _polygonal_km2(geometry: BaseGeometry) -> float:
    """Geodesic km² of the polygons in a geometry (an intersection may also hold lines and points)."""
    if isinstance(geometry, GeometryCollection):
        return sum((_polygonal_km2(part) for part in geometry.geoms), 0.0)
    return area_km2(geometry) if geometry.geom_type in ("Polygon", "MultiPolygon") else 0.0


def _record(row: Mapping[str, Any], aoi: Aoi, options: dict[str, Any], coverage: float, km2: float) -> dict[str, Any]:
    return {
        **{name: row[name] for name in _SCENE_COLUMNS},
        "aoi_id": aoi.id,
        "rank": 0,
        "order_key": order_key(row["provider"], row["scene_id"], aoi.id, options),
        "coverage": min(coverage, 1.0),
        "covered_km2": km2,
        "options": orjson.dumps(options, option=orjson.OPT_SORT_KEYS).decode(),
        "cheapest": None,
        "aoi_geometry": orjson.dumps(aoi.geojson()).decode(),
        "raw": row["raw"],
        "geometry": row["geometry"],
    }


PriceKey = tuple[Any, ...]


def _ranked(records: list[dict[str, Any]], price: Callable[[Mapping[str, Any]], PriceKey]) -> pa.Table:
    """The records sorted by (AOI, rank) with `rank` renumbered within each AOI."""

    def key(record: Mapping[str, Any]) -> tuple[Any, ...]:
        cloud = record["cloud_cover"]
        return (
            record["aoi_id"],
            -round(record["coverage"], COVERAGE_DIGITS),
            (cloud is None, round(cloud, CLOUD_DIGITS) if cloud is not None else 0.0),
            -record["acquired"].timestamp(),
            price(record),
            record["provider"],
            record["scene_id"],
        )

    records = sorted(records, key=key)
    counter: Counter[str] = Counter()
    for record in records:
        counter[record["aoi_id"]] += 1
        record["rank"] = counter[record["aoi_id"]]
    return pa.Table.from_pylist(records, schema=CANDIDATE_SCHEMA)


def _price_key(amount: Decimal | None, unit: str | None, eur: Decimal | None) -> PriceKey:
    """EUR-comparable prices first (cheapest first), then prices in one unit among themselves, then none."""
    if eur is not None:
        return (0, eur)
    if amount is not None and unit is not None:
        return (1, unit, amount)
    return (2,)


def _list_price_key(record: Mapping[str, Any], rates: Mapping[Unit, Decimal]) -> PriceKey:
    """The catalog's list price for the AOI (a per-km² price times the km² covered: an estimate)."""
    amount, currency = record["price_amount"], record["price_currency"]
    if amount is None or currency not in _UNITS:
        return _price_key(None, None, None)
    value = Decimal(str(amount))
    if record["price_unit"] == "km2":
        value *= Decimal(str(record["covered_km2"]))
    return _price_key(value, currency, in_eur(value, Unit(currency), rates))


def _quoted_price_key(record: Mapping[str, Any]) -> PriceKey:
    if record["quote_amount"] is None:
        return (3,)  # unquoted offers after every quoted one
    return _price_key(Decimal(record["quote_amount"]), record["quote_unit"], record["comparable_eur"])


def _check(answer: Quote, request: OrderRequest) -> None:
    """Refuse a quote that does not answer the request (a desk bug must not price another order)."""
    if answer.key != request.key:
        raise ValueError(f"the quote is for order {answer.key}, not {request.key}")
    if not isinstance(answer.amount, Decimal) or not answer.amount.is_finite() or answer.amount < 0:
        raise ValueError(f"the quoted amount {answer.amount} is not a price")
    Unit(answer.unit)


def _cheapest(table: pa.Table) -> list[bool | None]:
    """Per row: is it the cheapest quoted offer of its (AOI, acquisition)? None when that cannot be said.

    True when it beats every other offer and can be compared with all of them, False when a
    comparable offer is cheaper, None otherwise (or when it has no quote).
    """
    rows = table.select(["aoi_id", "acquisition_id", "quote_amount", "quote_unit", "comparable_eur"]).to_pylist()
    groups: dict[tuple[str, str], list[int]] = {}
    for index, row in enumerate(rows):
        if row["quote_amount"] is not None:
            groups.setdefault((row["aoi_id"], row["acquisition_id"]), []).append(index)
    marks: list[bool | None] = [None] * len(rows)
    for members in groups.values():  # members are in rank order: the first of equal prices wins
        for index in members:
            others = [other for other in members if other != index]
            comparable = [other for other in others if _comparable(rows[index], rows[other])]
            if any(_cheaper(rows[other], rows[index], other < index) for other in comparable):
                marks[index] = False
            elif len(comparable) == len(others):
                marks[index] = True
    return marks


def _comparable(a: Mapping[str, Any], b: Mapping[str, Any]) -> bool:
    """Same unit, or both in EUR (as quoted or through a rate)."""
    return a["quote_unit"] == b["quote_unit"] or (a["comparable_eur"] is not None and b["comparable_eur"] is not None)


def _cheaper(a: Mapping[str, Any], b: Mapping[str, Any], a_first: bool) -> bool:
    """Whether offer `a` beats comparable offer `b` (on a tie, the one ranked first)."""
    if a["quote_unit"] == b["quote_unit"]:
        price_a, price_b = Decimal(a["quote_amount"]), Decimal(b["quote_amount"])
    else:
        price_a, price_b = a["comparable_eur"], b["comparable_eur"]
    return price_a < price_b or (price_a == price_b and a_first)
