"""briefings and facilitators: 线上宣讲 and 促动师 (issue 21 items 5, 7).

Revision ID: 0018_briefings
Revises: 0017_elections
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import cityeye.store.types

revision = "0018_briefings"
down_revision = "0017_elections"
branch_labels = None
depends_on = None

_TIME = cityeye.store.types.UTCDateTime(timezone=True)
_JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")


def upgrade() -> None:
    op.create_table(
        "briefings",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("topic", sa.Text(), nullable=False),
        sa.Column("mode", sa.String(length=16), nullable=False),
        sa.Column("at", _TIME, nullable=False),
        sa.Column("place", sa.String(length=200), nullable=False),
        sa.Column("link", sa.String(length=500), nullable=False),
        sa.Column("area_code", sa.String(length=64), nullable=False),
        sa.Column("materials", _JSON, nullable=False),
        sa.Column("created_at", _TIME, nullable=False),
        sa.Column("created_by", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_briefings")),
    )
    op.create_index(op.f("ix_briefings_at"), "briefings", ["at"])
    op.create_index(op.f("ix_briefings_area_code"), "briefings", ["area_code"])
    op.create_table(
        "briefing_invitations",
        sa.Column("briefing_id", sa.String(length=64), nullable=False),
        sa.Column("subject_id", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("area_code", sa.String(length=64), nullable=True),
        sa.Column("signed_up_at", _TIME, nullable=True),
        sa.Column("attended_at", _TIME, nullable=True),
        sa.ForeignKeyConstraint(
            ["briefing_id"],
            ["briefings.id"],
            name=op.f("fk_briefing_invitations_briefing_id_briefings"),
        ),
        sa.PrimaryKeyConstraint("briefing_id", "subject_id", name=op.f("pk_briefing_invitations")),
    )
    op.create_table(
        "briefing_questions",
        sa.Column("briefing_id", sa.String(length=64), nullable=False),
        sa.Column("n", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("subject_id", sa.String(length=64), nullable=True),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("asked_at", _TIME, nullable=False),
        sa.Column("answer", sa.Text(), nullable=True),
        sa.Column("answered_at", _TIME, nullable=True),
        sa.Column("answered_by", sa.String(length=64), nullable=True),
        sa.Column("case_key", sa.String(length=256), nullable=True),
        sa.ForeignKeyConstraint(
            ["briefing_id"],
            ["briefings.id"],
            name=op.f("fk_briefing_questions_briefing_id_briefings"),
        ),
        sa.PrimaryKeyConstraint("briefing_id", "n", name=op.f("pk_briefing_questions")),
    )
    op.create_table(
        "facilitators",
        sa.Column("user_id", sa.String(length=32), nullable=False),
        sa.Column("community", sa.String(length=64), nullable=False),
        sa.Column("since", _TIME, nullable=False),
        sa.Column("granted_by", sa.String(length=64), nullable=False),
        sa.Column("note", sa.String(length=200), nullable=False),
        sa.Column("ended_at", _TIME, nullable=True),
        sa.PrimaryKeyConstraint("user_id", name=op.f("pk_facilitators")),
    )
    op.create_index(op.f("ix_facilitators_community"), "facilitators", ["community"])
    op.create_table(
        "meeting_moderators",
        sa.Column("meeting_id", sa.String(length=64), nullable=False),
        sa.Column("user_id", sa.String(length=32), nullable=False),
        sa.ForeignKeyConstraint(
            ["meeting_id"],
            ["meetings.id"],
            name=op.f("fk_meeting_moderators_meeting_id_meetings"),
        ),
        sa.PrimaryKeyConstraint("meeting_id", name=op.f("pk_meeting_moderators")),
    )
    op.create_index(op.f("ix_meeting_moderators_user_id"), "meeting_moderators", ["user_id"])


def downgrade() -> None:
    op.drop_index(op.f("ix_meeting_moderators_user_id"), table_name="meeting_moderators")
    op.drop_table("meeting_moderators")
    op.drop_index(op.f("ix_facilitators_community"), table_name="facilitators")
    op.drop_table("facilitators")
    op.drop_table("briefing_questions")
    op.drop_table("briefing_invitations")
    op.drop_index(op.f("ix_briefings_area_code"), table_name="briefings")
    op.drop_index(op.f("ix_briefings_at"), table_name="briefings")
    op.drop_table("briefings")
