"""events: event_counts kept at ingest; ix_events_device_ts and ix_events_area_ts dropped.

Every stored event paid for the two indexes, and nothing needs them any more
(issue 15, bench/RESULTS.md):

* ``ix_events_device_ts`` — no query looks events up by device. Its (device, time)
  keys land all over the index, a random page per insert.
* ``ix_events_area_ts`` — only the status page's "events per street" read it, counting
  every event at every refresh (every 1.5 s, a whole-index scan that grows without
  end). ``event_counts`` now holds those counts, per kind and area, added to in the
  transaction that stores the events; with this index gone the insert costs 40 %
  less (7.3 → 4.5 µs an event) and writes a third fewer pages at each commit.

``ix_events_kind_ts`` stays: the residents' reports are read by kind and time.
``event_counts`` is filled here from the events already stored (one pass).

Revision ID: 0011
Revises: 0010
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "event_counts",
        sa.Column("kind", sa.String(length=128), nullable=False),
        sa.Column("area_code", sa.String(length=128), nullable=False),
        sa.Column("n", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("kind", "area_code", name=op.f("pk_event_counts")),
    )
    op.execute(
        "INSERT INTO event_counts (kind, area_code, n)"
        " SELECT kind, COALESCE(area_code, ''), COUNT(*) FROM events"
        " GROUP BY kind, COALESCE(area_code, '')"
    )
    # plain DROP INDEX: no table copy, quick on a database of any size
    op.drop_index("ix_events_device_ts", table_name="events")
    op.drop_index("ix_events_area_ts", table_name="events")


def downgrade() -> None:
    op.create_index("ix_events_area_ts", "events", ["area_code", "ts"], unique=False)
    op.create_index("ix_events_device_ts", "events", ["device_id", "ts"], unique=False)
    op.drop_table("event_counts")
