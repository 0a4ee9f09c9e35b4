"""The ledger: orders, events, spend, budget months, files and owned scenes.

Revision ID: 0001
Revises:
Create Date: 2026-11-21
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from harvest.ordering.ledger.columns import Json, Money, UtcDateTime

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Create every table of the first ledger schema."""
    op.create_table(
        "orders",
        sa.Column("key", sa.String(64), nullable=False),
        sa.Column("provider", sa.String(32), nullable=False),
        sa.Column("scene_id", sa.String(255), nullable=False),
        sa.Column("aoi_id", sa.String(255), nullable=False),
        sa.Column("options", Json, nullable=False),
        sa.Column("aoi_geometry", Json, nullable=False),
        sa.Column("acquired", UtcDateTime),
        sa.Column("constellation", sa.String(64)),
        sa.Column("state", sa.String(24), nullable=False),
        sa.Column("quote_amount", Money, nullable=False),
        sa.Column("quote_unit", sa.String(16), nullable=False),
        sa.Column("quote_area_km2", sa.Float()),
        sa.Column("quote_reference", sa.Text()),
        sa.Column("quoted_at", UtcDateTime, nullable=False),
        sa.Column("approved_by", sa.String(255)),
        sa.Column("approved_at", UtcDateTime),
        sa.Column("month", sa.String(7)),
        sa.Column("provider_order_id", sa.String(255)),
        sa.Column("provider_status", sa.String(16)),
        sa.Column("deliverables", Json),
        sa.Column("manifest_path", sa.Text()),
        sa.Column("error", sa.Text()),
        sa.Column("created_at", UtcDateTime, nullable=False),
        sa.Column("updated_at", UtcDateTime, nullable=False),
        sa.PrimaryKeyConstraint("key", name="pk_orders"),
        sa.CheckConstraint(
            "state IN ('quoted', 'awaiting_approval', 'approved', 'placing', 'placed', 'delivered', 'landed', "
            "'failed', 'rejected')",
            name="ck_orders_state",
        ),
        sa.CheckConstraint("quote_amount >= 0", name="ck_orders_quote_amount"),
        sa.UniqueConstraint("provider", "provider_order_id", name="uq_orders_provider_provider_order_id"),
    )
    op.create_index("ix_orders_state", "orders", ["state"])
    op.create_index("ix_orders_aoi_id", "orders", ["aoi_id"])
    op.create_index("ix_orders_provider_scene_id", "orders", ["provider", "scene_id"])

    op.create_table(
        "events",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("key", sa.String(64), nullable=False),
        sa.Column("at", UtcDateTime, nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("actor", sa.String(255), nullable=False),
        sa.Column("detail", Json, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_events"),
    )
    op.create_index("ix_events_key", "events", ["key"])

    op.create_table(
        "spend",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("key", sa.String(64), nullable=False),
        sa.Column("aoi_id", sa.String(255), nullable=False),
        sa.Column("month", sa.String(7), nullable=False),
        sa.Column("unit", sa.String(16), nullable=False),
        sa.Column("amount", Money, nullable=False),
        sa.Column("kind", sa.String(8), nullable=False),
        sa.Column("at", UtcDateTime, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_spend"),
        sa.ForeignKeyConstraint(["key"], ["orders.key"], name="fk_spend_key_orders"),
        sa.CheckConstraint(
            "(kind = 'release' AND amount <= 0) OR (kind IN ('reserve', 'settle') AND amount >= 0)",
            name="ck_spend_kind_sign",
        ),
    )
    op.create_index("ix_spend_month_unit_aoi_id", "spend", ["month", "unit", "aoi_id"])
    op.create_index("ix_spend_key", "spend", ["key"])

    op.create_table(
        "budget_months",
        sa.Column("month", sa.String(7), nullable=False),
        sa.PrimaryKeyConstraint("month", name="pk_budget_months"),
    )

    op.create_table(
        "files",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("key", sa.String(64), nullable=False),
        sa.Column("path", sa.Text(), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("md5", sa.String(32)),
        sa.Column("landed_at", UtcDateTime, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_files"),
        sa.ForeignKeyConstraint(["key"], ["orders.key"], name="fk_files_key_orders"),
        sa.UniqueConstraint("key", "path", name="uq_files_key_path"),
    )

    op.create_table(
        "owned_scenes",
        sa.Column("provider", sa.String(32), nullable=False),
        sa.Column("scene_id", sa.String(255), nullable=False),
        sa.Column("aoi_id", sa.String(255), nullable=False),
        sa.Column("key", sa.String(64), nullable=False),
        sa.Column("owned_at", UtcDateTime, nullable=False),
        sa.PrimaryKeyConstraint("provider", "scene_id", "aoi_id", name="pk_owned_scenes"),
        sa.ForeignKeyConstraint(["key"], ["orders.key"], name="fk_owned_scenes_key_orders"),
    )


def downgrade() -> None:
    """Drop every table of the first ledger schema."""
    for table in ("owned_scenes", "files", "budget_months", "spend", "events", "orders"):
        op.drop_table(table)
