"""surveys: the annual 社会评价 of streets and departments (issue 19 item 6).

Invitations (token hashes or resident accounts, a used flag), the ratings as counters
per unit and score, and comments without a time: no table links a response to whoever
gave it (cityeye.survey).

Revision ID: 0014_survey
Revises: 0013_tasks
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import cityeye.store.types

revision = "0014_survey"
down_revision = "0013_tasks"
branch_labels = None
depends_on = None

_ID = sa.String(length=64)
_TIME = cityeye.store.types.UTCDateTime(timezone=True)


def _survey_fk(table: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        ["survey_id"], ["surveys.id"], name=op.f(f"fk_{table}_survey_id_surveys")
    )


def upgrade() -> None:
    op.create_table(
        "surveys",
        sa.Column("id", _ID, nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("question_zh", sa.String(length=300), nullable=False),
        sa.Column("question_en", sa.String(length=300), nullable=False),
        sa.Column("opens_at", _TIME, nullable=False),
        sa.Column("closes_at", _TIME, nullable=False),
        sa.Column("created_at", _TIME, nullable=False),
        sa.Column("created_by", sa.String(length=32), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_surveys")),
    )
    op.create_table(
        "survey_units",
        sa.Column("survey_id", _ID, nullable=False),
        sa.Column("unit", sa.String(length=160), nullable=False),
        sa.Column("n", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        _survey_fk("survey_units"),
        sa.PrimaryKeyConstraint("survey_id", "unit", name=op.f("pk_survey_units")),
    )
    op.create_table(
        "survey_invitations",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("survey_id", _ID, nullable=False),
        sa.Column("secret_hash", sa.String(length=64), nullable=True),
        sa.Column("user_id", sa.String(length=32), nullable=True),
        sa.Column("used", sa.Boolean(), nullable=False),
        sa.Column("receipt_hash", sa.String(length=64), nullable=True),
        _survey_fk("survey_invitations"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_survey_invitations")),
        sa.UniqueConstraint("survey_id", "user_id", name="uq_survey_invitations_survey_user"),
    )
    op.create_index(op.f("ix_survey_invitations_survey_id"), "survey_invitations", ["survey_id"])
    op.create_table(
        "survey_tally",
        sa.Column("survey_id", _ID, nullable=False),
        sa.Column("unit", sa.String(length=160), nullable=False),
        sa.Column("rating", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        _survey_fk("survey_tally"),
        sa.PrimaryKeyConstraint("survey_id", "unit", "rating", name=op.f("pk_survey_tally")),
    )
    op.create_table(
        "survey_comments",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("survey_id", _ID, nullable=False),
        sa.Column("unit", sa.String(length=160), nullable=False),
        sa.Column("rating", sa.Integer(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        _survey_fk("survey_comments"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_survey_comments")),
    )
    op.create_index(op.f("ix_survey_comments_survey_id"), "survey_comments", ["survey_id"])


def downgrade() -> None:
    op.drop_index(op.f("ix_survey_comments_survey_id"), table_name="survey_comments")
    op.drop_table("survey_comments")
    op.drop_table("survey_tally")
    op.drop_index(op.f("ix_survey_invitations_survey_id"), table_name="survey_invitations")
    op.drop_table("survey_invitations")
    op.drop_table("survey_units")
    op.drop_table("surveys")
