"""`download()` edge cases on httpx.MockTransport: resume, restart, If-Range, 416, checks, 410, reuse, progress."""

from __future__ import annotations

import errno
import hashlib
import itertools
import logging
import os
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest

from harvest.delivery.deliverable import Deliverable
from harvest.delivery.download import CHUNK, download
from harvest.delivery.errors import ChecksumMismatch, DeliveryError, DeliveryExpired, SizeMismatch, UnsafeFileName
from harvest.delivery.partial import PartialFile, partial_path
from harvest.providers.auth import BasicAuth
from harvest.providers.errors import Gone, TransportError
from harvest.providers.http import ProviderHttp
from harvest.providers.secrets import Secret

URL = "https://data.example.com/items/42/download"
DATA = bytes(range(256)) * (3 * CHUNK // 256 + 1000)  # a bit over 3 MiB
MD5 = hashlib.md5(DATA, usedforsecurity=False).hexdigest()
SIZE = len(DATA)


class _Pieces(httpx.SyncByteStream):
    """A body delivered in 64 KiB pieces, as a socket would; `broken`: then fail like a dropped connection."""

    def __init__(self, data: bytes, *, broken: bool = False) -> None:
        self.data = data
        self.broken = broken

    def __iter__(self) -> Iterator[bytes]:
        for start in range(0, len(self.data), 65536):
            yield self.data[start : start + 65536]
        if self.broken:
            raise httpx.RemoteProtocolError("peer closed connection without sending complete message body")


class FileServer:
    """A MockTransport handler serving DATA with Range, If-Range and HEAD; `faults` damage one response each.

    Faults, consumed one per GET: None (a good answer), ("cut", n) (n bytes, then a dropped
    connection), ("short", n) (n bytes and a clean end, under a Content-Length of the whole),
    ("corrupt", 0) (one flipped byte), ("whole", 0) (200 and the whole file, whatever the Range).
    """

    def __init__(
        self,
        data: bytes = DATA,
        *,
        faults: list[tuple[str, int] | None] | None = None,
        headers: dict[str, str] | None = None,
        md5_header: bool = True,
    ) -> None:
        self.data = data
        self.faults = list(faults or [])
        self.headers = {"ETag": '"v1"', **(headers or {})}
        if md5_header:
            self.headers |= {"X-Ads-Checksum-Method": "md5", "X-Ads-Checksum-Value": hashlib.md5(data).hexdigest()}
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        size = len(self.data)
        if request.method == "HEAD":
            return httpx.Response(200, headers={**self.headers, "Content-Length": str(size)})
        fault = self.faults.pop(0) if self.faults else None
        kind, n = fault or ("", 0)
        start = 0
        wanted = request.headers.get("range")
        if wanted and kind != "whole" and request.headers.get("if-range") in (None, self.headers.get("ETag")):
            start = int(wanted.removeprefix("bytes=").removesuffix("-"))
            if start >= size:
                return httpx.Response(416, headers={**self.headers, "Content-Range": f"bytes */{size}"})
        body = self.data[start:]
        if kind == "corrupt":
            body = body[:10] + bytes([body[10] ^ 0xFF]) + body[11:]
        headers = {**self.headers, "Content-Length": str(len(body))}
        status = 200
        if start:
            status = 206
            headers["Content-Range"] = f"bytes {start}-{size - 1}/{size}"
        if kind in ("cut", "short"):
            return httpx.Response(status, headers=headers, stream=_Pieces(body[:n], broken=kind == "cut"))
        return httpx.Response(status, headers=headers, stream=_Pieces(body))

    @property
    def gets(self) -> list[httpx.Request]:
        return [r for r in self.requests if r.method == "GET"]


def http_for(handler: Callable[[httpx.Request], httpx.Response]) -> ProviderHttp:
    """A ProviderHttp with Basic credentials on a MockTransport; it never sleeps."""
    auth = BasicAuth("key", Secret("s3cret-password"))
    return ProviderHttp(
        "Test",
        auth=auth,
        origins=[URL, "https://api.example.com"],
        transport=httpx.MockTransport(handler),
        sleep=lambda _: None,
    )


def deliverable(**changes: object) -> Deliverable:
    fields: dict[str, object] = {"url": URL, "filename": "product.zip", **changes}
    return Deliverable(**fields)  # type: ignore[arg-type]


def leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.rglob("*") if p.name.startswith("."))


