"""HTTP plumbing shared by the simulated providers: JSON, byte ranges, paced bodies and dropped connections."""

from __future__ import annotations

import asyncio
import hashlib
import re
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import orjson
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse

_RANGE = re.compile(r"^bytes=(\d*)-(\d*)$")
CHUNK = 1 << 20
PACE_QUANTUM_S = 0.01  # a paced body goes out in pieces of about this many seconds' worth
MIN_PACED_PIECE = 1 << 12


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


class Pacer:
    """A token bucket for one response body: `rate` bytes per second on average, waiting by sleeping.

    Bytes sent ahead of the rate are a debt slept off before the next piece; time spent elsewhere
    (reading the file, a late wake-up) is credited up to one piece, so the average holds without
    ever bursting more than a piece ahead. Real time, not the sandbox clock: a frozen clock still serves.
    """

    def __init__(
        self,
        rate: float,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        if not rate > 0:
            raise ValueError(f"a download bandwidth must be more than 0 bytes per second, got {rate!r}")
        self.rate = rate
        self.piece = max(MIN_PACED_PIECE, min(CHUNK, int(rate * PACE_QUANTUM_S)))  # bytes per send
        self._clock = clock
        self._sleep = sleep
        self._credit = float(self.piece)  # the first piece leaves at once
        self._last = clock()

    async def take(self, count: int) -> None:
        """Wait until `count` more bytes may be sent."""
        now = self._clock()
        self._credit = min(self.piece, self._credit + (now - self._last) * self.rate) - count
        self._last = now
        if self._credit < 0:
            await self._sleep(-self._credit / self.rate)


def _pacer(request: Request) -> Pacer | None:
    """A fresh pacer for one body, when the sandbox serving `request` has a download bandwidth."""
    from harvest.sandbox.core import sandbox_of

    rate = sandbox_of(request).config.download_bandwidth_bytes_per_s
    return Pacer(rate) if rate else None


def file_response(
    request: Request,
    path: Path,
    *,
    media_type: str,
    headers: dict[str, str] | None = None,
    fault: str | None = None,
) -> Response:
    """Serve a file with HEAD and single-range GET support, paced to the sandbox's download bandwidth if any.

    `fault` damages this one response.
    """
    size = path.stat().st_size
    base = {"Accept-Ranges": "bytes", **(headers or {})}
    wanted = parse_range(request.headers.get("range"), size)
    if isinstance(wanted, str):  # "unsatisfiable"
        return Response(status_code=416, headers={**base, "Content-Range": f"bytes */{size}"})
    start, end = (0, size - 1) if wanted is None else wanted
    length = end - start + 1 if size else 0
    status = 206 if wanted is not None else 200
    base["Content-Length"] = str(length)
    if status == 206:
        base["Content-Range"] = f"bytes {start}-{end}/{size}"
    if request.method == "HEAD":
        return Response(status_code=status, headers=base, media_type=media_type)
    return StreamingResponse(
        _stream(path, start, length, fault, _pacer(request)), status_code=status, headers=base, media_type=media_type
    )


async def _stream(
    path: Path, start: int, length: int, fault: str | None, pacer: Pacer | None = None
) -> AsyncIterator[bytes]:
    cut = length // 2 if fault == "truncate" else None
    piece = pacer.piece if pacer else CHUNK
    sent = 0
    with path.open("rb") as handle:
        handle.seek(start)
        while sent < length:
            chunk = handle.read(min(piece, length - sent))
            if not chunk:
                break
            if fault == "corrupt" and sent <= length // 3 < sent + len(chunk):
                index = length // 3 - sent
                chunk = chunk[:index] + bytes([chunk[index] ^ 0xFF]) + chunk[index + 1 :]
            if cut is not None and sent + len(chunk) > cut:
                chunk = chunk[: cut - sent]
            if pacer:
                await pacer.take(len(chunk))
            sent += len(chunk)
            yield chunk
            if cut is not None and sent >= cut:
                raise InjectedDisconnect


async def read_form(request: Request) -> dict[str, str]:
    """An application/x-www-form-urlencoded body (the OAuth token endpoints take these)."""
    from urllib.parse import parse_qsl

    body = (await request.body()).decode("utf-8", errors="replace")
    return dict(parse_qsl(body, keep_blank_values=True))
