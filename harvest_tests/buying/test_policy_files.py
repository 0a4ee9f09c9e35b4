"""A policy file that cannot be read is a PolicyError naming the file and the fix, never a traceback."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from harvest.aois import AoiSet, load_aois
from harvest.buying.policy import POLICIES_ENV, PolicyError, load_policies

SQUARE = {"type": "Polygon", "coordinates": [[[1.0, 43.0], [1.1, 43.0], [1.1, 43.1], [1.0, 43.1], [1.0, 43.0]]]}


@pytest.fixture(autouse=True)
def _no_policy_override(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(POLICIES_ENV, raising=False)


def aoi_set(directory: Path) -> AoiSet:
    path = directory / "aois.geojson"
    features = [{"type": "Feature", "properties": {"id": "toulouse"}, "geometry": SQUARE}]
    path.write_text(json.dumps({"type": "FeatureCollection", "features": features}))
    return load_aois(path)


def refusal(aois: AoiSet, path: Path | None = None) -> str:
    with pytest.raises(PolicyError) as failure:
        load_policies(aois, path)
    return str(failure.value)


def test_a_policy_file_that_is_not_utf8_names_the_byte_and_the_fix(tmp_path: Path) -> None:
    policies = tmp_path / "policies.yaml"
    content = "aois:\n  toulouse: {enabled: true}  # Sébastien\n".encode("latin-1")
    policies.write_bytes(content)
    message = refusal(aoi_set(tmp_path))
    offset = content.index(b"\xe9")
    assert f"policy file {policies} is not UTF-8 text (byte 0xe9 at offset {offset}); save it as UTF-8" in message


def test_a_policy_file_that_is_a_directory_is_refused(tmp_path: Path) -> None:
    (tmp_path / "policies.yaml").mkdir()
    assert "is a directory, not a file" in refusal(aoi_set(tmp_path))


@pytest.mark.timeout(60)  # opening a pipe nobody writes to would block for ever
def test_a_policy_file_that_is_a_named_pipe_is_refused_without_blocking(tmp_path: Path) -> None:
    os.mkfifo(tmp_path / "policies.yaml")
    assert "is not a regular file" in refusal(aoi_set(tmp_path))


def test_a_policy_file_nested_too_deeply_is_refused(tmp_path: Path) -> None:
    (tmp_path / "policies.yaml").write_text("defaults: " + "[" * 50_000 + "]" * 50_000 + "\n")
    assert "is not valid YAML" in refusal(aoi_set(tmp_path))


def test_an_absent_policy_file_beside_the_aois_is_still_no_policy(tmp_path: Path) -> None:
    assert load_policies(aoi_set(tmp_path)).source is None


def test_an_absent_policy_file_named_explicitly_is_still_an_error(tmp_path: Path) -> None:
    assert "does not exist; create it" in refusal(aoi_set(tmp_path), tmp_path / "nowhere.yaml")