def test_a_clean_download_is_verified_and_renamed(tmp_path: Path) -> None:
    server = FileServer()
    landed = download(http_for(server), deliverable(), tmp_path)
    assert landed.path == tmp_path / "product.zip" and landed.path.read_bytes() == DATA
    assert (landed.size, landed.md5, landed.bytes_transferred, landed.attempts, landed.resumed) == (
        SIZE, MD5, SIZE, 1, False
    )  # fmt: skip
    assert leftovers(tmp_path) == []
    assert server.gets[0].headers["authorization"].startswith("Basic ")
    assert "range" not in server.gets[0].headers


def test_an_interrupted_body_resumes_with_range_and_if_range(tmp_path: Path) -> None:
    server = FileServer(faults=[("cut", CHUNK + 5000)])
    landed = download(http_for(server), deliverable(), tmp_path)
    assert landed.path.read_bytes() == DATA and landed.md5 == MD5
    assert (landed.attempts, landed.resumed, landed.bytes_transferred) == (2, True, SIZE)
    second = server.gets[1]
    assert second.headers["range"] == f"bytes={CHUNK + 5000}-"  # the bytes before the break were kept
    assert second.headers["if-range"] == '"v1"'


def test_a_body_shorter_than_its_content_length_resumes(tmp_path: Path) -> None:
    server = FileServer(faults=[("short", 100_000)])
    landed = download(http_for(server), deliverable(), tmp_path)
    assert landed.path.read_bytes() == DATA and landed.attempts == 2
    assert server.gets[1].headers["range"] == "bytes=100000-"


def test_a_200_instead_of_206_starts_over(tmp_path: Path) -> None:
    server = FileServer(faults=[("cut", 500_000), ("whole", 0)])
    landed = download(http_for(server), deliverable(), tmp_path)
    assert landed.path.read_bytes() == DATA and landed.md5 == MD5
    assert landed.bytes_transferred == 500_000 + SIZE  # the restart threw the first half-million away
    assert landed.resumed is False


def test_a_changed_file_fails_if_range_and_starts_over(tmp_path: Path) -> None:
    server = FileServer(faults=[("cut", 500_000), ("cut", 0)])
    http = http_for(server)
    original = server.headers["ETag"]

    def new_version(request: httpx.Request) -> httpx.Response:
        server.headers["ETag"] = '"v2"'  # the server's file changed between the two requests
        return server(request)

    with pytest.raises(TransportError):
        download(http, deliverable(), tmp_path, max_attempts=1)
    assert partial_path(tmp_path / "product.zip").stat().st_size == 500_000
    landed = download(http_for(new_version), deliverable(), tmp_path)
    resumed = server.gets[2]  # the first request of the second call
    assert (resumed.headers["range"], resumed.headers["if-range"]) == ("bytes=500000-", original)
    assert landed.path.read_bytes() == DATA and landed.bytes_transferred == SIZE


def test_if_range_uses_last_modified_when_the_etag_is_weak(tmp_path: Path) -> None:
    modified = "Wed, 21 Oct 2026 07:28:00 GMT"
    server = FileServer(faults=[("cut", 70_000)], headers={"ETag": 'W/"weak"', "Last-Modified": modified})
    download(http_for(server), deliverable(), tmp_path)
    assert server.gets[1].headers["if-range"] == modified


