"""`harvest orders status --land` against the Arlula sandbox: colliding file names, a delivered
manifest.json, and one order's failure not stopping the others.

Orders are quoted, placed and delivered through the Arlula desk and recorded in a SQLite ledger in
tmp_path; the test then lands them through the CLI, as an operator would.
"""

from __future__ import annotations

import errno
import hashlib
import os
import sqlite3
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from harvest.cli import main
from harvest.delivery.manifest import read_manifest
from harvest.delivery.partial import PartialFile
from harvest.ordering.landing import land
from harvest.ordering.ledger import Ledger, OrderState
from harvest.registry import open_desk
from harvest.sandbox.server import RunningSandbox
from harvest_tests.delivery.sandbox_orders import delivered_arlula_orders
from harvest_tests.ordering.ledger_support import order_of

COLLIDING = ["same.bin", "same.bin", "manifest.json", "same.bin", "same.bin"]
_PROVIDER_PREFIXES = ("ONEATLAS_", "ARLULA_", "SENTINELHUB_")


@dataclass
class Landed:
    """Delivered orders in a ledger, and the command that lands them."""

    data: Path
    env: dict[str, str | None]
    keys: list[str]

    def ledger(self) -> Ledger:
        url = self.env["HARVEST_DATABASE_URL"]
        assert url is not None
        return Ledger.open(url)

    def land(self, *args: str, **env: str) -> Result:
        return CliRunner().invoke(main, ["orders", "status", "--land", *args], env={**self.env, **env})


def md5(path: Path) -> str:
    return hashlib.md5(path.read_bytes(), usedforsecurity=False).hexdigest()


@pytest.fixture
def delivered(make_sandbox: Callable[..., RunningSandbox], tmp_path: Path) -> Callable[..., Landed]:
    """Arlula orders for the first scenes over Toulouse, delivered; the first one's files named `names` (if given)."""

    def build(count: int, names: Sequence[str] | None = None) -> Landed:
        sandbox = make_sandbox()
        data = tmp_path / "data"
        data.mkdir()
        cleared: dict[str, str | None] = {name: None for name in os.environ if name.startswith(_PROVIDER_PREFIXES)}
        env: dict[str, str | None] = {
            **cleared,
            **sandbox.env(),
            "HARVEST_DATA_DIR": str(data),
            "HARVEST_DATABASE_URL": f"sqlite:///{data / 'ledger.sqlite'}",
            "HARVEST_POLICIES": None,
            "HARVEST_AOIS": None,
            "HARVEST_ALLOW_SPEND": None,
            "HARVEST_DOWNLOAD_SIZE_LIMIT": None,
        }
        return Landed(data, env, delivered_arlula_orders(sandbox, f"sqlite:///{data / 'ledger.sqlite'}", count, names))

    return build


def test_files_with_the_same_name_land_apart_beside_harvests_own_manifest(delivered: Callable[..., Landed]) -> None:
    orders = delivered(2, COLLIDING)
    result = orders.land()
    assert result.exit_code == 0, (result.stdout, result.stderr, result.exception)
    key = orders.keys[0]
    with orders.ledger() as ledger:
        assert {o.key for o in ledger.orders(states=[OrderState.LANDED])} == set(orders.keys)
        order = ledger.get(key)
        assert order is not None and order.manifest_path is not None
        stored = ledger.files(key)
    manifest = read_manifest(orders.data / order.manifest_path)
    assert manifest.order_key == key and manifest.provider == "arlula"  # harvest's manifest, not the provider's
    assert [f.name for f in manifest.files] == COLLIDING
    paths = [f.path for f in manifest.files]
    assert len(set(paths)) == len(COLLIDING) and manifest.path not in paths
    for file, deliverable in zip(manifest.files, order.deliverables, strict=True):
        assert md5(file.path) == file.md5 and file.md5 == deliverable.md5  # each file its own bytes
        assert file.path.stat().st_size == file.size == deliverable.size
    assert sorted(str(orders.data / f.path) for f in stored) == sorted(map(str, paths))
    provider_manifest = next(f for f in manifest.files if f.name == "manifest.json")
    assert provider_manifest.path.name == "manifest.json"  # a unique name keeps its name

    with orders.ledger() as ledger:  # landing again finds every file at the same path, and fetches nothing
        again = land(ledger, key, open_desk("arlula", {k: v for k, v in orders.env.items() if v}), orders.data)
    assert [f.path for f in again.files] == paths and again.bytes_transferred == 0


