"""The Sentinel Hub import desk against the sandbox over loopback: quotes are orders, placing confirms them."""

from __future__ import annotations

from dataclasses import replace

import pytest

from harvest.ordering.desks.base import InvalidOrderOptions, OrderingError
from harvest.ordering.desks.sentinelhub import SentinelHubImportDesk
from harvest.ordering.model import ProviderStatus, Unit
from harvest.providers.errors import BadRequest, OutcomeUnknown
from harvest.registry import open_desk
from harvest.sandbox.server import RunningSandbox
from harvest_tests.conftest import advance
from harvest_tests.ordering.desks_support import download, hasty, order_request, set_faults

DONE_S = 5 * 60  # a delivery spends 60 s in each of WAITING, DELIVERED, PREPARING and INGESTING
PROVIDER = "sentinelhub-import"


@pytest.fixture
def sandbox(make_sandbox) -> RunningSandbox:
    return make_sandbox()


def hub_desk(sandbox: RunningSandbox) -> SentinelHubImportDesk:
    desk = open_desk(PROVIDER, sandbox.env())
    assert isinstance(desk, SentinelHubImportDesk)
    return desk


def quota_used(desk: SentinelHubImportDesk) -> float:
    return sum(float(q["quotaUsed"]) for q in desk.client.quotas())


def test_quote_place_and_deliver_the_files(sandbox: RunningSandbox) -> None:
    desk = hub_desk(sandbox)
    request = order_request(sandbox, PROVIDER, "PHR")
    quote = desk.quote(request)
    assert quote.unit is Unit.KM2 and quote.amount > 0 and float(quote.amount) == quote.area_km2
    assert quote.reference and quote.raw["name"] == request.key and quote.raw["status"] == "CREATED"
    assert desk.quote(request).reference == quote.reference  # quoting again reuses the unconfirmed order
    assert quota_used(desk) == 0

    placed = desk.place(request, quote)
    assert (placed.order_id, placed.status, placed.detail) == (quote.reference, ProviderStatus.ACCEPTED, "RUNNING")
    assert desk.place(request, quote) == placed  # a second confirm (409) reads the order instead
    assert quota_used(desk) == pytest.approx(float(quote.amount))  # spent once

    advance(sandbox, DONE_S)
    delivered = desk.status(placed)
    assert (delivered.status, delivered.detail) == (ProviderStatus.DELIVERED, "DONE")
    assert len(delivered.deliverables) > 1 and all(d.size and d.md5 is None for d in delivered.deliverables)
    first = delivered.deliverables[0]
    assert len(download(desk, first)) == first.size


def test_find_sees_the_order_whose_confirmation_was_lost(sandbox: RunningSandbox) -> None:
    desk = hub_desk(sandbox)
    request = order_request(sandbox, PROVIDER, "PHR")
    quote = desk.quote(request)
    set_faults(sandbox, "order_timeout=1:0.6s@sentinelhub.tpdi")
    with pytest.raises(OutcomeUnknown):
        hasty(desk).place(request, quote)
    found = desk.find(request)
    assert found is not None and (found.order_id, found.status) == (quote.reference, ProviderStatus.ACCEPTED)


def test_find_is_none_for_a_key_never_ordered_or_only_quoted(sandbox: RunningSandbox) -> None:
    desk = hub_desk(sandbox)
    assert desk.find(order_request(sandbox, PROVIDER, "PHR")) is None
    quoted = order_request(sandbox, PROVIDER, "SPOT")
    desk.quote(quoted)
    assert desk.find(quoted) is None  # a quote is not an order


def test_bad_requests_are_clear_errors(sandbox: RunningSandbox) -> None:
    desk = hub_desk(sandbox)
    request = order_request(sandbox, PROVIDER, "PHR")
    with pytest.raises(InvalidOrderOptions, match=r"unknown product option.*takes no product options"):
        desk.quote(replace(request, options={"productType": "bundle"}))
    with pytest.raises(OrderingError, match="needs the scene's constellation"):
        desk.quote(replace(request, constellation=None))
    with pytest.raises(BadRequest, match="is PHR, not SPOT") as caught:
        desk.quote(replace(request, constellation="SPOT"))
    assert caught.value.status == 400 and caught.value.provider == "Sentinel Hub"