def test_a_partial_that_is_already_whole_gets_416_and_is_landed(tmp_path: Path) -> None:
    partial_path(tmp_path / "product.zip").write_bytes(DATA)
    server = FileServer()
    landed = download(http_for(server), deliverable(), tmp_path)
    assert [r.headers["range"] for r in server.gets] == [f"bytes={SIZE}-"]
    assert (landed.bytes_transferred, landed.md5, landed.resumed) == (0, MD5, True)
    assert leftovers(tmp_path) == []


def test_a_partial_longer_than_the_file_gets_416_and_starts_over(tmp_path: Path) -> None:
    partial_path(tmp_path / "product.zip").write_bytes(DATA + b"junk")
    server = FileServer()
    landed = download(http_for(server), deliverable(), tmp_path)
    assert "range" not in server.gets[1].headers
    assert landed.path.read_bytes() == DATA and landed.attempts == 2


def test_a_partial_from_an_earlier_run_is_resumed(tmp_path: Path) -> None:
    partial_path(tmp_path / "product.zip").write_bytes(DATA[:1_234_567])
    server = FileServer()
    landed = download(http_for(server), deliverable(), tmp_path)
    assert server.gets[0].headers["range"] == "bytes=1234567-"
    assert (landed.bytes_transferred, landed.resumed, landed.md5) == (SIZE - 1_234_567, True, MD5)


def test_a_checksum_mismatch_is_retried_from_scratch(tmp_path: Path) -> None:
    server = FileServer(faults=[("corrupt", 0), ("corrupt", 0)])
    landed = download(http_for(server), deliverable(), tmp_path)
    assert landed.md5 == MD5 and landed.attempts == 3 and landed.bytes_transferred == 3 * SIZE
    assert all("range" not in r.headers for r in server.gets)


def test_a_lasting_checksum_mismatch_is_reported_without_secrets(tmp_path: Path) -> None:
    server = FileServer(faults=[("corrupt", 0)] * 10)
    url = URL + "?token=abcdef123456&format=zip"
    with pytest.raises(ChecksumMismatch) as caught:
        download(http_for(server), deliverable(url=url), tmp_path, max_attempts=3)
    error = caught.value
    assert len(server.gets) == 3 and error.attempts == 3 and error.expected == MD5 and error.got != MD5
    assert "abcdef123456" not in str(error) and "token=***" in str(error) and MD5 in str(error)
    assert not (tmp_path / "product.zip").exists() and leftovers(tmp_path) == []


def test_the_deliverables_md5_wins_and_arlulas_form_is_accepted(tmp_path: Path) -> None:
    server = FileServer(md5_header=False)
    landed = download(http_for(server), deliverable(md5=f'md5:"{MD5.upper()}"'), tmp_path)
    assert landed.md5 == MD5
    with pytest.raises(ChecksumMismatch):
        download(http_for(FileServer(md5_header=False)), deliverable(md5="0" * 32), tmp_path / "x", max_attempts=2)
    with pytest.raises(DeliveryError, match="not an md5 checksum"):
        download(http_for(server), deliverable(md5="sha256:abc"), tmp_path / "y")


def test_without_a_checksum_the_size_is_checked(tmp_path: Path) -> None:
    server = FileServer(md5_header=False)
    assert download(http_for(server), deliverable(size=SIZE), tmp_path).md5 == MD5
    with pytest.raises(SizeMismatch) as caught:
        download(http_for(server), deliverable(size=SIZE + 1), tmp_path / "wrong", max_attempts=2)
    assert caught.value.expected == f"{SIZE + 1} bytes" and caught.value.got == f"{SIZE} bytes"
    assert leftovers(tmp_path / "wrong") == []


