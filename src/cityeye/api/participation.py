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

from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Path, Query, Request
from pydantic import BaseModel, ConfigDict, Field

from cityeye.api.auth import (
    Throttle,
    client_key,
    current_user_dependency,
    optional_user_dependency,
    take_or_refuse,
)
from cityeye.api.presenters import STATE_WORDS
from cityeye.attachments import AttachmentStore
from cityeye.domain import Case
from cityeye.domain.dates import iso_utc
from cityeye.domain.participation import (
    Channel,
    Meeting,
    MeetingMode,
    Participant,
    ParticipantRole,
    Suggestion,
    Tally,
    Topic,
    TopicKind,
    TopicStep,
)
from cityeye.domain.users import User, UserRole, below
from cityeye.live.pipeline import Pipeline
from cityeye.participation.service import (
    COUNCIL,
    REPORT_CATEGORY,
    SOURCE,
    STAFF,
    Participation,
    WantedAction,
    text_tools,
)
from cityeye.participation.workflow import DEFAULT_DAYS
from cityeye.store import participation as db
from cityeye.store.requests import cases_by_key

__all__ = ["COUNCIL", "PREFIX", "REPORT_CATEGORY", "SOURCE", "router"]

PREFIX = "/api/v1/participation"
SUGGESTIONS_PER_HOUR = 10
MAX_PHOTOS = 4
#: Take a snapshot of the grouper after this many suggestions (read at each one).
GROUPER_SNAPSHOT_EVERY = 20

Fraction_ = Annotated[
    str,
    Field(
        max_length=16,
        pattern=r"^(0|1|0?\.[0-9]{1,6}|[0-9]{1,3}/[0-9]{1,3})$",
        description="a fraction such as 2/3 or 0.5",
    ),
]


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


def _step_json(step: TopicStep) -> dict[str, Any]:
    return {"code": step.value, "zh": step.zh, "en": step.en, "order": step.order}


