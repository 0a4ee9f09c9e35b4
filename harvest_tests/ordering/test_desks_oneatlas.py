"""OneAtlas order desks against the sandbox over loopback: data.api (credits) and order.api (EUR)."""

from __future__ import annotations

import hashlib
from decimal import Decimal

import pytest

from harvest.ordering.desks.base import InvalidOrderOptions, OrderingError
from harvest.ordering.desks.oneatlas_data import DataApiDesk
from harvest.ordering.desks.oneatlas_order import AWAITING, OrderApiDesk
from harvest.ordering.model import OrderRequest, ProviderStatus, Quote, Unit
from harvest.providers.errors import BadRequest, OutcomeUnknown
from harvest.registry import open_desk
from harvest.sandbox.server import RunningSandbox
from harvest_tests.conftest import advance
from harvest_tests.ordering.desks_support import download, hasty, order_request, set_faults

DELIVERY_S = 130  # the sandbox delivers OneAtlas orders after 120 s, visible 5 s later


@pytest.fixture
def sandbox(make_sandbox) -> RunningSandbox:
    return make_sandbox()


def data_desk(sandbox: RunningSandbox) -> DataApiDesk:
    desk = open_desk("oneatlas", sandbox.env())
    assert isinstance(desk, DataApiDesk)
    return desk


def order_desk(sandbox: RunningSandbox) -> OrderApiDesk:
    desk = open_desk("oneatlas", {**sandbox.env(), "ONEATLAS_ORDER_FLAVOUR": "order"})
    assert isinstance(desk, OrderApiDesk)
    return desk


def test_data_api_quote_place_and_deliver_a_verifiable_zip(sandbox: RunningSandbox) -> None:
    desk = data_desk(sandbox)
    request = order_request(sandbox, "oneatlas", "PHR")
    quote = desk.quote(request)
    assert quote.key == request.key and quote.unit is Unit.CREDITS
    assert quote.amount > 0 and quote.area_km2 and quote.area_km2 > 0
    assert quote.raw["payload"]["products"][0]["productType"] == "bundle"  # the default product

    placed = desk.place(request, quote)
    assert (placed.status, placed.detail, placed.deliverables) == (ProviderStatus.ACCEPTED, "ordered", ())
    assert placed.raw["customerRef"] == request.key
    assert desk.status(placed).status is ProviderStatus.ACCEPTED

    advance(sandbox, DELIVERY_S)
    delivered = desk.status(placed)
    assert (delivered.status, delivered.order_id) == (ProviderStatus.DELIVERED, placed.order_id)
    [zip_file] = delivered.deliverables
    assert zip_file.filename.endswith(".zip") and zip_file.url.endswith("/download")
    body = download(desk, zip_file)
    assert (len(body), hashlib.md5(body).hexdigest()) == (zip_file.size, zip_file.md5)


def test_data_api_find_sees_the_order_whose_answer_was_lost(sandbox: RunningSandbox) -> None:
    desk = data_desk(sandbox)
    request = order_request(sandbox, "oneatlas", "PHR")
    quote = desk.quote(request)
    set_faults(sandbox, "order_timeout=1:0.6s@oneatlas.data")
    with pytest.raises(OutcomeUnknown):
        hasty(desk).place(request, quote)
    found = desk.find(request)
    assert found is not None and found.status is ProviderStatus.ACCEPTED
    assert [o["id"] for o in desk.client.data_orders()] == [found.order_id]  # exactly one order exists


def test_data_api_find_is_none_for_a_key_never_ordered(sandbox: RunningSandbox) -> None:
    desk = data_desk(sandbox)
    ordered = order_request(sandbox, "oneatlas", "PHR")
    desk.place(ordered, desk.quote(ordered))
    other_product = order_request(sandbox, "oneatlas", "PHR", imageFormat="image/geotiff")
    assert desk.find(other_product) is None
    assert desk.find(ordered) is not None


