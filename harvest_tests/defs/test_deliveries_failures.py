"""The `deliveries` asset when a delivery cannot land: a message saying why, and no retry that cannot help."""

from __future__ import annotations

import errno
import os
from collections.abc import Callable
from pathlib import Path

import dagster as dg
import pytest

from harvest.defs.orders.assets import deliveries
from harvest.defs.orders.partitions import DELIVERY_ORDERS
from harvest.defs.resources import OrderingResource
from harvest.delivery.partial import PartialFile
from harvest.ordering.ledger import Ledger, OrderState
from harvest.sandbox.server import RunningSandbox
from harvest_tests.defs.test_sensors import resource_for
from harvest_tests.delivery.sandbox_orders import delivered_arlula_orders
from harvest_tests.ordering.ledger_support import order_of


def test_a_full_disk_fails_the_partition_with_the_folder_and_is_not_retried(
    make_sandbox: Callable[..., RunningSandbox], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    sandbox = make_sandbox()
    harvest = resource_for(sandbox, tmp_path)
    ordering = OrderingResource(database_url=f"sqlite:///{tmp_path / 'ledger.sqlite'}", sandbox_url=sandbox.url)
    [key] = delivered_arlula_orders(sandbox, ordering.database_url, 1)
    real_write = PartialFile._write

    def no_space(self: PartialFile, data: bytes | bytearray) -> None:
        real_write(self, data[:1000])
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(PartialFile, "_write", no_space)
    with dg.instance_for_test() as instance:
        instance.add_dynamic_partitions(DELIVERY_ORDERS, [key])
        result = dg.materialize(
            [deliveries],
            partition_key=key,
            instance=instance,
            resources={"harvest": harvest, "ordering": ordering},
            raise_on_error=False,
        )
    assert not result.success
    [failure] = result.get_step_failure_events()  # one: a full disk does not empty itself in 30 s
    data = failure.step_failure_data
    folder = tmp_path / "deliveries" / "arlula" / key / "files"
    assert data.user_failure_data is not None and data.error is not None
    description = data.user_failure_data.description or ""
    assert f"order {key} could not be landed: " in description
    assert f"{folder} is full" in description
    assert not [e for e in result.all_events if e.event_type_value == "STEP_UP_FOR_RETRY"]
    with Ledger.open(ordering.database_url) as ledger:
        assert order_of(ledger, key).state is OrderState.DELIVERED
