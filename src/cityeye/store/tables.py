"""The schema, one table per concept. Alembic migrations in ``migrations/`` build it;
a test checks that the migrations and these definitions never drift apart."""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)

from cityeye.store.types import JSONType, UTCDateTime

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(column_0_label)s",
        "uq": "uq_%(table_name)s_%(column_0_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

ID = String(64)
SeqId = BigInteger().with_variant(Integer(), "sqlite")  # SQLite autoincrements INTEGER only

meta = Table(
    "meta",
    metadata,
    Column("key", String(64), primary_key=True),
    Column("value", JSONType, nullable=False),
)

areas = Table(
    "areas",
    metadata,
    Column("code", ID, primary_key=True),
    Column("name", String(200), nullable=False),
    Column("level", String(16), nullable=False),
    Column("parent_code", ID, ForeignKey("areas.code"), nullable=True, index=True),
    Column("boundary", JSONType, nullable=True),
    Column("extra", JSONType, nullable=False),
)

parties = Table(
    "parties",
    metadata,
    Column("id", ID, primary_key=True),
    Column("name", String(200), nullable=False),
    Column("kind", String(32), nullable=False),
    Column("non_government", Boolean, nullable=False),
    Column("extra", JSONType, nullable=False),
)

party_areas = Table(
    "party_areas",
    metadata,
    Column("party_id", ID, ForeignKey("parties.id", ondelete="CASCADE"), primary_key=True),
    Column("area_code", ID, ForeignKey("areas.code"), primary_key=True, index=True),
)

subjects = Table(
    "subjects",
    metadata,
    Column("id", ID, primary_key=True),
    Column("area_code", ID, nullable=True, index=True),
    Column("name", String(200), nullable=True),
    Column("tags", JSONType, nullable=False),
    Column("extra", JSONType, nullable=False),
)

venues = Table(
    "venues",
    metadata,
    Column("id", ID, primary_key=True),
    Column("area_code", ID, nullable=True, index=True),
    Column("name", String(200), nullable=True),
    Column("tags", JSONType, nullable=False),
    Column("lat", Float, nullable=True),
    Column("lon", Float, nullable=True),
    Column("extra", JSONType, nullable=False),
    Column("address", String(300), nullable=True),  # migration 0012
)

#: Named buildings and places (world files' optional ``buildings:``; migration 0012).
buildings = Table(
    "buildings",
    metadata,
    Column("id", ID, primary_key=True),
    Column("area_code", ID, nullable=True, index=True),
    Column("name", String(200), nullable=True),
    Column("address", String(300), nullable=True),
    Column("tags", JSONType, nullable=False),
    Column("lat", Float, nullable=True),
    Column("lon", Float, nullable=True),
    Column("extra", JSONType, nullable=False),
)

devices = Table(
    "devices",
    metadata,
    Column("id", ID, primary_key=True),
    Column("kind", String(64), nullable=False),
    Column("area_code", ID, nullable=True, index=True),
    Column("subject_id", ID, nullable=True),
    Column("building", ID, nullable=True),
    Column("venue_id", ID, nullable=True),
    Column("tags", JSONType, nullable=False),
    Column("lat", Float, nullable=True),
    Column("lon", Float, nullable=True),
    Column("extra", JSONType, nullable=False),
)

events = Table(
    "events",
    metadata,
    Column("seq", SeqId, primary_key=True, autoincrement=True),
    Column("source", String(128), nullable=False),
    Column("event_id", String(128), nullable=False),
    Column("kind", String(128), nullable=False),
    Column("ts", UTCDateTime, nullable=False),
    Column("received_at", UTCDateTime, nullable=False),
    Column("device_id", String(128), nullable=True),
    Column("subject", String(128), nullable=True),
    Column("area_code", String(128), nullable=True),
    Column("lat", Float, nullable=True),
    Column("lon", Float, nullable=True),
    Column("attrs", JSONType, nullable=False),
    Column("known_kind", Boolean, nullable=False),
    Column("late", Boolean, nullable=False, default=False),
    Column("raw", Text, nullable=False),
    UniqueConstraint("source", "event_id", name="uq_events_source_event_id"),
    Index("ix_events_kind_ts", "kind", "ts"),
    # no (device_id, ts) or (area_code, ts) index: nothing looks events up by device,
    # the counts per area are in event_counts, and each cost every insert pages
    # (migration 0011)
)

