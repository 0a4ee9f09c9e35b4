"""A backfill whose AOI file cannot be used fails before writing anything: the catalog keeps its days.

The issue's most severe defect: a missing AOI file turned into "no AOIs", the provider answered
nothing for no AOI, and every day of the range was replaced by an empty file, reported as success.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from harvest.aois import DEFAULT_AOIS_PATH
from harvest.catalog.store import UNIFIED, CatalogStore
from harvest.cli import main
from harvest.sandbox.server import RunningSandbox

START, END = "2026-10-01", "2026-10-03"


def fingerprints(catalog: Path) -> dict[str, str]:
    """Every file under the catalog, hidden ones included, with a digest of its bytes."""
    return {str(path.relative_to(catalog)): hashlib.sha256(path.read_bytes()).hexdigest()
            for path in sorted(catalog.rglob("*")) if path.is_file()}  # fmt: skip


def run_backfill(sandbox: RunningSandbox, data: Path, home: Path, aois: Path, *providers: str) -> Result:
    home.mkdir(exist_ok=True)
    env = {**sandbox.env(), "HARVEST_DATA_DIR": str(data), "DAGSTER_HOME": str(home), "HARVEST_AOIS": str(aois)}
    chosen = [arg for provider in providers for arg in ("--provider", provider)]
    return CliRunner().invoke(main, ["backfill", *chosen, "--start", START, "--end", END], env=env)


@pytest.fixture(scope="module")
def harvested(shared_sandbox: RunningSandbox, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A data directory whose OneAtlas and unified days of START..END hold scenes."""
    data = tmp_path_factory.mktemp("harvested")
    result = run_backfill(shared_sandbox, data, data / "home", DEFAULT_AOIS_PATH, "oneatlas")
    assert result.exit_code == 0, result.output
    store = CatalogStore(data / "catalog")
    assert sum(len(store.read_day("oneatlas", day)) for day in store.days("oneatlas")) > 0, "the days need scenes"
    assert len(store.days(UNIFIED)) == 3
    return data


def missing(tmp_path: Path) -> Path:
    return tmp_path / "nonexistent.geojson"


def empty(tmp_path: Path) -> Path:
    path = tmp_path / "empty.geojson"
    path.write_bytes(b"")
    return path


def blank(tmp_path: Path) -> Path:
    path = tmp_path / "blank.geojson"
    path.write_text("  \n\n")
    return path


def directory(tmp_path: Path) -> Path:
    path = tmp_path / "aois.geojson"
    path.mkdir()
    return path


def latin1(tmp_path: Path) -> Path:
    path = tmp_path / "latin1.geojson"
    text = DEFAULT_AOIS_PATH.read_text(encoding="utf-8").replace('"Toulouse,', '"Toulouse é,')
    path.write_bytes(text.encode("latin-1"))
    assert b"\xe9" in path.read_bytes()
    return path


def no_features(tmp_path: Path) -> Path:
    path = tmp_path / "none.geojson"
    path.write_text(json.dumps({"type": "FeatureCollection", "features": []}))
    return path


def every_aoi_refused(tmp_path: Path) -> Path:
    path = tmp_path / "refused.geojson"
    document = json.loads(DEFAULT_AOIS_PATH.read_text(encoding="utf-8"))
    for feature in document["features"]:
        feature["properties"]["id"] = "../" + feature["properties"]["id"]
    path.write_text(json.dumps(document))
    return path


def fifo(tmp_path: Path) -> Path:
    path = tmp_path / "pipe.geojson"
    os.mkfifo(path)
    return path


BAD_FILES: dict[str, tuple[Callable[[Path], Path], str]] = {
    "missing": (missing, "does not exist"),
    "empty": (empty, "is empty"),
    "blank": (blank, "is empty"),
    "a directory": (directory, "is a directory"),
    "not UTF-8": (latin1, "is not UTF-8 text (byte 0xe9 at offset"),
    "no features": (no_features, "its `features` list is empty"),
    "every AOI refused": (every_aoi_refused, "AOI #1: the id '../toulouse' is not a safe name"),
    "a named pipe": (fifo, "is not a regular file"),
}


@pytest.mark.timeout(60)  # a named pipe must not block the command
@pytest.mark.parametrize("case", sorted(BAD_FILES))
def test_a_backfill_with_an_unusable_aoi_file_fails_and_keeps_every_day(
    case: str, harvested: Path, shared_sandbox: RunningSandbox, tmp_path: Path
) -> None:
    make, message = BAD_FILES[case]
    data = tmp_path / "data"
    shutil.copytree(harvested / "catalog", data / "catalog")
    before = fingerprints(data / "catalog")
    aois = make(tmp_path)
    result = run_backfill(shared_sandbox, data, tmp_path / "home", aois, "oneatlas")
    assert result.exit_code == 1, result.output
    assert message in result.output
    assert str(aois) in result.output, "the message names the file"
    assert "HARVEST_AOIS" in result.output, "and says how to point harvest at another one"
    assert "Traceback" not in result.output and "0 scene(s)" not in result.output
    assert fingerprints(data / "catalog") == before, "no day was replaced"


def test_a_backfill_of_a_provider_no_aoi_is_for_fails_and_names_the_setting(
    harvested: Path, shared_sandbox: RunningSandbox, tmp_path: Path
) -> None:
    document = json.loads(DEFAULT_AOIS_PATH.read_text(encoding="utf-8"))
    for feature in document["features"]:
        feature["properties"]["providers"] = ["arlula"]
    aois = tmp_path / "arlula-only.geojson"
    aois.write_text(json.dumps(document))
    data = tmp_path / "data"
    shutil.copytree(harvested / "catalog", data / "catalog")
    before = fingerprints(data / "catalog")
    result = run_backfill(shared_sandbox, data, tmp_path / "home", aois, "oneatlas")
    assert result.exit_code == 1, result.output
    assert f"no AOI in {aois} is harvested for oneatlas" in result.output
    assert "`providers`" in result.output
    assert fingerprints(data / "catalog") == before
