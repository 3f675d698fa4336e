"""社情民意 and 红茶议事会 (``/api/v1/participation``): residents' suggestions, and the
six-step deliberation of a topic up to a vote and a resolution whose actions become
cases in the closed loop.

* **Suggestions** come from the portal (anonymous, or a signed-in resident; limited per
  client address like the portal's reports) or from volunteers and workers signed in
  as handlers. The classifier (:mod:`cityeye.participation.text`) gives the category
  when none is chosen, and the incremental grouper folds near-duplicates into groups;
  the grouper's state is snapshotted into the database (``engine_state``) so a restart
  continues the same groups. Staff list them within their area scope (in SQL), answer
  them, turn one into a case (a ``report.citizen`` event from source ``participation``,
  like a resident's report) or into a topic.
* **Topics** move through the six steps (:mod:`cityeye.participation.workflow`);
  meetings (online or offline) keep participants, sign-ins, turns, minutes and
  decisions; the ballot is defined at 拟订方案, voted at 居民表决 by verified residents of
  the area (:mod:`cityeye.participation.votes`), and its tally published when closed.
  The resolution's actions each become a case dispatched to its party.
* A topic's record (``GET topics/{id}``) is public: steps, meetings, the ballot, the
  tally after the close, the resolution with the state of each action's case; no
  resident's name, and never who voted for what (the store cannot tell).
"""

# no `from __future__ import annotations`: FastAPI must evaluate the endpoints'
# Annotated[..., Depends(...)] where the dependencies are locals of router()

import secrets
import threading
from collections.abc import Callable, Mapping
from datetime import UTC, date, datetime, time, timedelta
from fractions import Fraction
from types import ModuleType
from typing import Annotated, Any
from zoneinfo import ZoneInfo

import orjson
from fastapi import APIRouter, Depends, HTTPException, Path, Query, Request
from pydantic import BaseModel, ConfigDict, Field

