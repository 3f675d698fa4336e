"""社情民意 and 红茶议事会 as one service: every rule of making a suggestion, answering it,
turning it into a case or a topic, moving a topic through the six steps, its meetings,
ballot, votes and resolution — in one place, for the HTTP API
(:mod:`cityeye.api.participation`) and the demo seeding (:mod:`.demo`) alike.

The service raises domain errors, each a :class:`~cityeye.domain.FieldError` naming the
field and the reason, and each in a family of :mod:`cityeye.errors` whose HTTP status
the API's one handler gives (``cityeye.api.app.STATUS``):

* :class:`NotFound` — no such thing, or not among the caller's (a NotFoundError: 404);
* :class:`Refused` — the person may not do this (a RefusedError: 403);
* :class:`Blocked` (a workflow guard) and :class:`Conflict` (done already, or the
  wrong step) — not now (ConflictErrors: 409);
* any other :class:`FieldError` — the input is wrong (an InputError: 422).

A :class:`Participation` holds the grouper of suggestions (made at first use from the
last snapshot and the suggestions stored after it) behind a lock, so one instance
serves every thread of the API.
"""

from __future__ import annotations

import secrets
import threading
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time, timedelta
from fractions import Fraction
from types import ModuleType
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

import orjson

from cityeye.attachments import AttachmentStore
from cityeye.domain import REPORT_CATEGORIES, AreaLevel, Case, CaseState, Event, FieldError, World
from cityeye.domain.briefings import FACILITATOR_ROLES
from cityeye.domain.dates import iso_utc, local_date
from cityeye.domain.participation import (
    Ballot,
    Channel,
    Meeting,
    MeetingMode,
    Participant,
    ParticipantRole,
    Resolution,
    ResolutionAction,
    Rules,
    StepRecord,
    Suggestion,
    Tally,
    Topic,
    TopicKind,
    TopicStep,
    Turn,
)
from cityeye.domain.scenario import REPORT_SCENARIO
from cityeye.domain.users import User, UserRole, below, scope_of
from cityeye.errors import ConflictError, NotFoundError
from cityeye.ingest.intake import Intake
from cityeye.participation.votes import check_eligible, eligible_count, tally
from cityeye.participation.workflow import (
    DEFAULT_DAYS,
    MANAGERS,
    Blocked,
    Refused,
    advance,
    due,
    may_manage,
)
from cityeye.store import Store
from cityeye.store import briefings as facilitation
from cityeye.store import participation as db
from cityeye.store.requests import cases_by_key
from cityeye.store.users import list_users, user_with_hash

if TYPE_CHECKING:
    from cityeye.participation.text import Grouper

__all__ = [
    "Blocked",
    "Conflict",
    "GroupAnswer",
    "NotFound",
    "Participation",
    "Refused",
    "WantedAction",
]

SOURCE = "participation"  # a suggestion that became a case
COUNCIL = "council"  # a resolution's action that became a case
#: How long after its report a resolution action's dispatch is dated.
DISPATCH_AFTER = timedelta(milliseconds=1)
#: Take a snapshot of the grouper after this many suggestions (a restart re-adds the
#: ones after the snapshot, in the order they came).
GROUPER_SNAPSHOT_EVERY = 20
#: A suggestion's category → the category of the resident's report it becomes.
REPORT_CATEGORY = {
    "parking": "parking",
    "environment": "garbage",
    "safety": "safety",
    "traffic": "road",
    "greening": "greening",
    "facilities": "road",
    "noise": "noise",
}
STAFF = frozenset({UserRole.ADMIN, UserRole.DISPATCHER, UserRole.LEADER, UserRole.HANDLER})
EARLIEST = datetime(2000, 1, 1, tzinfo=UTC)
LATEST = datetime(2100, 1, 1, tzinfo=UTC)
#: Group titles remembered (:meth:`Participation.title_of`) before the memory starts over.
TITLES_KEPT = 20_000
_BAD_CHARS = {chr(c) for c in range(32) if chr(c) not in "\n\r\t"}


class NotFound(NotFoundError, FieldError):
    """No such thing, or none among the caller's (a NotFoundError: 404)."""


