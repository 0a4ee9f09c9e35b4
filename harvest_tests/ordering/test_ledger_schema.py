"""The ledger's database: migrations from empty, one row per key whatever the route, restarts, URLs."""

from __future__ import annotations

import re
from decimal import Decimal
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy.exc import IntegrityError

from harvest.delivery.deliverable import Deliverable
from harvest.ordering.ledger import Budgets, Ledger, LedgerUrlError, OrderState, StoredFile
from harvest.ordering.ledger.engine import create_ledger_engine
from harvest.ordering.ledger.migrate import current_revision, head_revision
from harvest.ordering.ledger.tables import metadata
from harvest.ordering.ledger.urls import database_url, url_from_env
from harvest.ordering.model import Unit
from harvest_tests.ordering.clock import StepClock
from harvest_tests.ordering.databases import postgres_schema
from harvest_tests.ordering.orders import AUTO, quote, request

MONTH = "2026-11"
BUDGETS = Budgets(overall={Unit.EUR: Decimal(1000)}, per_aoi={"aoi-a": {Unit.EUR: Decimal(1000)}})


def test_open_migrates_an_empty_database_to_head(ledger_url: str) -> None:
    engine = create_ledger_engine(database_url(ledger_url))
    try:
        assert current_revision(engine) is None
        assert sa.inspect(engine).get_table_names() == []
        Ledger.open(ledger_url).close()
        Ledger.open(ledger_url).close()  # a second open finds nothing to do
        assert current_revision(engine) == head_revision()
        assert set(sa.inspect(engine).get_table_names()) == {*metadata.tables, "alembic_version"}
    finally:
        engine.dispose()


def test_migrations_create_exactly_the_tables_the_code_uses(ledger_url: str) -> None:
    Ledger.open(ledger_url).close()
    engine = create_ledger_engine(database_url(ledger_url))
    try:
        with engine.connect() as connection:
            context = MigrationContext.configure(connection, opts={"compare_type": True})
            assert compare_metadata(context, metadata) == []
    finally:
        engine.dispose()


def test_a_second_row_for_a_key_is_impossible_even_bypassing_the_api(ledger: Ledger, ledger_url: str) -> None:
    order = request()
    row = ledger.record_quote(order, quote(order), actor="harvest quotes")
    ledger.record_quote(order, quote(order, "99"), actor="harvest quotes")
    assert len(ledger.orders()) == 1
    engine = create_ledger_engine(database_url(ledger_url))
    columns = {
        "key": row.key,
        "provider": "oneatlas",
        "scene_id": "scene-1",
        "aoi_id": "aoi-a",
        "options": {},
        "aoi_geometry": {},
        "state": "approved",
        "quote_amount": Decimal(1),
        "quote_unit": "EUR",
        "quoted_at": row.created_at,
        "created_at": row.created_at,
        "updated_at": row.created_at,
    }
    try:
        with pytest.raises(IntegrityError), engine.begin() as connection:
            connection.execute(metadata.tables["orders"].insert().values(**columns))
        with pytest.raises(IntegrityError), engine.begin() as connection:  # nor an unknown state
            connection.execute(metadata.tables["orders"].insert().values(**{**columns, "key": "hvx", "state": "paid"}))
    finally:
        engine.dispose()
    assert [r.key for r in ledger.orders()] == [row.key]


def test_a_restart_keeps_everything(ledger_url: str) -> None:
    clock = StepClock()
    landed, placing, failed = request("s1"), request("s2"), request("s3")
    with Ledger.open(ledger_url, clock=clock) as ledger:
        for order in (landed, placing, failed):
            ledger.record_quote(order, quote(order, "100"), actor="harvest quotes")
            ledger.approve(order.key, actor=AUTO)
            ledger.reserve(order.key, budgets=BUDGETS, month=MONTH)
        ledger.placed(landed.key, "ORD-1", raw={"id": "ORD-1"})
        ledger.delivered(landed.key, [Deliverable("http://sandbox/f", "f.tif", 5)])
        ledger.landed(landed.key, [StoredFile("s1/f.tif", 5)], "s1/manifest.json")
        ledger.failed(failed.key, "provider said no")
        before = {key: (ledger.get(key), ledger.events(key)) for key in (landed.key, placing.key, failed.key)}
    with Ledger.open(ledger_url, clock=clock) as ledger:
        assert {key: (ledger.get(key), ledger.events(key)) for key in before} == before
        assert [row.state for row in ledger.orders()] == [OrderState.LANDED, OrderState.PLACING, OrderState.FAILED]
        assert ledger.spent(MONTH, unit=Unit.EUR) == Decimal(200)
        assert ledger.owned("oneatlas", "s1")
        assert ledger.files(landed.key) == [StoredFile("s1/f.tif", 5)]


def test_the_default_ledger_is_a_sqlite_file_in_the_data_dir(tmp_path: Path) -> None:
    assert url_from_env({"HARVEST_DATA_DIR": str(tmp_path)}) == f"sqlite:///{tmp_path / 'ledger.sqlite'}"
    assert url_from_env({}) == f"sqlite:///{Path('data').absolute() / 'ledger.sqlite'}"
    assert url_from_env({"HARVEST_DATABASE_URL": "postgresql://db/x", "HARVEST_DATA_DIR": "y"}) == "postgresql://db/x"
    with Ledger.open(url_from_env({"HARVEST_DATA_DIR": str(tmp_path / "new")})) as ledger:
        assert ledger.url == f"sqlite:///{tmp_path / 'new' / 'ledger.sqlite'}"
    assert (tmp_path / "new" / "ledger.sqlite").is_file()


@pytest.mark.parametrize(
    ("url", "driver"),
    [
        ("postgresql://u:pw@db:5432/harvest", "postgresql+psycopg"),
        ("postgres://u:pw@db/harvest", "postgresql+psycopg"),
        ("postgresql+psycopg://u@db/harvest", "postgresql+psycopg"),
        ("sqlite:////var/lib/harvest/ledger.sqlite", "sqlite"),
    ],
)
def test_database_urls_get_the_right_driver(url: str, driver: str) -> None:
    assert database_url(url).drivername == driver


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("mysql://u:hunter2-secret@db/harvest", "the ledger runs on SQLite or PostgreSQL"),
        ("postgresql+psycopg2://u:hunter2-secret@db/h", "write postgresql://… instead of postgresql+psycopg2://…"),
        ("sqlite://", "needs a SQLite file that outlives the process"),
        ("sqlite:///:memory:", "needs a SQLite file that outlives the process"),
        ("not a url hunter2-secret", "cannot be parsed; write it as sqlite:///"),
    ],
)
def test_unusable_urls_are_refused_without_showing_the_password(url: str, message: str) -> None:
    with pytest.raises(LedgerUrlError, match=re.escape(message)) as refused:
        database_url(url)
    assert "hunter2" not in str(refused.value)


def test_repr_hides_the_password() -> None:
    with postgres_schema(password="hunter2-secret") as url, Ledger.open(url) as ledger:
        assert "hunter2" not in repr(ledger) and "hunter2" not in str(ledger) and "hunter2" not in ledger.url
        assert repr(ledger).startswith("Ledger(postgresql+psycopg://postgres:***@")
