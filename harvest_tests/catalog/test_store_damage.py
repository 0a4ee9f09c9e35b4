"""Stray and damaged files in the catalog: listings skip them with a warning naming each, a read of a damaged
day says which file it is and how to get the day back, and nothing takes a damaged day for an empty one."""

from __future__ import annotations

import hashlib
import logging
import re
from collections.abc import Callable
from datetime import date
from pathlib import Path

import dagster as dg
import pytest

from harvest.catalog.damage import DamagedFileError
from harvest.catalog.reader import read_catalog
from harvest.catalog.store import UNIFIED, CatalogStore
from harvest.defs.catalog.assets import provider_assets, scene_catalog
from harvest.defs.resources import HarvestResource
from harvest_tests.catalog.scenes import make_scenes

DAY, NEXT = date(2026, 11, 1), date(2026, 11, 2)


def zero_bytes(path: Path) -> None:
    path.write_bytes(b"")


def truncated(path: Path) -> None:
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])


def not_parquet(path: Path) -> None:
    path.write_text("scene_id,acquired\nabc,2026-11-01\n")


def footer_only(path: Path) -> None:
    """The magic bytes at both ends, the metadata in between garbled."""
    data = bytearray(path.read_bytes())
    data[-40:-8] = b"\xff" * 32
    path.write_bytes(bytes(data))


# what a listing notices from a file's first and last bytes, without parsing it
DAMAGE: dict[str, Callable[[Path], None]] = {
    "zero bytes": zero_bytes,
    "truncated": truncated,
    "not Parquet": not_parquet,
}
# and what only a read notices
READ_DAMAGE = {**DAMAGE, "garbled footer": footer_only}


@pytest.fixture
def store(tmp_path: Path) -> CatalogStore:
    """Two OneAtlas days with scenes."""
    store = CatalogStore(tmp_path / "catalog")
    store.write_day("oneatlas", DAY, make_scenes(5, providers=("oneatlas",)))
    store.write_day("oneatlas", NEXT, make_scenes(3, first=5, providers=("oneatlas",)))
    return store


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.mark.parametrize("name", ["notes.parquet", "20261103.parquet", "2026-11-3.parquet", "2026-02-30.parquet"])
def test_a_stray_file_is_left_out_of_the_listings_with_a_warning(
    store: CatalogStore, name: str, caplog: pytest.LogCaptureFixture
) -> None:
    stray = store.root / "oneatlas" / name
    stray.write_text("my notes about this provider")
    with caplog.at_level(logging.WARNING):
        assert store.days("oneatlas") == [DAY, NEXT]
        assert list(store.files("oneatlas")) == [store.path("oneatlas", DAY), store.path("oneatlas", NEXT)]
    assert str(stray) in caplog.text and "not named YYYY-MM-DD.parquet" in caplog.text
    scene_id = store.read_day("oneatlas", NEXT).column("scene_id")[0].as_py()
    assert store.locate("oneatlas", [scene_id]) == {scene_id: NEXT}


@pytest.mark.parametrize("damage", sorted(DAMAGE))
def test_a_damaged_day_is_skipped_by_listings_and_a_read_of_it_says_what_to_do(
    store: CatalogStore, damage: str, caplog: pytest.LogCaptureFixture
) -> None:
    path = store.path("oneatlas", DAY)
    DAMAGE[damage](path)
    with caplog.at_level(logging.WARNING):
        assert store.days("oneatlas") == [NEXT]
        assert list(store.files("oneatlas")) == [store.path("oneatlas", NEXT)]
    assert str(path) in caplog.text
    with pytest.raises(DamagedFileError) as failure:
        store.read_day("oneatlas", DAY)
    message = str(failure.value)
    assert message.startswith(f"catalog file {path} ")
    assert "delete it and re-run `harvest backfill --provider oneatlas --start 2026-11-01 --end 2026-11-01`" in message


@pytest.mark.parametrize("damage", sorted(READ_DAMAGE))
def test_reading_a_damaged_day_says_which_file_and_what_to_do(store: CatalogStore, damage: str) -> None:
    path = store.path("oneatlas", DAY)
    READ_DAMAGE[damage](path)
    with pytest.raises(DamagedFileError, match="delete it and re-run `harvest backfill --provider oneatlas"):
        store.read_day("oneatlas", DAY)
    with pytest.raises(DamagedFileError, match=re.escape(f"catalog file {path} ")):
        read_catalog([store.path("oneatlas", NEXT), path], as_geodataframe=False)


def test_a_catalog_tree_read_skips_strays_and_damaged_days_with_a_warning(
    store: CatalogStore, caplog: pytest.LogCaptureFixture
) -> None:
    (store.root / "oneatlas" / "notes.parquet").write_bytes(b"")
    zero_bytes(store.path("oneatlas", DAY))
    with caplog.at_level(logging.WARNING):
        table = read_catalog(store.root, as_geodataframe=False)
    assert len(table) == 3
    assert "notes.parquet" in caplog.text and str(store.path("oneatlas", DAY)) in caplog.text


def test_a_damaged_provider_day_fails_the_unified_day_and_leaves_it_as_it_was(store: CatalogStore) -> None:
    harvest = HarvestResource(data_dir=str(store.root.parent))
    with dg.instance_for_test() as instance:
        assert dg.materialize([scene_catalog], partition_key=DAY.isoformat(), instance=instance,
                              resources={"harvest": harvest}).success  # fmt: skip
        unified = store.path(UNIFIED, DAY)
        assert len(store.read_day(UNIFIED, DAY)) == 5
        before = digest(unified)
        truncated(store.path("oneatlas", DAY))
        result = dg.materialize([scene_catalog], partition_key=DAY.isoformat(), instance=instance,
                                resources={"harvest": harvest}, raise_on_error=False)  # fmt: skip
    assert not result.success
    failure = str(next(event for event in result.all_events if event.is_step_failure).step_failure_data.error)
    assert f"catalog file {store.path('oneatlas', DAY)} is not a complete Parquet file" in failure
    assert "delete it and re-run `harvest backfill --provider oneatlas --start 2026-11-01 --end 2026-11-01`" in failure
    assert digest(unified) == before, "the unified day was not replaced by an empty one"


def test_a_stray_file_does_not_break_a_provider_run(store: CatalogStore, shared_sandbox) -> None:
    from harvest_tests.defs.test_sensors import resource_for

    (store.root / "oneatlas" / "notes.parquet").write_text("my notes")
    harvest = resource_for(shared_sandbox, store.root.parent)
    with dg.instance_for_test() as instance:
        result = dg.materialize([provider_assets["oneatlas"]], partition_key="2026-10-01", instance=instance,
                                resources={"harvest": harvest}, raise_on_error=False)  # fmt: skip
    assert result.success
    assert store.path("oneatlas", date(2026, 10, 1)).exists()
    assert (store.root / "oneatlas" / "notes.parquet").read_text() == "my notes"
