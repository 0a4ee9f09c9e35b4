"""The Dagster definitions load, and their persisted ids stay what they are.

Asset keys, partition definitions, sensor, schedule and job names and pool names are stored in
every instance (materializations, cursors, run history, slot counts): renaming one orphans that
history. This test pins them; change it only with a migration plan.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import dagster as dg
import pytest

from harvest.definitions import defs
from harvest.ordering.ledger import Ledger
from harvest.ordering.ledger.states import OrderState
from harvest.ordering.model import OrderRequest, Quote, Unit
from harvest_tests.ordering.ledger_support import order_of

CATALOG_ASSETS = {
    "oneatlas_scenes",
    "arlula_scenes",
    "sentinelhub_import_scenes",
    "sentinelhub_catalog_scenes",
    "scene_catalog",
}
ASSETS = CATALOG_ASSETS | {"coverage_maps", "order_candidates", "deliveries"}
SENSORS = {
    "oneatlas_updates",
    "arlula_recent_captures",
    "sentinelhub_import_recent_captures",
    "sentinelhub_catalog_recent_captures",
    "order_placement",
    "order_tracking",
    "catalog_followers",
}
JOBS = {
    "harvest_oneatlas",
    "harvest_arlula",
    "harvest_sentinelhub_import",
    "harvest_sentinelhub_catalog",
    "place_orders",
    "approve_orders",
}
POOLS = {
    "oneatlas_scenes": "provider-oneatlas",
    "arlula_scenes": "provider-arlula",
    "sentinelhub_import_scenes": "provider-sentinelhub-import",
    "sentinelhub_catalog_scenes": "provider-sentinelhub-catalog",
    "scene_catalog": "catalog-unify",
}


@pytest.fixture(scope="module")
def definitions() -> dg.Definitions:
    return defs()


def test_asset_keys_groups_and_descriptions_are_pinned(definitions: dg.Definitions) -> None:
    specs = {spec.key.to_user_string(): spec for spec in definitions.resolve_all_asset_specs()}
    assert set(specs) == ASSETS
    assert {key for key, spec in specs.items() if spec.group_name == "catalog"} == CATALOG_ASSETS | {"coverage_maps"}
    assert {key for key, spec in specs.items() if spec.group_name == "orders"} == {"order_candidates", "deliveries"}
    for key, spec in specs.items():
        assert spec.description and "\n" not in spec.description.strip(), f"{key} needs a one-line description"


def test_partitions_are_pinned(definitions: dg.Definitions) -> None:
    graph = definitions.resolve_asset_graph()
    for key in CATALOG_ASSETS | {"order_candidates"}:
        partitions = graph.get(dg.AssetKey(key)).partitions_def
        assert isinstance(partitions, dg.DailyPartitionsDefinition), key
        assert partitions.start == datetime(2018, 1, 1, tzinfo=UTC)
        assert partitions.timezone == "UTC" and partitions.end_offset == 1
    deliveries = graph.get(dg.AssetKey("deliveries")).partitions_def
    assert isinstance(deliveries, dg.DynamicPartitionsDefinition) and deliveries.name == "order_deliveries"
    assert graph.get(dg.AssetKey("coverage_maps")).partitions_def is None


def test_sensors_schedules_jobs_and_pools_are_pinned(definitions: dg.Definitions) -> None:
    sensors = {sensor.name: sensor for sensor in definitions.sensors or []}
    assert set(sensors) == SENSORS
    assert all(s.default_status is dg.DefaultSensorStatus.RUNNING for s in sensors.values()), "on in make dev"
    (schedule,) = definitions.schedules or []
    assert isinstance(schedule, dg.ScheduleDefinition)
    assert schedule.name == "catalog_reconciliation" and schedule.cron_schedule == "30 2 * * *"
    assert schedule.execution_timezone == "UTC"
    assert {job.name for job in definitions.resolve_all_job_defs()} >= JOBS
    graph = definitions.resolve_asset_graph()
    for key, pool in POOLS.items():
        assert graph.assets_def_for_key(dg.AssetKey(key)).op.pool == pool


def test_catalog_assets_backfill_a_range_in_one_run(definitions: dg.Definitions) -> None:
    graph = definitions.resolve_asset_graph()
    for key in CATALOG_ASSETS | {"order_candidates"}:
        policy = graph.get(dg.AssetKey(key)).backfill_policy
        assert policy is not None and policy.max_partitions_per_run is None, key


def test_a_person_approves_waiting_orders_from_the_launchpad(tmp_path: Path) -> None:
    from harvest.defs.orders.jobs import approve_orders
    from harvest.defs.resources import OrderingResource

    url = f"sqlite:///{tmp_path / 'ledger.sqlite'}"
    request = OrderRequest.build("oneatlas", "scene-1", "toulouse", {"type": "Point", "coordinates": [1.4, 43.6]})
    with Ledger.open(url) as ledger:
        ledger.record_quote(request, Quote(request.key, Decimal(900), Unit.CREDITS), actor="harvest")
        ledger.await_approval(request.key, actor="harvest", reason="over the threshold")
    resources = {"ordering": OrderingResource(database_url=url)}
    refused = approve_orders.execute_in_process(
        run_config={
            "ops": {"approve_waiting_orders": {"config": {"order_keys": [request.key, "hvnope"], "approved_by": "ada"}}}
        },
        resources=resources,
        raise_on_error=False,
    )
    assert not refused.success
    with Ledger.open(url) as ledger:
        assert order_of(ledger, request.key).state is OrderState.AWAITING_APPROVAL, "all or none"
    approved = approve_orders.execute_in_process(
        run_config={"ops": {"approve_waiting_orders": {"config": {"order_keys": [request.key], "approved_by": "ada"}}}},
        resources=resources,
    )
    assert approved.success
    with Ledger.open(url) as ledger:
        order = order_of(ledger, request.key)
        assert order.state is OrderState.APPROVED and order.approved_by == "person: ada via the Dagster launchpad"
