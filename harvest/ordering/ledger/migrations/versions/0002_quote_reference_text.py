"""Quote references of any length: an Arlula orderingID is a signed token of ~400 characters.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22

0001 now creates the column as TEXT; this widens it in PostgreSQL ledgers made by its first
version (VARCHAR(255)). SQLite never enforced the length, and changing a declared type there means
rebuilding a table other tables refer to, so SQLite ledgers are left as they are.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Make `orders.quote_reference` TEXT on PostgreSQL."""
    if op.get_bind().dialect.name == "postgresql":
        op.alter_column("orders", "quote_reference", type_=sa.Text(), existing_type=sa.String(255))


def downgrade() -> None:
    """Nothing to undo: a TEXT reference holds whatever VARCHAR(255) held."""
