"""End to end, from an empty data directory: the sandbox's scenes over the default AOIs are harvested,
quoted, auto-approved within budget, ordered, delivered and landed, and the ledger, the manifests and
the Dagster instance agree."""

from __future__ import annotations

import hashlib
from datetime import UTC, date, datetime
from pathlib import Path

import dagster as dg
import pytest

from harvest.buying.policy import load_policies
from harvest.buying.quoting import budgets_from
from harvest.defs.catalog.assets import provider_assets, scene_catalog
from harvest.defs.catalog.partitions import PARTITION_RANGE_END_TAG, PARTITION_RANGE_START_TAG
from harvest.defs.orders.assets import DELIVERIES, deliveries, order_candidates
from harvest.defs.orders.jobs import place_orders
from harvest.defs.orders.partitions import DELIVERY_ORDERS
from harvest.defs.orders.sensors import order_placement, order_tracking
from harvest.defs.resources import HarvestResource, OrderingResource
from harvest.delivery.manifest import read_manifest
from harvest.ordering.ledger import Ledger
from harvest.ordering.ledger.states import OrderState
from harvest.sandbox.server import RunningSandbox
from harvest_tests.conftest import advance
from harvest_tests.defs.test_sensors import resource_for

FIRST, LAST = date(2026, 10, 1), date(2026, 10, 19)
FROZEN = "frozen@2026-10-20T00:00:00Z"
ASSETS = [*provider_assets.values(), scene_catalog, order_candidates, deliveries]


def ordering_for(sandbox: RunningSandbox, data_dir: Path) -> OrderingResource:
    return OrderingResource(database_url=f"sqlite:///{data_dir / 'ledger.sqlite'}", sandbox_url=sandbox.url)


def materialize(selection: list[str], harvest: HarvestResource, ordering: OrderingResource, instance, **kwargs):
    result = dg.materialize(
        ASSETS, selection=selection, instance=instance, resources={"harvest": harvest, "ordering": ordering}, **kwargs
    )
    assert result.success
    return result


def sensor_tick(sensor: dg.SensorDefinition, instance, harvest, ordering) -> dg.SensorResult:
    with dg.build_sensor_context(instance=instance, resources={"harvest": harvest, "ordering": ordering}) as context:
        result = sensor(context)
    assert isinstance(result, dg.SensorResult)
    return result


def test_from_an_empty_data_directory_to_landed_imagery(make_sandbox, tmp_path: Path) -> None:
    sandbox = make_sandbox(clock=FROZEN)
    harvest, ordering = resource_for(sandbox, tmp_path), ordering_for(sandbox, tmp_path)
    days = {PARTITION_RANGE_START_TAG: FIRST.isoformat(), PARTITION_RANGE_END_TAG: LAST.isoformat()}
    with dg.instance_for_test() as instance:
        # harvested, then quoted: the best offer of each enabled AOI is auto-approved or queued
        materialize(
            [a.key.path[-1] for a in provider_assets.values()] + ["scene_catalog"],
            harvest,
            ordering,
            instance,
            tags=days,
        )
        materialize(["order_candidates"], harvest, ordering, instance, tags=days)
        with Ledger.open(ordering.database_url) as ledger:
            approved = {order.key for order in ledger.orders(states=[OrderState.APPROVED])}
            assert approved, "the shipped policies should auto-approve some offers over the sandbox"
            assert all(
                (order.approved_by or "").startswith("auto:") for order in ledger.orders(states=[OrderState.APPROVED])
            )

        # the placement sensor asks for one run with exactly the approved keys, and asks only once
        placement = sensor_tick(order_placement, instance, harvest, ordering)
        (request,) = placement.run_requests or []
        result = place_orders.execute_in_process(
            run_config=request.run_config, instance=instance, resources={"harvest": harvest, "ordering": ordering}
        )
        assert result.success
        with Ledger.open(ordering.database_url) as ledger:
            placed = {order.key for order in ledger.orders(states=[OrderState.PLACED])}
            refused = {e.key for key in approved for e in ledger.events(key) if e.kind == "budget_refused"}
            assert placed | refused == approved and placed
            after = sensor_tick(order_placement, instance, harvest, ordering)
            if refused:  # still approved, waiting for budget: asked for again, under a key of their own
                assert {
                    k
                    for r in after.run_requests or []
                    for k in r.run_config["ops"]["place_approved_orders"]["config"]["order_keys"]
                } == refused
            else:
                assert after.skip_reason is not None and not after.run_requests

        # the provider delivers; the tracking sensor adds a partition per delivered order and asks to land it
        advance(sandbox, 3 * 3600)
        tracking = sensor_tick(order_tracking, instance, harvest, ordering)
        for partitions in tracking.dynamic_partitions_requests or []:
            instance.add_dynamic_partitions(partitions.partitions_def_name, list(partitions.partition_keys))
        requested = {run.partition_key for run in tracking.run_requests or [] if run.partition_key}
        assert requested == placed
        for key in sorted(requested):
            materialize([DELIVERIES], harvest, ordering, instance, partition_key=key)

        # the ledger, the manifests and the Dagster instance agree
        with Ledger.open(ordering.database_url) as ledger:
            landed = ledger.orders(states=[OrderState.LANDED])
            assert {order.key for order in landed} == placed
            policies = load_policies(harvest.aoi_set())
            budgets = budgets_from(policies)
            for order in landed:
                assert ledger.owned(order.provider, order.scene_id) and order.manifest_path is not None
                manifest = read_manifest(harvest.root() / order.manifest_path)
                assert manifest.order_key == order.key and manifest.order_id == order.provider_order_id
                stored = {Path(f.path).name: (f.size, f.md5) for f in ledger.files(order.key)}
                on_disk = {}
                for file in manifest.files:
                    path = (harvest.root() / order.manifest_path).parent / file.path
                    on_disk[path.name] = (path.stat().st_size, hashlib.md5(path.read_bytes()).hexdigest())
                    assert (file.size, file.md5) == on_disk[path.name]
                assert stored == on_disk
            month = datetime(2026, 10, 20, tzinfo=UTC).strftime("%Y-%m")
            for unit, limit in budgets.overall.items():
                assert ledger.spent(month, unit=unit) <= limit
        assert set(instance.get_materialized_partitions(dg.AssetKey(DELIVERIES))) == placed
        assert set(instance.get_dynamic_partitions(DELIVERY_ORDERS)) == placed
        # nothing is left to land: the sensor skips
        assert sensor_tick(order_tracking, instance, harvest, ordering).skip_reason is not None


@pytest.mark.parametrize("bad", ["defaults: {max_cloud_cover: 140}", "overall: {monthly_budget: {dollars: 5}}"])
def test_order_candidates_refuse_invalid_policies_with_a_clear_failure(
    bad: str, make_sandbox, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    sandbox = make_sandbox(clock=FROZEN)
    policy_file = tmp_path / "policies.yaml"
    policy_file.write_text(bad + "\n")
    monkeypatch.setenv("HARVEST_POLICIES", str(policy_file))
    harvest, ordering = resource_for(sandbox, tmp_path), ordering_for(sandbox, tmp_path)
    with dg.instance_for_test() as instance:
        result = dg.materialize(
            ASSETS,
            selection=["order_candidates"],
            instance=instance,
            partition_key=FIRST.isoformat(),
            resources={"harvest": harvest, "ordering": ordering},
            raise_on_error=False,
        )
    assert not result.success
    failure = next(e for e in result.all_events if e.is_step_failure)
    assert failure.step_failure_data.error is not None
    assert "the ordering policies cannot be used" in failure.step_failure_data.error.message