class Conflict(ConflictError, FieldError):
    """Not now: done already, or not at this step (a ConflictError: 409)."""


def text_tools() -> ModuleType:
    """The classifier and grouper, imported when first needed (they load jieba and
    train the classifier)."""
    from cityeye.participation import text

    return text


# ---------------------------------------------------------------------- input checks
def words(field: str, value: str) -> str:
    """Words that must be there: stripped, without control characters."""
    value = value.strip()
    if not value:
        raise FieldError(field, "write something")
    if any(c in _BAD_CHARS for c in value):
        raise FieldError(field, "control characters are not allowed")
    return value


def plain(field: str, value: str) -> str:
    """Optional words: stripped, without control characters (empty is fine)."""
    value = value.strip()
    if any(c in _BAD_CHARS for c in value):
        raise FieldError(field, "control characters are not allowed")
    return value


def when(field: str, value: datetime) -> datetime:
    """A time with its zone, between EARLIEST and LATEST, in UTC."""
    if value.tzinfo is None:
        raise FieldError(field, "give the time zone (e.g. +08:00)")
    try:
        utc = value.astimezone(UTC)
    except OverflowError:
        raise FieldError(field, "out of range") from None
    if not EARLIEST <= utc < LATEST:
        raise FieldError(field, f"not between {EARLIEST:%Y} and {LATEST:%Y}")
    return utc


def fraction(field: str, value: str, *, low_open: bool, high_open: bool) -> Fraction:
    try:
        f = Fraction(value)
    except (ValueError, ZeroDivisionError):
        raise FieldError(field, f"{value!r} is not a fraction") from None
    if (f <= 0 if low_open else f < 0) or (f >= 1 if high_open else f > 1):
        bounds = f"{'(' if low_open else '['}0, 1{')' if high_open else ']'}"
        raise FieldError(field, f"{value} is not in {bounds}")
    return f


@dataclass(frozen=True, slots=True)
class WantedAction:
    """An action of a resolution, as asked for: what, by whom, in how many days."""

    title: str
    party: str
    due_days: int = 7


@dataclass(frozen=True, slots=True)
class GroupAnswer:
    """What answering a group did: the members answered now, and how many of the
    caller's kept the answer they had."""

    group: str
    answered: tuple[str, ...]
    kept: int