def test_an_order_that_cannot_be_recorded_is_reported_and_the_others_land(delivered: Callable[..., Landed]) -> None:
    orders = delivered(2)
    first, second = orders.keys
    with sqlite3.connect(orders.data / "ledger.sqlite") as connection:  # the database refuses the first order's files
        connection.execute(
            f"CREATE TRIGGER refuse BEFORE INSERT ON files WHEN NEW.key = '{first}' "
            "BEGIN SELECT RAISE(ABORT, 'UNIQUE constraint failed: files.key, files.path'); END"
        )
    result = orders.land()
    assert result.exit_code == 1 and isinstance(result.exception, SystemExit)  # a message, not a crash
    assert f"{first}: not landed: " in result.stderr and "UNIQUE constraint failed" in result.stderr
    assert "1 order could not be landed" in result.stderr and f"landed {second}: " in result.stdout
    with orders.ledger() as ledger:
        assert [o.key for o in ledger.orders(states=[OrderState.LANDED])] == [second]
        assert [o.key for o in ledger.orders(states=[OrderState.DELIVERED])] == [first]


def test_a_full_disk_is_told_with_the_folder_and_the_order_stays_delivered(
    delivered: Callable[..., Landed], monkeypatch: pytest.MonkeyPatch
) -> None:
    orders = delivered(1)
    real_write = PartialFile._write

    def no_space(self: PartialFile, data: bytes | bytearray) -> None:
        real_write(self, data[:1000])
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(PartialFile, "_write", no_space)
    result = orders.land()
    assert result.exit_code == 1 and "Traceback" not in result.stderr
    folder = orders.data / "deliveries" / "arlula" / orders.keys[0] / "files"
    assert f"{orders.keys[0]}: not landed: " in result.stderr and f"{folder} is full" in result.stderr
    assert "more bytes" in result.stderr
    with orders.ledger() as ledger:
        assert [o.key for o in ledger.orders(states=[OrderState.DELIVERED])] == orders.keys
        assert ledger.files(orders.keys[0]) == []

    monkeypatch.undo()  # space was freed: the same command lands it, resuming what was kept
    landed = orders.land()
    assert landed.exit_code == 0, (landed.stdout, landed.stderr)
    assert "transferred now" in landed.stdout  # less than the whole order: the kept bytes were resumed
    with orders.ledger() as ledger:
        order = ledger.get(orders.keys[0])
        assert order is not None and order.state is OrderState.LANDED
        by_name = sorted(order.deliverables, key=lambda d: d.filename)
        for stored, deliverable in zip(ledger.files(order.key), by_name, strict=True):
            assert md5(orders.data / stored.path) == deliverable.md5


def test_a_bad_download_size_limit_is_refused_before_anything_is_fetched(delivered: Callable[..., Landed]) -> None:
    orders = delivered(1)
    result = orders.land(HARVEST_DOWNLOAD_SIZE_LIMIT="lots")
    assert result.exit_code == 1 and isinstance(result.exception, SystemExit)
    assert "HARVEST_DOWNLOAD_SIZE_LIMIT: 'lots' is not a size" in result.stderr and "e.g. 64GiB" in result.stderr
    assert not (orders.data / "deliveries").exists()
    with orders.ledger() as ledger:
        assert [o.key for o in ledger.orders(states=[OrderState.DELIVERED])] == orders.keys


def test_a_full_disk_when_the_manifest_is_written_is_told_and_nothing_is_recorded(
    delivered: Callable[..., Landed], monkeypatch: pytest.MonkeyPatch
) -> None:
    orders = delivered(1)

    def no_space(path: Path, **fields: object) -> Path:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr("harvest.ordering.landing.write_manifest", no_space)
    result = orders.land()
    folder = orders.data / "deliveries" / "arlula" / orders.keys[0]
    assert result.exit_code == 1 and f"cannot land the manifest of order {orders.keys[0]}: {folder} is full" in (
        result.stderr
    )
    with orders.ledger() as ledger:
        assert ledger.files(orders.keys[0]) == [] and order_of(ledger, orders.keys[0]).state is OrderState.DELIVERED
    monkeypatch.undo()
    again = orders.land()
    assert again.exit_code == 0 and "0 transferred now" in again.stdout  # the files landed before are reused
