"""`safe_filename`: ordinary names pass unchanged, hostile ones are refused with the reason."""

from __future__ import annotations

import pytest

from harvest.delivery.errors import UnsafeFileName
from harvest.delivery.names import safe_filename


@pytest.mark.parametrize(
    "name",
    [
        "product.zip",
        "LC09_L1TP_190030_20260107_20260119_02_T1_B2.TIF",  # Arlula
        "2b3a2ad1-40c0-4966-86a7-6a9964632f35.zip",  # OneAtlas item id
        "DS_PHR1A_2026/IMG_PHR1A_P_001/IMG_PHR1A_P_R1C1.JP2",  # Sentinel Hub delivery path
        "scene 42 (copy).tif",
        "Überflug-München.tif",  # letters are letters in any script
        "console.txt",  # starts like a device name, is not one
        "a..b",  # dots inside a name are fine
    ],
)
def test_ordinary_names_are_kept_unchanged(name: str) -> None:
    assert safe_filename(name) == name


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        ("../../etc/passwd", "walk the directory tree"),
        ("images/../../x.tif", "walk the directory tree"),
        ("..", "walk the directory tree"),
        (".", "walk the directory tree"),
        ("...", "walk the directory tree"),
        ("/abs", "absolute path"),
        ("/etc/passwd", "absolute path"),
        ("\\\\server\\share\\x", "absolute path"),
        ("C:\\x", "drive letter"),
        ("c:x.tif", "drive letter"),
        ("dir\\..\\x", "reserved character"),
        ("a\x00b", "U+0000"),
        ("\n", "U+000A"),
        ("report\r.txt", "U+000D"),
        ("evil\u202etxt.exe", "U+202E"),  # right-to-left override: shows as exe.txt
        ("", "empty"),
        ("a//b", "empty path component"),
        ("folder/", "empty path component"),
        ("con", "device name"),
        ("CON", "device name"),
        ("nul.txt", "device name"),
        ("images/LPT1.tif", "device name"),
        ("com¹", "device name"),
        (".hidden", "hidden"),
        ("images/.x.tif.part", "hidden"),
        ("trailing.", "ends with a dot"),
        (" leading", "space"),
        ("what?.tif", "reserved character"),
        ('quote".tif', "reserved character"),
        ("x" * 256, "longer than 255 bytes"),
    ],
)
def test_hostile_names_are_refused_with_the_reason(name: str, reason: str) -> None:
    with pytest.raises(UnsafeFileName) as caught:
        safe_filename(name)
    message = str(caught.value)
    assert reason in message and "refuses to land it" in message
    assert isinstance(caught.value, ValueError)
