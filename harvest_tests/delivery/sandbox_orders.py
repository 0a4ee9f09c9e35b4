"""Delivered products on a sandbox, ordered through harvest's own provider clients (for tests and the benchmark)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date

import httpx

from harvest.aois import load_aois
from harvest.ordering.model import Deliverable
from harvest.providers.arlula import ArlulaClient
from harvest.providers.oneatlas import OneAtlasClient
from harvest.providers.settings import ArlulaSettings, OneAtlasSettings

TOULOUSE = load_aois().by_id()["toulouse"]


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
