"""The most bytes harvest accepts for a delivered file whose size nobody states: HARVEST_DOWNLOAD_SIZE_LIMIT.

Every provider states its files' sizes (the listing, Content-Length or Content-Range), and a
download never runs past a stated size. This bounds only a body that comes with no size at all, so
a misbehaving server cannot fill the disk.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping

SIZE_LIMIT_VARIABLE = "HARVEST_DOWNLOAD_SIZE_LIMIT"
DEFAULT_SIZE_LIMIT = 64 << 30  # 64 GiB: well above any single product file the providers deliver
_UNITS = {"": 1, "B": 1, "kB": 10**3, "KB": 10**3, "MB": 10**6, "GB": 10**9, "TB": 10**12,
          "KiB": 1 << 10, "MiB": 1 << 20, "GiB": 1 << 30, "TiB": 1 << 40}  # fmt: skip
_SIZE = re.compile(r"^\s*(\d+(?:\.\d*)?|\.\d+)\s*([A-Za-z]*)\s*$")


def parse_size(text: str) -> int:
    """Bytes from `500MB`, `64GiB` or `1000000` (units of 1000 or 1024); ValueError saying how to write it."""
    match = _SIZE.match(text)
    unit = match.group(2) if match else ""
    if match is None or unit not in _UNITS:
        units = ", ".join(u for u in _UNITS if u)
        raise ValueError(f"{text!r} is not a size: give bytes as a number with an optional unit ({units}), e.g. 64GiB")
    size = int(float(match.group(1)) * _UNITS[unit])
    if size < 1:
        raise ValueError(f"{text!r} is not a size: it must be at least 1 byte, e.g. 64GiB")
    return size


def size_limit(env: Mapping[str, str] | None = None) -> int:
    """HARVEST_DOWNLOAD_SIZE_LIMIT in bytes, else DEFAULT_SIZE_LIMIT; ValueError naming the variable if it is bad."""
    text = (os.environ if env is None else env).get(SIZE_LIMIT_VARIABLE, "").strip()
    if not text:
        return DEFAULT_SIZE_LIMIT
    try:
        return parse_size(text)
    except ValueError as exc:
        raise ValueError(f"{SIZE_LIMIT_VARIABLE}: {exc}") from None