#: Stored events per kind and area (``''``: none), added to in the transaction that
#: stores them: what the status page shows, without counting the events table.
event_counts = Table(
    "event_counts",
    metadata,
    Column("kind", String(128), primary_key=True),
    Column("area_code", String(128), primary_key=True),
    Column("n", BigInteger, nullable=False),
)

dead_letters = Table(
    "dead_letters",
    metadata,
    Column("seq", SeqId, primary_key=True, autoincrement=True),
    Column("received_at", UTCDateTime, nullable=False),
    Column("channel", String(32), nullable=False),
    Column("ref", String(256), nullable=True),
    Column("field", String(128), nullable=False),
    Column("reason", Text, nullable=False),
    Column("raw", Text, nullable=False),
    #: The bytes exactly as they arrived (up to the event size limit), for replaying a
    #: fixed decoder over them; ``raw`` is a readable, shortened copy.
    Column("payload", LargeBinary, nullable=True),
)

#: Per-device (or per-integration) API tokens for ingest. Only a SHA-256 of the secret
#: is kept: the secret is 32 random bytes, so a fast hash is as strong as a slow one and
#: costs microseconds on every request (argon2 is for the low-entropy passwords of
#: people, see issue 6).
api_tokens = Table(
    "api_tokens",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("secret_hash", String(64), nullable=False),
    Column("device_id", ID, nullable=True, index=True),
    Column("source", String(64), nullable=True),
    Column("label", String(256), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("revoked_at", UTCDateTime, nullable=True),
    Column("last_used_at", UTCDateTime, nullable=True),
    # held to one area and below (a street's gateway); NULL: the whole district
    Column("area_code", ID, nullable=True),
)

#: People who sign in: role, and the party (a handler's) or the areas (a post) that
#: bound what they see. Passwords only as argon2 hashes.
users = Table(
    "users",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("username", String(64), nullable=False, unique=True),
    Column("display_name", String(128), nullable=False),
    Column("password_hash", String(256), nullable=False),
    Column("role", String(16), nullable=False),
    Column("party_id", ID, nullable=True),
    Column("areas", JSONType, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("disabled_at", UTCDateTime, nullable=True),
    # where SMS notifications reach them (docs/notifications.md); NULL: none
    Column("phone", String(32), nullable=True),
)

#: Signed-in sessions (browser cookie) and personal API tokens of users: only the
#: SHA-256 of the secret is kept.
user_tokens = Table(
    "user_tokens",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("user_id", String(32), ForeignKey("users.id", ondelete="CASCADE"), index=True),
    Column("secret_hash", String(64), nullable=False),
    Column("kind", String(16), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("expires_at", UTCDateTime, nullable=True),
    Column("revoked_at", UTCDateTime, nullable=True),
)

#: Who may follow a resident's report and rate its result: the portal hands the
#: reporter a follow key once; only its SHA-256 is kept, and the user who was signed in
#: when reporting (a resident), if any. ``report_id`` is the report event's id (its
#: tracking number).
report_follows = Table(
    "report_follows",
    metadata,
    Column("report_id", String(128), primary_key=True),
    Column("key_hash", String(64), nullable=False, unique=True),
    Column("user_id", String(32), ForeignKey("users.id", ondelete="SET NULL"), index=True),
    Column("created_at", UTCDateTime, nullable=False),
)

scenarios = Table(
    "scenarios",
    metadata,
    Column("id", String(128), primary_key=True),
    Column("module", String(32), nullable=False),
    Column("name_zh", String(200), nullable=False),
    Column("name_en", String(200), nullable=False),
    Column("spec", JSONType, nullable=False),
    Column("enabled", Boolean, nullable=False, default=True),
    Column("updated_at", UTCDateTime, nullable=False),
)

alerts = Table(
    "alerts",
    metadata,
    Column("id", String(128), primary_key=True),
    Column("scenario", String(128), nullable=False),
    Column("key", String(256), nullable=False),
    Column("severity", String(16), nullable=False),
    Column("opened_at", UTCDateTime, nullable=False),
    Column("resolved_at", UTCDateTime, nullable=True),
    Column("count", Integer, nullable=False),
    Column("event_ids", JSONType, nullable=False),
    Column("area_code", String(128), nullable=True),
    Index("ix_alerts_scenario_key", "scenario", "key"),
    Index("ix_alerts_opened_at", "opened_at"),
)

#: Every time an alert is stored (opened, grown, resolved): the feed behind the
#: cockpit's live alert stream, whoever wrote it (the live service or a bus worker).
alert_changes = Table(
    "alert_changes",
    metadata,
    Column("seq", SeqId, primary_key=True, autoincrement=True),
    Column("alert_id", String(128), nullable=False),
    Column("at", UTCDateTime, nullable=False, index=True),
)

cases = Table(
    "cases",
    metadata,
    Column("id", String(128), primary_key=True),
    Column("origin", String(16), nullable=False),
    Column("state", String(16), nullable=False),
    Column("severity", String(16), nullable=False),
    Column("title", String(500), nullable=False),
    Column("scenario", String(128), nullable=True),
    Column("key", String(256), nullable=True),
    Column("alert_id", String(128), nullable=True),
    Column("area_code", String(128), nullable=True, index=True),
    Column("lead_party", ID, nullable=True),
    Column("reporter", String(128), nullable=True),
    Column("opened_at", UTCDateTime, nullable=False),
    Column("closed_at", UTCDateTime, nullable=True),
    Column("rating", Integer, nullable=True),
    Column("due_at", UTCDateTime, nullable=True),
    Column("version", Integer, nullable=False, default=1),
    Index("ix_cases_state", "state"),
    Index("ix_cases_scenario_key", "scenario", "key"),
)

case_handlers = Table(
    "case_handlers",
    metadata,
    Column("case_id", String(128), ForeignKey("cases.id"), primary_key=True),
    Column("party_id", ID, primary_key=True),
    Column("role", String(8), nullable=False),
    Column("assigned_at", UTCDateTime, nullable=False),
)

case_timeline = Table(
    "case_timeline",
    metadata,
    Column("seq", SeqId, primary_key=True, autoincrement=True),
    Column("case_id", String(128), ForeignKey("cases.id"), nullable=False, index=True),
    Column("at", UTCDateTime, nullable=False),
    Column("actor", String(128), nullable=False),
    Column("action", String(32), nullable=False),
    Column("from_state", String(16), nullable=True),
    Column("to_state", String(16), nullable=True),
    Column("note", Text, nullable=False),
    Column("attachments", JSONType, nullable=False),
)

routing_rules = Table(
    "routing_rules",
    metadata,
    Column("position", Integer, primary_key=True, autoincrement=False),
    Column("scenarios", JSONType, nullable=False),
    Column("kind", String(32), nullable=True),
    Column("party_id", ID, nullable=True),
    Column("area_code", ID, nullable=True),
    Column("co_handlers", JSONType, nullable=False),
)

#: The cockpit's KPI counters, kept up to date with every case change (see
#: ``cityeye.cases.aggregate``): one row per (dimension, value, period, metric), with
#: ``period`` a local day ``2026-10-05`` or a month ``2026-10``. The key's order
#: (dimension, period, value) makes "every street this month" one contiguous range.
kpi_counts = Table(
    "kpi_counts",
    metadata,
    Column("dim", String(16), primary_key=True),
    Column("period", String(10), primary_key=True),
    Column("value", String(128), primary_key=True),
    Column("metric", String(24), primary_key=True),
    Column("n", BigInteger, nullable=False),
)

engine_state = Table(
    "engine_state",
    metadata,
    Column("name", String(64), primary_key=True),
    Column("taken_at", UTCDateTime, nullable=False),
    Column("last_seq", SeqId, nullable=False),
    Column("data", LargeBinary, nullable=False),
)

#: Moments the wall clock moved a live engine on (``LivePipeline.tick``), each after the
#: event ``after_seq``: a restart re-feeds the events after its snapshot *and* these
#: marks in the same order, so timers fire where they fired before the restart and the
#: cases they open get the same numbers.
clock_marks = Table(
    "clock_marks",
    metadata,
    Column("seq", SeqId, primary_key=True, autoincrement=True),
    Column("name", String(64), nullable=False),
    Column("after_seq", SeqId, nullable=False),
    Column("at", UTCDateTime, nullable=False),
    Index("ix_clock_marks_name_after_seq", "name", "after_seq"),
)

#: The notification outbox (``cityeye.cases.outbox``): one row per recipient and
#: channel, written in the transaction that stores the case change it reports. ``key``
#: (case, timeline line, channel, recipient) makes a re-feed after a restart write
#: nothing twice. A row about no one case (the 日提醒 daily reminder, a published
#: bulletin or result: ``cityeye.routine``) has no ``case_id``; its key names the
#: job and its period instead. Desk rows are delivered when written (the desk reads them); webhook
#: and SMS rows wait ``pending`` for the sender, which retries with backoff until
#: ``sent`` or, after the last attempt, ``failed`` (kept, with the last error).
notifications = Table(
    "notifications",
    metadata,
    Column("seq", SeqId, primary_key=True, autoincrement=True),
    Column("key", String(400), nullable=False, unique=True),
    Column("created_at", UTCDateTime, nullable=False),
    Column("case_id", String(128), nullable=True),
    Column("kind", String(16), nullable=False),
    Column("channel", String(8), nullable=False),
    Column("user_id", String(32), nullable=True),
    Column("party_id", ID, nullable=True),
    Column("payload", JSONType, nullable=False),
    Column("state", String(8), nullable=False),
    Column("attempts", Integer, nullable=False),
    Column("next_try_at", UTCDateTime, nullable=True),
    Column("sent_at", UTCDateTime, nullable=True),
    Column("last_error", String(500), nullable=True),
    Index("ix_notifications_user_id_seq", "user_id", "seq"),
    Index("ix_notifications_state_next_try_at", "state", "next_try_at"),
)

# ---------------------------------------------------------------------- participation
#: 社情民意: residents' suggestions (portal, volunteers, workers), their group (the
#: incremental grouper's), the staff's answer, and the case or topic each became.
suggestions = Table(
    "suggestions",
    metadata,
    Column("id", ID, primary_key=True),
    Column("channel", String(16), nullable=False),
    Column("category", String(64), nullable=False),
    Column("text", Text, nullable=False),
    Column("area_code", ID, nullable=False),
    Column("photos", JSONType, nullable=False),
    Column("author", String(32), ForeignKey("users.id", ondelete="SET NULL"), nullable=True),
    Column("created_at", UTCDateTime, nullable=False),
    Column("group_id", String(64), nullable=True, index=True),
    Column("terms", JSONType, nullable=False),
    Column("answer", Text, nullable=True),
    Column("answered_at", UTCDateTime, nullable=True),
    Column("answered_by", String(64), nullable=True),
    Column("case_key", String(256), nullable=True),
    Column("topic_id", ID, nullable=True, index=True),
    Index("ix_suggestions_area_created", "area_code", "created_at"),
)

#: 红茶议事会 topics: the step each is at, its deadline, and its voting rules (fractions
#: as text, "2/3").
topics = Table(
    "topics",
    metadata,
    Column("id", ID, primary_key=True),
    Column("title", String(200), nullable=False),
    Column("description", Text, nullable=False),
    Column("area_code", ID, nullable=False, index=True),
    Column("kind", String(16), nullable=False),
    Column("step", String(16), nullable=False),
    Column("step_due_at", UTCDateTime, nullable=True),
    Column("quorum", String(16), nullable=False),
    Column("majority", String(16), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("created_by", String(64), nullable=True),
)

#: The public record of each topic: every step it entered, when, by whom.
topic_steps = Table(
    "topic_steps",
    metadata,
    Column("seq", SeqId, primary_key=True, autoincrement=True),
    Column("topic_id", ID, ForeignKey("topics.id"), nullable=False, index=True),
    Column("step", String(16), nullable=False),
    Column("at", UTCDateTime, nullable=False),
    Column("actor", String(64), nullable=False),
    Column("note", Text, nullable=False),
)

meetings = Table(
    "meetings",
    metadata,
    Column("id", ID, primary_key=True),
    Column("topic_id", ID, ForeignKey("topics.id"), nullable=False, index=True),
    Column("mode", String(16), nullable=False),
    Column("at", UTCDateTime, nullable=False),
    Column("place", String(200), nullable=False),
    Column("agenda", JSONType, nullable=False),
    Column("minutes", Text, nullable=False),
    Column("decisions", JSONType, nullable=False),
)

meeting_participants = Table(
    "meeting_participants",
    metadata,
    Column("meeting_id", ID, ForeignKey("meetings.id"), primary_key=True),
    Column("n", Integer, primary_key=True, autoincrement=False),
    Column("role", String(32), nullable=False),
    Column("user_id", String(32), nullable=True),
    Column("name", String(128), nullable=False),
    Column("signed_in_at", UTCDateTime, nullable=True),
)

meeting_turns = Table(
    "meeting_turns",
    metadata,
    Column("seq", SeqId, primary_key=True, autoincrement=True),
    Column("meeting_id", ID, ForeignKey("meetings.id"), nullable=False, index=True),
    Column("speaker", Integer, nullable=False),
    Column("text", Text, nullable=False),
    Column("at", UTCDateTime, nullable=False),
)

#: What a topic's residents vote on; ``eligible`` is fixed when it closes.
ballots = Table(
    "ballots",
    metadata,
    Column("topic_id", ID, ForeignKey("topics.id"), primary_key=True),
    Column("options", JSONType, nullable=False),
    Column("opens_at", UTCDateTime, nullable=True),
    Column("closes_at", UTCDateTime, nullable=True),
    Column("closed_at", UTCDateTime, nullable=True),
    Column("eligible", Integer, nullable=True),
)

#: Who voted (one row per resident and topic: the key refuses a second vote) — and
#: nothing about what they chose.
vote_roll = Table(
    "vote_roll",
    metadata,
    Column("topic_id", ID, ForeignKey("topics.id"), primary_key=True),
    Column("user_id", String(32), primary_key=True),
)

#: What was chosen: a counter per option, no voter, no time, no order (written in the
#: same transaction as the roll row, so the two always agree).
vote_choices = Table(
    "vote_choices",
    metadata,
    Column("topic_id", ID, ForeignKey("topics.id"), primary_key=True),
    Column("option", String(200), primary_key=True),
    Column("votes", Integer, nullable=False),
)

resolutions = Table(
    "resolutions",
    metadata,
    Column("topic_id", ID, ForeignKey("topics.id"), primary_key=True),
    Column("text", Text, nullable=False),
    Column("at", UTCDateTime, nullable=False),
    Column("actor", String(64), nullable=False),
)

#: Each action of a resolution is a case in the closed loop (key ``council/<topic>-<n>``).
resolution_actions = Table(
    "resolution_actions",
    metadata,
    Column("topic_id", ID, ForeignKey("topics.id"), primary_key=True),
    Column("n", Integer, primary_key=True, autoincrement=False),
    Column("title", String(200), nullable=False),
    Column("party", ID, nullable=False),
    Column("due_at", UTCDateTime, nullable=False),
    Column("case_key", String(256), nullable=False),
)

#: Tables whose rows may never be changed or removed (enforced by database triggers).
APPEND_ONLY = ("case_timeline",)
#: Tables whose rows may never be removed (raw evidence).
NO_DELETE = ("events",)


# ------------------------------------------------------------------ 督办 task supervision
# (issue 19 item 5; cityeye.tasks, cityeye.store.tasks)

#: One row of a district's task-supervision table (督办表) of a year: its section
#: (项目名称), 项目内容, the lead and responsible units as the table wrote them and the
#: parties they matched, the current progress, and our own target / deadline.
tasks = Table(
    "tasks",
    metadata,
    Column("id", ID, primary_key=True),
    Column("year", Integer, nullable=False, index=True),
    Column("seq", Integer, nullable=False),
    Column("section_no", String(32), nullable=False),
    Column("section_title", String(300), nullable=False),
    Column("content", Text, nullable=False),
    Column("lead_units", JSONType, nullable=False),
    Column("units", JSONType, nullable=False),
    Column("party_ids", JSONType, nullable=False),
    Column("progress", Text, nullable=False),
    Column("completion", Float, nullable=True),
    Column("target", Text, nullable=True),
    Column("due_at", UTCDateTime, nullable=True),
    Column("done_at", UTCDateTime, nullable=True),
    Column("source", String(300), nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    UniqueConstraint("year", "seq", name="uq_tasks_year_seq"),
)

#: A progress report on a task by one of its units (append-only: the history of what
#: each unit said, and when); the task's ``progress`` is the latest report's text.
task_reports = Table(
    "task_reports",
    metadata,
    Column("id", SeqId, primary_key=True, autoincrement=True),
    Column("task_id", ID, ForeignKey("tasks.id"), nullable=False, index=True),
    Column("at", UTCDateTime, nullable=False),
    Column("user_id", String(32), nullable=True),
    Column("party_id", ID, nullable=True),
    Column("text", Text, nullable=False),
    Column("completion", Float, nullable=True),
    Column("done", Boolean, nullable=False),
    Column("photos", JSONType, nullable=False),
)


# ---------------------------------------------------------------------- survey (社会评价)
# The annual evaluation of units by invited respondents (cityeye.survey, issue 19 item
# 6). Anonymous by construction: an invitation keeps only whether it was used (no time),
# the ratings are counters per unit and score (no respondent, no time, no order) and a
# comment row has a random id and no time; nothing links a response to its invitation.

#: One survey: its year, its question, when it takes responses.
surveys = Table(
    "surveys",
    metadata,
    Column("id", ID, primary_key=True),
    Column("title", String(200), nullable=False),
    Column("year", Integer, nullable=False),
    Column("question_zh", String(300), nullable=False),
    Column("question_en", String(300), nullable=False),
    Column("opens_at", UTCDateTime, nullable=False),
    Column("closes_at", UTCDateTime, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("created_by", String(32), nullable=False),
)

#: The units a survey rates, in the order the questionnaire lists them (``unit``:
#: ``street:<area code>`` or ``department:<party id>``; the name as it was then).
survey_units = Table(
    "survey_units",
    metadata,
    Column("survey_id", ID, ForeignKey("surveys.id"), primary_key=True),
    Column("unit", String(160), primary_key=True),
    Column("n", Integer, nullable=False),
    Column("kind", String(16), nullable=False),
    Column("name", String(200), nullable=False),
)

#: Who may answer once: a token link (only its secret's SHA-256) or a resident account.
#: ``used`` is all that is kept of the answer; ``receipt_hash`` (the hash of the phone's
#: own key for its one submission) lets a phone that lost the answer send again and
#: hear "recorded" instead of "used" — it is on no response row.
survey_invitations = Table(
    "survey_invitations",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("survey_id", ID, ForeignKey("surveys.id"), nullable=False, index=True),
    Column("secret_hash", String(64), nullable=True),
    Column("user_id", String(32), nullable=True),
    Column("used", Boolean, nullable=False),
    Column("receipt_hash", String(64), nullable=True),
    UniqueConstraint("survey_id", "user_id", name="uq_survey_invitations_survey_user"),
)

#: The ratings: how many gave each unit each score (1–5).
survey_tally = Table(
    "survey_tally",
    metadata,
    Column("survey_id", ID, ForeignKey("surveys.id"), primary_key=True),
    Column("unit", String(160), primary_key=True),
    Column("rating", Integer, primary_key=True, autoincrement=False),
    Column("count", Integer, nullable=False),
)

#: The comments, each with the score it came with and nothing else.
survey_comments = Table(
    "survey_comments",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("survey_id", ID, ForeignKey("surveys.id"), nullable=False, index=True),
    Column("unit", String(160), nullable=False),
    Column("rating", Integer, nullable=False),
    Column("text", Text, nullable=False),
)


# ---------------------------------------------------------------- 日提醒、周通报、月考核
# The assessment office's routine (cityeye.routine, issue 19 item 3).

#: Each routine job's run for one period ("reminder" 2026-12-02, "bulletin" 2026-W44,
#: "result" 2026-10): claimed by inserting the row, done when ``finished_at`` is set,
#: so a job runs once per period however often ``cityeye assess`` or the scheduler of
#: ``cityeye serve`` asks (a run that died unfinished is run again; its notifications
#: are keyed, so nobody hears twice). ``summary``: what the run did.
routine_runs = Table(
    "routine_runs",
    metadata,
    Column("job", String(16), primary_key=True),
    Column("period", String(16), primary_key=True),
    Column("started_at", UTCDateTime, nullable=False),
    Column("finished_at", UTCDateTime, nullable=True),
    Column("summary", JSONType, nullable=True),
)

#: 月考核: a contest round's published result, frozen as the board's JSON at
#: publication (``GET /api/v1/assessment/board``'s shape), so the result a district
#: circulated stays what it was even when a late correction changes the counters
#: (the live board recomputes; this does not). One per round, level and area
#: (``""``: the whole district).
assessment_results = Table(
    "assessment_results",
    metadata,
    Column("period", String(16), primary_key=True),
    Column("level", String(16), primary_key=True),
    Column("area", String(64), primary_key=True),
    Column("published_at", UTCDateTime, nullable=False),
    Column("contest", String(200), nullable=False),
    Column("board", JSONType, nullable=False),
)


# ---------------------------------------------------------------- 业委会换届选举
# Owners' committee elections (cityeye.participation.elections, issue 21 item 6).

#: An election: the estate (``area``: the community it is run in, for the staff's
#: scope; ``buildings``: the estate's buildings, whose owner households vote), the
#: matter (Civil Code art. 278's consent), the seats, the notice period (days), its
#: state and when each began; ``result``: the count, frozen at closing.
elections = Table(
    "elections",
    metadata,
    Column("id", ID, primary_key=True),
    Column("title", String(200), nullable=False),
    Column("area", String(64), nullable=False, index=True),
    Column("buildings", JSONType, nullable=False),
    Column("matter", String(16), nullable=False),
    Column("seats", Integer, nullable=False),
    Column("notice_days", Integer, nullable=False),
    Column("state", String(16), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("created_by", String(32), nullable=False),
    Column("notice_at", UTCDateTime, nullable=True),
    Column("voting_at", UTCDateTime, nullable=True),
    Column("closed_at", UTCDateTime, nullable=True),
    Column("result", JSONType, nullable=True),
)

#: The candidates: each an owner household of the estate, with the name it stands
#: under and who nominated it.
election_candidates = Table(
    "election_candidates",
    metadata,
    Column("election_id", ID, ForeignKey("elections.id"), primary_key=True),
    Column("household", String(64), primary_key=True),
    Column("name", String(100), nullable=False),
    Column("statement", Text, nullable=False),
    Column("nominated_by", String(32), nullable=False),
    Column("nominated_at", UTCDateTime, nullable=False),
)

#: One ballot per household and election (the key refuses a second): the candidates
#: it agreed to (none: took part, agreed to nobody), how it came (online, proxy,
#: paper), the resident who cast it online or the staff member who recorded it.
election_ballots = Table(
    "election_ballots",
    metadata,
    Column("election_id", ID, ForeignKey("elections.id"), primary_key=True),
    Column("household", String(64), primary_key=True),
    Column("choices", JSONType, nullable=False),
    Column("channel", String(16), nullable=False),
    Column("cast_by", String(32), nullable=False),
    Column("proxy", String(100), nullable=True),
    Column("cast_at", UTCDateTime, nullable=False),
)

#: Which owner household a resident's account votes for (bound by staff, who checked
#: the 房产证); a resident belongs to one household, a household may have several.
household_residents = Table(
    "household_residents",
    metadata,
    Column("username", String(32), primary_key=True),
    Column("household", String(64), nullable=False, index=True),
    Column("bound_by", String(32), nullable=False),
    Column("bound_at", UTCDateTime, nullable=False),
)

#: The audit trail: every step of an election, with who and when (``detail``: what
#: the step changed — a ballot's choices before a correction, a candidate's name).
election_audit = Table(
    "election_audit",
    metadata,
    Column("id", SeqId, primary_key=True, autoincrement=True),
    Column("election_id", ID, ForeignKey("elections.id"), nullable=False, index=True),
    Column("at", UTCDateTime, nullable=False),
    Column("actor", String(32), nullable=False),
    Column("action", String(16), nullable=False),
    Column("household", String(64), nullable=True),
    Column("detail", JSONType, nullable=False),
)


# ------------------------------------------------- 线上宣讲 briefings, 促动师 facilitators
# (issue 21 items 5, 7; cityeye.participation.briefings, cityeye.store.briefings)

#: A policy briefing session for enterprises: online (``link``) or on site (``place``),
#: its materials (uploaded attachments' refs), the area of the post that runs it.
briefings = Table(
    "briefings",
    metadata,
    Column("id", ID, primary_key=True),
    Column("title", String(200), nullable=False),
    Column("topic", Text, nullable=False),
    Column("mode", String(16), nullable=False),
    Column("at", UTCDateTime, nullable=False, index=True),
    Column("place", String(200), nullable=False),
    Column("link", String(500), nullable=False),
    Column("area_code", String(64), nullable=False, index=True),
    Column("materials", JSONType, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("created_by", String(64), nullable=False),
)

#: The enterprises invited (world subjects; the name as it was then), whether each
#: signed up and whether it came.
briefing_invitations = Table(
    "briefing_invitations",
    metadata,
    Column("briefing_id", ID, ForeignKey("briefings.id"), primary_key=True),
    Column("subject_id", ID, primary_key=True),
    Column("name", String(200), nullable=False),
    Column("area_code", String(64), nullable=True),
    Column("signed_up_at", UTCDateTime, nullable=True),
    Column("attended_at", UTCDateTime, nullable=True),
)

#: The questions asked during a briefing, each answered or made a case (``case_key``).
briefing_questions = Table(
    "briefing_questions",
    metadata,
    Column("briefing_id", ID, ForeignKey("briefings.id"), primary_key=True),
    Column("n", Integer, primary_key=True, autoincrement=False),
    Column("subject_id", ID, nullable=True),
    Column("text", Text, nullable=False),
    Column("asked_at", UTCDateTime, nullable=False),
    Column("answer", Text, nullable=True),
    Column("answered_at", UTCDateTime, nullable=True),
    Column("answered_by", String(64), nullable=True),
    Column("case_key", String(256), nullable=True),
)

#: 促动师: a user trained to open and moderate topics in one community (a flag beside
#: the account, so UserRole, a contract of /api/v1/meta, stays as it is).
facilitators = Table(
    "facilitators",
    metadata,
    Column("user_id", String(32), primary_key=True),
    Column("community", String(64), nullable=False, index=True),
    Column("since", UTCDateTime, nullable=False),
    Column("granted_by", String(64), nullable=False),
    Column("note", String(200), nullable=False),
    Column("ended_at", UTCDateTime, nullable=True),
)

#: Who ran (moderated) a meeting, when a facilitator did: what "meetings they ran" counts.
meeting_moderators = Table(
    "meeting_moderators",
    metadata,
    Column("meeting_id", ID, ForeignKey("meetings.id"), primary_key=True),
    Column("user_id", String(32), nullable=False, index=True),
)


# ---------------------------------------------------------------- 小河网驿: 重点企业与走访
# The enterprise registry, its visits and the warnings' visit tasks (issue 21 items 1,
# 2, 4; cityeye.enterprises).

#: A key enterprise (重点企业): its 统一社会信用代码 (checked, unique), its grid, the
#: staff member responsible (包联干部, a user id), contacts and tags as JSON lists, the
#: risk level that sets its visit interval, the world's subject it is (warnings key on it).
enterprises = Table(
    "enterprises",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("credit_code", String(18), nullable=False, unique=True),
    Column("name", String(200), nullable=False, index=True),
    Column("sector", String(100), nullable=False),
    Column("size", String(16), nullable=True),
    Column("address", String(300), nullable=False),
    Column("area_code", ID, nullable=False, index=True),
    Column("lat", Float, nullable=True),
    Column("lon", Float, nullable=True),
    Column("contacts", JSONType, nullable=False),
    Column("staff_id", String(32), nullable=True, index=True),
    Column("tags", JSONType, nullable=False),
    Column("risk", String(16), nullable=False),
    Column("subject_id", ID, nullable=True, index=True),
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
)

#: The registry's history: who changed which fields of an enterprise, when, from what
#: to what (``fields``: ``{name: [before, after]}``; ``actor``: a user id or
#: ``import:<file>``).
enterprise_changes = Table(
    "enterprise_changes",
    metadata,
    Column("id", SeqId, primary_key=True, autoincrement=True),
    Column("enterprise_id", String(32), nullable=False, index=True),
    Column("at", UTCDateTime, nullable=False),
    Column("actor", String(200), nullable=False),
    Column("fields", JSONType, nullable=False),
)

#: A visit (走访): who met whom, what they found, the photos (attachment refs), the
#: phone's check-in and its distance from the enterprise; ``alert_id`` and
#: ``outcome`` when the visit answered an ``enterprise.*`` warning.
enterprise_visits = Table(
    "enterprise_visits",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("enterprise_id", String(32), nullable=False, index=True),
    Column("at", UTCDateTime, nullable=False, index=True),
    Column("visitor_id", String(32), nullable=False),
    Column("people_met", String(300), nullable=False),
    Column("situation", Text, nullable=False),
    Column("problems", Text, nullable=False),
    Column("photos", JSONType, nullable=False),
    Column("lat", Float, nullable=True),
    Column("lon", Float, nullable=True),
    Column("distance_m", Float, nullable=True),
    Column("alert_id", ID, nullable=True, index=True),
    Column("outcome", String(16), nullable=True),
    Column("recorded_at", UTCDateTime, nullable=False),
)
