"""routing_rules, kpi_counts, cases.due_at: routing kept as data, KPI counters kept
incrementally, the handling deadline the case book set.

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import cityeye.store.types

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

_JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")


def upgrade() -> None:
    op.create_table(
        "routing_rules",
        sa.Column("position", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("scenarios", _JSON, nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=True),
        sa.Column("party_id", sa.String(length=64), nullable=True),
        sa.Column("area_code", sa.String(length=64), nullable=True),
        sa.Column("co_handlers", _JSON, nullable=False),
        sa.PrimaryKeyConstraint("position", name=op.f("pk_routing_rules")),
    )
    op.create_table(
        "kpi_counts",
        sa.Column("dim", sa.String(length=16), nullable=False),
        sa.Column("period", sa.String(length=10), nullable=False),
        sa.Column("value", sa.String(length=128), nullable=False),
        sa.Column("metric", sa.String(length=24), nullable=False),
        sa.Column("n", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("dim", "period", "value", "metric", name=op.f("pk_kpi_counts")),
    )

    with op.batch_alter_table("cases") as batch:
        batch.add_column(
            sa.Column("due_at", cityeye.store.types.UTCDateTime(timezone=True), nullable=True)
        )


def downgrade() -> None:
    with op.batch_alter_table("cases") as batch:
        batch.drop_column("due_at")
    op.drop_table("kpi_counts")
    op.drop_table("routing_rules")
