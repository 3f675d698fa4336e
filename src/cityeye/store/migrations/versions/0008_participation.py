"""participation: 社情民意 suggestions and 红茶议事会 topics — their steps, meetings
(participants, turns), ballots with an anonymous tally (who voted apart from what was
chosen), resolutions and their actions.

Revision ID: 0008
Revises: 0007
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import cityeye.store.types

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

_SEQ = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
_JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")
_TIME = cityeye.store.types.UTCDateTime(timezone=True)
_ID = sa.String(length=64)


def _topic_fk(table: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        ["topic_id"], ["topics.id"], name=op.f(f"fk_{table}_topic_id_topics")
    )


def _meeting_fk(table: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        ["meeting_id"], ["meetings.id"], name=op.f(f"fk_{table}_meeting_id_meetings")
    )


def upgrade() -> None:
    op.create_table(
        "suggestions",
        sa.Column("id", _ID, nullable=False),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("category", sa.String(length=64), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("area_code", _ID, nullable=False),
        sa.Column("photos", _JSON, nullable=False),
        sa.Column("author", sa.String(length=32), nullable=True),
        sa.Column("created_at", _TIME, nullable=False),
        sa.Column("group_id", sa.String(length=64), nullable=True),
        sa.Column("terms", _JSON, nullable=False),
        sa.Column("answer", sa.Text(), nullable=True),
        sa.Column("answered_at", _TIME, nullable=True),
        sa.Column("answered_by", sa.String(length=64), nullable=True),
        sa.Column("case_key", sa.String(length=256), nullable=True),
        sa.Column("topic_id", _ID, nullable=True),
        sa.ForeignKeyConstraint(
            ["author"],
            ["users.id"],
            name=op.f("fk_suggestions_author_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_suggestions")),
    )
    op.create_index(op.f("ix_suggestions_group_id"), "suggestions", ["group_id"])
    op.create_index(op.f("ix_suggestions_topic_id"), "suggestions", ["topic_id"])
    op.create_index("ix_suggestions_area_created", "suggestions", ["area_code", "created_at"])
    op.create_table(
        "topics",
        sa.Column("id", _ID, nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("area_code", _ID, nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("step", sa.String(length=16), nullable=False),
        sa.Column("step_due_at", _TIME, nullable=True),
        sa.Column("quorum", sa.String(length=16), nullable=False),
        sa.Column("majority", sa.String(length=16), nullable=False),
        sa.Column("created_at", _TIME, nullable=False),
        sa.Column("created_by", sa.String(length=64), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_topics")),
    )
    op.create_index(op.f("ix_topics_area_code"), "topics", ["area_code"])
    op.create_table(
        "topic_steps",
        sa.Column("seq", _SEQ, autoincrement=True, nullable=False),
        sa.Column("topic_id", _ID, nullable=False),
        sa.Column("step", sa.String(length=16), nullable=False),
        sa.Column("at", _TIME, nullable=False),
        sa.Column("actor", sa.String(length=64), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        _topic_fk("topic_steps"),
        sa.PrimaryKeyConstraint("seq", name=op.f("pk_topic_steps")),
    )
    op.create_index(op.f("ix_topic_steps_topic_id"), "topic_steps", ["topic_id"])
    op.create_table(
        "meetings",
        sa.Column("id", _ID, nullable=False),
        sa.Column("topic_id", _ID, nullable=False),
        sa.Column("mode", sa.String(length=16), nullable=False),
        sa.Column("at", _TIME, nullable=False),
        sa.Column("place", sa.String(length=200), nullable=False),
        sa.Column("agenda", _JSON, nullable=False),
        sa.Column("minutes", sa.Text(), nullable=False),
        sa.Column("decisions", _JSON, nullable=False),
        _topic_fk("meetings"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_meetings")),
    )
    op.create_index(op.f("ix_meetings_topic_id"), "meetings", ["topic_id"])
    op.create_table(
        "meeting_participants",
        sa.Column("meeting_id", _ID, nullable=False),
        sa.Column("n", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("role", sa.String(length=32), nullable=False),
        sa.Column("user_id", sa.String(length=32), nullable=True),
        sa.Column("name", sa.String(length=128), nullable=False),
        sa.Column("signed_in_at", _TIME, nullable=True),
        _meeting_fk("meeting_participants"),
        sa.PrimaryKeyConstraint("meeting_id", "n", name=op.f("pk_meeting_participants")),
    )
    op.create_table(
        "meeting_turns",
        sa.Column("seq", _SEQ, autoincrement=True, nullable=False),
        sa.Column("meeting_id", _ID, nullable=False),
        sa.Column("speaker", sa.Integer(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("at", _TIME, nullable=False),
        _meeting_fk("meeting_turns"),
        sa.PrimaryKeyConstraint("seq", name=op.f("pk_meeting_turns")),
    )
    op.create_index(op.f("ix_meeting_turns_meeting_id"), "meeting_turns", ["meeting_id"])
    op.create_table(
        "ballots",
        sa.Column("topic_id", _ID, nullable=False),
        sa.Column("options", _JSON, nullable=False),
        sa.Column("opens_at", _TIME, nullable=True),
        sa.Column("closes_at", _TIME, nullable=True),
        sa.Column("closed_at", _TIME, nullable=True),
        sa.Column("eligible", sa.Integer(), nullable=True),
        _topic_fk("ballots"),
        sa.PrimaryKeyConstraint("topic_id", name=op.f("pk_ballots")),
    )
    # who voted, and (apart, no voter) what was chosen: one transaction writes both
    op.create_table(
        "vote_roll",
        sa.Column("topic_id", _ID, nullable=False),
        sa.Column("user_id", sa.String(length=32), nullable=False),
        _topic_fk("vote_roll"),
        sa.PrimaryKeyConstraint("topic_id", "user_id", name=op.f("pk_vote_roll")),
    )
    op.create_table(
        "vote_choices",
        sa.Column("topic_id", _ID, nullable=False),
        sa.Column("option", sa.String(length=200), nullable=False),
        sa.Column("votes", sa.Integer(), nullable=False),
        _topic_fk("vote_choices"),
        sa.PrimaryKeyConstraint("topic_id", "option", name=op.f("pk_vote_choices")),
    )
    op.create_table(
        "resolutions",
        sa.Column("topic_id", _ID, nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("at", _TIME, nullable=False),
        sa.Column("actor", sa.String(length=64), nullable=False),
        _topic_fk("resolutions"),
        sa.PrimaryKeyConstraint("topic_id", name=op.f("pk_resolutions")),
    )
    op.create_table(
        "resolution_actions",
        sa.Column("topic_id", _ID, nullable=False),
        sa.Column("n", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("party", _ID, nullable=False),
        sa.Column("due_at", _TIME, nullable=False),
        sa.Column("case_key", sa.String(length=256), nullable=False),
        _topic_fk("resolution_actions"),
        sa.PrimaryKeyConstraint("topic_id", "n", name=op.f("pk_resolution_actions")),
    )


def downgrade() -> None:
    for table in (
        "resolution_actions",
        "resolutions",
        "vote_choices",
        "vote_roll",
        "ballots",
        "meeting_turns",
        "meeting_participants",
        "meetings",
        "topic_steps",
        "topics",
    ):
        op.drop_table(table)
    op.drop_index("ix_suggestions_area_created", table_name="suggestions")
    op.drop_index(op.f("ix_suggestions_topic_id"), table_name="suggestions")
    op.drop_index(op.f("ix_suggestions_group_id"), table_name="suggestions")
    op.drop_table("suggestions")
