"""events: drop ix_events_device_ts, an index nothing reads.

Every stored event paid for it: (device, time) keys land all over the index, so each
insert touched a page per device at random, and at ingest rates that was a third of
the store's cost per event (issue 15: 8.4 → 5.0 µs an insert, 6.9 → 3.1 µs a commit,
bench/RESULTS.md). No query of the store looks events up by device; one that needs to
can add an index back in its own migration.

Revision ID: 0011
Revises: 0010
"""

from __future__ import annotations

from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # a plain DROP INDEX: no table copy, quick on a database of any size
    op.drop_index("ix_events_device_ts", table_name="events")


def downgrade() -> None:
    op.create_index("ix_events_device_ts", "events", ["device_id", "ts"], unique=False)
