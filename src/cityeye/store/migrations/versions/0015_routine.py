"""routine: 日提醒、周通报、月考核 (issue 19 item 3).

``notifications.case_id`` becomes optional (a daily reminder or a published result is
about no one case); ``routine_runs`` makes each routine job run once per period;
``assessment_results`` keeps each contest round's published result as it was.

Revision ID: 0015_routine
Revises: 0014_survey
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import cityeye.store.types

revision = "0015_routine"
down_revision = "0014_survey"
branch_labels = None
depends_on = None

_TIME = cityeye.store.types.UTCDateTime(timezone=True)
_JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")


def upgrade() -> None:
    with op.batch_alter_table("notifications") as batch:
        batch.alter_column("case_id", existing_type=sa.String(length=128), nullable=True)
    op.create_table(
        "routine_runs",
        sa.Column("job", sa.String(length=16), nullable=False),
        sa.Column("period", sa.String(length=16), nullable=False),
        sa.Column("started_at", _TIME, nullable=False),
        sa.Column("finished_at", _TIME, nullable=True),
        sa.Column("summary", _JSON, nullable=True),
        sa.PrimaryKeyConstraint("job", "period", name=op.f("pk_routine_runs")),
    )
    op.create_table(
        "assessment_results",
        sa.Column("period", sa.String(length=16), nullable=False),
        sa.Column("level", sa.String(length=16), nullable=False),
        sa.Column("area", sa.String(length=64), nullable=False),
        sa.Column("published_at", _TIME, nullable=False),
        sa.Column("contest", sa.String(length=200), nullable=False),
        sa.Column("board", _JSON, nullable=False),
        sa.PrimaryKeyConstraint("period", "level", "area", name=op.f("pk_assessment_results")),
    )


def downgrade() -> None:
    op.drop_table("assessment_results")
    op.drop_table("routine_runs")
    with op.batch_alter_table("notifications") as batch:
        batch.alter_column("case_id", existing_type=sa.String(length=128), nullable=False)