def test_a_connection_that_never_delivers_gives_up_and_keeps_the_partial(tmp_path: Path) -> None:
    faults: list[tuple[str, int] | None] = [("cut", 200_000), *[("cut", 0)] * 10]
    server = FileServer(faults=faults)
    with pytest.raises(TransportError):
        download(http_for(server), deliverable(), tmp_path, max_attempts=3)
    assert len(server.gets) == 4  # the first break made progress and cost no attempt; three more did not
    assert partial_path(tmp_path / "product.zip").read_bytes() == DATA[:200_000]


def test_gone_is_reported_as_an_expired_delivery(tmp_path: Path) -> None:
    def gone(request: httpx.Request) -> httpx.Response:
        return httpx.Response(410, json={"error": "the storage for this order has expired"})

    with pytest.raises(DeliveryExpired) as caught:
        download(http_for(gone), deliverable(), tmp_path)
    assert isinstance(caught.value, Gone) and caught.value.status == 410
    assert "expired" in str(caught.value) and "order it again" in str(caught.value)


def test_an_existing_file_with_the_stated_md5_is_reused_without_a_request(tmp_path: Path) -> None:
    (tmp_path / "product.zip").write_bytes(DATA)
    server = FileServer()
    landed = download(http_for(server), deliverable(md5=MD5), tmp_path)
    assert server.requests == [] and (landed.bytes_transferred, landed.attempts, landed.md5) == (0, 0, MD5)


def test_an_existing_file_is_checked_against_the_announced_md5_with_head(tmp_path: Path) -> None:
    (tmp_path / "product.zip").write_bytes(DATA)
    server = FileServer()
    assert download(http_for(server), deliverable(), tmp_path).bytes_transferred == 0
    assert [r.method for r in server.requests] == ["HEAD"]
    (tmp_path / "product.zip").write_bytes(b"something else")
    landed = download(http_for(server), deliverable(), tmp_path)
    assert landed.bytes_transferred == SIZE and landed.path.read_bytes() == DATA


def test_presigned_urls_get_no_credentials(tmp_path: Path) -> None:
    server = FileServer()
    download(http_for(server), deliverable(authenticated=False), tmp_path)
    assert "authorization" not in server.gets[0].headers


def test_a_data_redirect_is_followed_to_storage_without_credentials(tmp_path: Path) -> None:
    storage = FileServer(faults=[("cut", 300_000)])

    def arlula(request: httpx.Request) -> httpx.Response:
        if request.url.host == "storage.example.com":
            return storage(request)
        assert request.headers["authorization"].startswith("Basic ")
        headers = {
            "Location": "https://storage.example.com/t0k3n/B4.TIF",
            "Content-Disposition": 'attachment; filename="B4.TIF"',
        }
        return httpx.Response(302, headers=headers)

    landed = download(http_for(arlula), deliverable(url="https://api.example.com/api/resource/9/data"), tmp_path)
    assert landed.path.read_bytes() == DATA and landed.attempts == 2
    assert [("authorization" in r.headers, r.headers.get("range")) for r in storage.gets] == [
        (False, None), (False, "bytes=300000-")
    ]  # fmt: skip


