"""Where the files of one order land (their names, or distinct and stable ones where names collide), and the
size limit for files nobody states the size of."""

from __future__ import annotations

import unicodedata

import pytest

from harvest.delivery.deliverable import Deliverable
from harvest.delivery.errors import UnsafeFileName
from harvest.delivery.layout import landing_paths, tagged
from harvest.delivery.limits import DEFAULT_SIZE_LIMIT, SIZE_LIMIT_VARIABLE, size_limit
from harvest.delivery.names import safe_filename


def files(*names: str) -> list[Deliverable]:
    return [Deliverable(f"https://api.example.com/api/resource/{i}/data", name) for i, name in enumerate(names)]


def folded(path: str) -> str:
    return unicodedata.normalize("NFD", path).casefold()


def test_names_that_do_not_collide_land_as_they_are() -> None:
    names = ["B4.TIF", "B3.TIF", "DS_1/IMG_1/R1C1.JP2", "DS_1/IMG_1/R1C2.JP2", "license.txt"]
    assert landing_paths(files(*names)) == names


def test_equal_names_get_distinct_paths_that_do_not_depend_on_the_listing_order() -> None:
    listed = files("same.bin", "same.bin", "manifest.json", "same.bin", "same.bin")
    paths = landing_paths(listed)
    assert len(set(paths)) == 5 and paths[2] == "manifest.json"
    assert all(p.startswith("same-") and p.endswith(".bin") and p != "same.bin" for p in paths[:2] + paths[3:])
    reversed_paths = landing_paths(listed[::-1])
    assert dict(zip((d.url for d in listed[::-1]), reversed_paths, strict=True)) == dict(
        zip((d.url for d in listed), paths, strict=True)
    )
    assert landing_paths(listed) == paths  # the same on every run


@pytest.mark.parametrize(
    "names",
    [
        ("B4.TIF", "b4.tif"),  # equal on macOS and Windows
        (unicodedata.normalize("NFC", "café.tif"), unicodedata.normalize("NFD", "café.tif")),  # equal on APFS
        ("DS_1/x.JP2", "ds_1/X.jp2"),
    ],
)
def test_names_equal_on_a_case_or_normalisation_insensitive_file_system_land_apart(names: tuple[str, str]) -> None:
    paths = landing_paths(files(*names))
    assert len({folded(p) for p in paths}) == 2 and all(p not in names for p in paths)


def test_a_file_named_like_a_folder_of_another_lands_apart_from_it() -> None:
    paths = landing_paths(files("DS_1", "DS_1/IMG.JP2", "ds_1/META.XML"))
    assert paths[1:] == ["DS_1/IMG.JP2", "ds_1/META.XML"] and paths[0].startswith("DS_1-")
    assert not any(p.startswith(f"{paths[0]}/") for p in paths)


def test_a_provider_name_that_looks_like_a_tag_is_neither_replaced_nor_reused() -> None:
    listed = files("same.bin", "same.bin")
    impostor = tagged("same.bin", listed[0].url)  # what the first file would be called
    paths = landing_paths([*listed, Deliverable("https://api.example.com/api/resource/9/data", impostor)])
    assert paths[2] == impostor and len({folded(p) for p in paths}) == 3


def test_the_same_file_listed_twice_lands_twice_apart() -> None:
    twice = [Deliverable("https://api.example.com/f", "f.bin")] * 2
    paths = landing_paths(twice)
    assert len(set(paths)) == 2 and paths == landing_paths(twice)


@pytest.mark.parametrize("name", ["x" * 251 + ".bin", "é" * 125 + ".tif", "a." + "e" * 200, "noextension" * 23])
def test_a_tagged_long_name_stays_a_safe_name_of_at_most_255_bytes(name: str) -> None:
    paths = landing_paths(files(name, name))
    assert len(set(paths)) == 2
    for path in paths:
        assert safe_filename(path) == path and len(path.encode()) <= 255


def test_a_hostile_name_is_refused() -> None:
    with pytest.raises(UnsafeFileName):
        landing_paths(files("ok.bin", "../escape.bin"))


@pytest.mark.parametrize(
    ("text", "size"), [("1000000", 1_000_000), ("500MB", 500_000_000), ("64GiB", 64 << 30), (" 1.5 KiB ", 1536)]
)
def test_a_size_limit_is_read_in_bytes_or_with_a_unit(text: str, size: int) -> None:
    assert size_limit({SIZE_LIMIT_VARIABLE: text}) == size


@pytest.mark.parametrize("text", ["lots", "-5MB", "0", "12 parsecs", "0.0001B"])
def test_a_bad_size_limit_says_what_is_wrong_and_how_to_write_it(text: str) -> None:
    with pytest.raises(ValueError, match=rf"^{SIZE_LIMIT_VARIABLE}: .* is not a size: .*e\.g\. 64GiB$"):
        size_limit({SIZE_LIMIT_VARIABLE: text})


def test_without_a_size_limit_the_default_holds() -> None:
    assert size_limit({}) == size_limit({SIZE_LIMIT_VARIABLE: " "}) == DEFAULT_SIZE_LIMIT
