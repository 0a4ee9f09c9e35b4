"""`download()` against hostile servers on loopback: bodies longer than announced, endless, or of no stated length.

Every hostile body here is finite (BIG), so that code without bounds ends too, with a file far past
what was announced, instead of hanging the test.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from harvest.delivery.deliverable import Deliverable
from harvest.delivery.download import download
from harvest.delivery.errors import DeliveryError, SizeMismatch
from harvest.delivery.partial import PartialFile, partial_path
from harvest.providers.http import ProviderHttp
from harvest_tests.hostile import Reply, Request, hostile_server

BIG = 64 << 20  # what a hostile server sends when it is let
STATED = 256 << 10  # the size the provider's listing (or the server) announces
LIMIT = 4 << 20  # the most bytes accepted for a file nobody states a size of
DATA = bytes(range(256)) * (STATED // 256)
MD5 = hashlib.md5(DATA, usedforsecurity=False).hexdigest()


def send(reply: Reply, size: int, data: bytes = DATA) -> None:
    """Body bytes: `data` over and over, `size` bytes in all, or fewer if the client hangs up."""
    sent = 0
    while sent < size:
        piece = data[: min(len(data), size - sent)]
        if not reply.write(piece):
            return
        sent += len(piece)


def written_sizes(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """The partial's size after every append (watched, not changed)."""
    sizes: list[int] = []
    append = PartialFile.append

    def watched(self: PartialFile, data: bytes | bytearray) -> None:
        append(self, data)
        sizes.append(self.size)

    monkeypatch.setattr(PartialFile, "append", watched)
    return sizes


def http() -> ProviderHttp:
    return ProviderHttp("Hostile", sleep=lambda _: None)


def leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.rglob("*")) if folder.exists() else []


