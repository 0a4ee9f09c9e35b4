"""Order candidates: policy filters, geodesic coverage (antimeridian included), ranking, owned scenes,
order keys, quotes, the honest `cheapest` mark, the GeoParquet file, and one run against the sandbox."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import geopandas
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyproj
import pytest
import shapely
from shapely.geometry.base import BaseGeometry

from harvest.aois import Aoi, load_aois
from harvest.buying.candidates import (
    CANDIDATE_SCHEMA,
    attach_quotes,
    describe_candidate_columns,
    order_requests,
    read_candidates,
    select_candidates,
    write_candidates,
)
from harvest.buying.policy import AoiPolicy, OverallPolicy, PolicySet, load_policies
from harvest.catalog.column_values import strings
from harvest.catalog.footprints import footprints_from_geojson
from harvest.catalog.geoparquet import read_geo_metadata
from harvest.catalog.schema import SCENE_SCHEMA
from harvest.catalog.unify import unify
from harvest.harvesting.sources import Window
from harvest.ordering.model import OrderRequest, Quote, Unit, order_key
from harvest.providers.errors import ProviderError
from harvest.registry import open_source
from harvest.sandbox.server import RunningSandbox

NOW = datetime(2026, 10, 1, 10, 0, tzinfo=UTC)
AOI = Aoi("aoi-a", "A", shapely.box(10.0, 0.0, 10.1, 0.1))  # at the equator: degrees are nearly equal-area
OTHER = Aoi("aoi-b", "B", shapely.box(20.0, 0.0, 20.1, 0.1))
ONEATLAS = {"crsCode": "urn:ogc:def:crs:EPSG::4326", "imageFormat": "image/jp2", "productType": "bundle",
            "radiometricProcessing": "REFLECTANCE"}  # fmt: skip


def scene(scene_id: str, **values: Any) -> dict[str, Any]:
    """One SCENE_SCHEMA row covering AOI A, with `values` overriding any column (`footprint` a shapely geometry)."""
    footprint: BaseGeometry = values.pop("footprint", shapely.box(9.9, -0.1, 10.2, 0.2))
    row = {
        "provider": "oneatlas",
        "scene_id": scene_id,
        "acquisition_id": f"acq-{scene_id}",
        "constellation": "PHR",
        "platform": "PHR1A",
        "acquired": NOW,
        "updated": None,
        "published": None,
        "cloud_cover": 5.0,
        "snow_cover": None,
        "incidence_angle": 10.0,
        "gsd_m": 0.5,
        "processing_level": "SENSOR",
        "product_type": "bundle",
        "price_amount": None,
        "price_currency": None,
        "price_unit": None,
        "aoi_ids": ["aoi-a"],
        "quicklook_url": None,
        "sandbox": True,
        "geometry": shapely.to_wkb(footprint),
        "raw": "{}",
    }
    row.update(values)
    return row


def scenes(*rows: dict[str, Any]) -> pa.Table:
    return pa.Table.from_pylist(list(rows), schema=SCENE_SCHEMA)


def policies(rates: dict[str, float] | None = None, **fields: Any) -> PolicySet:
    """AOI A enabled with these policy fields, AOI B disabled."""
    return PolicySet(
        source=None,
        policies={"aoi-a": AoiPolicy.model_validate({"enabled": True, **fields}), "aoi-b": AoiPolicy()},
        overall=OverallPolicy.model_validate({"rates": rates or {}}),
    )


def select(table: pa.Table, policy: PolicySet | None = None, aois: tuple[Aoi, ...] = (AOI, OTHER), **kw: Any):
    return select_candidates(table, list(aois), policy or policies(), **kw)


def kept(table: pa.Table) -> list[str]:
    return strings(table.column("scene_id"))


# (policy fields, scene columns, kept?, the reason it is left out)
FILTERS = [
    ({"max_cloud_cover": 20}, {"cloud_cover": 20.0}, True, None),
    ({"max_cloud_cover": 20}, {"cloud_cover": 20.5}, False, "cloud_cover"),
    ({"max_cloud_cover": 20}, {"cloud_cover": None}, False, "cloud_cover"),  # unknown never passes a limit
    ({}, {"cloud_cover": None}, True, None),
    ({"max_incidence_angle": 15}, {"incidence_angle": 14.9}, True, None),
    ({"max_incidence_angle": 15}, {"incidence_angle": 15.1}, False, "incidence_angle"),
    ({"max_gsd_m": 0.5}, {"gsd_m": 0.5}, True, None),
    ({"max_gsd_m": 0.5}, {"gsd_m": 1.5}, False, "gsd_m"),
    ({"providers": ["arlula"]}, {"provider": "oneatlas"}, False, "provider"),
    ({"providers": ["sentinelhub-import"]}, {"provider": "sentinelhub-import"}, True, None),
    ({}, {"provider": "sentinelhub-catalog"}, False, "provider"),  # open data: nothing to buy
    ({"constellations": ["pneo", "SPOT"]}, {"constellation": "PNEO"}, True, None),
    ({"constellations": ["PNEO"]}, {"constellation": "PHR"}, False, "constellation"),
    ({"constellations": ["PNEO"]}, {"constellation": None}, False, "constellation"),
    ({}, {"processing_level": "ALBUM"}, False, "processing_level"),
    ({"min_aoi_coverage": 0.5}, {"footprint": shapely.box(10.0, 0.0, 10.06, 0.1)}, True, None),
    ({"min_aoi_coverage": 0.5}, {"footprint": shapely.box(10.0, 0.0, 10.04, 0.1)}, False, "min_aoi_coverage"),
    ({}, {"footprint": shapely.box(10.1, 0.0, 10.2, 0.1)}, False, "no_overlap"),  # touches along an edge only
]


@pytest.mark.parametrize(("fields", "values", "expected", "reason"), FILTERS)
def test_each_policy_field_filters(
    fields: dict[str, Any], values: dict[str, Any], expected: bool, reason: str | None
) -> None:
    table, summary = select(scenes(scene("s1", **values)), policies(**fields))
    assert kept(table) == (["s1"] if expected else [])
    assert summary.excluded == ({} if expected else {reason: 1})


def test_only_enabled_aois_the_scene_touches_get_candidates() -> None:
    rows = scenes(
        scene("s1", aoi_ids=["aoi-a", "aoi-b"], footprint=shapely.box(9.9, -0.1, 20.2, 0.2)),
        scene("s2", aoi_ids=["aoi-b"], footprint=OTHER.geometry),
        scene("s3", aoi_ids=["aoi-c"]),  # an AOI that is not loaded
    )
    table, summary = select(rows)
    assert list(zip(table.column("aoi_id").to_pylist(), kept(table), strict=True)) == [("aoi-a", "s1")]
    assert summary.by_aoi == {"aoi-a": 1}


def test_one_candidate_per_scene_and_enabled_aoi() -> None:
    both = PolicySet(None, {"aoi-a": AoiPolicy(enabled=True), "aoi-b": AoiPolicy(enabled=True)})
    row = scene("s1", aoi_ids=["aoi-a", "aoi-b"], footprint=shapely.box(9.9, -0.1, 20.2, 0.2))
    table, summary = select(scenes(row), both)
    assert table.column("aoi_id").to_pylist() == ["aoi-a", "aoi-b"]
    assert len(set(table.column("order_key").to_pylist())) == 2
    assert summary.by_aoi == {"aoi-a": 1, "aoi-b": 1}


def laea_km2(geometry: BaseGeometry, centre: BaseGeometry) -> float:
    """Area in km² in a Lambert azimuthal equal-area projection centred on `centre`: an independent measure."""
    point = centre.centroid
    laea = pyproj.Transformer.from_crs(
        "EPSG:4326", f"+proj=laea +lat_0={point.y} +lon_0={point.x} +datum=WGS84", always_xy=True
    )
    dense = shapely.segmentize(geometry, 0.01)  # edges follow meridians and parallels, as in the catalog
    projected = shapely.transform(dense, lambda xy: np.column_stack(laea.transform(xy[:, 0], xy[:, 1])))
    return float(projected.area / 1e6)


def test_partial_overlap_is_the_equal_area_share_of_the_aoi() -> None:
    """From 50°N to 70°N, the northern half in degrees holds far less than half of the area."""
    aoi = Aoi("north", "N", shapely.box(10.0, 50.0, 11.0, 70.0))
    footprint = shapely.box(9.5, 60.0, 11.5, 71.0)  # covers the AOI's northern half in degrees
    table, _ = select_candidates(
        scenes(scene("s1", aoi_ids=["north"], footprint=footprint)),
        [aoi],
        PolicySet(None, {"north": AoiPolicy(enabled=True)}),
    )
    (row,) = table.to_pylist()
    part = shapely.box(10.0, 60.0, 11.0, 70.0)
    assert row["coverage"] == pytest.approx(
        laea_km2(part, aoi.geometry) / laea_km2(aoi.geometry, aoi.geometry), abs=2e-3
    )
    assert abs(row["coverage"] - 0.5) > 0.05, "a planar share in degrees would say 0.5"
    assert row["covered_km2"] == pytest.approx(laea_km2(part, part), rel=2e-3)


def test_coverage_across_the_antimeridian() -> None:
    """An AOI split at ±180° and a footprint drawn across it (cut the same way by the catalog) cover half."""
    aoi = Aoi(
        "fiji",
        "Fiji",
        shapely.MultiPolygon([shapely.box(179.9, -17.0, 180.0, -16.9), shapely.box(-180.0, -17.0, -179.9, -16.9)]),
    )
    ring = [[179.95, -17.1], [-179.8, -17.1], [-179.8, -16.8], [179.95, -16.8], [179.95, -17.1]]
    (footprint,) = footprints_from_geojson([{"type": "Polygon", "coordinates": [ring]}])
    assert footprint.geom_type == "MultiPolygon"
    far = shapely.box(-179.5, -17.0, -179.4, -16.9)  # near in degrees of the folded ring, far on the ground
    table, summary = select_candidates(
        scenes(scene("across", aoi_ids=["fiji"], footprint=footprint), scene("far", aoi_ids=["fiji"], footprint=far)),
        [aoi],
        PolicySet(None, {"fiji": AoiPolicy(enabled=True)}),
    )
    assert kept(table) == ["across"]
    assert table.column("coverage")[0].as_py() == pytest.approx(0.75, abs=1e-3)
    assert summary.excluded == {"no_overlap": 1}


def test_ranking_coverage_then_cloud_then_recency_then_price() -> None:
    half = shapely.box(10.0, 0.0, 10.05, 0.1)
    rows = scenes(
        scene("partial", footprint=half, cloud_cover=0.0),
        scene("cloudy", cloud_cover=30.0),
        scene("old", acquired=NOW - timedelta(days=3)),
        scene("dear", provider="arlula", price_amount=200_000.0, price_currency="USD cents", price_unit="aoi"),
        scene("cheap", provider="arlula", price_amount=100_000.0, price_currency="USD cents", price_unit="aoi"),
        scene("euro", price_amount=1_500.0, price_currency="EUR", price_unit="scene"),
        scene("unpriced"),
    )
    table, _ = select(rows, policies(rates={"USD cents": 0.01}))
    # 1000 EUR (cheap), 1500 EUR (euro), 2000 EUR (dear), then no price; then older, cloudier, less coverage
    assert kept(table) == ["cheap", "euro", "dear", "unpriced", "old", "cloudy", "partial"]
    assert table.column("rank").to_pylist() == [1, 2, 3, 4, 5, 6, 7]


def test_without_a_rate_prices_rank_only_within_their_unit() -> None:
    rows = scenes(
        scene("dollars", provider="arlula", price_amount=100.0, price_currency="USD cents", price_unit="aoi"),
        scene("euro", price_amount=1_500.0, price_currency="EUR", price_unit="scene"),
        scene("cents", provider="arlula", price_amount=50.0, price_currency="USD cents", price_unit="aoi"),
    )
    assert kept(select(rows)[0]) == ["euro", "cents", "dollars"]  # EUR first, then US cents among themselves


def test_ranks_are_per_aoi() -> None:
    both = PolicySet(None, {"aoi-a": AoiPolicy(enabled=True), "aoi-b": AoiPolicy(enabled=True)})
    rows = scenes(scene("a1"), scene("a2", cloud_cover=50.0), scene("b1", aoi_ids=["aoi-b"], footprint=OTHER.geometry))
    table, _ = select(rows, both)
    assert list(zip(table.column("aoi_id").to_pylist(), table.column("rank").to_pylist(), strict=True)) == [
        ("aoi-a", 1), ("aoi-a", 2), ("aoi-b", 1),
    ]  # fmt: skip


def test_owned_scenes_and_other_offers_of_their_acquisition_are_left_out() -> None:
    rows = scenes(
        scene("bought", acquisition_id="acq-1"),
        scene("same-strip", provider="sentinelhub-import", acquisition_id="acq-1"),
        scene("new", acquisition_id="acq-2"),
    )
    asked: list[tuple[str, str]] = []

    def owned(provider: str, scene_id: str) -> bool:
        asked.append((provider, scene_id))
        return (provider, scene_id) == ("oneatlas", "bought")

    table, summary = select(rows, owned=owned)
    assert kept(table) == ["new"]
    assert summary.excluded == {"owned": 2}
    assert ("oneatlas", "bought") in asked


def test_order_keys_are_the_models_and_deterministic() -> None:
    rows = scenes(scene("s1"), scene("s2", provider="sentinelhub-import"))
    first, _ = select(rows, policies(product_options={"oneatlas": {"productType": "pansharpened"}}))
    again, _ = select(rows, policies(product_options={"oneatlas": {"productType": "pansharpened"}}))
    assert first.column("order_key").to_pylist() == again.column("order_key").to_pylist()
    options = {**ONEATLAS, "productType": "pansharpened"}
    assert json.loads(first.column("options")[0].as_py()) == options
    assert first.column("order_key").to_pylist() == [
        order_key("oneatlas", "s1", "aoi-a", options),
        order_key("sentinelhub-import", "s2", "aoi-a", {}),
    ]
    other, _ = select(rows, policies(product_options={"oneatlas": {"productType": "bundle"}}))
    assert other.column("order_key")[0] != first.column("order_key")[0], "other options, another order"


def test_naming_a_default_option_keeps_the_key() -> None:
    rows = scenes(scene("s1"))
    implicit, _ = select(rows, policies())
    explicit, _ = select(rows, policies(product_options={"oneatlas": {"imageFormat": "image/jp2"}}))
    assert implicit.column("order_key") == explicit.column("order_key")


def arlula_scene(scene_id: str, **values: Any) -> dict[str, Any]:
    offer = {
        "orderingID": "token",
        "bundles": [{"key": "visual", "price": 500}, {"key": "analytic", "price": 600}],
        "licenses": [{"name": "Standard", "href": "https://eula/1"}, {"name": "Media", "href": "https://eula/2"}],
    }
    return scene(scene_id, provider="arlula", raw=json.dumps({"aoi_offers": {"aoi-a": offer}}), **values)


@pytest.mark.parametrize(
    ("wanted", "options"),
    [
        ({}, {"bundle": "visual", "license": "Standard"}),  # the offer's first of each, spelled out
        ({"bundle": "analytic"}, {"bundle": "analytic", "license": "Standard"}),
        ({"bundle": "visual", "license": "Standard"}, {"bundle": "visual", "license": "Standard"}),
        ({"bundle": "panchromatic"}, None),  # not offered for this scene: not a candidate
        ({"license": "Academic"}, None),
    ],
)
def test_arlula_options_come_from_the_offer(wanted: dict[str, str], options: dict[str, str] | None) -> None:
    table, summary = select(scenes(arlula_scene("s1")), policies(product_options={"arlula": wanted}))
    if options is None:
        assert len(table) == 0 and summary.excluded == {"product_options": 1}
    else:
        assert json.loads(table.column("options")[0].as_py()) == options
        assert table.column("order_key")[0].as_py() == order_key("arlula", "s1", "aoi-a", options)


def test_order_requests_rebuild_what_to_buy_and_refuse_an_edited_row() -> None:
    table, _ = select(scenes(scene("s1", constellation="PNEO")))
    (request,) = order_requests(table)
    assert request.key == table.column("order_key")[0].as_py()
    assert (request.provider, request.scene_id, request.aoi_id) == ("oneatlas", "s1", "aoi-a")
    assert dict(request.options) == ONEATLAS
    assert shapely.geometry.shape(dict(request.aoi_geometry)).equals(AOI.geometry)
    assert request.acquired == NOW and request.constellation == "PNEO"
    edited = table.set_column(
        table.schema.get_field_index("options"), "options", pa.array(['{"productType":"panchromatic"}'])
    )
    with pytest.raises(ValueError, match="select the candidates again"):
        order_requests(edited)


def fixed_quotes(prices: dict[str, tuple[str, Unit] | Exception]) -> Callable[[OrderRequest], Quote]:
    """A quote function answering by scene id: (amount, unit), or raising the given error."""

    def quote(request: OrderRequest) -> Quote:
        answer = prices[request.scene_id]
        if isinstance(answer, Exception):
            raise answer
        amount, unit = answer
        return Quote(request.key, Decimal(amount), unit, area_km2=12.5, reference=f"q-{request.scene_id}")

    return quote


def offers(*providers_and_ids: tuple[str, str], acquisition: str = "acq-1") -> pa.Table:
    rows = scenes(*(scene(scene_id, provider=p, acquisition_id=acquisition) for p, scene_id in providers_and_ids))
    return select(rows)[0]


def marks(table: pa.Table) -> dict[str, bool | None]:
    return dict(zip(kept(table), table.column("cheapest").to_pylist(), strict=True))


def test_quotes_fill_their_columns_and_a_failed_quote_keeps_its_row() -> None:
    table = offers(("oneatlas", "ok"), ("arlula", "refused"), ("sentinelhub-import", "missing"))
    refusal = ProviderError("Arlula", "scene no longer offered", status=400, hint="search again")
    quoted = attach_quotes(
        table, fixed_quotes({"ok": ("1942.50", Unit.CREDITS), "refused": refusal, "missing": KeyError("no such")})
    )
    assert quoted.schema == CANDIDATE_SCHEMA
    rows = {row["scene_id"]: row for row in quoted.to_pylist()}
    ok = rows["ok"]
    assert (ok["quote_amount"], ok["quote_unit"], ok["quote_area_km2"], ok["quote_reference"], ok["quote_error"]) == (
        "1942.50", "credits", 12.5, "q-ok", None,
    )  # fmt: skip
    assert ok["comparable_eur"] is None, "credits have no rate here"
    assert rows["refused"]["quote_amount"] is None
    assert rows["refused"]["quote_error"].startswith("ProviderError: Arlula 400: scene no longer offered")
    assert rows["missing"]["quote_error"] == "KeyError: 'no such'"
    assert marks(quoted) == {"ok": True, "refused": None, "missing": None}


def test_a_bug_in_a_quote_function_is_not_swallowed() -> None:
    def broken(request: OrderRequest) -> Quote:
        raise TypeError("desk bug")

    with pytest.raises(TypeError, match="desk bug"):
        attach_quotes(offers(("oneatlas", "s1")), broken)


def test_a_quote_for_another_order_or_not_a_price_is_an_error() -> None:
    def wrong_key(request: OrderRequest) -> Quote:
        return Quote("hvsomethingelse", Decimal(1), Unit.EUR)

    def negative(request: OrderRequest) -> Quote:
        return Quote(request.key, Decimal(-1), Unit.EUR)

    table = offers(("oneatlas", "s1"))
    assert "the quote is for order hvsomethingelse" in attach_quotes(table, wrong_key).column("quote_error")[0].as_py()
    assert "is not a price" in attach_quotes(table, negative).column("quote_error")[0].as_py()


def test_cheapest_among_offers_in_the_same_unit() -> None:
    table = offers(("oneatlas", "dear"), ("sentinelhub-import", "cheap"))
    quoted = attach_quotes(table, fixed_quotes({"dear": ("250", Unit.EUR), "cheap": ("249.99", Unit.EUR)}))
    assert marks(quoted) == {"cheap": True, "dear": False}
    assert kept(quoted) == ["cheap", "dear"], "re-ranked by the quoted price"
    assert quoted.column("comparable_eur").to_pylist() == [Decimal("249.990000"), Decimal("250.000000")]


def test_cheapest_through_a_rate() -> None:
    table = offers(("oneatlas", "euro"), ("arlula", "dollars"))
    quotes = fixed_quotes({"euro": ("1000", Unit.EUR), "dollars": ("100000", Unit.USD_CENTS)})
    quoted = attach_quotes(table, quotes, rates={Unit.USD_CENTS: Decimal("0.0092")})
    assert marks(quoted) == {"dollars": True, "euro": False}
    assert dict(zip(kept(quoted), quoted.column("comparable_eur").to_pylist(), strict=True)) == {
        "dollars": Decimal("920.000000"),
        "euro": Decimal("1000.000000"),
    }


def test_km2_of_quota_are_never_compared_with_money_without_a_rate() -> None:
    table = offers(("oneatlas", "euro"), ("sentinelhub-import", "quota"))
    quotes = fixed_quotes({"euro": ("1000", Unit.EUR), "quota": ("5", Unit.KM2)})
    quoted = attach_quotes(table, quotes, rates={Unit.USD_CENTS: Decimal("0.0092")})
    assert marks(quoted) == {"euro": None, "quota": None}
    assert dict(zip(kept(quoted), quoted.column("comparable_eur").to_pylist(), strict=True)) == {
        "euro": Decimal("1000.000000"),
        "quota": None,
    }
    with_rate = attach_quotes(table, quotes, rates={Unit.KM2: Decimal(250)})
    assert marks(with_rate) == {"euro": True, "quota": False}


def test_an_offer_beaten_by_a_comparable_one_is_not_cheapest_even_if_others_cannot_be_compared() -> None:
    table = offers(("oneatlas", "e100"), ("arlula", "c900"), ("sentinelhub-import", "k5"))
    quotes = fixed_quotes({"e100": ("100", Unit.EUR), "c900": ("90000", Unit.USD_CENTS), "k5": ("5", Unit.KM2)})
    quoted = attach_quotes(table, quotes, rates={Unit.USD_CENTS: Decimal("0.01")})
    # 100 EUR beats 900 EUR; nothing says how either compares with 5 km² of quota
    assert marks(quoted) == {"e100": None, "c900": False, "k5": None}


def test_equal_prices_mark_one_offer_and_acquisitions_are_compared_apart() -> None:
    rows = scenes(
        scene("a1", acquisition_id="acq-1"),
        scene("a2", provider="sentinelhub-import", acquisition_id="acq-1"),
        scene("b1", acquisition_id="acq-2", cloud_cover=40.0),
    )
    table, _ = select(rows)
    quoted = attach_quotes(table, fixed_quotes({"a1": ("10", Unit.EUR), "a2": ("10", Unit.EUR), "b1": ("1", Unit.EUR)}))
    assert marks(quoted) == {"a1": True, "a2": False, "b1": True}


def test_an_empty_selection_quotes_and_writes(tmp_path: Path) -> None:
    table, summary = select(scenes())
    assert summary.candidates == 0 and table.schema == CANDIDATE_SCHEMA
    quoted = attach_quotes(table, fixed_quotes({}))
    path = write_candidates(quoted, tmp_path / "empty.parquet")
    assert len(read_candidates(path)) == 0


def test_the_candidate_file_is_geoparquet_1_1_that_geopandas_reads(tmp_path: Path) -> None:
    ring = [[179.95, -17.1], [-179.8, -17.1], [-179.8, -16.8], [179.95, -16.8], [179.95, -17.1]]
    (cut,) = footprints_from_geojson([{"type": "Polygon", "coordinates": [ring]}])
    fiji = Aoi("aoi-b", "Fiji", shapely.box(-179.99, -17.0, -179.9, -16.9))
    both = PolicySet(None, {"aoi-a": AoiPolicy(enabled=True), "aoi-b": AoiPolicy(enabled=True)})
    rows = scenes(scene("s1"), scene("s2", aoi_ids=["aoi-b"], footprint=cut))
    table, _ = select_candidates(rows, [AOI, fiji], both)
    quoted = attach_quotes(table, fixed_quotes({"s1": ("12.5", Unit.EUR), "s2": ("3", Unit.KM2)}))
    path = write_candidates(quoted, tmp_path / "candidates" / "2026-10-01.parquet")
    assert [p.name for p in path.parent.iterdir()] == ["2026-10-01.parquet"], "no temporary file left behind"

    frame = geopandas.read_parquet(path)
    assert frame.crs.to_epsg() == 4326
    assert list(frame["scene_id"]) == ["s1", "s2"]
    assert frame.geometry.iloc[1].geom_type == "MultiPolygon"
    assert frame.geometry.iloc[0].equals(shapely.box(9.9, -0.1, 10.2, 0.2))
    assert list(frame["quote_amount"]) == ["12.5", "3"]
    geo = read_geo_metadata(path)
    column = geo["columns"]["geometry"]
    assert geo["version"] == "1.1.0" and column["encoding"] == "WKB"
    assert column["geometry_types"] == ["MultiPolygon", "Polygon"]
    assert column["covering"]["bbox"]["xmin"] == ["bbox", "xmin"]
    inside = geopandas.read_parquet(path, bbox=(9.95, 0.0, 10.0, 0.05))
    assert list(inside["scene_id"]) == ["s1"]
    assert read_candidates(path).equals(quoted)


def test_every_column_is_described() -> None:
    described = describe_candidate_columns()
    assert [c.name for c in described] == CANDIDATE_SCHEMA.names
    assert all(c.description for c in described)


@pytest.fixture
def sandbox(make_sandbox: Callable[..., RunningSandbox]) -> Iterator[RunningSandbox]:
    """A private sandbox: quoting creates Sentinel Hub import orders (as quotes)."""
    yield make_sandbox()


def test_a_month_of_sandbox_scenes_selected_quoted_and_written(sandbox: RunningSandbox, tmp_path: Path) -> None:
    """The shipped policies over the default AOIs, against real loopback HTTP: harvest, select, quote, write."""
    from harvest.registry import open_desk

    aoi_set = load_aois()
    policy_set = load_policies(aoi_set)
    env = sandbox.env()
    window = Window(datetime(2026, 10, 1, tzinfo=UTC), datetime(2026, 11, 1, tzinfo=UTC))
    harvested = []
    for provider in ("oneatlas", "arlula", "sentinelhub-import", "sentinelhub-catalog"):
        source = open_source(provider, env)
        harvested.append(source.scenes(aoi_set.aois, window))
        source.close()
    catalog, _ = unify(harvested)
    table, summary = select_candidates(catalog, aoi_set, policy_set)
    assert summary.candidates > 5, summary
    assert set(summary.by_aoi) <= set(policy_set.enabled())
    for row in table.to_pylist():
        policy = policy_set.policy(row["aoi_id"])
        assert row["provider"] in policy.providers and policy.allows_constellation(row["constellation"])
        assert row["cloud_cover"] <= policy.max_cloud_cover
        assert row["incidence_angle"] <= policy.max_incidence_angle
        assert row["coverage"] >= policy.min_aoi_coverage

    desks = {provider: open_desk(provider, env) for provider in ("oneatlas", "arlula", "sentinelhub-import")}
    try:
        quoted = attach_quotes(
            table, lambda request: desks[request.provider].quote(request), rates=policy_set.overall.rates
        )
    finally:
        for desk in desks.values():
            desk.close()
    assert quoted.column("quote_error").null_count == len(quoted), quoted.column("quote_error").drop_null()
    units = dict(zip(quoted.column("provider").to_pylist(), quoted.column("quote_unit").to_pylist(), strict=False))
    assert units == {"oneatlas": "credits", "arlula": "USD cents", "sentinelhub-import": "km2"}
    assert quoted.column("comparable_eur").null_count == 0, "the shipped file has a rate for every sandbox unit"
    winners = quoted.filter(pc.equal(quoted.column("cheapest"), pa.scalar(True)))

    def groups(rows: pa.Table) -> list[tuple[str, str]]:
        return list(zip(strings(rows.column("aoi_id")), strings(rows.column("acquisition_id")), strict=True))

    # with a rate for every unit each acquisition has exactly one cheapest offer per AOI
    assert sorted(groups(winners)) == sorted(set(groups(quoted)))
    frame = geopandas.read_parquet(write_candidates(quoted, tmp_path / "candidates.parquet"))
    assert len(frame) == len(quoted) and frame.crs.to_epsg() == 4326
