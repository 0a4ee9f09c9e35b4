"""`harvest catalog query` and `harvest orders quote` over a catalog with stray or damaged files: a warning for a
stray, and for a damaged day a message naming the file and how to get the day back, a non-zero exit and nothing
quoted; never a traceback."""

from __future__ import annotations

import json
import os
from datetime import date
from pathlib import Path

import pytest
import shapely
from click.testing import CliRunner, Result

from harvest.aois import DEFAULT_AOIS_PATH
from harvest.catalog.store import UNIFIED, CatalogStore
from harvest.cli import main
from harvest.ordering.ledger import Ledger
from harvest_tests.catalog.test_store_damage import READ_DAMAGE
from harvest_tests.test_cli_catalog import TOULOUSE, at, scenes

DAY, NEXT = date(2026, 11, 1), date(2026, 11, 2)
_PROVIDER_PREFIXES = ("ONEATLAS_", "ARLULA_", "SENTINELHUB_")


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    """A catalog of two unified days (and the same scenes under OneAtlas), with the bundled AOIs."""
    store = CatalogStore(tmp_path / "catalog")
    for day, ids in ((DAY, ["s1", "s2"]), (NEXT, ["s3"])):
        table = scenes(ids, [at(day.day, 9 + n) for n in range(len(ids))], geometry=TOULOUSE)
        store.write_day("oneatlas", day, table)
        store.write_day(UNIFIED, day, table)
    return tmp_path


def env(data_dir: Path) -> dict[str, str | None]:
    """This data directory and the bundled AOIs, no provider credentials, providers that answer nowhere."""
    cleared: dict[str, str | None] = {name: None for name in os.environ if name.startswith(_PROVIDER_PREFIXES)}
    return {
        **cleared,
        "HARVEST_DATA_DIR": str(data_dir),
        "HARVEST_AOIS": str(DEFAULT_AOIS_PATH),
        "HARVEST_POLICIES": None,
        "HARVEST_DATABASE_URL": f"sqlite:///{data_dir / 'ledger.sqlite'}",
        "HARVEST_SANDBOX_URL": "http://127.0.0.1:9",  # nothing listens: no quote can reach a provider
        "HARVEST_ALLOW_SPEND": None,
    }


def harvest(data_dir: Path, *args: str) -> Result:
    return CliRunner().invoke(main, list(args), env=env(data_dir))


def query(data_dir: Path, *args: str) -> Result:
    return harvest(data_dir, "catalog", "query", *args)


def ids_of(result: Result) -> list[str]:
    assert result.exit_code == 0, result.output
    return [line.split()[1] for line in result.stdout.splitlines()[2:-1]]


@pytest.mark.parametrize("folder", [UNIFIED, "oneatlas"])
def test_a_stray_file_in_the_catalog_is_a_warning_and_the_days_are_read(data_dir: Path, folder: str) -> None:
    stray = data_dir / "catalog" / folder / "notes.parquet"
    stray.write_text("my notes")
    args = ("--provider", "oneatlas") if folder == "oneatlas" else ()
    result = query(data_dir, *args)
    assert ids_of(result) == ["s1", "s2", "s3"]
    assert f"warning: {stray} is not named YYYY-MM-DD.parquet; left out" in result.stderr


@pytest.mark.parametrize("damage", sorted(READ_DAMAGE))
def test_a_query_over_a_damaged_day_names_the_file_and_the_fix(data_dir: Path, damage: str) -> None:
    path = data_dir / "catalog" / UNIFIED / f"{DAY}.parquet"
    READ_DAMAGE[damage](path)
    result = query(data_dir)
    assert result.exit_code == 1, result.output
    assert result.stdout == "" and "Traceback" not in result.output
    assert f"catalog file {path} " in result.stderr
    assert f"delete it and re-run `harvest backfill --start {DAY} --end {DAY}`" in result.stderr


def test_a_query_of_other_days_does_not_mind_a_damaged_day(data_dir: Path) -> None:
    READ_DAMAGE["truncated"](data_dir / "catalog" / UNIFIED / f"{DAY}.parquet")
    assert ids_of(query(data_dir, "--start", NEXT.isoformat())) == ["s3"]


def test_a_query_for_an_aoi_in_an_aoi_file_that_is_not_utf8_says_so(data_dir: Path) -> None:
    aois = data_dir / "aois.geojson"
    document = {"type": "FeatureCollection", "features": [{"type": "Feature", "properties": {"id": "toulouse",
                "name": "Toulouse é"}, "geometry": shapely.geometry.mapping(TOULOUSE)}]}  # fmt: skip
    aois.write_bytes(json.dumps(document, ensure_ascii=False).encode("latin-1"))
    result = CliRunner().invoke(
        main, ["catalog", "query", "--aoi", "toulouse"], env={**env(data_dir), "HARVEST_AOIS": str(aois)}
    )
    assert result.exit_code == 1
    assert f"AOI file {aois} is not UTF-8 text (byte 0xe9 at offset" in result.stderr
    assert "Traceback" not in result.output


@pytest.mark.parametrize("damage", sorted(READ_DAMAGE))
def test_a_quote_over_a_damaged_day_names_the_file_and_quotes_nothing(data_dir: Path, damage: str) -> None:
    path = data_dir / "catalog" / UNIFIED / f"{NEXT}.parquet"
    READ_DAMAGE[damage](path)
    result = harvest(data_dir, "orders", "quote", "--start", DAY.isoformat(), "--end", NEXT.isoformat())
    assert result.exit_code == 1, result.output
    assert "Traceback" not in result.output
    assert f"catalog file {path} " in result.stderr
    assert f"delete it and re-run `harvest backfill --start {NEXT} --end {NEXT}`" in result.stderr
    if (data_dir / "ledger.sqlite").exists():
        with Ledger.open(env(data_dir)["HARVEST_DATABASE_URL"]) as ledger:
            assert ledger.orders() == [], "not even the sound day was quoted"