def test_a_body_running_past_the_stated_size_is_cut_there_and_dropped(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def longer(request: Request, reply: Reply) -> None:
        reply.start(200, {"ETag": '"v1"'})  # no Content-Length: the body ends when the server closes
        send(reply, BIG)

    sizes = written_sizes(monkeypatch)
    with hostile_server(longer) as server:
        file = Deliverable(f"{server.url}/f.bin", "f.bin", size=STATED)
        with pytest.raises(SizeMismatch) as caught:
            download(http(), file, tmp_path, max_attempts=2)
    assert len(server.requests) == 2 and sizes and max(sizes) <= STATED
    assert (caught.value.expected, caught.value.got) == (f"{STATED} bytes", f"more than {STATED} bytes")
    assert leftovers(tmp_path) == []  # the last attempt failed on size: nothing is kept to resume


def test_a_content_length_other_than_the_stated_size_is_refused_before_the_body(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def announced(request: Request, reply: Reply) -> None:
        reply.start(200, {"Content-Length": str(BIG)})
        send(reply, BIG)

    sizes = written_sizes(monkeypatch)
    with hostile_server(announced) as server, pytest.raises(SizeMismatch) as caught:
        download(http(), Deliverable(f"{server.url}/f.bin", "f.bin", size=STATED), tmp_path, max_attempts=3)
    assert len(server.requests) == 3 and sizes == [] and leftovers(tmp_path) == []
    assert (caught.value.expected, caught.value.got) == (f"{STATED} bytes", f"{BIG} bytes")


def test_a_range_answer_running_past_its_content_range_is_cut_and_fetched_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def lying_ranges(request: Request, reply: Reply) -> None:
        if "range" in request.headers:  # says the file ends at STATED, then keeps sending
            first = int(request.headers["range"].removeprefix("bytes=").removesuffix("-"))
            headers = {"Content-Range": f"bytes {first}-{STATED - 1}/{STATED}", "Content-Length": str(BIG)}
            reply.start(206, {"ETag": '"v1"', **headers})
            send(reply, BIG, DATA[first:] + DATA)
        else:
            reply.send(200, DATA, {"ETag": '"v1"'})

    partial_path(tmp_path / "f.bin").write_bytes(DATA[:1000])  # left by an earlier run
    sizes = written_sizes(monkeypatch)
    with hostile_server(lying_ranges) as server:
        landed = download(http(), Deliverable(f"{server.url}/f.bin", "f.bin"), tmp_path)
    assert [r.headers.get("range") for r in server.requests] == ["bytes=1000-", None]
    assert max(sizes) <= STATED and landed.md5 == MD5 and landed.path.read_bytes() == DATA
    assert leftovers(tmp_path) == ["f.bin"]


def test_an_endless_body_of_unknown_size_stops_at_the_limit_and_is_deleted(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def endless(request: Request, reply: Reply) -> None:
        reply.start(200, {"Content-Type": "application/octet-stream"})
        send(reply, BIG)

    sizes = written_sizes(monkeypatch)
    with hostile_server(endless) as server, pytest.raises(DeliveryError) as caught:
        download(http(), Deliverable(f"{server.url}/f.bin", "f.bin"), tmp_path, size_limit=LIMIT)
    message = str(caught.value)
    assert f"more than {LIMIT:,} bytes" in message and "HARVEST_DOWNLOAD_SIZE_LIMIT" in message
    assert len(server.requests) == 1 and max(sizes) <= LIMIT  # no second try: it cannot end better
    assert leftovers(tmp_path) == []


def test_a_body_without_any_size_under_the_limit_lands_with_a_warning(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    def unsized(request: Request, reply: Reply) -> None:
        reply.start(200, {})
        send(reply, STATED)

    with hostile_server(unsized) as server, caplog.at_level(logging.WARNING, logger="harvest.delivery.download"):
        landed = download(http(), Deliverable(f"{server.url}/f.bin", "f.bin"), tmp_path, size_limit=LIMIT)
    assert landed.md5 == MD5 and landed.size == STATED and "no checksum and no size" in caplog.text


def test_a_partial_longer_than_the_stated_size_is_dropped_before_asking(tmp_path: Path) -> None:
    def exact(request: Request, reply: Reply) -> None:
        reply.send(200, DATA, {"ETag": '"v1"'})

    partial_path(tmp_path / "f.bin").write_bytes(DATA + b"junk")  # can never become the file
    with hostile_server(exact) as server:
        landed = download(http(), Deliverable(f"{server.url}/f.bin", "f.bin", size=STATED), tmp_path)
    assert [r.headers.get("range") for r in server.requests] == [None] and landed.md5 == MD5


# --- real file systems that run out: a 2 MiB tmpfs, and a file size limit -------------------------------

WHOLE = bytes(range(256)) * (5 << 12)  # 5 MiB
_CHILD = """
import json, resource, signal, subprocess, sys
from pathlib import Path
from harvest.delivery.download import download
from harvest.delivery.errors import DiskFull
from harvest.delivery.deliverable import Deliverable
from harvest.providers.http import ProviderHttp

url, folder, how = sys.argv[1], Path(sys.argv[2]), sys.argv[3]
if how == "tmpfs":
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=2m", "tmpfs", str(folder)], check=True)
else:
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # past the limit, write() fails with EFBIG
    resource.setrlimit(resource.RLIMIT_FSIZE, (1 << 20, resource.RLIM_INFINITY))
http, file, out = ProviderHttp("Hostile", sleep=lambda _: None), Deliverable(url, "big.bin"), {}
try:
    download(http, file, folder / "in")
except DiskFull as full:
    out["error"], out["left"] = str(full), {p.name: p.stat().st_size for p in (folder / "in").iterdir()}
if how == "tmpfs":
    subprocess.run(["mount", "-o", "remount,size=16m", str(folder)], check=True)  # space was freed
    landed = download(http, file, folder / "in")
    out["landed"] = [landed.size, landed.md5, landed.bytes_transferred, landed.resumed]
print(json.dumps(out))
"""


def ranged(request: Request, reply: Reply) -> None:
    """WHOLE, honouring `Range: bytes=N-`."""
    first = int(request.headers["range"].removeprefix("bytes=").removesuffix("-")) if "range" in request.headers else 0
    headers = {"ETag": '"v1"', "Content-Length": str(len(WHOLE) - first)}
    if first:
        headers["Content-Range"] = f"bytes {first}-{len(WHOLE) - 1}/{len(WHOLE)}"
    reply.start(206 if first else 200, headers)
    reply.write(WHOLE[first:])


def in_child(url: str, folder: Path, how: str, *wrapper: str) -> dict[str, Any]:
    """Run a download in a child process whose file system runs out (`how`: tmpfs or fsize)."""
    command = [*wrapper, sys.executable, "-c", _CHILD, url, str(folder), how]
    done = subprocess.run(command, capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def _can_mount() -> bool:
    probe = ["unshare", "-rm", "sh", "-c", "mount -t tmpfs -o size=1m tmpfs /mnt"]
    with contextlib.suppress(OSError, subprocess.SubprocessError):
        return subprocess.run(probe, capture_output=True, timeout=30, check=False).returncode == 0
    return False


@pytest.mark.skipif(not _can_mount(), reason="needs `unshare -rm` to mount a private tmpfs")
def test_a_real_full_tmpfs_is_told_keeps_an_exact_prefix_and_resumes_once_there_is_room(tmp_path: Path) -> None:
    with hostile_server(ranged) as server:
        out = in_child(f"{server.url}/big.bin", tmp_path, "tmpfs", "unshare", "-rm")
    kept = out["left"][".big.bin.part"]
    assert f"{tmp_path / 'in'} is full" in out["error"] and f"{len(WHOLE) - kept:,} more bytes" in out["error"]
    assert 0 < kept < len(WHOLE) and [r.headers.get("range") for r in server.requests] == [None, f"bytes={kept}-"]
    md5 = hashlib.md5(WHOLE, usedforsecurity=False).hexdigest()
    assert out["landed"] == [len(WHOLE), md5, len(WHOLE) - kept, True]  # the kept bytes were the file's own


def test_a_real_file_size_limit_is_told_and_leaves_no_partial(tmp_path: Path) -> None:
    with hostile_server(ranged) as server:
        out = in_child(f"{server.url}/big.bin", tmp_path, "fsize")
    assert f"cannot hold a file of {len(WHOLE):,} bytes" in out["error"] and out["left"] == {}
