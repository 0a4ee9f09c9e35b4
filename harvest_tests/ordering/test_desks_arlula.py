"""The Arlula order desk against the sandbox over loopback: offers, orders, datasets and resources."""

from __future__ import annotations

import hashlib
from dataclasses import replace

import pytest

from harvest.ordering.desks.arlula import ArlulaDesk, md5_of, price_cents
from harvest.ordering.desks.base import InvalidOrderOptions, NotOrderable, OrderingError
from harvest.ordering.model import ProviderStatus, Unit
from harvest.providers.errors import BadRequest, OutcomeUnknown
from harvest.registry import open_desk
from harvest.sandbox.arlula.suppliers import License, total_price
from harvest.sandbox.server import RunningSandbox
from harvest_tests.conftest import advance
from harvest_tests.ordering.desks_support import download, hasty, order_request, set_faults

COMPLETE_S = 3 * 60 + 1  # pending, processing and post-processing last 60 s each in the sandbox
AIRBUS = "SPOT"  # a supplier that takes time to deliver (Landsat completes at once)


@pytest.fixture
def sandbox(make_sandbox) -> RunningSandbox:
    return make_sandbox()


def arlula_desk(sandbox: RunningSandbox) -> ArlulaDesk:
    desk = open_desk("arlula", sandbox.env())
    assert isinstance(desk, ArlulaDesk)
    return desk


@pytest.mark.parametrize(
    ("bundle", "percent", "amount"), [(0, 0, 0), (1, 0, 0), (12_345, 0, 0), (12_345, 10, 0), (9_999, 7.5, 250)]
)
def test_price_rounds_up_to_whole_dollars_as_the_sandbox_does(bundle: int, percent: float, amount: int) -> None:
    cents = price_cents(bundle, percent, amount)
    assert cents % 100 == 0 and cents >= bundle
    if float(percent).is_integer():
        assert cents == total_price(bundle, License("x", "x", int(percent), amount))


def test_md5_comes_from_the_checksum_field_only_when_it_is_md5() -> None:
    assert md5_of('md5:"3B5D5C3712955042212316173CCF37BE"') == "3b5d5c3712955042212316173ccf37be"
    assert md5_of("sha256:abcd") is None and md5_of(None) is None


def test_quote_place_and_deliver_resources_with_checksums(sandbox: RunningSandbox) -> None:
    desk = arlula_desk(sandbox)
    request = order_request(sandbox, "arlula", AIRBUS)
    quote = desk.quote(request)
    assert quote.unit is Unit.USD_CENTS and quote.amount > 0 and quote.amount % 100 == 0
    assert quote.reference == quote.raw["orderingID"] and quote.raw["sceneID"] == request.scene_id

    placed = desk.place(request, quote)
    assert (placed.status, placed.detail) == (ProviderStatus.ACCEPTED, "pending")
    [dataset] = placed.raw["datasets"]
    assert (dataset["sceneID"], dataset["bundle"], dataset["eula"]) == (
        request.scene_id,
        quote.raw["bundleKey"],
        quote.raw["eula"],
    )

    advance(sandbox, COMPLETE_S)
    delivered = desk.status(placed)
    assert delivered.status is ProviderStatus.DELIVERED and delivered.deliverables
    assert all(d.md5 and d.size and "/api/resource/" in d.url for d in delivered.deliverables)
    first = delivered.deliverables[0]
    body = download(desk, first)
    assert (len(body), hashlib.md5(body).hexdigest()) == (first.size, first.md5)


def test_find_sees_the_order_whose_answer_was_lost_even_from_a_fresh_desk(sandbox: RunningSandbox) -> None:
    desk = arlula_desk(sandbox)
    request = order_request(sandbox, "arlula", AIRBUS)
    quote = desk.quote(request)
    set_faults(sandbox, "order_timeout=1:0.6s@arlula")
    with pytest.raises(OutcomeUnknown):
        hasty(desk).place(request, quote)
    found = desk.find(request)
    assert found is not None and found.status is ProviderStatus.ACCEPTED
    fresh = arlula_desk(sandbox)  # no quote in memory: finds through a new search
    assert fresh.find(request) == found
    assert arlula_desk(sandbox).find(replace(request, acquired=None)) == found  # no search: by the ordered area
    assert [d["order"] for d in desk.client.datasets()] == [found.order_id]  # bought once


def test_find_tells_scenes_bundles_and_licenses_apart(sandbox: RunningSandbox) -> None:
    desk = arlula_desk(sandbox)
    standard = order_request(sandbox, "arlula", AIRBUS)
    placed = desk.place(standard, desk.quote(standard))
    assert desk.find(order_request(sandbox, "arlula", "PHR")) is None  # another scene
    assert desk.find(order_request(sandbox, "arlula", AIRBUS, bundle="analytic")) is None
    shared = order_request(sandbox, "arlula", AIRBUS, license="Multi-organisation")
    assert arlula_desk(sandbox).find(shared) is None
    second = desk.place(shared, desk.quote(shared))
    assert second.order_id != placed.order_id
    assert [(o.order_id if o else None) for o in (desk.find(standard), desk.find(shared))] == [
        placed.order_id,
        second.order_id,
    ]


def test_bad_options_and_a_tampered_offer_are_clear_errors(sandbox: RunningSandbox) -> None:
    desk = arlula_desk(sandbox)
    with pytest.raises(InvalidOrderOptions, match=r"no bundle 'gold'.*choose one of"):
        desk.quote(order_request(sandbox, "arlula", AIRBUS, bundle="gold"))
    with pytest.raises(InvalidOrderOptions, match=r"unknown product option\(s\) 'seats'"):
        desk.quote(order_request(sandbox, "arlula", AIRBUS, seats=2))
    request = order_request(sandbox, "arlula", AIRBUS)
    quote = desk.quote(request)
    with pytest.raises(BadRequest, match="orderingID") as caught:
        desk.place(request, replace(quote, reference=quote.reference[:-4] + "AAAA"))  # type: ignore[index]
    assert caught.value.status == 400
    assert desk.find(request) is None


def test_a_request_without_its_acquisition_time_or_offer_is_refused(sandbox: RunningSandbox) -> None:
    desk = arlula_desk(sandbox)
    request = order_request(sandbox, "arlula", AIRBUS)
    with pytest.raises(OrderingError, match="acquired="):
        desk.quote(replace(request, acquired=None))
    with pytest.raises(NotOrderable, match="no longer offers scene NOPE"):
        desk.quote(replace(request, scene_id="NOPE"))
