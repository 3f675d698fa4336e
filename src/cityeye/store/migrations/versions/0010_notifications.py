"""notifications: the outbox of case notifications (desk, webhook, SMS), and
users.phone, where SMS notifications reach a user.

Revision ID: 0010
Revises: 0009
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import cityeye.store.types

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

_SEQ = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
_JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")


def upgrade() -> None:
    op.create_table(
        "notifications",
        sa.Column("seq", _SEQ, autoincrement=True, nullable=False),
        sa.Column("key", sa.String(length=400), nullable=False),
        sa.Column("created_at", cityeye.store.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("case_id", sa.String(length=128), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("channel", sa.String(length=8), nullable=False),
        sa.Column("user_id", sa.String(length=32), nullable=True),
        sa.Column("party_id", sa.String(length=64), nullable=True),
        sa.Column("payload", _JSON, nullable=False),
        sa.Column("state", sa.String(length=8), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_try_at", cityeye.store.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("sent_at", cityeye.store.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("last_error", sa.String(length=500), nullable=True),
        sa.PrimaryKeyConstraint("seq", name=op.f("pk_notifications")),
        sa.UniqueConstraint("key", name=op.f("uq_notifications_key")),
    )
    op.create_index("ix_notifications_user_id_seq", "notifications", ["user_id", "seq"])
    op.create_index("ix_notifications_state_next_try_at", "notifications", ["state", "next_try_at"])
    with op.batch_alter_table("users") as batch:
        batch.add_column(sa.Column("phone", sa.String(length=32), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("users") as batch:
        batch.drop_column("phone")
    op.drop_index("ix_notifications_state_next_try_at", table_name="notifications")
    op.drop_index("ix_notifications_user_id_seq", table_name="notifications")
    op.drop_table("notifications")