from cityeye.api.attachments import check_refs
from cityeye.api.auth import SESSION_COOKIE, Throttle, current_user_dependency
from cityeye.api.portal import STATE_WORDS, _client, _limited
from cityeye.cases.book import REPORT_SCENARIO
from cityeye.domain import REPORT_CATEGORIES, AreaLevel, Case, CaseState, Event, FieldError
from cityeye.domain.users import User, UserRole, below, scope_of
from cityeye.files import AttachmentStore
from cityeye.participation.model import (
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
from cityeye.participation.votes import check_eligible, eligible_count, tally
from cityeye.participation.workflow import (
    DEFAULT_DAYS,
    Blocked,
    Refused,
    advance,
    due,
    may_manage,
)
from cityeye.pipeline import Intake
from cityeye.store import participation as db
from cityeye.store.requests import cases_by_key
from cityeye.store.users import list_users, user_with_hash

PREFIX = "/api/v1/participation"
SOURCE = "participation"  # a suggestion that became a case
COUNCIL = "council"  # a resolution's action that became a case
SUGGESTIONS_PER_HOUR = 10
#: How long after its report a resolution action's dispatch is dated.
DISPATCH_AFTER = timedelta(milliseconds=1)
MAX_PHOTOS = 4
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
_BAD_CHARS = {chr(c) for c in range(32) if chr(c) not in "\n\r\t"}

Fraction_ = Annotated[
    str,
    Field(
        max_length=16,
        pattern=r"^(0|1|0?\.[0-9]{1,6}|[0-9]{1,3}/[0-9]{1,3})$",
        description="a fraction such as 2/3 or 0.5",
    ),
]


def _text_tools() -> ModuleType:
    """The classifier and grouper, imported when first needed (they load jieba and
    train the classifier)."""
    from cityeye.participation import text

    return text


def _words(field: str, value: str) -> str:
    value = value.strip()
    if not value:
        raise HTTPException(422, f"{field}: write something")
    if any(c in _BAD_CHARS for c in value):
        raise HTTPException(422, f"{field}: control characters are not allowed")
    return value


def _plain(field: str, value: str) -> str:
    """Optional words: stripped, without control characters (empty is fine)."""
    value = value.strip()
    if any(c in _BAD_CHARS for c in value):
        raise HTTPException(422, f"{field}: control characters are not allowed")
    return value


def _when(field: str, value: datetime) -> datetime:
    """A time with its zone, between EARLIEST and LATEST."""
    if value.tzinfo is None:
        raise HTTPException(422, f"{field}: give the time zone (e.g. +08:00)")
    try:
        utc = value.astimezone(UTC)
    except OverflowError:
        raise HTTPException(422, f"{field}: out of range") from None
    if not EARLIEST <= utc < LATEST:
        raise HTTPException(422, f"{field}: not between {EARLIEST:%Y} and {LATEST:%Y}")
    return utc


def _fraction(field: str, value: str, *, low_open: bool, high_open: bool) -> Fraction:
    try:
        f = Fraction(value)
    except (ValueError, ZeroDivisionError):
        raise HTTPException(422, f"{field}: {value!r} is not a fraction") from None
    if (f <= 0 if low_open else f < 0) or (f >= 1 if high_open else f > 1):
        bounds = f"{'(' if low_open else '['}0, 1{')' if high_open else ']'}"
        raise HTTPException(422, f"{field}: {value} is not in {bounds}")
    return f


# ---------------------------------------------------------------------- bodies
class NewSuggestion(BaseModel):
    model_config = ConfigDict(extra="forbid")

    text: str = Field(min_length=1, max_length=2000)
    category: str | None = Field(default=None, max_length=32, description="else classified")
    area: str = Field(max_length=64, description="the grid or community it is about")
    photos: list[Annotated[str, Field(max_length=80)]] = Field(
        default_factory=list, max_length=MAX_PHOTOS
    )
    channel: Channel = Channel.PORTAL


class Words(BaseModel):
    model_config = ConfigDict(extra="forbid")

    text: str = Field(min_length=1, max_length=4000)


class ToTopic(BaseModel):
    model_config = ConfigDict(extra="forbid")

    topic_id: str | None = Field(default=None, max_length=64)
    title: str | None = Field(default=None, min_length=1, max_length=200)
    kind: TopicKind = TopicKind.PUBLIC


class NewTopic(BaseModel):
    model_config = ConfigDict(extra="forbid")

    title: str = Field(min_length=1, max_length=200)
    description: str = Field(default="", max_length=4000)
    area: str = Field(max_length=64)
    kind: TopicKind = TopicKind.PUBLIC
    quorum: Fraction_ | None = None
    majority: Fraction_ | None = None


class Note(BaseModel):
    model_config = ConfigDict(extra="forbid")

    note: str = Field(default="", max_length=2000)


class NewMeeting(BaseModel):
    model_config = ConfigDict(extra="forbid")

    mode: MeetingMode
    at: datetime
    place: str = Field(default="", max_length=200)
    agenda: list[Annotated[str, Field(max_length=200)]] = Field(default=[], max_length=30)


class NewParticipant(BaseModel):
    model_config = ConfigDict(extra="forbid")

    role: ParticipantRole
    user: str | None = Field(default=None, max_length=64, description="a username")
    name: str | None = Field(default=None, max_length=128, description="someone without one")


class NewBallot(BaseModel):
    model_config = ConfigDict(extra="forbid")

    options: list[Annotated[str, Field(min_length=1, max_length=200)]] = Field(
        min_length=2, max_length=10
    )
    closes_at: datetime | None = None
    quorum: Fraction_ | None = None
    majority: Fraction_ | None = None


class Vote(BaseModel):
    model_config = ConfigDict(extra="forbid")

    choice: str = Field(min_length=1, max_length=200)


class NewAction(BaseModel):
    model_config = ConfigDict(extra="forbid")

    title: str = Field(min_length=1, max_length=200)
    party: str = Field(max_length=64)
    due_days: int = Field(default=7, ge=1, le=365)


class NewResolution(BaseModel):
    model_config = ConfigDict(extra="forbid")

    text: str = Field(min_length=1, max_length=4000)
    actions: list[NewAction] = Field(default=[], max_length=20)


# ---------------------------------------------------------------------- JSON
def _iso(t: datetime | None) -> str | None:
    return t.astimezone(UTC).isoformat() if t else None


def _step_json(step: TopicStep) -> dict[str, Any]:
    return {"code": step.value, "zh": step.zh, "en": step.en, "order": step.order}


def _case_json(case: Case | None) -> dict[str, Any] | None:
    if case is None:
        return None
    zh, en = STATE_WORDS[case.state]
    return {
        "id": case.id,
        "state": case.state.value,
        "state_zh": zh,
        "state_en": en,
        "lead": case.lead,
    }


def _tally_json(t: Tally) -> dict[str, Any]:
    return {
        "eligible": t.eligible,
        "voters": t.voters,
        "counts": t.counts,
        "quorum_met": t.quorum_met,
        "winner": t.winner,
        "passed": t.passed,
    }


def router(
    pipeline: Intake,
    files: AttachmentStore,
    *,
    now: Callable[[], datetime] = lambda: datetime.now(UTC),
    limits: Throttle | None = None,
    days: Mapping[TopicStep, int] = DEFAULT_DAYS,
) -> APIRouter:
    """``now``: the clock; ``limits``: suggestions per client address (default
    SUGGESTIONS_PER_HOUR an hour); ``days``: the default deadline of each step."""
    api = APIRouter(prefix=PREFIX, tags=["participation"])
    store, world = pipeline.store, pipeline.world
    throttle = limits or Throttle(SUGGESTIONS_PER_HOUR, timedelta(hours=1))
    signed_in = current_user_dependency(store)
    grouping = threading.Lock()
    held: dict[str, Any] = {}  # the grouper, made at first use

    # ------------------------------------------------------------------ helpers
    async def maybe_user(request: Request) -> User | None:
        """Whoever is signed in, or nobody (a bearer token must be valid; a stale
        session cookie is nobody)."""
        if request.headers.get("authorization") is not None:
            user: User = await signed_in(request)
            return user
        if request.cookies.get(SESSION_COOKIE):
            try:
                cookie_user: User = await signed_in(request)
            except HTTPException as exc:
                if exc.status_code == 401:
                    return None
                raise
            return cookie_user
        return None

    Someone = Annotated[User | None, Depends(maybe_user)]
    Person = Annotated[User, Depends(signed_in)]

    def grouper() -> Any:
        """The grouper: the last snapshot, and the suggestions stored after it."""
        if "grouper" not in held:
            text = _text_tools()
            saved = store.load_engine_state(db.GROUPER_STATE)
            made = None
            if saved is not None:
                try:
                    made = text.Grouper.restore(orjson.loads(saved[0]))
                except (ValueError, KeyError, TypeError):
                    made = None  # unreadable or older: rebuild from the suggestions
            made = made or text.Grouper()
            for s in db.all_suggestions(store):
                if s.id not in made.assignment:
                    made.add(s.id, s.text, s.area, s.category)
            held["grouper"], held["since"] = made, 0
        return held["grouper"]

    def snapshot_grouper() -> None:
        """Every GROUPER_SNAPSHOT_EVERY suggestions, the grouper's state into the
        database (a restart takes it and re-adds the suggestions stored after it)."""
        held["since"] = held.get("since", 0) + 1
        if held["since"] >= GROUPER_SNAPSHOT_EVERY:
            data = orjson.dumps(held["grouper"].snapshot())
            store.save_engine_state(db.GROUPER_STATE, data, 0, now())
            held["since"] = 0

    def area_name(code: str) -> dict[str, str]:
        found = world.areas.get(code)
        return {"code": code, "name": found.name if found else code}

    def community_of(code: str) -> str:
        """The community an area lies in (itself for a community or above)."""
        area = world.areas.get(code)
        while area is not None and area.level == AreaLevel.GRID and area.parent:
            area = world.areas.get(area.parent)
        return area.code if area is not None else code

    def known_area(field: str, code: str) -> str:
        if code not in world.areas:
            raise HTTPException(422, f"{field}: no area {code!r}")
        return code

    def readable_areas(user: User, area: str | None) -> frozenset[str] | None:
        """The areas a member of staff sees (``None``: all), narrowed to ``area``; 404
        for an area outside them, as for cases."""
        if user.role not in STAFF:
            raise HTTPException(403, "role: suggestions are read by staff")
        scope = scope_of(user, world)
        if area is None:
            return scope.areas
        known_area("area", area)
        if scope.areas is not None and area not in scope.areas:
            raise HTTPException(404, f"area: no area {area} among yours")
        return below(world, [area])

    def manage(user: User, area: str) -> None:
        try:
            may_manage(user, area, world)
        except Refused as exc:
            raise HTTPException(403, f"{exc.field}: {exc.reason}") from None

    def the_suggestion(suggestion_id: str, user: User) -> Suggestion:
        found = db.get_suggestion(store, suggestion_id)
        scope = scope_of(user, world)
        if found is None or (user.role not in STAFF) or not scope.allows(found.area):
            raise HTTPException(404, f"suggestion: no suggestion {suggestion_id[:80]!r}")
        return found

    def the_topic(topic_id: str) -> Topic:
        found = db.get_topic(store, topic_id)
        if found is None:
            raise HTTPException(404, f"topic: no topic {topic_id[:80]!r}")
        return found

    def the_meeting(meeting_id: str) -> tuple[Meeting, Topic]:
        found = db.get_meeting(store, meeting_id)
        if found is None:
            raise HTTPException(404, f"meeting: no meeting {meeting_id[:80]!r}")
        return found, the_topic(found.topic_id)

    def category_json(code: str) -> dict[str, str]:
        text = _text_tools()
        known = text.CATEGORIES_BY_CODE.get(code)
        return {
            "code": code,
            "zh": known.zh if known else code,
            "en": known.en if known else code,
        }

    def suggestion_json(s: Suggestion, case: Case | None = None) -> dict[str, Any]:
        return {
            "id": s.id,
            "channel": s.channel.value,
            "category": category_json(s.category),
            "text": s.text,
            "area": area_name(s.area),
            "photos": list(s.photos),
            "signed_in": s.author is not None,
            "created_at": _iso(s.created_at),
            "group": s.group_id,
            "terms": list(s.terms),
            "answer": s.answer,
            "answered_at": _iso(s.answered_at),
            "answered_by": s.answered_by,
            "case_key": s.case_key,
            "case": _case_json(case),
            "topic_id": s.topic_id,
        }

    def topic_summary(t: Topic) -> dict[str, Any]:
        return {
            "id": t.id,
            "title": t.title,
            "description": t.description,
            "area": area_name(t.area),
            "kind": t.kind.value,
            "step": _step_json(t.step),
            "step_due_at": _iso(t.step_due_at),
            "created_at": _iso(t.created_at),
            "rules": {"quorum": str(t.rules.quorum), "majority": str(t.rules.majority)},
        }

    def ballot_tally(t: Topic, ballot: Ballot | None) -> Tally | None:
        if ballot is None or not ballot.closed:
            return None
        return tally(db.vote_counts(store, t.id), ballot.eligible or 0, t.rules)

    def participant_json(p: Participant) -> dict[str, Any]:
        # a resident's name stays off the public record
        name = p.name if p.role != ParticipantRole.RESIDENT else None
        return {
            "n": p.n,
            "role": p.role.value,
            "name": name,
            "signed_in": p.signed_in_at is not None,
        }

    def meeting_json(m: Meeting) -> dict[str, Any]:
        people = db.participants(store, m.id)
        roles = {p.n: p.role.value for p in people}
        return {
            "id": m.id,
            "topic_id": m.topic_id,
            "mode": m.mode.value,
            "at": _iso(m.at),
            "place": m.place,
            "agenda": list(m.agenda),
            "minutes": m.minutes,
            "decisions": list(m.decisions),
            "participants": [participant_json(p) for p in people],
            "turns": [
                {
                    "speaker": x.speaker,
                    "role": roles.get(x.speaker),
                    "text": x.text,
                    "at": _iso(x.at),
                }
                for x in db.turns(store, m.id)
            ],
        }

    def topic_record(t: Topic) -> dict[str, Any]:
        ballot = db.get_ballot(store, t.id)
        result = ballot_tally(t, ballot)
        resolution = db.get_resolution(store, t.id)
        out = topic_summary(t)
        out["steps"] = [
            {**_step_json(r.step), "at": _iso(r.at), "actor": r.actor, "note": r.note}
            for r in db.steps_of(store, t.id)
        ]
        out["meetings"] = [meeting_json(m) for m in db.meetings_of(store, t.id)]
        out["suggestions"] = len(db.suggestions_of(store, t.id))
        out["ballot"] = (
            None
            if ballot is None
            else {
                "options": list(ballot.options),
                "opens_at": _iso(ballot.opens_at),
                "closes_at": _iso(ballot.closes_at),
                "closed": ballot.closed,
                "closed_at": _iso(ballot.closed_at),
            }
        )
        out["tally"] = _tally_json(result) if result is not None else None
        out["resolution"] = None
        if resolution is not None:
            cases = cases_by_key(store, [a.case_key for a in resolution.actions])
            out["resolution"] = {
                "text": resolution.text,
                "at": _iso(resolution.at),
                "actions": [
                    {
                        "n": a.n,
                        "title": a.title,
                        "party": {
                            "id": a.party,
                            "name": world.parties[a.party].name
                            if a.party in world.parties
                            else a.party,
                        },
                        "due_at": _iso(a.due_at),
                        "case_key": a.case_key,
                        "case": _case_json(cases.get(a.case_key)),
                    }
                    for a in resolution.actions
                ],
            }
        return out

    def new_topic(
        user: User, title: str, description: str, area: str, kind: TopicKind, rules: Rules
    ) -> Topic:
        manage(user, area)
        at = now()
        topic = Topic(
            id=f"T-{at:%Y%m%d}-{secrets.token_hex(4).upper()}",
            title=_words("title", title),
            description=_plain("description", description),
            area=area,
            kind=kind,
            step=TopicStep.PROPOSE,
            created_at=at,
            step_due_at=due(TopicStep.PROPOSE, at, days),
            rules=rules,
            created_by=user.username,
        )
        db.add_topic(store, topic, StepRecord(TopicStep.PROPOSE, at, user.username, "提出议题"))
        return topic

    def rules_of(quorum: str | None, majority: str | None, base: Rules) -> Rules:
        q = (
            _fraction("quorum", quorum, low_open=True, high_open=False)
            if quorum is not None
            else base.quorum
        )
        m = (
            _fraction("majority", majority, low_open=False, high_open=True)
            if majority is not None
            else base.majority
        )
        return Rules(q, m)

    # ------------------------------------------------------------------ suggestions
    @api.post("/suggestions", status_code=201)
    def new_suggestion(body: NewSuggestion, request: Request, user: Someone) -> dict[str, Any]:
        """A suggestion. From the portal (``channel: portal``) anyone may send one,
        signed in or not (limited per address); a volunteer or worker signs in as a
        handler and says so (``channel: volunteer`` / ``worker``)."""
        author = None
        if body.channel == Channel.PORTAL:
            _limited(throttle, _client(request), "suggestions")
            if user is not None and user.role == UserRole.RESIDENT:
                author = user.id
        else:
            if user is None or user.role != UserRole.HANDLER:
                raise HTTPException(
                    403, "channel: volunteers and workers sign in (as a handler) to send these"
                )
            author = user.id
        text_value = _words("text", body.text)
        known_area("area", body.area)
        try:
            check_refs(files, list(body.photos))
        except FieldError as exc:
            raise HTTPException(422, f"{exc.field}: {exc.reason}") from None
        tools = _text_tools()
        if body.category is not None and body.category not in tools.CATEGORY_CODES:
            raise HTTPException(
                422, f"category: {body.category!r} not among {', '.join(tools.CATEGORY_CODES)}"
            )
        classified = tools.classify(text_value)
        category = body.category or classified.category
        with grouping:
            groups = grouper()
            at = now()
            suggestion_id = f"SG-{at:%Y%m%d}-{secrets.token_hex(4).upper()}"
            group_id = groups.add(suggestion_id, text_value, body.area, category)
            suggestion = Suggestion(
                id=suggestion_id,
                channel=body.channel,
                category=category,
                text=text_value,
                area=body.area,
                created_at=at,
                photos=tuple(body.photos),
                author=author,
                group_id=str(group_id),
                terms=tuple(classified.top_terms),
            )
            db.add_suggestion(store, suggestion)
            snapshot_grouper()
        if user is not None and user.role in STAFF:
            return suggestion_json(suggestion)
        return {
            "id": suggestion.id,
            "category": category_json(category),
            "group": suggestion.group_id,
            "notice": "已收到您的建议，社区将汇总研究并答复。 Received: the community will "
            "consider it with similar ones and answer.",
        }

    @api.get("/suggestions")
    def list_suggestions(
        user: Person,
        area: Annotated[str | None, Query(max_length=64, description="and below")] = None,
        category: Annotated[str | None, Query(max_length=32)] = None,
        group: Annotated[str | None, Query(max_length=64)] = None,
        page: Annotated[int, Query(ge=1, le=100_000)] = 1,
        per_page: Annotated[int, Query(ge=1, le=200)] = 50,
    ) -> dict[str, Any]:
        """Suggestions within the caller's areas, newest first."""
        areas = readable_areas(user, area)
        found, total = db.find_suggestions(
            store,
            areas,
            category=category,
            group=group,
            offset=(page - 1) * per_page,
            limit=per_page,
        )
        cases = cases_by_key(store, [s.case_key for s in found if s.case_key])
        return {
            "items": [suggestion_json(s, cases.get(s.case_key or "")) for s in found],
            "page": page,
            "per_page": per_page,
            "total": total,
        }

    @api.get("/groups")
    def list_groups(
        user: Person,
        area: Annotated[str | None, Query(max_length=64, description="and below")] = None,
    ) -> list[dict[str, Any]]:
        """Groups of near-duplicate suggestions within the caller's areas, largest first:
        how many, the category, and the words that label them."""
        areas = readable_areas(user, area)
        with grouping:
            live = grouper().groups
            labels = {gid: tuple(g.top_terms()) for gid, g in live.items()}
        return [
            {
                "id": g.id,
                "count": g.count,
                "category": category_json(g.category),
                "terms": list(labels.get(g.id) or g.terms),
                "label": " · ".join(labels.get(g.id) or g.terms),
                "areas": [area_name(a) for a in g.areas],
                "latest": _iso(g.latest),
            }
            for g in db.groups(store, areas)
        ]

    @api.post("/suggestions/{suggestion_id}/answer")
    def answer(
        suggestion_id: Annotated[str, Path(max_length=64)], body: Words, user: Person
    ) -> dict[str, Any]:
        """The office's answer to a suggestion (staff of its area)."""
        s = the_suggestion(suggestion_id, user)
        manage(user, s.area)
        db.answer_suggestion(store, s.id, _words("text", body.text), now(), user.username)
        updated = db.get_suggestion(store, s.id)
        assert updated is not None
        return suggestion_json(updated)

    @api.post("/suggestions/{suggestion_id}/case", status_code=201)
    def to_case(suggestion_id: Annotated[str, Path(max_length=64)], user: Person) -> dict[str, Any]:
        """The suggestion becomes a case in the closed loop: a resident's report
        (``report.citizen`` from source ``participation``, its id the suggestion's)."""
        s = the_suggestion(suggestion_id, user)
        manage(user, s.area)
        category = s.category if s.category in REPORT_CATEGORIES else None
        event = Event(
            id=s.id,
            kind="report.citizen",
            ts=now(),
            source=SOURCE,
            area=s.area,
            attrs={
                "category": category or REPORT_CATEGORY.get(s.category, "other"),
                "text": s.text,
                "photos": list(s.photos),
                "suggestion": s.id,
            },
        )
        if not db.link_case(store, s.id, event.ref):
            raise HTTPException(409, "case: this suggestion is a case already")
        try:
            result = pipeline.ingest([event])[0]
        except BaseException:
            db.unlink_case(store, s.id)
            raise
        if result.status not in ("accepted", "duplicate"):
            db.unlink_case(store, s.id)
            raise HTTPException(422, f"{result.field or 'report'}: {result.reason}")
        updated = db.get_suggestion(store, s.id)
        assert updated is not None
        return suggestion_json(updated, cases_by_key(store, [event.ref]).get(event.ref))

    @api.post("/suggestions/{suggestion_id}/topic")
    def to_topic(
        suggestion_id: Annotated[str, Path(max_length=64)], body: ToTopic, user: Person
    ) -> dict[str, Any]:
        """Put the suggestion on a topic: an existing one (``topic_id``, whose area holds
        the suggestion's) or a new one (``title``) for the suggestion's community — a
        红茶议事会 is the community's, so all its verified residents vote, and the
        resolution's actions go to the parties named, not to one grid's worker."""
        s = the_suggestion(suggestion_id, user)
        if (body.topic_id is None) == (body.title is None):
            raise HTTPException(422, "topic_id: give topic_id or title, one of them")
        if body.topic_id is not None:
            topic = the_topic(body.topic_id)
            manage(user, topic.area)
            if not world.within(s.area, topic.area):
                raise HTTPException(
                    422, f"topic_id: the suggestion's area {s.area} is not within {topic.area}"
                )
        else:
            assert body.title is not None
            topic = new_topic(user, body.title, s.text, community_of(s.area), body.kind, Rules())
        db.link_topic(store, s.id, topic.id)
        return topic_summary(topic)

    # ------------------------------------------------------------------ topics
    @api.post("/topics", status_code=201)
    def create_topic(body: NewTopic, user: Person) -> dict[str, Any]:
        """提出议题: a topic in an area of the caller's post, at its first step."""
        known_area("area", body.area)
        rules = rules_of(body.quorum, body.majority, Rules())
        return topic_record(
            new_topic(user, body.title, body.description, body.area, body.kind, rules)
        )

    @api.get("/topics")
    def list_topics(
        area: Annotated[str | None, Query(max_length=64, description="and below")] = None,
        step: Annotated[TopicStep | None, Query()] = None,
        page: Annotated[int, Query(ge=1, le=100_000)] = 1,
        per_page: Annotated[int, Query(ge=1, le=200)] = 50,
    ) -> dict[str, Any]:
        """Topics, newest first (public: what is deliberated, where, at which step)."""
        areas = below(world, [known_area("area", area)]) if area is not None else None
        found, total = db.list_topics(
            store, areas, step, offset=(page - 1) * per_page, limit=per_page
        )
        return {
            "items": [topic_summary(t) for t in found],
            "page": page,
            "per_page": per_page,
            "total": total,
        }

    @api.get("/topics/{topic_id}")
    def get_topic(topic_id: Annotated[str, Path(max_length=64)]) -> dict[str, Any]:
        """The public record of a topic: its steps, meetings, ballot, the tally once the
        ballot is closed, and the resolution with each action's case."""
        return topic_record(the_topic(topic_id))

    @api.post("/topics/{topic_id}/advance")
    def advance_topic(
        topic_id: Annotated[str, Path(max_length=64)], body: Note, user: Person
    ) -> dict[str, Any]:
        """The next step (see the workflow); 403 for who, 409 for a guard."""
        topic = the_topic(topic_id)
        ballot = db.get_ballot(store, topic.id)
        try:
            moved, record = advance(
                topic,
                user,
                world,
                now(),
                note=_plain("note", body.note),
                ballot=ballot,
                tally=ballot_tally(topic, ballot),
                days=days,
            )
        except Refused as exc:
            raise HTTPException(403, f"{exc.field}: {exc.reason}") from None
        except Blocked as exc:
            raise HTTPException(409, f"{exc.field}: {exc.reason}") from None
        if not db.move_topic(store, topic.step, moved, record):
            raise HTTPException(409, "step: the topic was moved meanwhile; look again")
        return topic_record(moved)

    # ------------------------------------------------------------------ meetings
    @api.post("/topics/{topic_id}/meetings", status_code=201)
    def new_meeting(
        topic_id: Annotated[str, Path(max_length=64)], body: NewMeeting, user: Person
    ) -> dict[str, Any]:
        """A meeting on the topic, online or offline, with its agenda."""
        topic = the_topic(topic_id)
        manage(user, topic.area)
        if topic.step == TopicStep.RESOLVE:
            raise HTTPException(409, "step: the topic is resolved")
        when = _when("at", body.at)
        agenda = tuple(_plain(f"agenda[{i}]", a) for i, a in enumerate(body.agenda))
        meeting = Meeting(
            id=f"M-{secrets.token_hex(5).upper()}",
            topic_id=topic.id,
            mode=body.mode,
            at=when,
            place=_plain("place", body.place),
            agenda=tuple(a for a in agenda if a),
        )
        db.add_meeting(store, meeting)
        return meeting_json(meeting)

    @api.post("/meetings/{meeting_id}/participants", status_code=201)
    def add_participant(
        meeting_id: Annotated[str, Path(max_length=64)], body: NewParticipant, user: Person
    ) -> dict[str, Any]:
        """Who takes part: a user (``user``, by username, who may then sign in and
        speak) or someone named (``name``)."""
        meeting, topic = the_meeting(meeting_id)
        manage(user, topic.area)
        if (body.user is None) == (body.name is None):
            raise HTTPException(422, "user: give user or name, one of them")
        who: User | None = None
        if body.user is not None:
            found = user_with_hash(store, body.user)
            if found is None:
                raise HTTPException(422, f"user: no user {body.user!r}")
            who = found[0]
            if any(p.user_id == who.id for p in db.participants(store, meeting.id)):
                raise HTTPException(409, f"user: {body.user} takes part already")
        name = who.display_name if who is not None else _words("name", body.name or "")
        added = db.add_participant(
            store, Participant(meeting.id, 0, body.role, who.id if who else None, name)
        )
        return {**participant_json(added), "name": added.name}

    def my_seat(meeting: Meeting, user: User) -> Participant:
        mine = [p for p in db.participants(store, meeting.id) if p.user_id == user.id]
        if not mine:
            raise HTTPException(403, "user: you are not a participant of this meeting")
        return mine[0]

    @api.post("/meetings/{meeting_id}/sign-in")
    def sign_in(meeting_id: Annotated[str, Path(max_length=64)], user: Person) -> dict[str, Any]:
        """A participant signs in to the meeting (签到)."""
        meeting, _ = the_meeting(meeting_id)
        seat = my_seat(meeting, user)
        db.sign_in(store, meeting.id, seat.n, now())
        return participant_json(my_seat(meeting, user))

    @api.post("/meetings/{meeting_id}/turns", status_code=201)
    def speak(
        meeting_id: Annotated[str, Path(max_length=64)], body: Words, user: Person
    ) -> dict[str, Any]:
        """A turn in an online meeting, by a participant who signed in."""
        meeting, topic = the_meeting(meeting_id)
        seat = my_seat(meeting, user)
        if seat.signed_in_at is None:
            raise HTTPException(403, "sign-in: sign in to the meeting first")
        if meeting.mode != MeetingMode.ONLINE:
            raise HTTPException(
                409, "mode: turns are for online meetings; offline ones keep minutes"
            )
        if topic.step == TopicStep.RESOLVE:
            raise HTTPException(409, "step: the topic is resolved")
        turn = Turn(meeting.id, seat.n, _words("text", body.text), now())
        db.add_turn(store, turn)
        return {"speaker": turn.speaker, "text": turn.text, "at": _iso(turn.at)}

    @api.put("/meetings/{meeting_id}/minutes")
    def minutes(
        meeting_id: Annotated[str, Path(max_length=64)], body: Words, user: Person
    ) -> dict[str, Any]:
        """The minutes (纪要) of the meeting."""
        meeting, topic = the_meeting(meeting_id)
        manage(user, topic.area)
        db.set_minutes(store, meeting.id, _words("text", body.text))
        updated, _ = the_meeting(meeting.id)
        return meeting_json(updated)

    @api.post("/meetings/{meeting_id}/decisions", status_code=201)
    def decision(
        meeting_id: Annotated[str, Path(max_length=64)], body: Words, user: Person
    ) -> dict[str, Any]:
        """A decision the meeting took."""
        meeting, topic = the_meeting(meeting_id)
        manage(user, topic.area)
        db.add_decision(store, meeting.id, _words("text", body.text))
        updated, _ = the_meeting(meeting.id)
        return meeting_json(updated)

    # ------------------------------------------------------------------ votes
    @api.put("/topics/{topic_id}/ballot")
    def put_ballot(
        topic_id: Annotated[str, Path(max_length=64)], body: NewBallot, user: Person
    ) -> dict[str, Any]:
        """What residents will vote on, at 拟订方案 (it can be redrafted until the vote
        begins), and optionally the topic's quorum and majority."""
        topic = the_topic(topic_id)
        manage(user, topic.area)
        if topic.step != TopicStep.DRAFT:
            raise HTTPException(
                409, f"step: the ballot is drafted at 拟订方案, not {topic.step.zh}"
            )
        options = [_words("options", o) for o in body.options]
        if len(set(options)) != len(options):
            raise HTTPException(422, "options: each option once")
        closes_at = _when("closes_at", body.closes_at) if body.closes_at is not None else None
        if closes_at is not None and closes_at <= now():
            raise HTTPException(422, "closes_at: that is in the past")
        rules = rules_of(body.quorum, body.majority, topic.rules)
        ballot = Ballot(topic.id, tuple(options), closes_at)
        db.put_ballot(store, ballot)
        if rules != topic.rules:
            db.set_rules(store, topic.id, rules)
        return topic_record(the_topic(topic.id))

    @api.post("/topics/{topic_id}/votes", status_code=201)
    def vote(
        topic_id: Annotated[str, Path(max_length=64)], body: Vote, user: Person
    ) -> dict[str, Any]:
        """A verified resident of the topic's area votes, once. Nobody can see what
        they chose: the roll says who voted, the counters what was chosen."""
        topic = the_topic(topic_id)
        try:
            check_eligible(user, topic, world)
        except Refused as exc:
            raise HTTPException(403, f"{exc.field}: {exc.reason}") from None
        ballot = db.get_ballot(store, topic.id)
        if topic.step != TopicStep.VOTE or ballot is None:
            raise HTTPException(409, f"step: the vote is at 居民表决, not {topic.step.zh}")
        if ballot.closed or (ballot.closes_at is not None and now() >= ballot.closes_at):
            raise HTTPException(409, "ballot: the vote is closed")
        if body.choice not in ballot.options:
            raise HTTPException(422, f"choice: not among {', '.join(ballot.options)}")
        if not db.cast_vote(store, topic.id, user.id, body.choice):
            raise HTTPException(409, "vote: you have voted on this topic already")
        return {"topic": topic.id, "voted": True}

    @api.post("/topics/{topic_id}/ballot/close")
    def close(topic_id: Annotated[str, Path(max_length=64)], user: Person) -> dict[str, Any]:
        """Close the vote (not before its ``closes_at``): the eligible are counted as
        they are now, and the tally is published."""
        topic = the_topic(topic_id)
        manage(user, topic.area)
        ballot = db.get_ballot(store, topic.id)
        if topic.step != TopicStep.VOTE or ballot is None:
            raise HTTPException(409, f"step: the vote is at 居民表决, not {topic.step.zh}")
        if ballot.closes_at is not None and now() < ballot.closes_at:
            raise HTTPException(409, f"ballot: it closes at {_iso(ballot.closes_at)}")
        eligible = eligible_count(list_users(store), topic, world)
        if not db.close_ballot(store, topic.id, now(), eligible):
            raise HTTPException(409, "ballot: closed already")
        return topic_record(topic)

    # ------------------------------------------------------------------ resolution
    @api.post("/topics/{topic_id}/resolution", status_code=201)
    def resolve(
        topic_id: Annotated[str, Path(max_length=64)], body: NewResolution, user: Person
    ) -> dict[str, Any]:
        """形成决议: the resolution, and its actions, each a case in the closed loop sent
        to its party (``council/<topic>-<n>``)."""
        topic = the_topic(topic_id)
        manage(user, topic.area)
        if topic.step != TopicStep.RESOLVE:
            raise HTTPException(409, f"step: the resolution is at 形成决议, not {topic.step.zh}")
        for i, wanted in enumerate(body.actions):
            if wanted.party not in world.parties:
                raise HTTPException(422, f"actions[{i}].party: no party {wanted.party!r}")
            _words(f"actions[{i}].title", wanted.title)
        at = now()
        actions = tuple(
            ResolutionAction(
                n=i,
                title=wanted.title.strip(),
                party=wanted.party,
                due_at=at + timedelta(days=wanted.due_days),
                case_key=f"{COUNCIL}/{topic.id}-{i}",
            )
            for i, wanted in enumerate(body.actions, start=1)
        )
        resolution = Resolution(topic.id, _words("text", body.text), at, user.username, actions)
        if not db.add_resolution(store, resolution):
            raise HTTPException(409, "resolution: the topic has one already")
        reports: list[Event] = []
        dispatches: list[Event] = []
        for a in actions:
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
            pipeline.ingest(events)
        return topic_record(topic)

    # ------------------------------------------------------------------ the cockpit
    @api.get("/stats")
    def stats(
        user: Person,
        area: Annotated[str | None, Query(max_length=64, description="and below")] = None,
    ) -> dict[str, Any]:
        """For the cockpit: suggestions this (local) month, groups, topics raised and
        resolved, resolution actions and how many of their cases are closed."""
        areas = readable_areas(user, area)
        zone = ZoneInfo(world.timezone)
        today = now().astimezone(zone).date()
        first = date(today.year, today.month, 1)
        following = date(today.year + today.month // 12, today.month % 12 + 1, 1)
        start = datetime.combine(first, time(0), zone).astimezone(UTC)
        end = datetime.combine(following, time(0), zone).astimezone(UTC)
        figures = db.counts(store, areas, start, end)
        keys = figures.pop("action_keys")
        cases = cases_by_key(store, keys)
        done = sum(1 for c in cases.values() if c.state == CaseState.CLOSED)
        return {
            **figures,
            "month": f"{first:%Y-%m}",
            "actions": len(keys),
            "actions_completed": done,
        }

    return api
