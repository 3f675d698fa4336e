"""tasks and task_reports: the district's task-supervision table (督办, issue 19 item 5).

A district office's table of the year's tasks (seed 003: 项目名称 / 项目内容 / 牵头单位 /
责任单位 / 目前进展情况) imported row by row, with the units' progress reports.

Revision ID: 0013_tasks
Revises: 0012
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import cityeye.store.types

revision = "0013_tasks"
down_revision = "0012"
branch_labels = None
depends_on = None


def _json() -> sa.JSON:
    return sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")


def _time() -> cityeye.store.types.UTCDateTime:
    return cityeye.store.types.UTCDateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "tasks",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("section_no", sa.String(length=32), nullable=False),
        sa.Column("section_title", sa.String(length=300), nullable=False),
        sa.Column("content", sa.Text(), nullable=False),
        sa.Column("lead_units", _json(), nullable=False),
        sa.Column("units", _json(), nullable=False),
        sa.Column("party_ids", _json(), nullable=False),
        sa.Column("progress", sa.Text(), nullable=False),
        sa.Column("completion", sa.Float(), nullable=True),
        sa.Column("target", sa.Text(), nullable=True),
        sa.Column("due_at", _time(), nullable=True),
        sa.Column("done_at", _time(), nullable=True),
        sa.Column("source", sa.String(length=300), nullable=False),
        sa.Column("updated_at", _time(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_tasks")),
        sa.UniqueConstraint("year", "seq", name="uq_tasks_year_seq"),
    )
    op.create_index(op.f("ix_tasks_year"), "tasks", ["year"], unique=False)
    op.create_table(
        "task_reports",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("task_id", sa.String(length=64), nullable=False),
        sa.Column("at", _time(), nullable=False),
        sa.Column("user_id", sa.String(length=32), nullable=True),
        sa.Column("party_id", sa.String(length=64), nullable=True),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("completion", sa.Float(), nullable=True),
        sa.Column("done", sa.Boolean(), nullable=False),
        sa.Column("photos", _json(), nullable=False),
        sa.ForeignKeyConstraint(
            ["task_id"], ["tasks.id"], name=op.f("fk_task_reports_task_id_tasks")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_task_reports")),
    )
    op.create_index(op.f("ix_task_reports_task_id"), "task_reports", ["task_id"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_task_reports_task_id"), table_name="task_reports")
    op.drop_table("task_reports")
    op.drop_index(op.f("ix_tasks_year"), table_name="tasks")
    op.drop_table("tasks")
