"""Ordering policies: layering, defaults, budgets and auto-approval, and refusals that name the AOI and the field."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import yaml

from harvest.aois import DEFAULT_AOIS_PATH, AoiSet, load_aois
from harvest.buying.policy import (
    POLICIES_ENV,
    PolicyError,
    PolicySet,
    in_eur,
    load_policies,
)
from harvest.ordering.model import Unit

SQUARE = {"type": "Polygon", "coordinates": [[[1.0, 43.0], [1.1, 43.0], [1.1, 43.1], [1.0, 43.1], [1.0, 43.0]]]}


@pytest.fixture(autouse=True)
def _no_policy_override(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(POLICIES_ENV, raising=False)


def aoi_file(
    directory: Path, policies: dict[str, Any] | None = None, ids: tuple[str, ...] = ("toulouse", "lyon")
) -> AoiSet:
    """An AOI file with these ids (each with its own `policy` property when given), loaded."""
    features = []
    for aoi_id in ids:
        properties: dict[str, Any] = {"id": aoi_id}
        if policies and aoi_id in policies:
            properties["policy"] = policies[aoi_id]
        features.append({"type": "Feature", "properties": properties, "geometry": SQUARE})
    path = directory / "aois.geojson"
    path.write_text(json.dumps({"type": "FeatureCollection", "features": features}))
    return load_aois(path)


def policy_file(directory: Path, document: Any) -> Path:
    path = directory / "policies.yaml"
    path.write_text(document if isinstance(document, str) else yaml.safe_dump(document))
    return path


def load(tmp_path: Path, document: Any, own: dict[str, Any] | None = None) -> PolicySet:
    aoi_set = aoi_file(tmp_path, own)
    policy_file(tmp_path, document)
    return load_policies(aoi_set)


# (the toulouse policy, what the refusal must say after "aoi 'toulouse': ")
INVALID = [
    ({"max_cloud_cover": 140}, "max_cloud_cover must be between 0 and 100 (percent of the scene), got 140"),
    ({"max_cloud_cover": "low"}, "max_cloud_cover must be between 0 and 100 (percent of the scene), got 'low'"),
    ({"max_incidence_angle": -1}, "max_incidence_angle must be between 0 and 90 (degrees off nadir), got -1"),
    ({"max_gsd_m": 0}, "max_gsd_m must be a number of metres above 0, got 0"),
    ({"min_aoi_coverage": 1.5}, "min_aoi_coverage must be between 0 and 1"),
    ({"enabled": "yes"}, "enabled must be true or false, got 'yes'"),
    ({"enabled": 1}, "enabled must be true or false, got 1"),
    ({"providers": ["oneatlas", "planet"]},
     "providers[1] must be one of oneatlas, arlula, sentinelhub-import, got 'planet'"),
    ({"providers": "oneatlas"}, "providers must be a list of oneatlas, arlula, sentinelhub-import, got 'oneatlas'"),
    ({"providers": ["sentinelhub-catalog"]}, "providers[0] must be one of oneatlas, arlula, sentinelhub-import"),
    ({"constellations": ["PHR", ""]}, "constellations[1] must be a constellation name"),
    ({"product_options": {"oneatlas": {"productType": "ortho"}}},
     "product_options.oneatlas.productType must be one of bundle, pansharpened, panchromatic, multiSpectral, "
     "bundle-fs, pansharpened-fs, got 'ortho'"),
    ({"product_options": {"oneatlas": {"radiometricProcessing": "basic"}}},
     "product_options.oneatlas.radiometricProcessing must be one of REFLECTANCE, DISPLAY, got 'basic'"),
    ({"product_options": {"oneatlas": {"imageFormat": "png"}}},
     "product_options.oneatlas.imageFormat must be one of image/jp2, image/geotiff, got 'png'"),
    ({"product_options": {"oneatlas": {"crsCode": "EPSG:4326"}}}, "product_options.oneatlas.crsCode must be an EPSG"),
    ({"product_options": {"arlula": {"bundleKey": "visual"}}},
     "unknown field 'bundleKey' in product_options.arlula (did you mean 'bundle'?); fields are bundle, license"),
    ({"product_options": {"arlula": {"bundle": ""}}}, "product_options.arlula.bundle must be a bundle key"),
    ({"product_options": {"sentinelhub-import": {"productBundle": "analytic"}}},
     "unknown field 'productBundle' in product_options.sentinelhub-import: Sentinel Hub's AIRBUS import takes no "
     "product options"),
    ({"product_options": {"planet": {}}}, "unknown field 'planet' in product_options"),
    ({"monthly_budget": {"USD": 5}},
     "monthly_budget has an unknown unit 'USD'; units are EUR, credits, USD cents, km2"),
    ({"monthly_budget": {"EUR": -5}}, "monthly_budget.EUR must be an amount of at least 0, got -5"),
    ({"monthly_budget": {"EUR": "lots"}}, "monthly_budget.EUR must be an amount of at least 0, got 'lots'"),
    ({"monthly_budget": 500}, "monthly_budget must be a mapping of unit (EUR, credits, USD cents, km2) to an amount"),
    ({"auto_approve_below": {"km2": True}}, "auto_approve_below.km2 must be an amount of at least 0, got True"),
    ({"auto_approve_below": {"credit": 5}}, "auto_approve_below has an unknown unit 'credit'"),
    ({"max_clod_cover": 3}, "unknown field 'max_clod_cover' (did you mean 'max_cloud_cover'?); fields are"),
    ({"rates": {"EUR": 1}}, "unknown field 'rates'"),  # rates are overall, not per AOI
]  # fmt: skip


@pytest.mark.parametrize(("policy", "message"), INVALID, ids=[m.split(" ")[0] for _, m in INVALID])
def test_an_invalid_aoi_policy_is_refused_naming_the_aoi_and_the_field(
    tmp_path: Path, policy: dict[str, Any], message: str
) -> None:
    good = {"enabled": True, "monthly_budget": {"EUR": 100}}
    policies = load(tmp_path, {"aois": {"toulouse": {"enabled": True, **policy}, "lyon": good}})
    assert [p.aoi_id for p in policies.problems] == ["toulouse"]
    text = str(policies.problems[0])
    assert text.startswith(f"aoi 'toulouse': {message}"), text
    assert f"(in {tmp_path / 'policies.yaml'}, aois.toulouse)" in text
    assert not policies.policy("toulouse").enabled, "a refused policy orders nothing"
    assert policies.policy("lyon").enabled, "one broken AOI never takes the others down"


def test_every_mistake_of_a_policy_is_reported(tmp_path: Path) -> None:
    policies = load(tmp_path, {"aois": {"toulouse": {"max_cloud_cover": 140, "max_gsd_m": -1, "typo": 1}}})
    assert len(policies.problems) == 3


def test_a_policy_that_is_not_a_mapping_is_refused(tmp_path: Path) -> None:
    policies = load(tmp_path, {"aois": {"toulouse": ["enabled"]}})
    assert str(policies.problems[0]).startswith("aoi 'toulouse': must be a mapping of policy fields, got ['enabled']")


def test_a_policy_for_an_unknown_aoi_is_refused_with_a_suggestion(tmp_path: Path) -> None:
    policies = load(tmp_path, {"aois": {"tolouse": {"enabled": True}}})
    (problem,) = policies.problems
    assert problem.aoi_id == "tolouse"
    assert "has no such AOI (did you mean 'toulouse'?); known AOIs: lyon, toulouse" in str(problem)


def test_an_invalid_policy_in_the_aoi_file_names_the_aoi_file(tmp_path: Path) -> None:
    policies = load(tmp_path, {}, own={"lyon": {"max_cloud_cover": 101}})
    (problem,) = policies.problems
    assert str(problem).startswith("aoi 'lyon': max_cloud_cover must be between 0 and 100")
    assert f"`policy` in {tmp_path / 'aois.geojson'}" in str(problem)


@pytest.mark.parametrize(
    ("document", "message"),
    [
        ({"default": {}}, "unknown section 'default' (did you mean 'defaults'?); sections are defaults, aois, overall"),
        ("aois: [toulouse", "is not valid YAML"),
        ("aois:\n  toulouse: {enabled: true}\n  toulouse: {enabled: false}\n", "the key 'toulouse' is given twice"),
        ("- toulouse\n", "must be a mapping with defaults, aois, overall"),
        ({"aois": ["toulouse"]}, "`aois` must map AOI ids to policies"),
        ({"defaults": {"max_cloud_cover": 200}}, "defaults: max_cloud_cover must be between 0 and 100"),
        ({"defaults": {"monthly_budget": {"GBP": 1}}}, "defaults: monthly_budget has an unknown unit 'GBP'"),
        ({"overall": {"monthly_budget": {"dollars": 5}}}, "overall: monthly_budget has an unknown unit 'dollars'"),
        ({"overall": {"rates": {"USD cents": 0}}},
         "overall: rates.USD cents must be a number of EUR per unit above 0, got 0"),
        ({"overall": {"rates": {"EUR": 1}}}, "overall: rates: EUR is what rates convert to; leave it out"),
        ({"overall": {"enabled": True}},
         "overall: unknown field 'enabled'; fields are auto_approve_below, monthly_budget, rates"),
    ],
)  # fmt: skip
def test_a_broken_file_defaults_or_overall_refuses_the_whole_file(tmp_path: Path, document: Any, message: str) -> None:
    aoi_set = aoi_file(tmp_path)
    policy_file(tmp_path, document)
    with pytest.raises(PolicyError) as caught:
        load_policies(aoi_set)
    assert message in str(caught.value)


def test_without_a_policy_file_nothing_is_ordered(tmp_path: Path) -> None:
    policies = load_policies(aoi_file(tmp_path))
    assert policies.source is None
    assert policies.problems == ()
    assert policies.enabled() == {}
    assert set(policies.policies) == {"toulouse", "lyon"}


def test_an_explicit_policy_file_must_exist(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    aoi_set = aoi_file(tmp_path)
    with pytest.raises(PolicyError, match="does not exist"):
        load_policies(aoi_set, tmp_path / "missing.yaml")
    monkeypatch.setenv(POLICIES_ENV, str(tmp_path / "elsewhere.yaml"))
    with pytest.raises(PolicyError, match=f"elsewhere.yaml does not exist; create it .* or unset {POLICIES_ENV}"):
        load_policies(aoi_set)


def test_harvest_policies_names_another_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    aoi_set = aoi_file(tmp_path)
    policy_file(tmp_path, {"aois": {"toulouse": {"enabled": True}}})
    other = tmp_path / "other.yaml"
    other.write_text(yaml.safe_dump({"aois": {"lyon": {"enabled": True}}}))
    monkeypatch.setenv(POLICIES_ENV, str(other))
    policies = load_policies(aoi_set)
    assert policies.source == other
    assert list(policies.enabled()) == ["lyon"]


def test_layers_defaults_then_aoi_file_then_policy_file(tmp_path: Path) -> None:
    document = {
        "defaults": {
            "max_cloud_cover": 20,
            "providers": ["oneatlas", "arlula"],
            "product_options": {"oneatlas": {"productType": "pansharpened", "imageFormat": "image/geotiff"}},
            "monthly_budget": {"EUR": 1000, "credits": 500},
        },
        "aois": {
            "toulouse": {
                "enabled": True,
                "providers": ["arlula"],
                "product_options": {"oneatlas": {"radiometricProcessing": "DISPLAY"}},
                "monthly_budget": {"credits": 50},
            }
        },
    }
    own = {"toulouse": {"max_cloud_cover": 10, "max_gsd_m": 0.5, "providers": ["oneatlas"]}}
    policies = load(tmp_path, document, own=own)
    assert policies.problems == ()
    toulouse, lyon = policies.policy("toulouse"), policies.policy("lyon")
    assert toulouse.enabled and not lyon.enabled
    assert (toulouse.max_cloud_cover, toulouse.max_gsd_m) == (10, 0.5)  # the AOI file over the defaults
    assert toulouse.providers == ("arlula",)  # lists replace
    assert toulouse.product_options.for_provider("oneatlas") == {  # mappings merge key by key
        "productType": "pansharpened",
        "radiometricProcessing": "DISPLAY",
        "imageFormat": "image/geotiff",
        "crsCode": "urn:ogc:def:crs:EPSG::4326",
    }
    assert toulouse.monthly_budget == {Unit.EUR: Decimal(1000), Unit.CREDITS: Decimal(50)}
    assert (lyon.max_cloud_cover, lyon.max_gsd_m, lyon.providers) == (20, None, ("oneatlas", "arlula"))


def test_unset_fields_mean_no_limit_every_provider_and_the_providers_default_options(tmp_path: Path) -> None:
    policy = load(tmp_path, {"aois": {"toulouse": {"enabled": True}}}).policy("toulouse")
    assert (policy.max_cloud_cover, policy.max_incidence_angle, policy.max_gsd_m, policy.min_aoi_coverage) == (
        None, None, None, None,
    )  # fmt: skip
    assert policy.providers == ("oneatlas", "arlula", "sentinelhub-import")
    assert policy.allows_constellation("anything") and policy.allows_constellation(None)
    assert policy.product_options.for_provider("arlula") == {}
    assert policy.product_options.for_provider("sentinelhub-import") == {}


def test_constellations_match_case_insensitively(tmp_path: Path) -> None:
    policy = load(tmp_path, {"aois": {"toulouse": {"constellations": ["phr", "SuperView-1"]}}}).policy("toulouse")
    assert policy.allows_constellation("PHR") and policy.allows_constellation("superview-1")
    assert not policy.allows_constellation("PNEO") and not policy.allows_constellation(None)


def test_amounts_are_exact_decimals(tmp_path: Path) -> None:
    policies = load(
        tmp_path,
        "aois:\n  toulouse: {monthly_budget: {EUR: 0.1, 'USD cents': '150000.25'}}\n"
        "overall: {rates: {'USD cents': 0.0092}}\n",
    )
    assert policies.policy("toulouse").monthly_budget == {
        Unit.EUR: Decimal("0.1"),
        Unit.USD_CENTS: Decimal("150000.25"),
    }
    assert policies.overall.rates == {Unit.USD_CENTS: Decimal("0.0092")}


def test_budgets_a_unit_an_aoi_does_not_list_cannot_be_spent(tmp_path: Path) -> None:
    policies = load(
        tmp_path,
        {"aois": {"toulouse": {"monthly_budget": {"EUR": 2000}}}, "overall": {"monthly_budget": {"EUR": 3000}}},
    )
    toulouse = policies.policy("toulouse")
    assert toulouse.budget(Unit.EUR) == Decimal(2000)
    assert toulouse.budget(Unit.KM2) == Decimal(0)
    assert policies.overall.budget(Unit.EUR) == Decimal(3000)
    assert policies.overall.budget(Unit.KM2) is None  # no overall cap beyond the AOIs' own


def test_auto_approval_is_strictly_below_both_thresholds(tmp_path: Path) -> None:
    policies = load(
        tmp_path,
        {
            "aois": {"toulouse": {"auto_approve_below": {"EUR": 500, "credits": 800}}},
            "overall": {"auto_approve_below": {"credits": 300}},
        },
    )
    approves = policies.auto_approves
    assert approves("toulouse", Decimal("499.99"), Unit.EUR)
    assert not approves("toulouse", Decimal(500), Unit.EUR)  # strictly below
    assert not approves("toulouse", Decimal(1), Unit.KM2)  # no threshold for the unit: a person decides
    assert approves("toulouse", Decimal(299), Unit.CREDITS)
    assert not approves("toulouse", Decimal(300), Unit.CREDITS)  # the overall ceiling
    assert not approves("lyon", Decimal(0), Unit.EUR)
    assert not approves("nowhere", Decimal(0), Unit.EUR)


def test_prices_convert_to_eur_only_with_a_rate() -> None:
    rates = {Unit.USD_CENTS: Decimal("0.0092")}
    assert in_eur(Decimal(12), Unit.EUR, {}) == Decimal(12)
    assert in_eur(Decimal(10000), Unit.USD_CENTS, rates) == Decimal("92.0000")
    assert in_eur(Decimal(5), Unit.KM2, rates) is None
    assert in_eur(Decimal(5), Unit.CREDITS, rates) is None


def test_an_empty_policy_file_is_no_policy(tmp_path: Path) -> None:
    policies = load(tmp_path, "# nothing yet\n")
    assert policies.enabled() == {} and policies.problems == ()


def test_the_shipped_example_loads_and_enables_two_default_aois() -> None:
    aoi_set = load_aois(DEFAULT_AOIS_PATH)
    policies = load_policies(aoi_set)
    assert policies.source == DEFAULT_AOIS_PATH.parent / "policies.yaml"
    assert policies.problems == ()
    assert sorted(policies.enabled()) == ["rotterdam-port", "toulouse"]
    for policy in policies.enabled().values():
        assert set(policy.monthly_budget) == set(Unit), "every unit a provider quotes in has a budget"
        assert all(policy.auto_approve_below[unit] < policy.monthly_budget[unit] for unit in Unit)
    assert set(policies.overall.rates) == {Unit.USD_CENTS, Unit.CREDITS, Unit.KM2}
