"""Ledger databases for tests: a SQLite file, or a throw-away schema on the local PostgreSQL server."""

from __future__ import annotations

import contextlib
import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from psycopg import sql
from sqlalchemy.engine import make_url

# trust auth, user postgres, database test; override to point the tests at another server
POSTGRES_URL = os.environ.get("HARVEST_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")
BACKENDS = ("sqlite", "postgresql")


def sqlite_url(directory: Path) -> str:
    """A ledger file in `directory`."""
    return f"sqlite:///{directory / 'ledger.sqlite'}"


@contextlib.contextmanager
def postgres_schema(password: str | None = None) -> Iterator[str]:
    """A URL whose search_path is a new, uniquely named schema, dropped afterwards (parallel workers never meet)."""
    try:
        admin = psycopg.connect(POSTGRES_URL, autocommit=True, connect_timeout=3)
    except psycopg.OperationalError as exc:
        pytest.skip(f"PostgreSQL at {POSTGRES_URL} is unreachable ({exc}); start it or set HARVEST_TEST_POSTGRES_URL")
    schema = f"ledger_test_{uuid.uuid4().hex[:16]}"
    with admin:
        admin.execute(sql.SQL("CREATE SCHEMA {}").format(sql.Identifier(schema)))
        try:
            url = make_url(POSTGRES_URL).update_query_dict({"options": f"-csearch_path={schema}"})
            if password is not None:
                url = url.set(password=password)
            yield url.render_as_string(hide_password=False)
        finally:
            admin.execute(sql.SQL("DROP SCHEMA {} CASCADE").format(sql.Identifier(schema)))


@contextlib.contextmanager
def database(backend: str, directory: Path) -> Iterator[str]:
    """A fresh, empty ledger database URL on `backend`."""
    if backend == "sqlite":
        yield sqlite_url(directory)
    else:
        with postgres_schema() as url:
            yield url
