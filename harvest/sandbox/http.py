"""HTTP plumbing shared by the simulated providers: JSON, byte ranges and dropped connections."""

from __future__ import annotations

import hashlib
import re
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import orjson
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse

_RANGE = re.compile(r"^bytes=(\d*)-(\d*)$")
CHUNK = 1 << 20


class InjectedDisconnect(Exception):
    """Raised inside a response to make the server drop the connection (an injected fault)."""


def json_response(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(orjson.dumps(body), status_code=status, media_type="application/json", headers=headers)


def raw_json_response(payload: bytes, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(payload, status_code=status, media_type="application/json", headers=headers)


async def read_json(request: Request) -> Any:
    """The body as JSON whatever the Content-Type (Arlula's Python SDK sends none); None if empty."""
    body = await request.body()
    if not body.strip():
        return None
    return orjson.loads(body)


def parse_range(header: str | None, size: int) -> tuple[int, int] | str | None:
    """(start, end_inclusive) for a single-range header, None without one, "unsatisfiable" otherwise."""
    if not header:
        return None
    match = _RANGE.match(header.strip())
    if match is None:
        return None  # unsupported forms (multiple ranges) get the whole file, as RFC 9110 allows
    first, last = match.groups()
    if first == "" and last == "":
        return None
    if first == "":
        length = int(last)
        if length == 0:
            return "unsatisfiable"
        return max(size - length, 0), size - 1
    start = int(first)
    end = min(int(last), size - 1) if last else size - 1
    if start >= size or end < start:
        return "unsatisfiable"
    return start, end


def file_md5(path: Path) -> str:
    digest = hashlib.md5(usedforsecurity=False)
    with path.open("rb") as handle:
        while chunk := handle.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


FileFault = Callable[[], str | None]  # returns "truncate", "corrupt" or None for each download


def file_response(
    request: Request,
    path: Path,
    *,
    media_type: str,
    headers: dict[str, str] | None = None,
    fault: str | None = None,
) -> Response:
    """Serve a file with HEAD and single-range GET support; `fault` damages this one response."""
    size = path.stat().st_size
    base = {"Accept-Ranges": "bytes", **(headers or {})}
    wanted = parse_range(request.headers.get("range"), size)
    if wanted == "unsatisfiable":
        return Response(status_code=416, headers={**base, "Content-Range": f"bytes */{size}"})
    start, end = (0, size - 1) if wanted is None else wanted  # type: ignore[misc]
    length = end - start + 1 if size else 0
    status = 206 if wanted is not None else 200
    base["Content-Length"] = str(length)
    if status == 206:
        base["Content-Range"] = f"bytes {start}-{end}/{size}"
    if request.method == "HEAD":
        return Response(status_code=status, headers=base, media_type=media_type)
    return StreamingResponse(
        _stream(path, start, length, fault), status_code=status, headers=base, media_type=media_type
    )


async def _stream(path: Path, start: int, length: int, fault: str | None) -> AsyncIterator[bytes]:
    cut = length // 2 if fault == "truncate" else None
    sent = 0
    with path.open("rb") as handle:
        handle.seek(start)
        while sent < length:
            chunk = handle.read(min(CHUNK, length - sent))
            if not chunk:
                break
            if fault == "corrupt" and sent <= length // 3 < sent + len(chunk):
                index = length // 3 - sent
                chunk = chunk[:index] + bytes([chunk[index] ^ 0xFF]) + chunk[index + 1 :]
            if cut is not None and sent + len(chunk) > cut:
                yield chunk[: cut - sent]
                raise InjectedDisconnect
            sent += len(chunk)
            yield chunk


async def read_form(request: Request) -> dict[str, str]:
    """An application/x-www-form-urlencoded body (the OAuth token endpoints take these)."""
    from urllib.parse import parse_qsl

    body = (await request.body()).decode("utf-8", errors="replace")
    return dict(parse_qsl(body, keep_blank_values=True))
