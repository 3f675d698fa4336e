"""initial schema: world, events, dead letters, scenarios, alerts, cases, timeline.

The case timeline is append-only and raw events are never deleted; database triggers
enforce both, so no code path (or hand-written SQL) can rewrite history.

Revision ID: 0001
Revises:
Create Date: 2026-11-23 07:43:33.557267
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import cityeye.store.types

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "alerts",
        sa.Column("id", sa.String(length=128), nullable=False),
        sa.Column("scenario", sa.String(length=128), nullable=False),
        sa.Column("key", sa.String(length=256), nullable=False),
        sa.Column("severity", sa.String(length=16), nullable=False),
        sa.Column("opened_at", cityeye.store.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("resolved_at", cityeye.store.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.Column(
            "event_ids",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("area_code", sa.String(length=128), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_alerts")),
    )
    with op.batch_alter_table("alerts", schema=None) as batch_op:
        batch_op.create_index("ix_alerts_opened_at", ["opened_at"], unique=False)
        batch_op.create_index("ix_alerts_scenario_key", ["scenario", "key"], unique=False)

    op.create_table(
        "areas",
        sa.Column("code", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("level", sa.String(length=16), nullable=False),
        sa.Column("parent_code", sa.String(length=64), nullable=True),
        sa.Column(
            "boundary",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=True,
        ),
        sa.Column(
            "extra",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["parent_code"], ["areas.code"], name=op.f("fk_areas_parent_code_areas")
        ),
        sa.PrimaryKeyConstraint("code", name=op.f("pk_areas")),
    )
    with op.batch_alter_table("areas", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_areas_parent_code"), ["parent_code"], unique=False)

    op.create_table(
        "cases",
        sa.Column("id", sa.String(length=128), nullable=False),
        sa.Column("origin", sa.String(length=16), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("severity", sa.String(length=16), nullable=False),
        sa.Column("title", sa.String(length=500), nullable=False),
        sa.Column("scenario", sa.String(length=128), nullable=True),
        sa.Column("key", sa.String(length=256), nullable=True),
        sa.Column("alert_id", sa.String(length=128), nullable=True),
        sa.Column("area_code", sa.String(length=128), nullable=True),
        sa.Column("lead_party", sa.String(length=64), nullable=True),
        sa.Column("reporter", sa.String(length=128), nullable=True),
        sa.Column("opened_at", cityeye.store.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("closed_at", cityeye.store.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("rating", sa.Integer(), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_cases")),
    )
    with op.batch_alter_table("cases", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_cases_area_code"), ["area_code"], unique=False)
        batch_op.create_index("ix_cases_scenario_key", ["scenario", "key"], unique=False)
        batch_op.create_index("ix_cases_state", ["state"], unique=False)

    op.create_table(
        "dead_letters",
        sa.Column(
            "seq",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("received_at", cityeye.store.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("channel", sa.String(length=32), nullable=False),
        sa.Column("ref", sa.String(length=256), nullable=True),
        sa.Column("field", sa.String(length=128), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("raw", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("seq", name=op.f("pk_dead_letters")),
    )
    op.create_table(
        "devices",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=64), nullable=False),
        sa.Column("area_code", sa.String(length=64), nullable=True),
        sa.Column("subject_id", sa.String(length=64), nullable=True),
        sa.Column("building", sa.String(length=64), nullable=True),
        sa.Column("venue_id", sa.String(length=64), nullable=True),
        sa.Column(
            "tags",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("lat", sa.Float(), nullable=True),
        sa.Column("lon", sa.Float(), nullable=True),
        sa.Column(
            "extra",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_devices")),
    )
    with op.batch_alter_table("devices", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_devices_area_code"), ["area_code"], unique=False)

    op.create_table(
        "events",
        sa.Column(
            "seq",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("source", sa.String(length=128), nullable=False),
        sa.Column("event_id", sa.String(length=128), nullable=False),
        sa.Column("kind", sa.String(length=128), nullable=False),
        sa.Column("ts", cityeye.store.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("received_at", cityeye.store.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("device_id", sa.String(length=128), nullable=True),
        sa.Column("subject", sa.String(length=128), nullable=True),
        sa.Column("area_code", sa.String(length=128), nullable=True),
        sa.Column("lat", sa.Float(), nullable=True),
        sa.Column("lon", sa.Float(), nullable=True),
        sa.Column(
            "attrs",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("known_kind", sa.Boolean(), nullable=False),
        sa.Column("late", sa.Boolean(), nullable=False),
        sa.Column("raw", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("seq", name=op.f("pk_events")),
        sa.UniqueConstraint("source", "event_id", name="uq_events_source_event_id"),
    )
    with op.batch_alter_table("events", schema=None) as batch_op:
        batch_op.create_index("ix_events_area_ts", ["area_code", "ts"], unique=False)
        batch_op.create_index("ix_events_device_ts", ["device_id", "ts"], unique=False)
        batch_op.create_index("ix_events_kind_ts", ["kind", "ts"], unique=False)

    op.create_table(
        "meta",
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column(
            "value",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_meta")),
    )
    op.create_table(
        "parties",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("non_government", sa.Boolean(), nullable=False),
        sa.Column(
            "extra",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_parties")),
    )
    op.create_table(
        "scenarios",
        sa.Column("id", sa.String(length=128), nullable=False),
        sa.Column("module", sa.String(length=32), nullable=False),
        sa.Column("name_zh", sa.String(length=200), nullable=False),
        sa.Column("name_en", sa.String(length=200), nullable=False),
        sa.Column(
            "spec",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("updated_at", cityeye.store.types.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_scenarios")),
    )
    op.create_table(
        "subjects",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("area_code", sa.String(length=64), nullable=True),
        sa.Column("name", sa.String(length=200), nullable=True),
        sa.Column(
            "tags",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column(
            "extra",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_subjects")),
    )
    with op.batch_alter_table("subjects", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_subjects_area_code"), ["area_code"], unique=False)

    op.create_table(
        "venues",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("area_code", sa.String(length=64), nullable=True),
        sa.Column("name", sa.String(length=200), nullable=True),
        sa.Column(
            "tags",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("lat", sa.Float(), nullable=True),
        sa.Column("lon", sa.Float(), nullable=True),
        sa.Column(
            "extra",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_venues")),
    )
    with op.batch_alter_table("venues", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_venues_area_code"), ["area_code"], unique=False)

    op.create_table(
        "case_handlers",
        sa.Column("case_id", sa.String(length=128), nullable=False),
        sa.Column("party_id", sa.String(length=64), nullable=False),
        sa.Column("role", sa.String(length=8), nullable=False),
        sa.Column("assigned_at", cityeye.store.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["case_id"], ["cases.id"], name=op.f("fk_case_handlers_case_id_cases")
        ),
        sa.PrimaryKeyConstraint("case_id", "party_id", name=op.f("pk_case_handlers")),
    )
    op.create_table(
        "case_timeline",
        sa.Column(
            "seq",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("case_id", sa.String(length=128), nullable=False),
        sa.Column("at", cityeye.store.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("actor", sa.String(length=128), nullable=False),
        sa.Column("action", sa.String(length=32), nullable=False),
        sa.Column("from_state", sa.String(length=16), nullable=True),
        sa.Column("to_state", sa.String(length=16), nullable=True),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column(
            "attachments",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["case_id"], ["cases.id"], name=op.f("fk_case_timeline_case_id_cases")
        ),
        sa.PrimaryKeyConstraint("seq", name=op.f("pk_case_timeline")),
    )
    with op.batch_alter_table("case_timeline", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_case_timeline_case_id"), ["case_id"], unique=False)

    op.create_table(
        "party_areas",
        sa.Column("party_id", sa.String(length=64), nullable=False),
        sa.Column("area_code", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(
            ["area_code"], ["areas.code"], name=op.f("fk_party_areas_area_code_areas")
        ),
        sa.ForeignKeyConstraint(
            ["party_id"],
            ["parties.id"],
            name=op.f("fk_party_areas_party_id_parties"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("party_id", "area_code", name=op.f("pk_party_areas")),
    )
    with op.batch_alter_table("party_areas", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_party_areas_area_code"), ["area_code"], unique=False)

    _protect_history()


def _protect_history() -> None:
    dialect = op.get_bind().dialect.name
    if dialect == "sqlite":
        for op_name in ("UPDATE", "DELETE"):
            op.execute(
                f"CREATE TRIGGER case_timeline_no_{op_name.lower()} BEFORE {op_name} "
                "ON case_timeline BEGIN SELECT RAISE(ABORT, 'case_timeline is append-only'); END"
            )
        op.execute(
            "CREATE TRIGGER events_no_delete BEFORE DELETE ON events "
            "BEGIN SELECT RAISE(ABORT, 'events are never deleted'); END"
        )
    elif dialect == "postgresql":
        op.execute(
            "CREATE FUNCTION cityeye_refuse_change() RETURNS trigger AS $$ BEGIN "
            "RAISE EXCEPTION '% on % refused: history is append-only', TG_OP, TG_TABLE_NAME; "
            "END $$ LANGUAGE plpgsql"
        )
        op.execute(
            "CREATE TRIGGER case_timeline_append_only BEFORE UPDATE OR DELETE ON case_timeline "
            "FOR EACH ROW EXECUTE FUNCTION cityeye_refuse_change()"
        )
        op.execute(
            "CREATE TRIGGER events_no_delete BEFORE DELETE ON events "
            "FOR EACH ROW EXECUTE FUNCTION cityeye_refuse_change()"
        )


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    if dialect == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS case_timeline_append_only ON case_timeline")
        op.execute("DROP TRIGGER IF EXISTS events_no_delete ON events")
        op.execute("DROP FUNCTION IF EXISTS cityeye_refuse_change()")
    with op.batch_alter_table("party_areas", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_party_areas_area_code"))

    op.drop_table("party_areas")
    with op.batch_alter_table("case_timeline", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_case_timeline_case_id"))

    op.drop_table("case_timeline")
    op.drop_table("case_handlers")
    with op.batch_alter_table("venues", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_venues_area_code"))

    op.drop_table("venues")
    with op.batch_alter_table("subjects", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_subjects_area_code"))

    op.drop_table("subjects")
    op.drop_table("scenarios")
    op.drop_table("parties")
    op.drop_table("meta")
    with op.batch_alter_table("events", schema=None) as batch_op:
        batch_op.drop_index("ix_events_kind_ts")
        batch_op.drop_index("ix_events_device_ts")
        batch_op.drop_index("ix_events_area_ts")

    op.drop_table("events")
    with op.batch_alter_table("devices", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_devices_area_code"))

    op.drop_table("devices")
    op.drop_table("dead_letters")
    with op.batch_alter_table("cases", schema=None) as batch_op:
        batch_op.drop_index("ix_cases_state")
        batch_op.drop_index("ix_cases_scenario_key")
        batch_op.drop_index(batch_op.f("ix_cases_area_code"))

    op.drop_table("cases")
    with op.batch_alter_table("areas", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_areas_parent_code"))

    op.drop_table("areas")
    with op.batch_alter_table("alerts", schema=None) as batch_op:
        batch_op.drop_index("ix_alerts_scenario_key")
        batch_op.drop_index("ix_alerts_opened_at")

    op.drop_table("alerts")
