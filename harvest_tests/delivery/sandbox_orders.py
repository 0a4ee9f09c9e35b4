"""Delivered products on a sandbox, ordered through harvest's own provider clients (for tests and the benchmark)."""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from datetime import date
from decimal import Decimal

import httpx

from harvest.aois import load_aois
from harvest.delivery.deliverable import Deliverable
from harvest.ordering.ledger import Budgets, Ledger
from harvest.ordering.model import Unit
from harvest.providers.arlula import ArlulaClient
from harvest.providers.oneatlas import OneAtlasClient
from harvest.providers.settings import ArlulaSettings, OneAtlasSettings
from harvest.registry import open_desk
from harvest.sandbox.arlula.orders import DATASETS, ORDERS, RESOURCES
from harvest.sandbox.server import RunningSandbox
from harvest_tests.ordering.desks_support import order_request

TOULOUSE = load_aois().by_id()["toulouse"]
_NO_LIMIT = {Unit.USD_CENTS: Decimal(10**9)}


def advance(sandbox_url: str, seconds: float) -> None:
    """Move the sandbox clock forward."""
    httpx.post(f"{sandbox_url}/_sandbox/clock", json={"advance_s": seconds}, timeout=10).raise_for_status()


def set_faults(sandbox_url: str, spec: str) -> None:
    """Replace the sandbox's injected faults (an empty spec: none)."""
    httpx.post(f"{sandbox_url}/_sandbox/faults", json={"spec": spec}, timeout=10).raise_for_status()


def oneatlas_product(env: Mapping[str, str], sandbox_url: str) -> tuple[OneAtlasClient, Deliverable]:
    """A data.api order of a Pléiades SENSOR item over Toulouse, delivered: its client and its zip."""
    client = OneAtlasClient(OneAtlasSettings.from_env(env), requests_per_s=None)
    query = {"geometry": TOULOUSE.geojson(), "constellation": "PHR", "processingLevel": "SENSOR"}
    item = next(iter(client.search(query)))
    product = {"productType": "bundle", "radiometricProcessing": "REFLECTANCE", "imageFormat": "image/jp2",
               "crsCode": "urn:ogc:def:crs:EPSG::4326", "id": item.id, "aoi": TOULOUSE.geojson()}  # fmt: skip
    order = client.place_data_order({"kind": "order.data.product", "products": [product], "customerRef": "hvtest"})
    advance(sandbox_url, 130)  # delivery takes 120 s of sandbox time, plus the visibility delay
    delivered = client.data_order(order["id"])
    assert delivered["status"] == "delivered", delivered
    href = delivered["deliveries"][0]["_links"]["download"]["href"]
    return client, Deliverable(url=href, filename=f"{delivered['deliveries'][0]['itemId']}.zip")


def arlula_resource(env: Mapping[str, str], sandbox_url: str) -> tuple[ArlulaClient, Deliverable]:
    """A 21AT archive order from Arlula over Toulouse, complete: its client and its image (a data redirect)."""
    client = ArlulaClient(ArlulaSettings.from_env(env), requests_per_s=None)
    results = client.search(start=date(2026, 1, 1), end=date(2026, 10, 31), geometry=TOULOUSE.geometry)
    result = next(r for r in results if r["supplier"] == "21at")  # commercial: its data expires after 30 days
    eula = next(lic["href"] for lic in result["licenses"] if lic["name"] == "Standard")
    order = client.order(result["orderingID"], eula=eula, bundle_key="visual")
    advance(sandbox_url, 3 * 60 + 1)  # pending, processing, post-processing
    dataset = client.dataset(order["datasets"][0]["id"])
    resource = next(r for r in dataset["resources"] if r["type"] == "img_tiff")
    url = f"{client.settings.url}/api/resource/{resource['id']}/data"
    return client, Deliverable(url=url, filename=resource["name"], size=resource["size"], md5=resource["checksum"])


def name_arlula_resources(sandbox: RunningSandbox, order_id: str, names: Sequence[str]) -> None:
    """Make an Arlula sandbox order's dataset deliver one resource per name, in that order (names may repeat).

    Each resource gets an id of its own and a size of its own (so different bytes), as a supplier's
    files would; the sandbox serves, lists and checksums them like any other.
    """
    state = sandbox.sandbox.state
    order = state.get(ORDERS, order_id)
    assert order is not None, f"no Arlula order {order_id} in the sandbox"
    dataset = state.get(DATASETS, order["datasets"][0])
    assert dataset is not None
    for old in dataset["resources"]:
        state.delete(RESOURCES, old["id"])
    dataset["resources"] = [
        {
            "id": str(uuid.uuid5(uuid.NAMESPACE_URL, f"harvest-tests/arlula/{dataset['id']}/{index}/{name}")),
            "dataset": dataset["id"],
            "name": name,
            "type": "meta_json" if name.endswith(".json") else "img_tiff",
            "format": "application/json" if name.endswith(".json") else "image/tiff",
            "roles": ["metadata"] if name.endswith(".json") else ["data"],
            "size": 3_000 + 1_000 * index,
        }
        for index, name in enumerate(names)
    ]
    state.put(DATASETS, dataset["id"], dataset, dataset["created_ns"])
    for resource in dataset["resources"]:
        state.put(RESOURCES, resource["id"], {"id": resource["id"], "dataset": dataset["id"]}, dataset["created_ns"])


def delivered_arlula_orders(
    sandbox: RunningSandbox, database_url: str, count: int, names: Sequence[str] | None = None
) -> list[str]:
    """Quote, place and deliver Arlula orders for the first `count` scenes over Toulouse, recorded in the ledger
    at `database_url`; the first order's files are named `names`, if given. Their keys, oldest first."""
    desk = open_desk("arlula", sandbox.env())
    placed = []
    with Ledger.open(database_url) as ledger:
        for index in range(count):
            request = order_request(sandbox, "arlula", index=index)
            quote = desk.quote(request)
            ledger.record_quote(request, quote, actor="tests")
            ledger.approve(request.key, actor="person: tester")
            ledger.reserve(request.key, budgets=Budgets(_NO_LIMIT, {TOULOUSE.id: _NO_LIMIT}), month="2026-11")
            order = desk.place(request, quote)
            ledger.placed(request.key, order.order_id, raw=order.raw)
            placed.append((request.key, order))
        if names is not None:
            name_arlula_resources(sandbox, placed[0][1].order_id, names)
        advance(sandbox.url, 3 * 60 + 1)  # an Airbus dataset: pending, processing, post-processing
        for key, order in placed:
            ledger.delivered(key, desk.status(order).deliverables)
    desk.close()
    return [key for key, _ in placed]
