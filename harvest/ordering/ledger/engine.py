"""Engines for the ledger: SQLite with write-ahead logging and writer-serialising `BEGIN IMMEDIATE`, or PostgreSQL."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any

import orjson
from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.engine import URL, Connection
from sqlalchemy.exc import DBAPIError

from harvest.ordering.ledger.errors import LedgerUnwritable

BUSY_TIMEOUT_S = 60.0  # how long a SQLite writer waits for another process's transaction
# SQLite's error names (extended codes included) for a database file this process may not write or open
_UNWRITABLE = ("SQLITE_READONLY", "SQLITE_CANTOPEN", "SQLITE_PERM")


def _json_default(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value)
    raise TypeError(f"{type(value).__name__} is not JSON serializable")


def json_dumps(value: Any) -> str:
    """JSON for the ledger's JSON columns: datetimes as RFC 3339, Decimals as exact strings."""
    return orjson.dumps(value, default=_json_default, option=orjson.OPT_NON_STR_KEYS).decode()


def _sqlite_connect(dbapi_connection: Any, _record: Any) -> None:
    dbapi_connection.isolation_level = None  # SQLAlchemy emits BEGIN itself (see _sqlite_begin)
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
    finally:
        cursor.close()


def _sqlite_begin(connection: Connection) -> None:
    # take the write lock up front, so two processes' check-then-write transactions run one after the other
    connection.exec_driver_sql("BEGIN IMMEDIATE")


def create_ledger_engine(url: URL) -> Engine:
    """An engine for `url` (already checked by `database_url`); creates a SQLite file's directory."""
    if url.get_backend_name() == "sqlite":
        assert url.database
        folder = Path(url.database).parent
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            in_the_way = " (a file is in the way)" if isinstance(exc, FileExistsError | NotADirectoryError) else ""
            raise LedgerUnwritable(url.database, f"cannot create {folder}: {exc.strerror or exc}{in_the_way}") from exc
        engine = create_engine(url, connect_args={"timeout": BUSY_TIMEOUT_S}, json_serializer=json_dumps)
        event.listen(engine, "connect", _sqlite_connect)
        event.listen(engine, "begin", _sqlite_begin)
        return engine
    return create_engine(url, pool_pre_ping=True, json_serializer=json_dumps)


def check_writable(engine: Engine) -> None:
    """Refuse a SQLite ledger this process cannot write (read-only file, directory or disk) before any work starts."""
    if engine.dialect.name != "sqlite":
        return
    with engine.connect() as connection, connection.begin() as probe:
        connection.execute(text("UPDATE alembic_version SET version_num = version_num"))  # a write, never kept
        probe.rollback()


def unwritable(url: URL, error: DBAPIError) -> LedgerUnwritable | None:
    """The `LedgerUnwritable` a SQLite error stands for when it says the file cannot be written or opened."""
    name = str(getattr(error.orig, "sqlite_errorname", ""))
    if url.get_backend_name() != "sqlite" or not name.startswith(_UNWRITABLE) or not url.database:
        return None
    return LedgerUnwritable(url.database, str(error.orig))