def test_data_api_refuses_unknown_option_names_and_the_provider_refuses_bad_values(sandbox: RunningSandbox) -> None:
    desk = data_desk(sandbox)
    with pytest.raises(InvalidOrderOptions, match=r"'producttype'.*productType"):
        desk.quote(order_request(sandbox, "oneatlas", "PHR", producttype="bundle"))
    rejected = order_request(sandbox, "oneatlas", "PHR", productType="colour")
    with pytest.raises(BadRequest, match="productType must be one of"):
        desk.quote(rejected)
    with pytest.raises(BadRequest, match="productType must be one of") as caught:
        desk.place(rejected, Quote(rejected.key, Decimal(1), Unit.CREDITS))
    assert caught.value.status == 400 and caught.value.provider == "OneAtlas"
    assert desk.find(rejected) is None
    with pytest.raises(OrderingError, match="the quote is for order"):
        desk.place(order_request(sandbox, "oneatlas", "PHR"), Quote(rejected.key, Decimal(1), Unit.CREDITS))


def test_order_api_quote_place_and_deliver_through_the_workspace(sandbox: RunningSandbox) -> None:
    desk = order_desk(sandbox)
    request = order_request(sandbox, "oneatlas", "PHR")
    quote = desk.quote(request)
    assert quote.unit is Unit.EUR and quote.amount > 0 and quote.raw["currency"] == "EUR"

    placed = desk.place(request, quote)
    assert placed.order_id.startswith("SAL") and placed.status is ProviderStatus.ACCEPTED
    assert desk.status(placed).detail == AWAITING

    advance(sandbox, DELIVERY_S)
    delivered = desk.status(placed)
    assert delivered.status is ProviderStatus.DELIVERED
    [zip_file] = delivered.deliverables
    body = download(desk, zip_file)
    assert (len(body), hashlib.md5(body).hexdigest()) == (zip_file.size, zip_file.md5)
    found = desk.find(request)
    assert found is not None and found.order_id == placed.order_id


def test_order_api_tracks_a_lost_pleiades_neo_order_at_once(sandbox: RunningSandbox) -> None:
    desk = order_desk(sandbox)
    request = order_request(sandbox, "oneatlas", "PNEO")
    quote = desk.quote(request)
    set_faults(sandbox, "order_timeout=1:0.6s@oneatlas.order")
    with pytest.raises(OutcomeUnknown):
        hasty(desk).place(request, quote)
    found = desk.find(request)
    assert found is not None and found.order_id.startswith("SAL")
    assert (found.status, found.detail) == (ProviderStatus.ACCEPTED, "IN_PROGRESS")


def test_order_api_sees_a_lost_spot_or_pleiades_order_only_once_delivered(sandbox: RunningSandbox) -> None:
    desk = order_desk(sandbox)
    assert desk.finds_undelivered is False
    request = order_request(sandbox, "oneatlas", "PHR")
    quote = desk.quote(request)
    set_faults(sandbox, "order_timeout=1:0.6s@oneatlas.order")
    with pytest.raises(OutcomeUnknown):
        hasty(desk).place(request, quote)
    assert desk.find(request) is None  # no tracking endpoint for SPOT/Pléiades archive orders
    advance(sandbox, DELIVERY_S)
    found = desk.find(request)
    assert found is not None and found.status is ProviderStatus.DELIVERED and found.order_id.startswith("SAL")


def test_order_api_refuses_options_it_cannot_translate(sandbox: RunningSandbox) -> None:
    desk = order_desk(sandbox)
    with pytest.raises(InvalidOrderOptions, match=r"imageFormat='image/png'.*image/jp2, image/geotiff"):
        desk.quote(order_request(sandbox, "oneatlas", "PHR", imageFormat="image/png"))


def test_request_keys_ignore_the_catalog_facts(sandbox: RunningSandbox) -> None:
    request = order_request(sandbox, "oneatlas", "PHR")
    bare = OrderRequest.build("oneatlas", request.scene_id, request.aoi_id, request.aoi_geometry)
    assert bare.key == request.key and request.acquired is not None and request.acquired.tzinfo is not None
