"""Manifests: written atomically with paths relative to themselves, read back exactly, bad input refused."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest

from harvest.delivery.download import LandedFile
from harvest.delivery.manifest import ManifestError, read_manifest, write_manifest

WRITTEN = datetime(2026, 11, 1, 12, 30, tzinfo=UTC)


def landed(folder: Path, name: str, data: bytes, md5: str = "0" * 32) -> LandedFile:
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return LandedFile(name, path, len(data), md5, len(data), 1, False)


def test_a_manifest_round_trips_with_relative_paths(tmp_path: Path) -> None:
    folder = tmp_path / "deliveries" / "hvkey"
    files = [landed(folder, "a.zip", b"abc"), landed(folder, "DS/IMG/b.JP2", b"de", "f" * 32)]
    path = write_manifest(
        folder / "manifest.json", order_key="hvkey", provider="oneatlas", scene_id="scene-1", order_id="order-9",
        price=(Decimal("377.50"), "credits"), files=files, written_at=WRITTEN,
    )  # fmt: skip
    raw = json.loads(path.read_text())
    assert [f["path"] for f in raw["files"]] == ["a.zip", "DS/IMG/b.JP2"]
    assert raw["price"] == {"amount": "377.50", "unit": "credits"}
    assert raw["written_at"].startswith("2026-11-01T12:30:00")
    assert [p.name for p in folder.iterdir() if p.name.startswith(".")] == []  # no temporary left behind

    manifest = read_manifest(path)
    assert (manifest.order_key, manifest.provider, manifest.scene_id, manifest.order_id) == (
        "hvkey", "oneatlas", "scene-1", "order-9"
    )  # fmt: skip
    assert (manifest.price_amount, manifest.price_unit, manifest.written_at) == (Decimal("377.50"), "credits", WRITTEN)
    assert [(f.name, f.path, f.size, f.md5) for f in manifest.files] == [
        ("a.zip", folder / "a.zip", 3, "0" * 32), ("DS/IMG/b.JP2", folder / "DS/IMG/b.JP2", 2, "f" * 32)
    ]  # fmt: skip
    assert all(f.path.read_bytes() for f in manifest.files)


def test_rewriting_replaces_the_manifest_whole(tmp_path: Path) -> None:
    files = [landed(tmp_path, "a.zip", b"abc")]
    common = {"order_key": "k", "provider": "arlula", "scene_id": "s", "files": files}
    write_manifest(tmp_path / "m.json", order_id="first", price=None, **common)  # type: ignore[arg-type]
    write_manifest(tmp_path / "m.json", order_id="second", price=(150, "USD cents"), **common)  # type: ignore[arg-type]
    manifest = read_manifest(tmp_path / "m.json")
    assert manifest.order_id == "second" and manifest.price_amount == Decimal(150)
    assert manifest.written_at.tzinfo is not None


def test_bad_input_is_refused_with_a_reason(tmp_path: Path) -> None:
    outside = landed(tmp_path / "elsewhere", "x.zip", b"x")
    common = {"order_key": "k", "provider": "p", "scene_id": "s", "order_id": "o", "price": None}
    with pytest.raises(ManifestError, match="outside"):
        write_manifest(tmp_path / "d" / "m.json", files=[outside], **common)  # type: ignore[arg-type]
    with pytest.raises(ManifestError, match="timezone-aware"):
        write_manifest(tmp_path / "m.json", files=[], written_at=datetime(2026, 1, 1), **common)  # type: ignore[arg-type]  # noqa: DTZ001
    with pytest.raises(ManifestError, match="not a number"):
        write_manifest(tmp_path / "m.json", files=[], **{**common, "price": ("lots", "EUR")})  # type: ignore[arg-type]
    assert not (tmp_path / "m.json").exists()


@pytest.mark.parametrize("content", ["not json", "[]", '{"version": 2}', '{"version": 1, "files": []}'])
def test_a_file_that_is_not_a_manifest_is_refused(tmp_path: Path, content: str) -> None:
    (tmp_path / "m.json").write_text(content)
    with pytest.raises(ManifestError):
        read_manifest(tmp_path / "m.json")
