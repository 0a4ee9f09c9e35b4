"""SQL that differs by backend: inserting a row unless its key already exists."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import Table
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection


def insert_ignore(connection: Connection, table: Table, values: Mapping[str, Any]) -> bool:
    """Insert `values` unless a row with the same primary key exists; True if a row was inserted."""
    dialect = postgresql if connection.dialect.name == "postgresql" else sqlite
    statement = dialect.insert(table).values(**values).on_conflict_do_nothing()
    return connection.execute(statement).rowcount == 1
