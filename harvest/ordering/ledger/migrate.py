"""Bring a ledger database to the newest schema with alembic, from code (no alembic.ini needed)."""

from __future__ import annotations

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, text
from sqlalchemy.engine import Connection

SCRIPT_LOCATION = "harvest.ordering.ledger:migrations"  # found inside the installed package
MIGRATION_LOCK = 0x6861727665737401  # a PostgreSQL advisory lock id ("harvest" + 1): one migrator at a time


def alembic_config(connection: Connection | None = None) -> Config:
    """An alembic configuration for the ledger's migration scripts, bound to `connection` if given."""
    config = Config()
    config.set_main_option("script_location", SCRIPT_LOCATION)
    config.set_main_option("path_separator", "os")
    if connection is not None:
        config.attributes["connection"] = connection
    return config


def head_revision() -> str:
    """The newest migration's revision id."""
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert head is not None
    return head


def current_revision(engine: Engine) -> str | None:
    """The revision a database is at, None when it has never been migrated."""
    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def upgrade_to_head(engine: Engine) -> None:
    """Apply every pending migration in one transaction; concurrent openers wait rather than collide."""
    with engine.begin() as connection:
        if connection.dialect.name == "postgresql":
            connection.execute(text("SELECT pg_advisory_xact_lock(:lock)"), {"lock": MIGRATION_LOCK})
        command.upgrade(alembic_config(connection), "head")
