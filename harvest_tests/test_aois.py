"""Loading AOI files: every bad file or AOI gets a message saying what is wrong and how to fix it, never a traceback."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

from harvest.aoi_rules import aois_for, harvested_aois
from harvest.aois import DEFAULT_AOIS_PATH, AoiFileError, NoUsableAoiError, id_problem, load_aois

SQUARE = [[[1.0, 43.0], [1.1, 43.0], [1.1, 43.1], [1.0, 43.1], [1.0, 43.0]]]


def feature(coordinates: Any = SQUARE, kind: str = "Polygon", **properties: Any) -> dict[str, Any]:
    props = {"id": "square", "name": "Square"} | properties
    return {"type": "Feature", "properties": props, "geometry": {"type": kind, "coordinates": coordinates}}


def write(tmp_path: Path, *features: Any, raw: str | None = None) -> Path:
    path = tmp_path / "aois.geojson"
    path.write_text(raw if raw is not None else json.dumps({"type": "FeatureCollection", "features": list(features)}))
    return path


def only_problem(path: Path) -> str:
    aoi_set = load_aois(path)
    assert not aoi_set.aois
    (problem,) = aoi_set.problems
    return str(problem)


# -- the file as a whole ------------------------------------------------------------------------------


def test_the_bundled_file_loads_every_aoi() -> None:
    aoi_set = load_aois(DEFAULT_AOIS_PATH)
    assert len(aoi_set.aois) == 5 and not aoi_set.problems


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "is empty; put a GeoJSON FeatureCollection of your AOIs in it"),
        (b" \n\t\n", "is empty; put a GeoJSON FeatureCollection of your AOIs in it"),
        (b'{"type": "FeatureCollection", "features": [] ', "is not JSON"),
        (b"[" * 100_000 + b"]" * 100_000, "nests arrays or objects too deeply"),
        (b'{"type": "FeatureCollection", "features": [{"properties": {"name": "Br\xfcssel"}}]}',
         "is not UTF-8 text (byte 0xfc at offset 70); save it as UTF-8"),
        (b"\xff\xfe{\x00}\x00", "is not UTF-8 text (byte 0xff at offset 0); save it as UTF-8"),
    ],
)  # fmt: skip
def test_a_file_that_cannot_be_read_says_why_and_how_to_fix_it(tmp_path: Path, content: bytes, message: str) -> None:
    path = tmp_path / "aois.geojson"
    path.write_bytes(content)
    with pytest.raises(AoiFileError) as failure:
        load_aois(path)
    assert message in str(failure.value)
    assert str(path) in str(failure.value)


def test_a_utf8_file_with_a_byte_order_mark_loads(tmp_path: Path) -> None:
    path = tmp_path / "aois.geojson"
    path.write_bytes(b"\xef\xbb\xbf" + json.dumps({"type": "FeatureCollection", "features": [feature()]}).encode())
    assert [aoi.id for aoi in load_aois(path).aois] == ["square"]


def test_a_directory_is_not_an_aoi_file(tmp_path: Path) -> None:
    with pytest.raises(AoiFileError, match="is a directory, not a file; set HARVEST_AOIS to a GeoJSON file"):
        load_aois(tmp_path)


@pytest.mark.timeout(60)  # opening a pipe nobody writes to would block for ever
def test_a_named_pipe_is_refused_without_blocking(tmp_path: Path) -> None:
    path = tmp_path / "aois.geojson"
    os.mkfifo(path)
    with pytest.raises(AoiFileError, match="is not a regular file"):
        load_aois(path)


def test_a_device_is_refused_without_reading_it_for_ever() -> None:
    with pytest.raises(AoiFileError, match="/dev/zero is not a regular file"):
        load_aois(Path("/dev/zero"))


def test_a_file_larger_than_any_aoi_file_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("harvest.aois.MAX_AOI_FILE_BYTES", 64)
    path = write(tmp_path, feature())
    with pytest.raises(AoiFileError, match=r"is larger than 64 bytes"):
        load_aois(path)


def test_an_unreadable_file_says_so(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = write(tmp_path, feature())

    def denied(*_: object, **__: object) -> int:
        raise PermissionError(13, "Permission denied", str(path))

    monkeypatch.setattr("harvest.textfiles._open", denied)
    with pytest.raises(AoiFileError, match="cannot be read: Permission denied; make it readable"):
        load_aois(path)


# -- one AOI at a time ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("properties", "message"),
    [
        (["square"], "AOI #1: its `properties` is a list; it must be an object such as"),
        ("square", "AOI #1: its `properties` is a string; it must be an object such as"),
    ],
)
def test_properties_that_are_not_an_object_are_named(tmp_path: Path, properties: Any, message: str) -> None:
    bad = feature()
    bad["properties"] = properties
    assert message in only_problem(write(tmp_path, bad))


@pytest.mark.parametrize(
    "aoi_id",
    ["../x", "..", ".", "a/b", "a\\b", "/etc/passwd", ".hidden", "-dash", "a b", "é", "x" * 65, "a\x00b", "a\nb"],
)
def test_an_id_that_is_not_a_safe_file_name_is_refused(tmp_path: Path, aoi_id: str) -> None:
    problem = only_problem(write(tmp_path, feature(id=aoi_id)))
    assert problem.startswith(f"AOI #1: the id {aoi_id!r} is not a safe name")
    assert "letters, digits" in problem and "64 characters" in problem
    assert id_problem(aoi_id) is not None


@pytest.mark.parametrize("aoi_id", ["toulouse", "rotterdam-port", "A1", "zone_3.b", "x" * 64])
def test_safe_ids_load(tmp_path: Path, aoi_id: str) -> None:
    assert [aoi.id for aoi in load_aois(write(tmp_path, feature(id=aoi_id))).aois] == [aoi_id]
    assert id_problem(aoi_id) is None


def test_the_other_aois_still_load_beside_a_bad_one(tmp_path: Path) -> None:
    aoi_set = load_aois(write(tmp_path, feature(id="../up"), feature(id="good")))
    assert [aoi.id for aoi in aoi_set.aois] == ["good"]
    assert len(aoi_set.problems) == 1


def ring(*corners: tuple[str, str]) -> str:
    return "[[" + ",".join(f"[{x},{y}]" for x, y in corners) + "]]"


def raw_polygon(coordinates: str, kind: str = "Polygon") -> str:
    return (
        '{"type":"FeatureCollection","features":[{"type":"Feature","properties":{"id":"square"},'
        f'"geometry":{{"type":"{kind}","coordinates":{coordinates}}}}}]}}'
    )


@pytest.mark.parametrize(
    ("coordinates", "message"),
    [
        (ring(("NaN", "43"), ("1.1", "43"), ("1.1", "43.1"), ("1", "43.1"), ("NaN", "43")), "has NaN coordinates"),
        (ring(("1", "43"), ("1.1", "NaN"), ("1.1", "43.1"), ("1", "43.1"), ("1", "43")), "has NaN coordinates"),
        (ring(("1", "43"), ("Infinity", "43"), ("1.1", "43.1"), ("1", "43.1"), ("1", "43")),
         "has infinite coordinates"),
        (ring(("1", "43"), ("1e400", "43"), ("1.1", "43.1"), ("1", "43.1"), ("1", "43")), "has infinite coordinates"),
        (ring(("1", "43"), ("9" * 400, "43"), ("1.1", "43.1"), ("1", "43.1"), ("1", "43")),
         "has infinite coordinates"),
        (ring(("true", "43"), ("1.1", "43"), ("1.1", "43.1"), ("1", "43.1"), ("true", "43")),
         "has a coordinate true that is not a number"),
        (ring(("-180", "-90"), ("180", "-90"), ("180", "90"), ("-180", "90"), ("-180", "-90")),
         "covers the whole world; draw the area you need"),
        (ring(("-180", "-10"), ("180", "-10"), ("180", "10"), ("-180", "10"), ("-180", "-10")),
         "goes all the way round the world"),
        (ring(("1000000", "43"), ("1.1", "43"), ("1.1", "43.1"), ("1", "43.1"), ("1000000", "43")),
         "has longitudes outside [-180, 180]"),
        ("[[[1,43,5],[1.1,43,5],[1.1,43.1,5],[1,43.1,5],[1,43,5]]]", None),
        ("[[[[1,43],[1.1,43],[1.1,43.1],[1,43.1],[1,43]]]]", "its geometry is not valid GeoJSON"),
        ("[1,2,3]", "its geometry is not valid GeoJSON"),
    ],
)  # fmt: skip
def test_coordinates_get_a_message_saying_what_is_wrong(tmp_path: Path, coordinates: str, message: str | None) -> None:
    path = write(tmp_path, raw=raw_polygon(coordinates))
    if message is None:
        assert [aoi.id for aoi in load_aois(path).aois] == ["square"]
        return
    problem = only_problem(path)
    assert problem.startswith("AOI square: ") and message in problem
    assert "antimeridian" not in problem


def test_a_multipolygon_with_a_nan_part_is_refused(tmp_path: Path) -> None:
    nan_part = "[[[NaN,NaN],[NaN,NaN],[NaN,NaN],[NaN,NaN]]]"
    coordinates = f"[{ring(('1', '43'), ('1.1', '43'), ('1.1', '43.1'), ('1', '43'))},{nan_part}]"
    assert "has NaN coordinates" in only_problem(write(tmp_path, raw=raw_polygon(coordinates, "MultiPolygon")))


def test_an_aoi_really_drawn_across_the_antimeridian_is_still_told_to_split(tmp_path: Path) -> None:
    across = [[[179.5, -17], [-179.7, -17], [-179.7, -16], [179.5, -16], [179.5, -17]]]
    assert "crosses the antimeridian" in only_problem(write(tmp_path, feature(across)))


def test_an_aoi_split_at_the_antimeridian_loads(tmp_path: Path) -> None:
    split = [
        [[[179.5, -17], [180, -17], [180, -16], [179.5, -16], [179.5, -17]]],
        [[[-180, -17], [-179.7, -17], [-179.7, -16], [-180, -16], [-180, -17]]],
    ]
    assert [aoi.id for aoi in load_aois(write(tmp_path, feature(split, "MultiPolygon"))).aois] == ["square"]


# -- which AOIs a provider harvests -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("providers", "message"),
    [
        (5, "its `providers` setting must be a list of provider names"),
        ("oneatlas", "its `providers` setting must be a list of provider names"),
        (["oneatals"], "its `providers` setting names 'oneatals', which is not a provider"),
    ],
)
def test_a_providers_setting_that_is_not_a_list_of_providers_is_refused(
    tmp_path: Path, providers: Any, message: str
) -> None:
    selected = aois_for("oneatlas", load_aois(write(tmp_path, feature(providers=providers))))
    assert not selected.aois
    (problem,) = selected.problems
    assert message in str(problem) and "oneatlas, arlula" in str(problem)


def test_a_provider_without_a_usable_aoi_is_an_error_listing_every_problem(tmp_path: Path) -> None:
    path = write(tmp_path, feature(id="../a"), feature(id="b", providers=[5]))
    with pytest.raises(NoUsableAoiError) as failure:
        harvested_aois("arlula", load_aois(path))
    message = str(failure.value)
    assert message.startswith(f"no AOI in {path} is harvested for arlula: ")
    assert "AOI #1: the id '../a'" in message and "AOI b: its `providers` setting" in message
    assert "HARVEST_AOIS" in message


def test_a_provider_with_one_usable_aoi_harvests_it(tmp_path: Path) -> None:
    path = write(tmp_path, feature(id="../a"), feature(id="b"))
    selected = harvested_aois("arlula", load_aois(path))
    assert [aoi.id for aoi in selected.aois] == ["b"] and len(selected.problems) == 1
