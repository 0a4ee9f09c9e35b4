"""Alembic environment for the ledger: runs on the connection `harvest.ordering.ledger.migrate` hands it."""

from __future__ import annotations

from alembic import context

from harvest.ordering.ledger.tables import metadata

if context.is_offline_mode():
    raise SystemExit("the ledger's migrations run online only: open the ledger (Ledger.open) to migrate it")

connection = context.config.attributes.get("connection")
if connection is None:
    raise SystemExit("run the ledger's migrations through harvest.ordering.ledger.migrate.upgrade_to_head")

context.configure(connection=connection, target_metadata=metadata, render_as_batch=True, compare_type=True)
with context.begin_transaction():
    context.run_migrations()
