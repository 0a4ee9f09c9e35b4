"""The pipeline on a PostgreSQL-backed Dagster instance: dagster.postgres.yaml.example on the local server.

Each test gets a fresh database (`harvest_dagster_<random>`) on 127.0.0.1:5432 (user postgres, trust
auth), dropped afterwards; the tests skip only when that server cannot be reached.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import dagster as dg
import psycopg2
import pytest
from dagster_postgres import PostgresEventLogStorage, PostgresRunStorage
from psycopg2 import sql

from harvest import registry
from harvest.catalog.store import UNIFIED
from harvest.commands.dev import REPO_ROOT, install_instance_config, set_pool_limits
from harvest.defs.catalog.assets import provider_assets, scene_catalog
from harvest.defs.pools import POOL_LIMITS
from harvest.defs.resources import HarvestResource
from harvest.sandbox.server import RunningSandbox

SERVER: dict[str, Any] = {"host": "127.0.0.1", "port": 5432, "user": "postgres"}
EXAMPLE = REPO_ROOT / "dagster.postgres.yaml.example"
ASSETS = [*provider_assets.values(), scene_catalog]
DAYS = ("2026-10-20", "2026-10-21")  # before the shared sandbox's frozen clock (2026-11-01)


def _connect(dbname: str) -> psycopg2.extensions.connection:
    connection = psycopg2.connect(dbname=dbname, connect_timeout=5, **SERVER)
    connection.autocommit = True
    return connection


@pytest.fixture
def database() -> Iterator[str]:
    """A fresh, empty database on the local server, dropped afterwards."""
    try:
        admin = _connect("postgres")
    except psycopg2.OperationalError as exc:
        pytest.skip(
            f"PostgreSQL is not reachable at {SERVER['host']}:{SERVER['port']} as user postgres with trust auth "
            f"({str(exc).strip()}); start the local server to run this test"
        )
    name = f"harvest_dagster_{secrets.token_hex(6)}"
    with admin.cursor() as cursor:
        cursor.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    try:
        yield name
    finally:
        with admin.cursor() as cursor:
            cursor.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
        admin.close()


@pytest.fixture
def instance(database: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[dg.DagsterInstance]:
    """A Dagster instance from the production example, pointed at the fresh database by its variables."""
    home = tmp_path / "dagster_home"
    install_instance_config(home, template=EXAMPLE)
    environment = {
        "DAGSTER_HOME": str(home),
        "DAGSTER_PG_HOST": SERVER["host"],
        "DAGSTER_PG_PORT": str(SERVER["port"]),
        "DAGSTER_PG_DB": database,
        "DAGSTER_PG_USER": SERVER["user"],
        "DAGSTER_PG_PASSWORD": "",
    }
    for name, value in environment.items():
        monkeypatch.setenv(name, value)
    with dg.DagsterInstance.get() as instance:
        yield instance


def test_the_example_config_stores_everything_in_postgres(instance: dg.DagsterInstance) -> None:
    assert isinstance(instance.run_storage, PostgresRunStorage)
    assert isinstance(instance.event_log_storage, PostgresEventLogStorage)
    queue = instance.get_concurrency_config().run_queue_config
    assert queue is not None and queue.max_concurrent_runs == 8


def test_catalog_partitions_materialized_on_postgres_are_in_its_event_log(
    instance: dg.DagsterInstance, database: str, shared_sandbox: RunningSandbox, tmp_path: Path
) -> None:
    set_pool_limits(instance)
    harvest = HarvestResource(data_dir=str(tmp_path / "data"), sandbox_url=shared_sandbox.url)

    for day in DAYS:
        result = dg.materialize(ASSETS, partition_key=day, instance=instance, resources={"harvest": harvest})
        assert result.success

    runs = instance.get_run_records()
    assert [r.dagster_run.status for r in runs] == [dg.DagsterRunStatus.SUCCESS] * len(DAYS)
    assert sorted(r.dagster_run.tags["dagster/partition"] for r in runs) == list(DAYS)
    for asset in ASSETS:
        key = asset.key
        assert instance.get_materialized_partitions(key) == set(DAYS), key
        records = instance.fetch_materializations(key, limit=10).records
        assert sorted(r.partition_key or "" for r in records) == list(DAYS)
        for record in records:
            assert record.asset_materialization is not None
            path = Path(str(record.asset_materialization.metadata["path"].value))
            assert path.is_file() and path.name == f"{record.partition_key}.parquet"
    latest = instance.get_latest_materialization_event(provider_assets["oneatlas"].key)
    oneatlas = latest.asset_materialization if latest is not None else None
    assert oneatlas is not None
    assert oneatlas.metadata["sandbox"].value is True and oneatlas.metadata["provider"].value == "oneatlas"

    store = harvest.store()
    for provider in (*registry.IDS, UNIFIED):
        assert [day.isoformat() for day in store.days(provider)] == list(DAYS), provider

    # the materializations are rows of this database, not of some other storage
    with _connect(database) as connection, connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM event_logs WHERE dagster_event_type = 'ASSET_MATERIALIZATION'")
        assert cursor.fetchone() == (len(ASSETS) * len(DAYS),)
    connection.close()

    # the provider pools' limits live in the database too, and every slot was given back
    for pool, limit in POOL_LIMITS.items():
        info = instance.event_log_storage.get_concurrency_info(pool)
        assert (info.slot_count, info.claimed_slots) == (limit, []), pool
