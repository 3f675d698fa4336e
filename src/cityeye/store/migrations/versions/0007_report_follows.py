"""report_follows: the hashed follow key of each resident's report made on the portal,
and the signed-in resident who made it, if any.

Revision ID: 0007
Revises: 0006
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import cityeye.store.types

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "report_follows",
        sa.Column("report_id", sa.String(length=128), nullable=False),
        sa.Column("key_hash", sa.String(length=64), nullable=False),
        sa.Column("user_id", sa.String(length=32), nullable=True),
        sa.Column("created_at", cityeye.store.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_report_follows_user_id_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("report_id", name=op.f("pk_report_follows")),
        # the key a phone made for a report is also its retry key: one report per key
        sa.UniqueConstraint("key_hash", name=op.f("uq_report_follows_key_hash")),
    )
    op.create_index(op.f("ix_report_follows_user_id"), "report_follows", ["user_id"])


def downgrade() -> None:
    op.drop_index(op.f("ix_report_follows_user_id"), table_name="report_follows")
    op.drop_table("report_follows")
