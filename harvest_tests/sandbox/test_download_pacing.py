"""`--download-bandwidth`: delivered-file bodies paced by a token bucket, on an injected clock."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner

from harvest.cli import main
from harvest.delivery.download import download
from harvest.sandbox.config import parse_bandwidth
from harvest.sandbox.http import CHUNK, MIN_PACED_PIECE, InjectedDisconnect, Pacer, _stream
from harvest.sandbox.server import RunningSandbox
from harvest_tests.delivery.sandbox_orders import oneatlas_product

MB = 1_000_000


class FakeTime:
    """A monotonic clock that moves only when slept on (or told to), recording every sleep."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.sleeps: list[float] = []

    def clock(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


def pacer(rate: float, fake: FakeTime) -> Pacer:
    return Pacer(rate, clock=fake.clock, sleep=fake.sleep)


def send(pacer: Pacer, total: int, *, busy_s: float = 0.0, fake: FakeTime | None = None) -> None:
    """Take `total` bytes in pieces, spending `busy_s` of (fake) time between pieces on other work."""

    async def go() -> None:
        left = total
        while left:
            piece = min(pacer.piece, left)
            await pacer.take(piece)
            left -= piece
            if fake is not None:
                fake.now += busy_s

    asyncio.run(go())


def test_a_body_takes_its_size_over_the_rate_less_the_first_piece() -> None:
    fake = FakeTime()
    paced = pacer(100 * MB, fake)
    send(paced, 256 * MB)
    assert fake.now - 1000.0 == pytest.approx((256 * MB - paced.piece) / (100 * MB))
    assert max(fake.sleeps) == pytest.approx(paced.piece / (100 * MB))  # never more than one piece ahead


def test_time_spent_elsewhere_is_credited_so_a_slow_sender_never_waits() -> None:
    fake = FakeTime()
    paced = pacer(10 * MB, fake)
    send(paced, 50 * MB, busy_s=1.01 * paced.piece / (10 * MB), fake=fake)  # already slower than the rate
    assert fake.sleeps == []


def test_late_wake_ups_are_made_up_so_the_average_holds() -> None:
    fake = FakeTime()
    oversleep = 0.003

    async def late(seconds: float) -> None:
        fake.sleeps.append(seconds)
        fake.now += seconds + oversleep

    paced = Pacer(100 * MB, clock=fake.clock, sleep=late)
    send(paced, 100 * MB)
    elapsed = fake.now - 1000.0
    assert elapsed == pytest.approx(1.0, rel=0.02)  # without credit it would be 1.3 s (100 pieces x 3 ms late)


def test_idle_time_banks_at_most_one_piece() -> None:
    fake = FakeTime()
    paced = pacer(1 * MB, fake)
    fake.now += 60.0  # a minute before the first byte
    send(paced, 10 * paced.piece)
    assert sum(fake.sleeps) == pytest.approx(9 * paced.piece / MB)


@pytest.mark.parametrize(
    ("rate", "piece"),
    [(100 * MB, MB), (400 * MB, CHUNK), (1000.0, MIN_PACED_PIECE), (2 * MB, 20_000)],
)
def test_pieces_are_about_ten_milliseconds_of_the_rate_within_bounds(rate: float, piece: int) -> None:
    assert pacer(rate, FakeTime()).piece == piece


@pytest.mark.parametrize("rate", [0.0, -5.0, float("nan")])
def test_a_pacer_refuses_a_rate_that_is_not_positive(rate: float) -> None:
    with pytest.raises(ValueError, match="more than 0 bytes per second"):
        Pacer(rate)


def collect(path: Path, start: int, length: int, fault: str | None, paced: Pacer) -> bytes:
    async def go() -> bytes:
        return b"".join([chunk async for chunk in _stream(path, start, length, fault, paced)])

    return asyncio.run(go())


@pytest.fixture
def payload(tmp_path: Path) -> Path:
    path = tmp_path / "product.zip"
    path.write_bytes(bytes(range(256)) * 12_000)  # 3,072,000 bytes
    return path


def test_a_paced_range_is_the_same_bytes_in_pieces_at_the_rate(payload: Path) -> None:
    fake = FakeTime()
    paced = pacer(2 * MB, fake)
    body = collect(payload, 1000, 2 * MB, None, paced)
    assert body == payload.read_bytes()[1000 : 1000 + 2 * MB]
    assert fake.now - 1000.0 == pytest.approx((2 * MB - paced.piece) / (2 * MB))


def test_a_paced_truncation_still_breaks_off_halfway(payload: Path) -> None:
    fake = FakeTime()
    paced = pacer(2 * MB, fake)
    received = bytearray()

    async def go() -> None:
        async for chunk in _stream(payload, 0, 3_072_000, "truncate", paced):
            received.extend(chunk)

    with pytest.raises(InjectedDisconnect):
        asyncio.run(go())
    assert bytes(received) == payload.read_bytes()[:1_536_000]
    assert fake.now - 1000.0 == pytest.approx((1_536_000 - paced.piece) / (2 * MB))


@pytest.mark.parametrize(
    ("text", "rate"),
    [("100MB", 100e6), ("1GB", 1e9), ("64MiB", 64 * 2**20), ("250000", 250_000.0), ("1.5 kB/s", 1500.0)],
)
def test_bandwidths_are_read_in_bytes_per_second(text: str, rate: float) -> None:
    assert parse_bandwidth(text) == rate


@pytest.mark.parametrize(
    ("text", "reason"), [("100Mb", "not a bandwidth"), ("fast", "e.g. 100MB"), ("0MB", "more than 0")]
)
def test_bad_bandwidths_say_what_to_write(text: str, reason: str) -> None:
    with pytest.raises(ValueError, match=reason):
        parse_bandwidth(text)


def test_serve_refuses_a_bad_bandwidth_before_starting() -> None:
    result = CliRunner().invoke(main, ["sandbox", "serve", "--download-bandwidth", "100 Mbit"])
    assert result.exit_code == 2
    assert "--download-bandwidth" in result.output and "e.g. 100MB" in result.output


def test_a_throttled_sandbox_paces_deliveries_but_not_heads_or_their_bytes(
    make_sandbox: Callable[..., RunningSandbox], tmp_path: Path
) -> None:
    rate = 2 * MB  # a product of about 256 KiB takes 0.12 s at this rate: the one real wait in this file
    sandbox = make_sandbox(product_size_bytes=256 << 10, download_bandwidth_bytes_per_s=rate)
    client, deliverable = oneatlas_product(sandbox.env(), sandbox.url)
    head = client.http.request("HEAD", deliverable.url)
    size = int(head.headers["content-length"])  # the zip: members of 256 KiB and their headers
    assert size > 256 << 10 and head.content == b""
    tail = client.http.request("GET", deliverable.url, headers={"Range": "bytes=-1000"}, expected=(206,))
    assert tail.headers["content-range"] == f"bytes {size - 1000}-{size - 1}/{size}" and len(tail.content) == 1000
    started = time.monotonic()
    landed = download(client.http, deliverable, tmp_path / "landed")  # md5 checked against X-Ads-Checksum-Value
    elapsed = time.monotonic() - started
    client.close()
    assert landed.size == size and landed.attempts == 1
    assert landed.path.read_bytes()[-1000:] == tail.content
    assert elapsed >= (size - rate * 0.01) / rate  # unthrottled loopback takes a few milliseconds
