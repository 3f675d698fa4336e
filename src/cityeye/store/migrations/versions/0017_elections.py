"""elections: 业委会换届选举 (issue 21 item 6).

The elections, their candidates, one ballot per owner household (the key refuses a
second), which household a resident's account votes for, and the audit trail.

Revision ID: 0017_elections
Revises: 0015_routine
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import cityeye.store.types

revision = "0017_elections"
down_revision = "0015_routine"
branch_labels = None
depends_on = None

_ID = sa.String(length=64)
_TIME = cityeye.store.types.UTCDateTime(timezone=True)
_JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")


def _election_fk(table: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        ["election_id"], ["elections.id"], name=op.f(f"fk_{table}_election_id_elections")
    )


def upgrade() -> None:
    op.create_table(
        "elections",
        sa.Column("id", _ID, nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("area", sa.String(length=64), nullable=False),
        sa.Column("buildings", _JSON, nullable=False),
        sa.Column("matter", sa.String(length=16), nullable=False),
        sa.Column("seats", sa.Integer(), nullable=False),
        sa.Column("notice_days", sa.Integer(), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("created_at", _TIME, nullable=False),
        sa.Column("created_by", sa.String(length=32), nullable=False),
        sa.Column("notice_at", _TIME, nullable=True),
        sa.Column("voting_at", _TIME, nullable=True),
        sa.Column("closed_at", _TIME, nullable=True),
        sa.Column("result", _JSON, nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_elections")),
    )
    op.create_index(op.f("ix_elections_area"), "elections", ["area"])
    op.create_table(
        "election_candidates",
        sa.Column("election_id", _ID, nullable=False),
        sa.Column("household", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("statement", sa.Text(), nullable=False),
        sa.Column("nominated_by", sa.String(length=32), nullable=False),
        sa.Column("nominated_at", _TIME, nullable=False),
        _election_fk("election_candidates"),
        sa.PrimaryKeyConstraint("election_id", "household", name=op.f("pk_election_candidates")),
    )
    op.create_table(
        "election_ballots",
        sa.Column("election_id", _ID, nullable=False),
        sa.Column("household", sa.String(length=64), nullable=False),
        sa.Column("choices", _JSON, nullable=False),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("cast_by", sa.String(length=32), nullable=False),
        sa.Column("proxy", sa.String(length=100), nullable=True),
        sa.Column("cast_at", _TIME, nullable=False),
        _election_fk("election_ballots"),
        sa.PrimaryKeyConstraint("election_id", "household", name=op.f("pk_election_ballots")),
    )
    op.create_table(
        "household_residents",
        sa.Column("username", sa.String(length=32), nullable=False),
        sa.Column("household", sa.String(length=64), nullable=False),
        sa.Column("bound_by", sa.String(length=32), nullable=False),
        sa.Column("bound_at", _TIME, nullable=False),
        sa.PrimaryKeyConstraint("username", name=op.f("pk_household_residents")),
    )
    op.create_index(op.f("ix_household_residents_household"), "household_residents", ["household"])
    op.create_table(
        "election_audit",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("election_id", _ID, nullable=False),
        sa.Column("at", _TIME, nullable=False),
        sa.Column("actor", sa.String(length=32), nullable=False),
        sa.Column("action", sa.String(length=16), nullable=False),
        sa.Column("household", sa.String(length=64), nullable=True),
        sa.Column("detail", _JSON, nullable=False),
        _election_fk("election_audit"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_election_audit")),
    )
    op.create_index(op.f("ix_election_audit_election_id"), "election_audit", ["election_id"])


def downgrade() -> None:
    op.drop_index(op.f("ix_election_audit_election_id"), table_name="election_audit")
    op.drop_table("election_audit")
    op.drop_index(op.f("ix_household_residents_household"), table_name="household_residents")
    op.drop_table("household_residents")
    op.drop_table("election_ballots")
    op.drop_table("election_candidates")
    op.drop_index(op.f("ix_elections_area"), table_name="elections")
    op.drop_table("elections")
