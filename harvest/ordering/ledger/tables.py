"""The ledger's tables (SQLAlchemy Core); alembic migrations in `migrations/` create exactly these."""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Column,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)

from harvest.ordering.ledger.columns import Json, Money, UtcDateTime

NAMING = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

metadata = MetaData(naming_convention=NAMING)

# one row per deterministic order key: the primary key makes a second order for the same wish impossible
orders = Table(
    "orders",
    metadata,
    Column("key", String(64), primary_key=True),
    Column("provider", String(32), nullable=False),
    Column("scene_id", String(255), nullable=False),
    Column("aoi_id", String(255), nullable=False),
    Column("options", Json, nullable=False),
    Column("aoi_geometry", Json, nullable=False),
    Column("acquired", UtcDateTime),  # the scene's acquisition instant, when known (desks search by it)
    Column("constellation", String(64)),
    Column("state", String(24), nullable=False),
    Column("quote_amount", Money, nullable=False),
    Column("quote_unit", String(16), nullable=False),
    Column("quote_area_km2", Float),
    Column("quote_reference", Text),  # e.g. an Arlula orderingID, a signed token of ~400 characters
    Column("quoted_at", UtcDateTime, nullable=False),
    Column("approved_by", String(255)),
    Column("approved_at", UtcDateTime),
    Column("month", String(7)),  # the month its spend was reserved in
    Column("provider_order_id", String(255)),
    Column("provider_status", String(16)),
    Column("deliverables", Json),
    Column("manifest_path", Text),
    Column("error", Text),
    Column("created_at", UtcDateTime, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
    CheckConstraint(
        "state IN ('quoted', 'awaiting_approval', 'approved', 'placing', 'placed', 'delivered', 'landed', "
        "'failed', 'rejected')",
        name="state",
    ),
    CheckConstraint("quote_amount >= 0", name="quote_amount"),
    UniqueConstraint("provider", "provider_order_id"),
    Index(None, "state"),
    Index(None, "aoi_id"),
    Index(None, "provider", "scene_id"),
)

# append-only history; not tied to an order row, since a dry run writes an event but no order
events = Table(
    "events",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("key", String(64), nullable=False),
    Column("at", UtcDateTime, nullable=False),
    Column("kind", String(32), nullable=False),
    Column("actor", String(255), nullable=False),
    Column("detail", Json, nullable=False),
    Index(None, "key"),
)

# append-only: what an order reserved (+), released (-) and settled (+); the sum is what a month has used
spend = Table(
    "spend",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("key", String(64), ForeignKey("orders.key"), nullable=False),
    Column("aoi_id", String(255), nullable=False),
    Column("month", String(7), nullable=False),
    Column("unit", String(16), nullable=False),
    Column("amount", Money, nullable=False),
    Column("kind", String(8), nullable=False),
    Column("at", UtcDateTime, nullable=False),
    CheckConstraint(
        "(kind = 'release' AND amount <= 0) OR (kind IN ('reserve', 'settle') AND amount >= 0)", name="kind_sign"
    ),
    Index(None, "month", "unit", "aoi_id"),
    Index(None, "key"),
)

# one row per month, locked (SELECT … FOR UPDATE) while a reservation checks that month's budgets
budget_months = Table(
    "budget_months",
    metadata,
    Column("month", String(7), primary_key=True),
)

files = Table(
    "files",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("key", String(64), ForeignKey("orders.key"), nullable=False),
    Column("path", Text, nullable=False),
    Column("size", BigInteger, nullable=False),
    Column("md5", String(32)),
    Column("landed_at", UtcDateTime, nullable=False),
    UniqueConstraint("key", "path"),
)

owned_scenes = Table(
    "owned_scenes",
    metadata,
    Column("provider", String(32), primary_key=True),
    Column("scene_id", String(255), primary_key=True),
    Column("aoi_id", String(255), primary_key=True),
    Column("key", String(64), ForeignKey("orders.key"), nullable=False),
    Column("owned_at", UtcDateTime, nullable=False),
)
