"""Provider file names made safe to land: relative, inside the delivery folder, portable, or refused.

A hostile or confusing name is refused with `UnsafeFileName`, never rewritten into something else:
a silently renamed file would no longer match the provider's listing or the manifest. Forward
slashes separate the folders of a relative path (Sentinel Hub delivers `DS_…/IMG_…/…JP2`); every
component must be an ordinary name on Linux, macOS and Windows alike.
"""

from __future__ import annotations

import re
import unicodedata

from harvest.delivery.errors import UnsafeFileName

MAX_COMPONENT_BYTES = 255  # NAME_MAX of ext4, APFS and NTFS
MAX_PATH_BYTES = 1024
_FORBIDDEN = set('<>:"|?*\\')  # reserved on Windows; a backslash is its path separator
_DEVICE = re.compile(r"(?i)^(con|prn|aux|nul|com[0-9¹²³]|lpt[0-9¹²³]|conin\$|conout\$)(\..*)?$")
_DRIVE = re.compile(r"^[A-Za-z]:")
_UNPRINTABLE = frozenset({"Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"})  # controls, bidi overrides, separators


def _refuse(name: str, why: str) -> UnsafeFileName:
    return UnsafeFileName(
        f"unsafe file name {name!r} from the provider: {why}. harvest refuses to land it; check the order's "
        "file listing with the provider (names must be relative paths of ordinary names)"
    )


def _check_component(name: str, component: str) -> None:
    if component == "":
        raise _refuse(name, "it has an empty path component (a leading, doubled or trailing '/')")
    if set(component) == {"."}:
        raise _refuse(name, f"{component!r} is not a file name ('.' and '..' walk the directory tree)")
    if component.startswith("."):
        raise _refuse(name, f"{component!r} is a hidden name (it could collide with harvest's partial downloads)")
    if component != component.strip() or component.endswith("."):
        raise _refuse(name, f"{component!r} starts or ends with a space or ends with a dot (Windows drops them)")
    if _DEVICE.match(component):
        raise _refuse(name, f"{component!r} is a reserved device name on Windows")
    if len(component.encode()) > MAX_COMPONENT_BYTES:
        raise _refuse(name, f"a path component is longer than {MAX_COMPONENT_BYTES} bytes")


def safe_filename(name: str) -> str:
    """`name` unchanged if it is a safe relative file path, else `UnsafeFileName` saying why."""
    if not isinstance(name, str) or not name:
        raise _refuse(str(name), "it is empty")
    if name.startswith(("/", "\\")):
        raise _refuse(name, "it is an absolute path")
    if _DRIVE.match(name):
        raise _refuse(name, "it starts with a Windows drive letter")
    for char in name:
        if unicodedata.category(char) in _UNPRINTABLE:
            raise _refuse(name, f"it contains the control or invisible character U+{ord(char):04X}")
        if char in _FORBIDDEN:
            raise _refuse(name, f"it contains {char!r}, a path separator or reserved character on Windows")
    if len(name.encode()) > MAX_PATH_BYTES:
        raise _refuse(name, f"it is longer than {MAX_PATH_BYTES} bytes")
    for component in name.split("/"):
        _check_component(name, component)
    return name
