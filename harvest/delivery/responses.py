"""What a download response says about its file: where the body starts, the whole size, a validator, an md5."""

from __future__ import annotations

import re

import httpx

_CONTENT_RANGE = re.compile(r"^bytes\s+(?:(\d+)-(\d+)|\*)/(\d+|\*)$", re.I)
_MD5 = re.compile(r'^(?:md5:)?\s*"?([0-9a-fA-F]{32})"?$')


def parse_md5(text: str | None) -> str | None:
    """Lowercase hex from `hex` or Arlula's resource checksum `md5:"hex"`; None for None; ValueError otherwise."""
    if text is None or not text.strip():
        return None
    match = _MD5.match(text.strip())
    if match is None:
        raise ValueError(f'{text!r} is not an md5 checksum: give 32 hex digits, or Arlula\'s md5:"<hex>"')
    return match.group(1).lower()


def content_range(response: httpx.Response) -> tuple[int | None, int | None]:
    """(first byte, whole size) from Content-Range: `bytes 10-99/100` -> (10, 100), `bytes */100` -> (None, 100)."""
    match = _CONTENT_RANGE.match(response.headers.get("content-range", "").strip())
    if match is None:
        return None, None
    first, _, total = match.groups()
    return (int(first) if first is not None else None), (int(total) if total != "*" else None)


def whole_size(response: httpx.Response) -> int | None:
    """The size of the whole file: Content-Range's total for 206 and 416, Content-Length for 200."""
    if response.status_code in (206, 416):
        return content_range(response)[1]
    length = response.headers.get("content-length", "")
    return int(length) if length.isdigit() else None


def validator(response: httpx.Response) -> str | None:
    """A value for If-Range: a strong ETag, else Last-Modified (a weak ETag may not be used)."""
    etag: str | None = response.headers.get("etag")
    if etag and not etag.startswith("W/"):
        return etag
    modified: str | None = response.headers.get("last-modified")
    return modified


def announced_md5(response: httpx.Response) -> str | None:
    """The md5 a provider sends with the bytes (OneAtlas: X-Ads-Checksum-Method md5 + X-Ads-Checksum-Value)."""
    if response.headers.get("x-ads-checksum-method", "").strip().lower() != "md5":
        return None
    try:
        return parse_md5(response.headers.get("x-ads-checksum-value"))
    except ValueError:
        return None  # a garbled header proves nothing; the size is still checked
