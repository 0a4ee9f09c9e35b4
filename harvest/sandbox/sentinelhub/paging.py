"""`count` + `viewtoken` paging: opaque tokens bound to the query they page, and the `links` View.

A viewtoken is base64 of "offset:binding", where the binding hashes the request body (search) or
the filter parameters (lists). Re-posting a different body with a token is refused
(docs/providers.md#sentinel-hub-tpdi-search).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from typing import Any
from urllib.parse import urlencode

import orjson

from harvest.sandbox.sentinelhub.errors import PayloadError


def binding(payload: Any) -> str:
    """A short hash of a JSON-able payload, independent of key order."""
    return hashlib.sha256(orjson.dumps(payload, option=orjson.OPT_SORT_KEYS)).hexdigest()[:16]


def encode_token(offset: int, bound_to: str) -> str:
    """The viewtoken of the page starting at `offset`."""
    return base64.urlsafe_b64encode(f"{offset}:{bound_to}".encode()).decode().rstrip("=")


def decode_token(token: str, bound_to: str) -> int:
    """The offset a viewtoken names; PayloadError if it is garbled or belongs to another query."""
    try:
        text = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)).decode()
        offset_text, _, token_binding = text.partition(":")
        offset = int(offset_text)
    except (binascii.Error, UnicodeDecodeError, ValueError) as exc:
        raise PayloadError("viewtoken", "is not a valid viewtoken") from exc
    if offset < 0:
        raise PayloadError("viewtoken", "is not a valid viewtoken")
    if token_binding != bound_to:
        raise PayloadError("viewtoken", "was issued for a different query; repeat the same request body")
    return offset


def parse_count(raw: str | None, maximum: int) -> int:
    """`count`: at least 1, clamped to the endpoint maximum (also the default)."""
    if raw is None or raw == "":
        return maximum
    try:
        count = int(raw)
    except ValueError as exc:
        raise PayloadError("count", f"must be an integer, got {raw!r}") from exc
    if count < 1:
        raise PayloadError("count", "must be at least 1")
    return min(count, maximum)


def view_links(
    url: str, params: dict[str, str], *, offset: int, count: int, total: int, bound_to: str
) -> dict[str, str]:
    """The `links` object; `nextToken` and `next` are absent on the last page."""
    current = encode_token(offset, bound_to)
    here = {**params, "count": str(count)}
    if offset:
        here["viewtoken"] = current
    links = {"@id": f"{url}?{urlencode(here)}", "currentToken": current}
    if offset + count < total:
        following = encode_token(offset + count, bound_to)
        links["nextToken"] = following
        links["next"] = f"{url}?{urlencode({**params, 'count': str(count), 'viewtoken': following})}"
    return links
