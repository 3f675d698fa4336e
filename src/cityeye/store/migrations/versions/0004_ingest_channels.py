"""api_tokens, clock_marks, dead_letters.payload: per-device ingest tokens (hashed),
the wall-clock marks that make live cases restart-safe, the raw bytes of bad input.

Revision ID: 0004
Revises: 0003
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import cityeye.store.types

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

_SEQ = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "api_tokens",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("secret_hash", sa.String(length=64), nullable=False),
        sa.Column("device_id", sa.String(length=64), nullable=True),
        sa.Column("source", sa.String(length=64), nullable=True),
        sa.Column("label", sa.String(length=256), nullable=False),
        sa.Column("created_at", cityeye.store.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", cityeye.store.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("last_used_at", cityeye.store.types.UTCDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_api_tokens")),
    )
    op.create_index(op.f("ix_api_tokens_device_id"), "api_tokens", ["device_id"])
    op.create_table(
        "clock_marks",
        sa.Column("seq", _SEQ, autoincrement=True, nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("after_seq", _SEQ, nullable=False),
        sa.Column("at", cityeye.store.types.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("seq", name=op.f("pk_clock_marks")),
    )
    op.create_index("ix_clock_marks_name_after_seq", "clock_marks", ["name", "after_seq"])
    with op.batch_alter_table("dead_letters") as batch:
        batch.add_column(sa.Column("payload", sa.LargeBinary(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("dead_letters") as batch:
        batch.drop_column("payload")
    op.drop_index("ix_clock_marks_name_after_seq", table_name="clock_marks")
    op.drop_table("clock_marks")
    op.drop_index(op.f("ix_api_tokens_device_id"), table_name="api_tokens")
    op.drop_table("api_tokens")