def test_progress_is_reported_at_most_every_mib_and_logged_in_percent(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    calls: list[tuple[int, int | None]] = []
    with caplog.at_level(logging.INFO, logger="harvest.delivery.download"):
        download(http_for(FileServer()), deliverable(), tmp_path, on_progress=lambda *a: calls.append(a))
    sizes = [size for size, _ in calls]
    assert sizes == sorted(sizes) and calls[-1] == (SIZE, SIZE) and all(total == SIZE for _, total in calls)
    assert all(b - a >= CHUNK for a, b in itertools.pairwise(sizes[:-1]))  # the last one tells completion
    assert len(calls) <= SIZE // CHUNK + 2
    percents = [r.getMessage() for r in caplog.records if "%" in r.getMessage()]
    assert percents[0].endswith(": 0% (0.0 of 3.4 MB)") and percents[-1].endswith(": 100% (3.4 of 3.4 MB)")
    assert 3 <= len(percents) <= 11
    assert "s3cret" not in caplog.text


def test_nested_relative_names_land_in_subfolders(tmp_path: Path) -> None:
    name = "DS_PHR1A_2026/IMG_PHR1A_P_001/IMG_R1C1.JP2"
    landed = download(http_for(FileServer()), deliverable(filename=name), tmp_path)
    assert landed.path == tmp_path / name and landed.name == name and leftovers(tmp_path) == []


def test_a_hostile_name_is_refused_before_any_request(tmp_path: Path) -> None:
    server = FileServer()
    with pytest.raises(UnsafeFileName):
        download(http_for(server), deliverable(filename="../../etc/passwd"), tmp_path / "in")
    assert server.requests == [] and not (tmp_path / "in").exists()


# --- long names and full disks ----------------------------------------------------------------------


@pytest.mark.parametrize("name", ["n" * 236 + ".zip", "n" * 246 + ".zip", "é" * 125 + ".zip", "x" * 251 + ".zip"])
def test_names_of_240_to_255_bytes_keep_their_partial_resume_and_land(tmp_path: Path, name: str) -> None:
    server = FileServer(faults=[("cut", 200_000), ("cut", 0)])
    with pytest.raises(TransportError):
        download(http_for(server), deliverable(filename=name), tmp_path, max_attempts=1)
    hidden = leftovers(tmp_path)  # the partial and its validator, each a name the file system accepts
    assert len(hidden) == 2 and all(len(n.encode()) <= 255 for n in hidden)
    landed = download(http_for(server), deliverable(filename=name), tmp_path)
    assert server.gets[-1].headers["range"] == "bytes=200000-" and server.gets[-1].headers["if-range"] == '"v1"'
    assert landed.path == tmp_path / name and landed.path.read_bytes() == DATA and leftovers(tmp_path) == []


def fill_disk_after(monkeypatch: pytest.MonkeyPatch, room: int, code: int = errno.ENOSPC) -> None:
    """Make the partial's writes fail with `code` once `room` bytes are on disk (the bytes that fit are written)."""
    real_write = PartialFile._write
    written = [0]

    def write(self: PartialFile, data: bytes | bytearray) -> None:
        fits = max(room - written[0], 0)
        real_write(self, data[:fits])
        written[0] += min(fits, len(data))
        if fits < len(data):
            raise OSError(code, os.strerror(code))

    monkeypatch.setattr(PartialFile, "_write", write)


def test_a_full_disk_stops_with_the_folder_and_the_bytes_needed_then_resumes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    room = CHUNK + 12_345
    fill_disk_after(monkeypatch, room)
    server = FileServer()
    with pytest.raises(DeliveryError) as caught:
        download(http_for(server), deliverable(), tmp_path / "in")
    message = str(caught.value)
    assert f"{tmp_path / 'in'} is full" in message and f"{SIZE - room:,} more bytes" in message
    assert "s3cret" not in message and len(server.gets) == 1  # not retried: the disk stays full
    assert partial_path(tmp_path / "in" / "product.zip").read_bytes() == DATA[:room]  # what was written, whole
    assert not (tmp_path / "in" / "product.zip").exists()

    monkeypatch.undo()  # space was freed
    landed = download(http_for(server), deliverable(), tmp_path / "in")
    assert landed.resumed and landed.bytes_transferred == SIZE - room and landed.md5 == MD5
    assert server.gets[-1].headers["range"] == f"bytes={room}-" and leftovers(tmp_path) == []


def test_a_file_too_large_for_the_file_system_is_told_and_its_partial_dropped(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fill_disk_after(monkeypatch, 100_000, errno.EFBIG)
    with pytest.raises(DeliveryError, match="cannot hold a file of") as caught:
        download(http_for(FileServer()), deliverable(), tmp_path)
    assert str(tmp_path) in str(caught.value) and leftovers(tmp_path) == [] and list(tmp_path.iterdir()) == []
