"""The placement sensor: an order given back unsent (its provider could not be asked) is tried again, after a rest."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import dagster as dg

from harvest.aois import DEFAULT_AOIS_PATH, load_aois
from harvest.defs.orders.sensors import order_placement
from harvest.defs.resources import OrderingResource
from harvest.ordering.ledger import Budgets, Ledger, month_of
from harvest.ordering.model import OrderRequest, Quote, Unit
from harvest.ordering.placing import PLACING_LEASE
from harvest_tests.ordering.clock import StepClock

BUDGETS = Budgets(overall={Unit.USD_CENTS: Decimal(10) ** 9}, per_aoi={"toulouse": {Unit.USD_CENTS: Decimal(10) ** 9}})


def tick(ordering: OrderingResource) -> dg.SensorResult:
    with dg.build_sensor_context(resources={"ordering": ordering}) as context:
        result = order_placement(context)
    assert isinstance(result, dg.SensorResult)
    return result


def requested(result: dg.SensorResult) -> tuple[str, list[str]]:
    """The run key and the order keys of the one run the sensor asks for."""
    (request,) = result.run_requests or []
    assert request.run_key is not None
    return request.run_key, request.run_config["ops"]["place_approved_orders"]["config"]["order_keys"]


def test_an_order_given_back_unsent_is_asked_for_again_after_a_rest(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'ledger.sqlite'}"
    ordering = OrderingResource(database_url=url)
    now = datetime.now(UTC)
    clock = StepClock(now - timedelta(hours=2))
    toulouse = load_aois(DEFAULT_AOIS_PATH).by_id()["toulouse"]
    request = OrderRequest.build("arlula", "SCENE-1", toulouse.id, toulouse.geojson(), {})
    with Ledger.open(url, clock=clock) as ledger:
        ledger.record_quote(request, Quote(request.key, Decimal(100), Unit.USD_CENTS), actor="harvest quotes")
        ledger.approve(request.key, actor="person: test")
    first, keys = requested(tick(ordering))
    assert keys == [request.key]

    def tried_and_given_back(ago: timedelta) -> None:
        clock.now = now - ago
        with Ledger.open(url, clock=clock) as ledger:
            placing = ledger.reserve(request.key, budgets=BUDGETS, month=month_of(clock()), actor="a placement")
            given_back = ledger.release(request.key, "Arlula could not be reached", held_since=placing.updated_at)
            assert given_back is not None

    tried_and_given_back(PLACING_LEASE + timedelta(minutes=5))
    again, keys = requested(tick(ordering))
    assert keys == [request.key] and again != first  # a new run key: the daemon launches it

    tried_and_given_back(timedelta(minutes=1))
    resting = tick(ordering)
    assert not resting.run_requests and resting.skip_reason is not None
    assert "could not be asked" in str(resting.skip_reason)
