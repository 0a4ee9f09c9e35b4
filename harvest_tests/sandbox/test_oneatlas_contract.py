"""The sandbox's OneAtlas answers against the providers' own documents.

Two kinds of check: every example response of seeds 001 and 002 has a sandbox counterpart with the
same field names and JSON types; and search responses and errors validate against the schemas of
Airbus's OpenAPI spec (SPECS). Where the spec contradicts the examples, the examples win
(docs/providers.md#oneatlas-catalog-search), and the few relaxations that follow are listed (and
explained) in `_documented_relaxations`.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

from harvest.aois import load_aois
from harvest.sandbox.server import RunningSandbox
from harvest_tests.conftest import advance
from harvest_tests.contract import assert_same_shape
from harvest_tests.sandbox.oneatlas_session import OneAtlasSession, fetch_token
from harvest_tests.sandbox.test_oneatlas_orders import data_order_body, sales_order_body, sensor_item

SEEDS = Path(__file__).resolve().parent.parent / "fixtures" / "seeds"
SPECS = Path(__file__).resolve().parents[3] / "shared" / "providers" / "specs"
SPEC = SPECS / "oneatlas-data-pay-per-order-api-openapi.yml"
TOULOUSE = load_aois().by_id()["toulouse"]


def example(name: str) -> Any:
    return json.loads((SEEDS / name).read_text())["example"]


@pytest.fixture(scope="module")
def delivered(make_sandbox_module) -> tuple[OneAtlasSession, dict[str, Any], dict[str, Any]]:
    """A sandbox with one data.api order and one PNEO order.api order, both delivered."""
    sandbox = make_sandbox_module()
    session = OneAtlasSession(sandbox)
    body = data_order_body(sensor_item(session)["properties"]["id"])
    order = session.client.post("/oneatlas/data/api/v1/orders", json=body).json()
    sales = session.client.post(
        "/oneatlas/order/api/v1/orders", json=sales_order_body(sensor_item(session, "PNEO"), "CTR-SANDBOX-NEO")
    ).json()
    advance(sandbox, 130)
    return session, order, sales


@pytest.fixture(scope="module")
def make_sandbox_module(tmp_path_factory: pytest.TempPathFactory):
    import contextlib

    from harvest.sandbox.server import running
    from harvest_tests.conftest import sandbox_config

    stack = contextlib.ExitStack()
    with stack:
        yield lambda: stack.enter_context(running(sandbox_config(tmp_path_factory.mktemp("contract"))))


def test_token_matches_seed_002(shared_sandbox: RunningSandbox) -> None:
    assert_same_shape(example("oneatlas_token_seed002.json"), fetch_token(shared_sandbox).json())


def test_public_feature_matches_seeds_001_and_002(shared_sandbox: RunningSandbox) -> None:
    session = OneAtlasSession(shared_sandbox)
    # seed 001's example is an archive SPOT item; ALBUM items have no WMTS (docs/providers.md#oneatlas-in-the-sandbox)
    # links, so the full link set of the example is compared with a SENSOR SPOT item
    spot = session.search_ok(
        geometry=TOULOUSE.geojson(), constellation="SPOT", processingLevel="SENSOR", itemsPerPage=1
    )
    assert_same_shape(example("oneatlas_search_feature_seed001.json"), spot["features"][0])
    assert_same_shape(example("oneatlas_search_feature_seed002.json"), spot["features"][0])


def test_delivered_workspace_feature_matches_seed_001(delivered) -> None:
    session, _, sales = delivered
    documented = example("oneatlas_workspace_search_seed001.json")
    found = session.search_ok(workspace="sandbox-workspace", internalReference=sales["salesOrderId"])
    assert_same_shape(documented, found)


def test_data_api_documents_match_seed_002(delivered) -> None:
    session, order, _ = delivered
    me = session.client.get("/oneatlas/data/api/v1/me").json()
    assert_same_shape(example("oneatlas_me_seed002.json"), me)
    subscriptions = session.client.get(f"/oneatlas/data/api/v1/contracts/{me['contract']['id']}/subscriptions")
    assert_same_shape(example("oneatlas_subscriptions_seed002.json"), subscriptions.json())
    price = session.client.post("/oneatlas/data/api/v1/prices", json=order["payload"]).json()
    assert_same_shape(example("oneatlas_price_seed002.json"), price)
    assert_same_shape(example("oneatlas_order_seed002.json"), order)


def test_order_api_response_matches_seed_001(delivered) -> None:
    _, _, sales = delivered
    assert_same_shape(example("oneatlas_order_response_seed001.json"), sales)


def test_the_documented_order_body_is_accepted(shared_sandbox: RunningSandbox) -> None:
    """Seed 001's own order body, with our contract, item and AOI swapped in, prices fine."""
    session = OneAtlasSession(shared_sandbox)
    feature = sensor_item(session)
    body = copy.deepcopy(example("oneatlas_order_request_seed001.json"))
    body["contractId"] = "CTR-SANDBOX-LEGACY"
    body["aoi"][0]["geometry"] = TOULOUSE.geojson()
    body["items"][0]["dataSourceIds"][0]["catalogItemId"] = feature["properties"]["id"]
    body["items"][0]["datastripIds"] = [feature["properties"]["archiveIdentifier"]]
    response = session.client.post("/oneatlas/order/api/v1/prices", json=body)
    assert response.status_code == 201, response.text


