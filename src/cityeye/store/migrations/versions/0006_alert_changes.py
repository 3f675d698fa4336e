"""alert_changes: a row each time an alert is stored, read by the live alert stream.

Revision ID: 0006
Revises: 0005
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import cityeye.store.types

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

_SEQ = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "alert_changes",
        sa.Column("seq", _SEQ, autoincrement=True, nullable=False),
        sa.Column("alert_id", sa.String(length=128), nullable=False),
        sa.Column("at", cityeye.store.types.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("seq", name=op.f("pk_alert_changes")),
    )
    op.create_index(op.f("ix_alert_changes_at"), "alert_changes", ["at"])


def downgrade() -> None:
    op.drop_index(op.f("ix_alert_changes_at"), table_name="alert_changes")
    op.drop_table("alert_changes")