#: Who moved a topic's step, as the public sees it (staff see the username).
STAFF_LABEL = "社区工作人员 community staff"


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
    pipeline: Pipeline,
    files: AttachmentStore,
    *,
    now: Callable[[], datetime] = lambda: datetime.now(UTC),
    limits: Throttle | None = None,
    days: Mapping[TopicStep, int] = DEFAULT_DAYS,
) -> APIRouter:
    """``now``: the clock; ``limits``: suggestions per client address (default
    SUGGESTIONS_PER_HOUR an hour); ``days``: the default deadline of each step. The
    rules are the service's (:class:`~cityeye.participation.service.Participation`);
    here: who is signed in, the rate limit, and the JSON."""
    api = APIRouter(prefix=PREFIX, tags=["participation"])
    store, world = pipeline.store, pipeline.world
    throttle = limits or Throttle(SUGGESTIONS_PER_HOUR, timedelta(hours=1))
    signed_in = current_user_dependency(store)
    service = Participation(
        pipeline, files, now=now, days=days, snapshot_every=lambda: GROUPER_SNAPSHOT_EVERY
    )

    # ------------------------------------------------------------------ helpers
    maybe_user = optional_user_dependency(store)

    Someone = Annotated[User | None, Depends(maybe_user)]
    Person = Annotated[User, Depends(signed_in)]

    def area_name(code: str) -> dict[str, str]:
        found = world.areas.get(code)
        return {"code": code, "name": found.name if found else code}

    def category_json(code: str) -> dict[str, str]:
        known = text_tools().CATEGORIES_BY_CODE.get(code)
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
            "created_at": iso_utc(s.created_at),
            "group": s.group_id,
            "terms": list(s.terms),
            "answer": s.answer,
            "answered_at": iso_utc(s.answered_at),
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
            "step_due_at": iso_utc(t.step_due_at),
            "created_at": iso_utc(t.created_at),
            "rules": {"quorum": str(t.rules.quorum), "majority": str(t.rules.majority)},
        }

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
            "at": iso_utc(m.at),
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
                    "at": iso_utc(x.at),
                }
                for x in db.turns(store, m.id)
            ],
        }

    def topic_record(t: Topic, viewer: User | None) -> dict[str, Any]:
        """The topic's record; who moved each step is named (by username) only to
        staff: the public sees :data:`STAFF_LABEL`, so the record gives no one a
        username to guess passwords for."""
        ballot = db.get_ballot(store, t.id)
        result = service.tally_of(t, ballot)
        resolution = db.get_resolution(store, t.id)
        staff = viewer is not None and viewer.role in STAFF
        out = topic_summary(t)
        out["steps"] = [
            {
                **_step_json(r.step),
                "at": iso_utc(r.at),
                "actor": r.actor if staff else STAFF_LABEL,
                "note": r.note,
            }
            for r in db.steps_of(store, t.id)
        ]
        out["meetings"] = [meeting_json(m) for m in db.meetings_of(store, t.id)]
        out["suggestions"] = len(db.suggestions_of(store, t.id))
        out["ballot"] = (
            None
            if ballot is None
            else {
                "options": list(ballot.options),
                "opens_at": iso_utc(ballot.opens_at),
                "closes_at": iso_utc(ballot.closes_at),
                "closed": ballot.closed,
                "closed_at": iso_utc(ballot.closed_at),
            }
        )
        out["tally"] = _tally_json(result) if result is not None else None
        out["resolution"] = None
        if resolution is not None:
            cases = cases_by_key(store, [a.case_key for a in resolution.actions])
            out["resolution"] = {
                "text": resolution.text,
                "at": iso_utc(resolution.at),
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
                        "due_at": iso_utc(a.due_at),
                        "case_key": a.case_key,
                        "case": _case_json(cases.get(a.case_key)),
                    }
                    for a in resolution.actions
                ],
            }
        return out

    # ------------------------------------------------------------------ suggestions
    @api.post("/suggestions", status_code=201)
    def new_suggestion(body: NewSuggestion, request: Request, user: Someone) -> dict[str, Any]:
        """A suggestion. From the portal (``channel: portal``) anyone may send one,
        signed in or not (limited per address); a volunteer or worker signs in as a
        handler and says so (``channel: volunteer`` / ``worker``)."""
        author = None
        if body.channel == Channel.PORTAL:
            take_or_refuse(throttle, client_key(request), "suggestions")
            if user is not None and user.role == UserRole.RESIDENT:
                author = user.id
        else:
            if user is None or user.role != UserRole.HANDLER:
                raise HTTPException(
                    403, "channel: volunteers and workers sign in (as a handler) to send these"
                )
            author = user.id
        suggestion = service.suggest(
            text=body.text,
            area=body.area,
            category=body.category,
            photos=body.photos,
            channel=body.channel,
            author=author,
        )
        if user is not None and user.role in STAFF:
            return suggestion_json(suggestion)
        return {
            "id": suggestion.id,
            "category": category_json(suggestion.category),
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
        found, total = service.find_suggestions(
            user,
            area,
            category=category,
            group=group,
            offset=(page - 1) * per_page,
            limit=per_page,
        )
        return {
            "items": [suggestion_json(s, case) for s, case in found],
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
        return [
            {
                "id": g.id,
                "count": g.count,
                "category": category_json(g.category),
                "terms": list(g.terms),
                "label": " · ".join(g.terms),
                "areas": [area_name(a) for a in g.areas],
                "latest": iso_utc(g.latest),
            }
            for g in service.groups(user, area)
        ]

    @api.post("/suggestions/{suggestion_id}/answer")
    def answer(
        suggestion_id: Annotated[str, Path(max_length=64)], body: Words, user: Person
    ) -> dict[str, Any]:
        """The office's answer to a suggestion (staff of its area)."""
        return suggestion_json(service.answer(user, suggestion_id, body.text))

    @api.post("/suggestions/{suggestion_id}/case", status_code=201)
    def to_case(suggestion_id: Annotated[str, Path(max_length=64)], user: Person) -> dict[str, Any]:
        """The suggestion becomes a case in the closed loop: a resident's report
        (``report.citizen`` from source ``participation``, its id the suggestion's)."""
        return suggestion_json(*service.to_case(user, suggestion_id))

    @api.post("/suggestions/{suggestion_id}/topic")
    def to_topic(
        suggestion_id: Annotated[str, Path(max_length=64)], body: ToTopic, user: Person
    ) -> dict[str, Any]:
        """Put the suggestion on a topic: an existing one (``topic_id``, whose area holds
        the suggestion's) or a new one (``title``) for the suggestion's community — a
        红茶议事会 is the community's, so all its verified residents vote, and the
        resolution's actions go to the parties named, not to one grid's worker."""
        topic = service.to_topic(
            user, suggestion_id, topic_id=body.topic_id, title=body.title, kind=body.kind
        )
        return topic_summary(topic)

    # ------------------------------------------------------------------ topics
    @api.post("/topics", status_code=201)
    def create_topic(body: NewTopic, user: Person) -> dict[str, Any]:
        """提出议题: a topic in an area of the caller's post, at its first step."""
        topic = service.new_topic(
            user,
            body.title,
            body.description,
            body.area,
            body.kind,
            quorum=body.quorum,
            majority=body.majority,
        )
        return topic_record(topic, user)

    @api.get("/topics")
    def list_topics(
        area: Annotated[str | None, Query(max_length=64, description="and below")] = None,
        step: Annotated[TopicStep | None, Query()] = None,
        page: Annotated[int, Query(ge=1, le=100_000)] = 1,
        per_page: Annotated[int, Query(ge=1, le=200)] = 50,
    ) -> dict[str, Any]:
        """Topics, newest first (public: what is deliberated, where, at which step)."""
        areas = below(world, [service.known_area("area", area)]) if area is not None else None
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
    def get_topic(topic_id: Annotated[str, Path(max_length=64)], user: Someone) -> dict[str, Any]:
        """The public record of a topic: its steps, meetings, ballot, the tally once the
        ballot is closed, and the resolution with each action's case. Who moved each
        step is a username for staff, "社区工作人员 community staff" for everyone else."""
        return topic_record(service.topic(topic_id), user)

    @api.post("/topics/{topic_id}/advance")
    def advance_topic(
        topic_id: Annotated[str, Path(max_length=64)], body: Note, user: Person
    ) -> dict[str, Any]:
        """The next step (see the workflow); 403 for who, 409 for a guard."""
        return topic_record(service.advance(user, topic_id, body.note), user)

    # ------------------------------------------------------------------ meetings
    @api.post("/topics/{topic_id}/meetings", status_code=201)
    def new_meeting(
        topic_id: Annotated[str, Path(max_length=64)], body: NewMeeting, user: Person
    ) -> dict[str, Any]:
        """A meeting on the topic, online or offline, with its agenda."""
        meeting = service.add_meeting(
            user, topic_id, body.mode, body.at, place=body.place, agenda=body.agenda
        )
        return meeting_json(meeting)

    @api.post("/meetings/{meeting_id}/participants", status_code=201)
    def add_participant(
        meeting_id: Annotated[str, Path(max_length=64)], body: NewParticipant, user: Person
    ) -> dict[str, Any]:
        """Who takes part: a user (``user``, by username, who may then sign in and
        speak) or someone named (``name``)."""
        added = service.add_participant(
            user, meeting_id, body.role, username=body.user, name=body.name
        )
        return {**participant_json(added), "name": added.name}

    @api.post("/meetings/{meeting_id}/sign-in")
    def sign_in(meeting_id: Annotated[str, Path(max_length=64)], user: Person) -> dict[str, Any]:
        """A participant signs in to the meeting (签到)."""
        return participant_json(service.sign_in(user, meeting_id))

    @api.post("/meetings/{meeting_id}/turns", status_code=201)
    def speak(
        meeting_id: Annotated[str, Path(max_length=64)], body: Words, user: Person
    ) -> dict[str, Any]:
        """A turn in an online meeting, by a participant who signed in."""
        turn = service.speak(user, meeting_id, body.text)
        return {"speaker": turn.speaker, "text": turn.text, "at": iso_utc(turn.at)}

    @api.put("/meetings/{meeting_id}/minutes")
    def minutes(
        meeting_id: Annotated[str, Path(max_length=64)], body: Words, user: Person
    ) -> dict[str, Any]:
        """The minutes (纪要) of the meeting."""
        return meeting_json(service.set_minutes(user, meeting_id, body.text))

    @api.post("/meetings/{meeting_id}/decisions", status_code=201)
    def decision(
        meeting_id: Annotated[str, Path(max_length=64)], body: Words, user: Person
    ) -> dict[str, Any]:
        """A decision the meeting took."""
        return meeting_json(service.add_decision(user, meeting_id, body.text))

    # ------------------------------------------------------------------ votes
    @api.put("/topics/{topic_id}/ballot")
    def put_ballot(
        topic_id: Annotated[str, Path(max_length=64)], body: NewBallot, user: Person
    ) -> dict[str, Any]:
        """What residents will vote on, at 拟订方案 (it can be redrafted until the vote
        begins), and optionally the topic's quorum and majority."""
        topic = service.put_ballot(
            user,
            topic_id,
            body.options,
            closes_at=body.closes_at,
            quorum=body.quorum,
            majority=body.majority,
        )
        return topic_record(topic, user)

    @api.post("/topics/{topic_id}/votes", status_code=201)
    def vote(
        topic_id: Annotated[str, Path(max_length=64)], body: Vote, user: Person
    ) -> dict[str, Any]:
        """A verified resident of the topic's area votes, once. Nobody can see what
        they chose: the roll says who voted, the counters what was chosen."""
        service.vote(user, topic_id, body.choice)
        return {"topic": topic_id, "voted": True}

    @api.post("/topics/{topic_id}/ballot/close")
    def close(topic_id: Annotated[str, Path(max_length=64)], user: Person) -> dict[str, Any]:
        """Close the vote (not before its ``closes_at``): the eligible are counted as
        they are now, and the tally is published."""
        return topic_record(service.close_ballot(user, topic_id), user)

    # ------------------------------------------------------------------ resolution
    @api.post("/topics/{topic_id}/resolution", status_code=201)
    def resolve(
        topic_id: Annotated[str, Path(max_length=64)], body: NewResolution, user: Person
    ) -> dict[str, Any]:
        """形成决议: the resolution, and its actions, each a case in the closed loop sent
        to its party (``council/<topic>-<n>``)."""
        actions = [WantedAction(a.title, a.party, a.due_days) for a in body.actions]
        return topic_record(service.resolve(user, topic_id, body.text, actions), user)

    # ------------------------------------------------------------------ the cockpit
    @api.get("/stats")
    def stats(
        user: Person,
        area: Annotated[str | None, Query(max_length=64, description="and below")] = None,
    ) -> dict[str, Any]:
        """For the cockpit: suggestions this (local) month, groups, topics raised and
        resolved, resolution actions and how many of their cases are closed."""
        return service.stats(user, area)

    return api
