"""enterprises: 小河网驿's key-enterprise registry, its history and its visits (issue 21).

``enterprises`` (统一社会信用代码 unique), ``enterprise_changes`` (who changed what,
when) and ``enterprise_visits`` (走访, with the outcome of the warning a visit answered).

Revision ID: 0019_enterprises
Revises: 0018_briefings
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import cityeye.store.types

revision = "0019_enterprises"
down_revision = "0018_briefings"
branch_labels = None
depends_on = None

_TIME = cityeye.store.types.UTCDateTime(timezone=True)
_JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")


def upgrade() -> None:
    op.create_table(
        "enterprises",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("credit_code", sa.String(length=18), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("sector", sa.String(length=100), nullable=False),
        sa.Column("size", sa.String(length=16), nullable=True),
        sa.Column("address", sa.String(length=300), nullable=False),
        sa.Column("area_code", sa.String(length=64), nullable=False),
        sa.Column("lat", sa.Float(), nullable=True),
        sa.Column("lon", sa.Float(), nullable=True),
        sa.Column("contacts", _JSON, nullable=False),
        sa.Column("staff_id", sa.String(length=32), nullable=True),
        sa.Column("tags", _JSON, nullable=False),
        sa.Column("risk", sa.String(length=16), nullable=False),
        sa.Column("subject_id", sa.String(length=64), nullable=True),
        sa.Column("created_at", _TIME, nullable=False),
        sa.Column("updated_at", _TIME, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_enterprises")),
        sa.UniqueConstraint("credit_code", name=op.f("uq_enterprises_credit_code")),
    )
    op.create_index(op.f("ix_enterprises_name"), "enterprises", ["name"], unique=False)
    op.create_index(op.f("ix_enterprises_area_code"), "enterprises", ["area_code"], unique=False)
    op.create_index(op.f("ix_enterprises_staff_id"), "enterprises", ["staff_id"], unique=False)
    op.create_index(op.f("ix_enterprises_subject_id"), "enterprises", ["subject_id"], unique=False)
    op.create_table(
        "enterprise_changes",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("enterprise_id", sa.String(length=32), nullable=False),
        sa.Column("at", _TIME, nullable=False),
        sa.Column("actor", sa.String(length=200), nullable=False),
        sa.Column("fields", _JSON, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_enterprise_changes")),
    )
    op.create_index(
        op.f("ix_enterprise_changes_enterprise_id"),
        "enterprise_changes",
        ["enterprise_id"],
        unique=False,
    )
    op.create_table(
        "enterprise_visits",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("enterprise_id", sa.String(length=32), nullable=False),
        sa.Column("at", _TIME, nullable=False),
        sa.Column("visitor_id", sa.String(length=32), nullable=False),
        sa.Column("people_met", sa.String(length=300), nullable=False),
        sa.Column("situation", sa.Text(), nullable=False),
        sa.Column("problems", sa.Text(), nullable=False),
        sa.Column("photos", _JSON, nullable=False),
        sa.Column("lat", sa.Float(), nullable=True),
        sa.Column("lon", sa.Float(), nullable=True),
        sa.Column("distance_m", sa.Float(), nullable=True),
        sa.Column("alert_id", sa.String(length=64), nullable=True),
        sa.Column("outcome", sa.String(length=16), nullable=True),
        sa.Column("recorded_at", _TIME, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_enterprise_visits")),
    )
    for column in ("enterprise_id", "at", "alert_id"):
        op.create_index(
            op.f(f"ix_enterprise_visits_{column}"), "enterprise_visits", [column], unique=False
        )


def downgrade() -> None:
    op.drop_table("enterprise_visits")
    op.drop_table("enterprise_changes")
    op.drop_table("enterprises")
