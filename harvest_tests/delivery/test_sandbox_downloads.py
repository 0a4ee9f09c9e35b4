"""`download()` against the sandbox over loopback: products ordered through harvest's clients, real faults."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from harvest.delivery.download import download
from harvest.delivery.errors import ChecksumMismatch, DeliveryExpired
from harvest.delivery.partial import file_md5, partial_path
from harvest.providers.http import ProviderHttp
from harvest.sandbox.server import RunningSandbox
from harvest_tests.delivery.sandbox_orders import advance, arlula_resource, oneatlas_product, set_faults

SIZE = 8 << 20


class Crash(Exception):
    """Stands for the process dying in the middle of a download."""


def announced_md5(http: ProviderHttp, url: str) -> str:
    """The md5 OneAtlas announces for a download (HEAD)."""
    return http.request("HEAD", url).headers["x-ads-checksum-value"]


def lift_after(sandbox: RunningSandbox, kind: str, times: int) -> Callable[[int, int | None], None]:
    """An on_progress callback that removes every fault once `kind` has struck `times` times."""

    def check(size: int, total: int | None) -> None:
        if sandbox.sandbox.faults.injected[kind] >= times:
            set_faults(sandbox.url, "")

    return check


@pytest.fixture
def sandbox(make_sandbox: Callable[..., RunningSandbox]) -> RunningSandbox:
    return make_sandbox(product_size_bytes=SIZE)


@pytest.mark.parametrize(
    ("fault", "times"),
    [
        ("truncate", 2),  # the file stops halfway through each answer, the connection drops
        ("reset", 3),  # the connection drops in the first MiB of each answer
    ],
)
def test_an_interrupted_download_resumes_and_transfers_under_1_2x(
    sandbox: RunningSandbox, tmp_path: Path, fault: str, times: int
) -> None:
    client, deliverable = oneatlas_product(sandbox.env(), sandbox.url)
    expected = announced_md5(client.http, deliverable.url)
    set_faults(sandbox.url, f"{fault}=1@oneatlas.data")
    landed = download(client.http, deliverable, tmp_path / "landed", on_progress=lift_after(sandbox, fault, times))
    interruptions = sandbox.sandbox.faults.injected[fault]
    assert interruptions >= times and landed.attempts == interruptions + 1 and landed.resumed
    assert landed.bytes_transferred < 1.2 * landed.size
    assert landed.md5 == expected == file_md5(landed.path)
    assert sorted(p.name for p in (tmp_path / "landed").iterdir()) == [deliverable.filename]


def test_a_corrupted_download_is_detected_retried_then_reported(sandbox: RunningSandbox, tmp_path: Path) -> None:
    client, deliverable = oneatlas_product(sandbox.env(), sandbox.url)
    set_faults(sandbox.url, "corrupt=1@oneatlas.data")
    with pytest.raises(ChecksumMismatch) as caught:
        download(client.http, deliverable, tmp_path / "always", max_attempts=3)
    assert caught.value.attempts == 3 and sandbox.sandbox.faults.injected["corrupt"] == 3
    assert list((tmp_path / "always").iterdir()) == []

    def heal(size: int, total: int | None) -> None:  # the damaged copy is on its way: the next one is clean
        if size:
            set_faults(sandbox.url, "")

    landed = download(client.http, deliverable, tmp_path / "once", on_progress=heal)
    assert landed.attempts == 2 and landed.bytes_transferred == 2 * landed.size
    assert landed.md5 == file_md5(landed.path) == announced_md5(client.http, deliverable.url)


def test_a_partial_left_by_a_crashed_run_is_resumed_after_a_restart(sandbox: RunningSandbox, tmp_path: Path) -> None:
    client, deliverable = oneatlas_product(sandbox.env(), sandbox.url)

    def die_halfway(size: int, total: int | None) -> None:
        if total and size >= total // 2:
            raise Crash

    folder = tmp_path / "landed"
    with pytest.raises(Crash):
        download(client.http, deliverable, folder, on_progress=die_halfway)
    left = partial_path(folder / deliverable.filename).stat().st_size
    assert left >= SIZE // 2 and not (folder / deliverable.filename).exists()
    client.close()

    restarted, _ = oneatlas_product(sandbox.env(), sandbox.url)  # a new process: new client, new token
    landed = download(restarted.http, deliverable, folder)
    assert landed.resumed and landed.attempts == 1 and landed.bytes_transferred == landed.size - left
    assert landed.md5 == announced_md5(restarted.http, deliverable.url) == file_md5(landed.path)


def test_an_arlula_resource_follows_its_redirect_resumes_and_expires(
    make_sandbox: Callable[..., RunningSandbox], tmp_path: Path
) -> None:
    sandbox = make_sandbox(product_size_bytes=SIZE, arlula_storage_refuses_auth=True)  # credentials there: 400
    client, deliverable = arlula_resource(sandbox.env(), sandbox.url)
    assert deliverable.md5 is not None and deliverable.md5.startswith('md5:"')  # as Arlula states it
    set_faults(sandbox.url, "truncate=1@arlula.storage")
    landed = download(client.http, deliverable, tmp_path / "landed", on_progress=lift_after(sandbox, "truncate", 1))
    assert sandbox.sandbox.faults.injected["truncate"] == 1 and landed.attempts == 2 and landed.resumed
    assert landed.bytes_transferred < 1.2 * landed.size and landed.size == deliverable.size
    assert f'md5:"{landed.md5}"' == deliverable.md5 == f'md5:"{file_md5(landed.path)}"'

    advance(sandbox.url, 31 * 86_400)  # completed data is kept for 30 days
    with pytest.raises(DeliveryExpired, match="order it again"):
        download(client.http, deliverable, tmp_path / "later")
