"""Backfills: 30 days of every provider through the Dagster assets, with sandbox faults on, equal the
sandbox's ground truth exactly, and a second backfill changes nothing; `harvest backfill` from the terminal."""

from __future__ import annotations

import hashlib
from collections import defaultdict
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import dagster as dg
import pyarrow as pa
import pyarrow.compute as pc
import pytest
from click.testing import CliRunner

from harvest.aois import load_aois
from harvest.catalog.store import UNIFIED, CatalogStore
from harvest.cli import main
from harvest.defs.catalog.assets import provider_assets, scene_catalog
from harvest.defs.catalog.partitions import PARTITION_RANGE_END_TAG, PARTITION_RANGE_START_TAG
from harvest.registry import IDS
from harvest.sandbox.truth import true_scenes
from harvest.timestamps import from_datetime
from harvest_tests.defs.test_sensors import acquisition_day, resource_for

AOIS = load_aois().aois
FIRST, LAST = date(2026, 9, 20), date(2026, 10, 19)  # 30 days
FAULTS = "429=0.1:0.01s,5xx=0.08,reset=0.03,token_expiry=0.5:0.001"
ASSETS = [*provider_assets.values(), scene_catalog]


def truth_by_day(sandbox, provider: str) -> dict[date, dict[str, int]]:
    """The provider's scenes over the AOIs acquired in the range: day -> scene id -> updated."""
    start = from_datetime(datetime(FIRST.year, FIRST.month, FIRST.day, tzinfo=UTC))
    end = from_datetime(datetime(LAST.year, LAST.month, LAST.day, tzinfo=UTC) + timedelta(days=1))
    days: dict[date, dict[str, int]] = defaultdict(dict)
    for aoi in AOIS:
        for scene_id, scene in true_scenes(sandbox.sandbox, provider, aoi.geometry, start, end).items():
            days[acquisition_day(scene.acquired_ns)][scene_id] = scene.updated_ns
    return days


def backfill(harvest, instance: dg.DagsterInstance) -> None:
    result = dg.materialize(
        ASSETS,
        instance=instance,
        resources={"harvest": harvest},
        tags={PARTITION_RANGE_START_TAG: FIRST.isoformat(), PARTITION_RANGE_END_TAG: LAST.isoformat()},
    )
    assert result.success


def fingerprints(store: CatalogStore) -> dict[str, str]:
    return {str(path): hashlib.sha256(path.read_bytes()).hexdigest() for path in store.files()}


def test_thirty_days_of_every_provider_equal_the_truth_and_a_second_backfill_changes_nothing(
    make_sandbox, tmp_path: Path
) -> None:
    sandbox = make_sandbox(faults=FAULTS)
    harvest = resource_for(sandbox, tmp_path)
    store = harvest.store()
    with dg.instance_for_test() as instance:
        backfill(harvest, instance)
        offers = 0
        for provider in IDS:
            expected = truth_by_day(sandbox, provider)
            assert store.days(provider) == [FIRST + timedelta(days=n) for n in range(30)]
            for day in store.days(provider):
                table = store.read_day(provider, day)
                scene_ids = table.column("scene_id").to_pylist()
                assert len(scene_ids) == len(set(scene_ids)), f"{provider} {day}: a scene twice"
                assert set(scene_ids) == set(expected.get(day, {})), f"{provider} {day}"
                if provider in ("oneatlas", "sentinelhub-import"):
                    updated = pc.cast(table.column("updated"), pa.int64()).to_pylist()
                    assert dict(zip(scene_ids, updated, strict=True)) == expected.get(day, {}), "newest versions"
                offers += len(table)
            assert sum(len(v) for v in expected.values()) > 0, f"{provider}: the scenario needs scenes"
        assert sum(len(store.read_day(UNIFIED, day)) for day in store.days(UNIFIED)) == offers

        materialized = instance.get_materialized_partitions(dg.AssetKey("oneatlas_scenes"))
        assert len(materialized) == 30
        runs = instance.get_runs()
        assert len(runs) == 1, "a range backfill is one run, not one per day"
        before = fingerprints(store)
        backfill(harvest, instance)
        assert fingerprints(store) == before, "a second backfill must change nothing"


# -- the terminal -------------------------------------------------------------------------------------


def cli_env(sandbox, tmp_path: Path, **extra: str) -> dict[str, str]:
    return {
        **sandbox.env(),
        "HARVEST_DATA_DIR": str(tmp_path / "data"),
        "DAGSTER_HOME": str(tmp_path / "dagster_home"),
        **extra,
    }


def backfill_two_providers(sandbox, tmp_path: Path, end: str, **env: str):
    """`harvest backfill` of Arlula and the Sentinel Hub catalog from 2026-10-01 to `end`."""
    (tmp_path / "dagster_home").mkdir()
    arguments = ["--provider", "arlula", "--provider", "sentinelhub-catalog", "--start", "2026-10-01", "--end", end]
    return CliRunner().invoke(main, ["backfill", *arguments], env=cli_env(sandbox, tmp_path, **env))


def test_harvest_backfill_harvests_the_days_and_summarises(make_sandbox, tmp_path: Path) -> None:
    sandbox = make_sandbox()
    result = backfill_two_providers(sandbox, tmp_path, "2026-10-03")
    assert result.exit_code == 0, result.output
    assert "arlula" in result.output and "3 day(s)" in result.output
    store = CatalogStore(tmp_path / "data" / "catalog")
    assert len(store.days("arlula")) == 3 and len(store.days("sentinelhub-catalog")) == 3
    assert len(store.days(UNIFIED)) == 3
    assert not store.days("oneatlas")
    with dg.DagsterInstance.from_config(str(tmp_path / "dagster_home")) as instance:
        assert len(instance.get_materialized_partitions(dg.AssetKey("arlula_scenes"))) == 3


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--start", "2026-10-05", "--end", "2026-10-01"], "before --start"),
        (["--start", "yesterday", "--end", "2026-10-01"], "is not a date"),
        (["--start", "2017-12-30", "--end", "2018-01-02"], "the catalog's days run from 2018-01-01"),
        (["--start", "2026-10-01", "--end", "2099-01-01"], "the catalog's days run from"),
        (["--provider", "planet", "--start", "2026-10-01", "--end", "2026-10-01"], "'planet' is not one of"),
    ],
)
def test_harvest_backfill_refuses_bad_input(args: list[str], message: str, tmp_path: Path) -> None:
    result = CliRunner().invoke(
        main, ["backfill", *args], env={"HARVEST_DATA_DIR": str(tmp_path), "DAGSTER_HOME": str(tmp_path)}
    )
    assert result.exit_code == 2
    assert message in result.output
    assert not (tmp_path / "catalog").exists()


def test_harvest_backfill_fails_clearly_when_a_provider_refuses(make_sandbox, tmp_path: Path) -> None:
    sandbox = make_sandbox()
    result = backfill_two_providers(sandbox, tmp_path, "2026-10-02", ARLULA_API_KEY="not-the-key")
    assert result.exit_code == 1
    assert "the backfill failed for arlula" in result.output
    assert "ARLULA_API_KEY" in result.output  # the provider error says what to check
    assert "not-the-key" not in result.output
    store = CatalogStore(tmp_path / "data" / "catalog")
    assert not store.days("arlula")
    assert len(store.days("sentinelhub-catalog")) == 2, "the other provider still lands"