class Participation:
    """The business of 社情民意 and 红茶议事会 over one pipeline (its store and world).

    ``now``: the clock (the demo seeding moves it through a simulated month);
    ``days``: the default deadline of each step; ``snapshot_every``: how many
    suggestions between snapshots of the grouper (asked at each suggestion)."""

    def __init__(
        self,
        pipeline: Intake,
        files: AttachmentStore,
        *,
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
        days: Mapping[TopicStep, int] = DEFAULT_DAYS,
        snapshot_every: Callable[[], int] = lambda: GROUPER_SNAPSHOT_EVERY,
    ) -> None:
        self.pipeline, self.files, self.now, self.days = pipeline, files, now, days
        self.snapshot_every = snapshot_every
        self.lock = threading.Lock()  # around the grouper
        self._grouper: Grouper | None = None
        self._since = 0
        self._titles: dict[tuple[str, int, int], str] = {}

    @property
    def store(self) -> Store:
        return self.pipeline.store

    @property
    def world(self) -> World:
        return self.pipeline.world

    # ------------------------------------------------------------------ the grouper
    def grouper(self) -> Grouper:
        """The grouper: the last snapshot, and the suggestions stored after it (call
        with :attr:`lock` held)."""
        if self._grouper is None:
            text = text_tools()
            saved = self.store.load_engine_state(db.GROUPER_STATE)
            made: Grouper | None = None
            if saved is not None:
                try:
                    made = text.Grouper.restore(orjson.loads(saved[0]))
                except (ValueError, KeyError, TypeError):
                    made = None  # unreadable or older: rebuild from the suggestions
            made = made or text.Grouper()
            for s in db.all_suggestions(self.store):
                if s.id not in made.assignment:
                    made.add(s.id, s.text, s.area, s.category)
            self._grouper, self._since = made, 0
        return self._grouper

    def group_labels(self) -> dict[str, tuple[str, ...]]:
        """Each live group's label terms."""
        with self.lock:
            return {gid: tuple(g.top_terms()) for gid, g in self.grouper().groups.items()}

    def save_grouper(self) -> None:
        """The grouper's state into the database now (a restart takes it and re-adds
        the suggestions stored after it)."""
        with self.lock:
            self._save_grouper()

    def _save_grouper(self) -> None:
        data = orjson.dumps(self.grouper().snapshot())
        self.store.save_engine_state(db.GROUPER_STATE, data, 0, self.now())
        self._since = 0

    # ------------------------------------------------------------------ areas, access
    def community_of(self, code: str) -> str:
        """The community an area lies in (itself for a community or above)."""
        area = self.world.areas.get(code)
        while area is not None and area.level == AreaLevel.GRID and area.parent:
            area = self.world.areas.get(area.parent)
        return area.code if area is not None else code

    def known_area(self, field: str, code: str) -> str:
        if code not in self.world.areas:
            raise FieldError(field, f"no area {code!r}")
        return code

    def readable_areas(self, user: User, area: str | None) -> frozenset[str] | None:
        """The areas a member of staff sees (``None``: all), narrowed to ``area``;
        :class:`NotFound` for an area outside them, as for cases."""
        if user.role not in STAFF:
            raise Refused("role", "suggestions are read by staff")
        scope = scope_of(user, self.world)
        if area is None:
            return scope.areas
        self.known_area("area", area)
        if scope.areas is not None and area not in scope.areas:
            raise NotFound("area", f"no area {area} among yours")
        return below(self.world, [area])

    def manage(self, user: User, area: str) -> None:
        """:class:`Refused` unless ``user`` may run topics (and answer) in ``area``."""
        may_manage(user, area, self.world)

    def moderates(self, user: User) -> str | None:
        """The community ``user`` facilitates (促动师, still active), if any."""
        if user.role not in FACILITATOR_ROLES:
            return None
        found = facilitation.get_facilitator(self.store, user.id)
        return found.community if found is not None and found.active else None

    def moderate(self, user: User, area: str) -> None:
        """:class:`Refused` unless ``user`` may open and moderate topics in ``area``:
        staff who :meth:`manage` it, or a facilitator of its community. Answering
        suggestions, ballots and resolutions (which send cases to parties) stay with
        staff."""
        may_manage(user, area, self.world, self.moderates(user))

    def suggestion(self, suggestion_id: str, user: User) -> Suggestion:
        """A suggestion a member of staff may see."""
        found = db.get_suggestion(self.store, suggestion_id)
        scope = scope_of(user, self.world)
        if found is None or (user.role not in STAFF) or not scope.allows(found.area):
            raise NotFound("suggestion", f"no suggestion {suggestion_id[:80]!r}")
        return found

    def topic(self, topic_id: str) -> Topic:
        found = db.get_topic(self.store, topic_id)
        if found is None:
            raise NotFound("topic", f"no topic {topic_id[:80]!r}")
        return found

    def meeting(self, meeting_id: str) -> tuple[Meeting, Topic]:
        found = db.get_meeting(self.store, meeting_id)
        if found is None:
            raise NotFound("meeting", f"no meeting {meeting_id[:80]!r}")
        return found, self.topic(found.topic_id)

    def tally_of(self, topic: Topic, ballot: Ballot | None) -> Tally | None:
        """What the ballot decided, once closed."""
        if ballot is None or not ballot.closed:
            return None
        return tally(db.vote_counts(self.store, topic.id), ballot.eligible or 0, topic.rules)

    def rules_of(self, quorum: str | None, majority: str | None, base: Rules) -> Rules:
        q = (
            fraction("quorum", quorum, low_open=True, high_open=False)
            if quorum is not None
            else base.quorum
        )
        m = (
            fraction("majority", majority, low_open=False, high_open=True)
            if majority is not None
            else base.majority
        )
        return Rules(q, m)

    # ------------------------------------------------------------------ suggestions
    def suggest(
        self,
        *,
        text: str,
        area: str,
        category: str | None = None,
        photos: Sequence[str] = (),
        channel: Channel = Channel.PORTAL,
        author: str | None = None,
    ) -> Suggestion:
        """A suggestion, classified (unless ``category`` is given), grouped with its
        near-duplicates and stored. Who may send it on which channel is the caller's
        to check (the API: anyone on the portal, a handler for the others)."""
        text_value = words("text", text)
        self.known_area("area", area)
        self.files.check(list(photos))
        tools = text_tools()
        if category is not None and category not in tools.CATEGORY_CODES:
            raise FieldError(
                "category", f"{category!r} not among {', '.join(tools.CATEGORY_CODES)}"
            )
        classified = tools.classify(text_value)
        chosen = category or classified.category
        with self.lock:
            groups = self.grouper()
            at = self.now()
            day = local_date(at, self.world.timezone)  # the district's day, not UTC's
            suggestion_id = f"SG-{day:%Y%m%d}-{secrets.token_hex(4).upper()}"
            group_id = groups.add(suggestion_id, text_value, area, chosen)
            suggestion = Suggestion(
                id=suggestion_id,
                channel=channel,
                category=chosen,
                text=text_value,
                area=area,
                created_at=at,
                photos=tuple(photos),
                author=author,
                group_id=str(group_id),
                terms=tuple(classified.top_terms),
            )
            db.add_suggestion(self.store, suggestion)
            self._since += 1
            if self._since >= self.snapshot_every():
                self._save_grouper()
        return suggestion

    def find_suggestions(
        self,
        user: User,
        area: str | None = None,
        *,
        where: db.SuggestionFilter = db.SuggestionFilter(),
        offset: int = 0,
        limit: int | None = 50,
    ) -> tuple[list[tuple[Suggestion, Case | None]], int]:
        """Suggestions within the caller's areas that ``where`` lets through, newest
        first, each with its case."""
        areas = self.readable_areas(user, area)
        found, total = db.find_suggestions(
            self.store, areas, where=where, offset=offset, limit=limit
        )
        cases = cases_by_key(self.store, [s.case_key for s in found if s.case_key])
        return [(s, cases.get(s.case_key or "")) for s in found], total

    def mine(self, user: User, limit: int = 50) -> list[Suggestion]:
        """What ``user`` suggested signed in, newest first, each with its answer once
        the community gave one (one answer to a whole group reaches each of them)."""
        found, _ = db.find_suggestions(
            self.store, None, where=db.SuggestionFilter(author=user.id), limit=limit
        )
        return found

    def groups(
        self,
        user: User,
        area: str | None = None,
        *,
        where: db.SuggestionFilter = db.SuggestionFilter(),
    ) -> list[db.Group]:
        """Groups of near-duplicates within the caller's areas (their suggestions that
        ``where`` lets through), largest first, each titled by its most representative
        sentence and keyed by the live grouper's terms where it knows the group."""
        areas = self.readable_areas(user, area)
        labels = self.group_labels()
        out = []
        for g in db.groups(self.store, areas, where=where):
            terms = labels.get(g.id) or g.terms
            title = self.title_of(g.id, g.texts)
            out.append(replace(g, terms=terms, title=title, texts=()))
        return out

    def title_of(self, group_id: str, texts: Sequence[str]) -> str:
        """The group's title: its medoid text (:func:`~cityeye.participation.text.
        representative`) trimmed to a line (:func:`~cityeye.participation.text.headline`).
        Remembered per (group, members' texts): a group only grows, and its title is
        asked at every look at the page."""
        key = (group_id, len(texts), hash(texts))
        found = self._titles.get(key)
        if found is None:
            tools = text_tools()
            found = tools.headline(tools.representative(texts))
            if len(self._titles) >= TITLES_KEPT:
                self._titles.clear()
            self._titles[key] = found
        return found

    def answer(self, user: User, suggestion_id: str, text: str) -> Suggestion:
        """The office's answer to a suggestion (staff of its area)."""
        s = self.suggestion(suggestion_id, user)
        self.manage(user, s.area)
        db.answer_suggestion(self.store, s.id, words("text", text), self.now(), user.username)
        updated = db.get_suggestion(self.store, s.id)
        assert updated is not None
        return updated

    def answer_group(
        self, user: User, group_id: str, text: str, *, overwrite: bool = False
    ) -> GroupAnswer:
        """One answer to every suggestion of a group in the caller's areas, in one
        transaction, each stored as :meth:`answer` stores one (so each resident's
        suggestion carries it). Members answered already keep their answer unless
        ``overwrite``: an individual answer was written for that person. Members
        outside the caller's areas are neither touched nor counted;
        :class:`NotFound` when none is inside them."""
        answer = words("text", text)
        if user.role not in MANAGERS:
            raise Refused("role", f"a {user.role.value} may not answer suggestions")
        areas = self.readable_areas(user, None)
        members, total = db.find_suggestions(
            self.store, areas, where=db.SuggestionFilter(group=group_id), limit=None
        )
        if not total:
            raise NotFound("group", f"no group {group_id[:80]!r} among yours")
        answered = db.answer_suggestions(
            self.store,
            [s.id for s in members],
            answer,
            self.now(),
            user.username,
            overwrite=overwrite,
        )
        return GroupAnswer(group_id, tuple(answered), len(members) - len(answered))

    def to_case(self, user: User, suggestion_id: str) -> tuple[Suggestion, Case | None]:
        """The suggestion becomes a case in the closed loop: a resident's report
        (``report.citizen`` from source ``participation``, its id the suggestion's)."""
        s = self.suggestion(suggestion_id, user)
        self.manage(user, s.area)
        category = s.category if s.category in REPORT_CATEGORIES else None
        event = Event(
            id=s.id,
            kind="report.citizen",
            ts=self.now(),
            source=SOURCE,
            area=s.area,
            attrs={
                "category": category or REPORT_CATEGORY.get(s.category, "other"),
                "text": s.text,
                "photos": list(s.photos),
                "suggestion": s.id,
            },
        )
        if not db.link_case(self.store, s.id, event.ref):
            raise Conflict("case", "this suggestion is a case already")
        try:
            result = self.pipeline.ingest([event])[0]
        except BaseException:
            db.unlink_case(self.store, s.id)
            raise
        if result.status not in ("accepted", "duplicate"):
            db.unlink_case(self.store, s.id)
            raise FieldError(result.field or "report", str(result.reason))
        updated = db.get_suggestion(self.store, s.id)
        assert updated is not None
        return updated, cases_by_key(self.store, [event.ref]).get(event.ref)

    def to_topic(
        self,
        user: User,
        suggestion_id: str,
        *,
        topic_id: str | None = None,
        title: str | None = None,
        kind: TopicKind = TopicKind.PUBLIC,
    ) -> Topic:
        """Put the suggestion on a topic: an existing one (``topic_id``, whose area
        holds the suggestion's) or a new one (``title``) for the suggestion's community."""
        s = self.suggestion(suggestion_id, user)
        if (topic_id is None) == (title is None):
            raise FieldError("topic_id", "give topic_id or title, one of them")
        if topic_id is not None:
            topic = self.topic(topic_id)
            self.manage(user, topic.area)
            if not self.world.within(s.area, topic.area):
                raise FieldError(
                    "topic_id", f"the suggestion's area {s.area} is not within {topic.area}"
                )
        else:
            assert title is not None
            topic = self.new_topic(user, title, s.text, self.community_of(s.area), kind)
        db.link_topic(self.store, s.id, topic.id)
        return topic

    # ------------------------------------------------------------------ topics
    def new_topic(
        self,
        user: User,
        title: str,
        description: str,
        area: str,
        kind: TopicKind = TopicKind.PUBLIC,
        *,
        quorum: str | None = None,
        majority: str | None = None,
    ) -> Topic:
        """提出议题: a topic in an area of the user's post, at its first step."""
        self.known_area("area", area)
        rules = self.rules_of(quorum, majority, Rules())
        self.moderate(user, area)
        at = self.now()
        topic = Topic(
            id=f"T-{local_date(at, self.world.timezone):%Y%m%d}-{secrets.token_hex(4).upper()}",
            title=words("title", title),
            description=plain("description", description),
            area=area,
            kind=kind,
            step=TopicStep.PROPOSE,
            created_at=at,
            step_due_at=due(TopicStep.PROPOSE, at, self.days),
            rules=rules,
            created_by=user.username,
        )
        db.add_topic(
            self.store, topic, StepRecord(TopicStep.PROPOSE, at, user.username, "提出议题")
        )
        return topic

    def advance(self, user: User, topic_id: str, note: str = "") -> Topic:
        """The next step (see the workflow): :class:`Refused` for who, :class:`Blocked`
        for a guard, :class:`Conflict` when it moved meanwhile."""
        topic = self.topic(topic_id)
        ballot = db.get_ballot(self.store, topic.id)
        moved, record = advance(
            topic,
            user,
            self.world,
            self.now(),
            note=plain("note", note),
            ballot=ballot,
            tally=self.tally_of(topic, ballot),
            days=self.days,
            moderates=self.moderates(user),
        )
        if not db.move_topic(self.store, topic.step, moved, record):
            raise Conflict("step", "the topic was moved meanwhile; look again")
        return moved

    # ------------------------------------------------------------------ meetings
    def add_meeting(
        self,
        user: User,
        topic_id: str,
        mode: MeetingMode,
        at: datetime,
        place: str = "",
        agenda: Iterable[str] = (),
        moderator: str | None = None,
    ) -> Meeting:
        """A meeting on the topic, online or offline, with its agenda. A facilitator
        who calls it runs it; staff may name a facilitator of the topic's community
        to run it (``moderator``, a username): the meetings each facilitator ran are
        counted."""
        topic = self.topic(topic_id)
        self.moderate(user, topic.area)
        runner: str | None = user.id if self.moderates(user) is not None else None
        if moderator is not None:
            found = user_with_hash(self.store, moderator)
            chosen = found[0] if found is not None else None
            community = self.moderates(chosen) if chosen is not None else None
            if chosen is None or community is None:
                raise FieldError("moderator", f"{moderator[:64]!r} is not a facilitator")
            if not self.world.within(topic.area, community):
                raise FieldError("moderator", f"{moderator} facilitates {community}, not here")
            runner = chosen.id
        if topic.step == TopicStep.RESOLVE:
            raise Conflict("step", "the topic is resolved")
        at_utc = when("at", at)
        items = tuple(plain(f"agenda[{i}]", a) for i, a in enumerate(agenda))
        meeting = Meeting(
            id=f"M-{secrets.token_hex(5).upper()}",
            topic_id=topic.id,
            mode=mode,
            at=at_utc,
            place=plain("place", place),
            agenda=tuple(a for a in items if a),
        )
        db.add_meeting(self.store, meeting)
        if runner is not None:
            facilitation.set_moderator(self.store, meeting.id, runner)
        return meeting

    def add_participant(
        self,
        user: User,
        meeting_id: str,
        role: ParticipantRole,
        *,
        username: str | None = None,
        name: str | None = None,
    ) -> Participant:
        """Who takes part: a user (by username, who may then sign in and speak) or
        someone named."""
        meeting, topic = self.meeting(meeting_id)
        self.moderate(user, topic.area)
        if (username is None) == (name is None):
            raise FieldError("user", "give user or name, one of them")
        who: User | None = None
        if username is not None:
            found = user_with_hash(self.store, username)
            if found is None:
                raise FieldError("user", f"no user {username!r}")
            who = found[0]
            if any(p.user_id == who.id for p in db.participants(self.store, meeting.id)):
                raise Conflict("user", f"{username} takes part already")
        shown = who.display_name if who is not None else words("name", name or "")
        return db.add_participant(
            self.store, Participant(meeting.id, 0, role, who.id if who else None, shown)
        )

    def seat(self, meeting: Meeting, user: User) -> Participant:
        """The user's seat in the meeting; :class:`Refused` when they have none."""
        mine = [p for p in db.participants(self.store, meeting.id) if p.user_id == user.id]
        if not mine:
            raise Refused("user", "you are not a participant of this meeting")
        return mine[0]

    def sign_in(self, user: User, meeting_id: str) -> Participant:
        """A participant signs in to the meeting (签到)."""
        meeting, _ = self.meeting(meeting_id)
        seat = self.seat(meeting, user)
        db.sign_in(self.store, meeting.id, seat.n, self.now())
        return self.seat(meeting, user)

    def speak(self, user: User, meeting_id: str, text: str) -> Turn:
        """A turn in an online meeting, by a participant who signed in."""
        meeting, topic = self.meeting(meeting_id)
        seat = self.seat(meeting, user)
        if seat.signed_in_at is None:
            raise Refused("sign-in", "sign in to the meeting first")
        if meeting.mode != MeetingMode.ONLINE:
            raise Conflict("mode", "turns are for online meetings; offline ones keep minutes")
        if topic.step == TopicStep.RESOLVE:
            raise Conflict("step", "the topic is resolved")
        turn = Turn(meeting.id, seat.n, words("text", text), self.now())
        db.add_turn(self.store, turn)
        return turn

    def set_minutes(self, user: User, meeting_id: str, text: str) -> Meeting:
        """The minutes (纪要) of the meeting."""
        meeting, topic = self.meeting(meeting_id)
        self.moderate(user, topic.area)
        db.set_minutes(self.store, meeting.id, words("text", text))
        return self.meeting(meeting.id)[0]

    def add_decision(self, user: User, meeting_id: str, text: str) -> Meeting:
        """A decision the meeting took."""
        meeting, topic = self.meeting(meeting_id)
        self.moderate(user, topic.area)
        db.add_decision(self.store, meeting.id, words("text", text))
        return self.meeting(meeting.id)[0]

    # ------------------------------------------------------------------ votes
    def put_ballot(
        self,
        user: User,
        topic_id: str,
        options: Sequence[str],
        *,
        closes_at: datetime | None = None,
        quorum: str | None = None,
        majority: str | None = None,
    ) -> Topic:
        """What residents will vote on, at 拟订方案 (it can be redrafted until the vote
        begins), and optionally the topic's quorum and majority."""
        topic = self.topic(topic_id)
        self.manage(user, topic.area)
        if topic.step != TopicStep.DRAFT:
            raise Conflict("step", f"the ballot is drafted at 拟订方案, not {topic.step.zh}")
        chosen = [words("options", o) for o in options]
        if len(set(chosen)) != len(chosen):
            raise FieldError("options", "each option once")
        closes = when("closes_at", closes_at) if closes_at is not None else None
        if closes is not None and closes <= self.now():
            raise FieldError("closes_at", "that is in the past")
        rules = self.rules_of(quorum, majority, topic.rules)
        db.put_ballot(self.store, Ballot(topic.id, tuple(chosen), closes))
        if rules != topic.rules:
            db.set_rules(self.store, topic.id, rules)
        return self.topic(topic.id)

    def vote(self, user: User, topic_id: str, choice: str) -> None:
        """A verified resident of the topic's area votes, once. Nobody can see what
        they chose: the roll says who voted, the counters what was chosen."""
        topic = self.topic(topic_id)
        check_eligible(user, topic, self.world)
        ballot = db.get_ballot(self.store, topic.id)
        if topic.step != TopicStep.VOTE or ballot is None:
            raise Conflict("step", f"the vote is at 居民表决, not {topic.step.zh}")
        if ballot.closed or (ballot.closes_at is not None and self.now() >= ballot.closes_at):
            raise Conflict("ballot", "the vote is closed")
        if choice not in ballot.options:
            raise FieldError("choice", f"not among {', '.join(ballot.options)}")
        if not db.cast_vote(self.store, topic.id, user.id, choice):
            raise Conflict("vote", "you have voted on this topic already")

    def close_ballot(self, user: User, topic_id: str) -> Topic:
        """Close the vote (not before its ``closes_at``): the eligible are counted as
        they are now, and the tally is published."""
        topic = self.topic(topic_id)
        self.manage(user, topic.area)
        ballot = db.get_ballot(self.store, topic.id)
        if topic.step != TopicStep.VOTE or ballot is None:
            raise Conflict("step", f"the vote is at 居民表决, not {topic.step.zh}")
        if ballot.closes_at is not None and self.now() < ballot.closes_at:
            raise Conflict("ballot", f"it closes at {iso_utc(ballot.closes_at)}")
        eligible = eligible_count(list_users(self.store), topic, self.world)
        if not db.close_ballot(self.store, topic.id, self.now(), eligible):
            raise Conflict("ballot", "closed already")
        return topic

    # ------------------------------------------------------------------ resolution
    def resolve(
        self, user: User, topic_id: str, text: str, actions: Sequence[WantedAction] = ()
    ) -> Topic:
        """形成决议: the resolution, and its actions, each a case in the closed loop sent
        to its party (``council/<topic>-<n>``)."""
        topic = self.topic(topic_id)
        self.manage(user, topic.area)
        if topic.step != TopicStep.RESOLVE:
            raise Conflict("step", f"the resolution is at 形成决议, not {topic.step.zh}")
        for i, wanted in enumerate(actions):
            if wanted.party not in self.world.parties:
                raise FieldError(f"actions[{i}].party", f"no party {wanted.party!r}")
            words(f"actions[{i}].title", wanted.title)
        at = self.now()
        made = tuple(
            ResolutionAction(
                n=i,
                title=wanted.title.strip(),
                party=wanted.party,
                due_at=at + timedelta(days=wanted.due_days),
                case_key=f"{COUNCIL}/{topic.id}-{i}",
            )
            for i, wanted in enumerate(actions, start=1)
        )
        resolution = Resolution(topic.id, words("text", text), at, user.username, made)
        if not db.add_resolution(self.store, resolution):
            raise Conflict("resolution", "the topic has one already")
        reports: list[Event] = []
        dispatches: list[Event] = []
        for a in made:
            report_id = f"{topic.id}-{a.n}"
            reports.append(
                Event(
                    id=report_id,
                    kind="report.citizen",
                    ts=at,
                    source=COUNCIL,
                    area=topic.area,
                    attrs={"category": "other", "text": f"{topic.title}：{a.title}"},
                )
            )
            # not immediate: the engine applies it in event-time order, after the
            # reports (all of them first, and a moment later, so none is late) have
            # opened the cases it names by scenario and key
            dispatches.append(
                Event(
                    id=f"{report_id}-dispatch",
                    kind="case.action",
                    ts=at + DISPATCH_AFTER,
                    source=COUNCIL,
                    area=topic.area,
                    attrs={
                        "scenario": REPORT_SCENARIO,
                        "key": a.case_key,
                        "action": "dispatch",
                        "party": a.party,
                        "role": "dispatcher",
                        "actor": user.username,
                        "note": f"议事会决议（{topic.title}），{a.due_at:%Y-%m-%d} 前完成",
                    },
                )
            )
        events = reports + dispatches
        if events:
            self.pipeline.ingest(events)
        return topic

    # ------------------------------------------------------------------ the cockpit
    def stats(
        self,
        user: User,
        area: str | None = None,
        period: tuple[datetime, datetime] | None = None,
    ) -> dict[str, Any]:
        """Suggestions this (local) month, groups, topics raised and resolved,
        resolution actions and how many of their cases are closed; with ``period``
        (``[start, end)``), ``suggestions_total`` and the rest count what happened in
        it (the cockpit's chosen period), ``suggestions_month`` stays this month's."""
        areas = self.readable_areas(user, area)
        zone = ZoneInfo(self.world.timezone)
        today = self.now().astimezone(zone).date()
        first = date(today.year, today.month, 1)
        following = date(today.year + today.month // 12, today.month % 12 + 1, 1)
        start = datetime.combine(first, time(0), zone).astimezone(UTC)
        end = datetime.combine(following, time(0), zone).astimezone(UTC)
        figures = db.counts(self.store, areas, start, end, period)
        keys = figures.pop("action_keys")
        cases = cases_by_key(self.store, keys)
        done = sum(1 for c in cases.values() if c.state == CaseState.CLOSED)
        return {
            **figures,
            "month": f"{first:%Y-%m}",
            "actions": len(keys),
            "actions_completed": done,
        }
