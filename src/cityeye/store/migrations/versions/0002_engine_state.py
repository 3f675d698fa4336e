"""engine_state: the live engine's snapshot, so a restart loses no timer.

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import cityeye.store.types

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "engine_state",
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("taken_at", cityeye.store.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("last_seq", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_engine_state")),
    )


def downgrade() -> None:
    op.drop_table("engine_state")