# --- validation against the OpenAPI schemas -------------------------------------------------------


def _documented_relaxations(components: dict[str, Any]) -> dict[str, Any]:
    """The spec's schemas, with the points where the examples win over the schema."""
    components = copy.deepcopy(components)
    item = components["schemas"]["CatalogItem"]["properties"]
    # `_links.images*`: a single object for one image, a list for several (seed 001,
    # docs/providers.md#oneatlas-catalog-search); the schema knows only the list form.
    link = {"$ref": "#/components/schemas/Link"}
    for name in ("imagesMetadata", "imagesGetBuffer", "imagesWcs", "imagesWms", "imagesWmts"):
        item["_links"]["properties"][name] = {"oneOf": [link, {"type": "array", "items": link, "minItems": 1}]}
    # productionStatus is an object in the schema but a string ("ARCHIVED", "IN_CLOUD") in every example
    item["properties"]["properties"]["productionStatus"] = {"type": "string"}
    # enums the spec itself marks "*Enumeration is not restrictive*" (constellation PHR, platform PNEO3...)
    for prop in item["properties"]["properties"].values():
        if "not restrictive" in str(prop.get("description", "")):
            prop.pop("enum", None)
    return components


@pytest.fixture(scope="module")
def spec_validator():
    if not SPEC.exists():
        pytest.skip(f"{SPEC} is not beside the repository")
    spec = yaml.load(SPEC.read_text(encoding="latin-1"), Loader=yaml.CSafeLoader)
    components = _documented_relaxations(spec["components"])

    def validate(instance: Any, schema: dict[str, Any]) -> None:
        jsonschema.validate(
            instance,
            {**schema, "components": components},
            cls=jsonschema.Draft7Validator,
            format_checker=jsonschema.FormatChecker(["uuid"]),  # WorkspaceIdentifier: a name or a uuid
        )

    return validate


def test_search_responses_validate_against_the_spec(shared_sandbox: RunningSandbox, spec_validator) -> None:
    session = OneAtlasSession(shared_sandbox)
    for params in (
        {"itemsPerPage": 200, "geometry": TOULOUSE.geojson()},
        {"itemsPerPage": 200, "processingLevel": "ALBUM"},
        {"itemsPerPage": 100, "constellation": "PNEO", "sortBy": "-lastUpdateDate"},
    ):
        spec_validator(session.search_ok(**params), {"$ref": "#/components/schemas/SearchResponse"})


def test_deleted_search_validates_against_the_spec(shared_sandbox: RunningSandbox, spec_validator) -> None:
    session = OneAtlasSession(shared_sandbox)
    body = session.client.post("/oneatlas/search/api/v1/deleted/search", json={"itemsPerPage": 50}).json()
    spec_validator(body, {"$ref": "#/components/schemas/search-deleted-response"})


def test_errors_validate_against_the_spec(shared_sandbox: RunningSandbox, spec_validator) -> None:
    session = OneAtlasSession(shared_sandbox)
    for response in (
        session.search(itemsPerPage=1000),
        session.search(acquisitionDate="[yesterday,"),
        session.client.post("/oneatlas/search/api/v2/opensearch", json={}, headers={"Authorization": "Bearer x.y.z"}),
    ):
        assert response.status_code in (400, 401)
        spec_validator(response.json(), {"$ref": "#/components/schemas/ApiError"})


def test_the_relaxations_are_needed(shared_sandbox: RunningSandbox) -> None:
    """Without the relaxations the raw schema rejects what the seeds document: they are not decoration."""
    if not SPEC.exists():
        pytest.skip(f"{SPEC} is not beside the repository")
    spec = yaml.load(SPEC.read_text(encoding="latin-1"), Loader=yaml.CSafeLoader)
    session = OneAtlasSession(shared_sandbox)
    response = session.search_ok(geometry=TOULOUSE.geojson(), itemsPerPage=100)
    raw = {"$ref": "#/components/schemas/SearchResponse", "components": spec["components"]}
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(response, raw, cls=jsonschema.Draft7Validator)
