"""社情民意 and 红茶议事会 (``/api/v1/participation``): residents' suggestions, and the
deliberation of a topic through the six steps (大关街道's 百姓圆桌会 method, see
:mod:`cityeye.domain.participation`) up to a vote and a resolution whose actions become
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

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Path, Query, Request, Response
from pydantic import BaseModel, ConfigDict, Field

from cityeye.api.auth import CurrentUser, MaybeUser
from cityeye.api.cases import EARLIEST, LATEST, local_day_bounds
from cityeye.api.deps import NotLive, Services, Svc
from cityeye.api.district import period as kpi_period
from cityeye.api.district import span
from cityeye.api.exports import file_response
from cityeye.api.limits import client_key, take_or_refuse
from cityeye.api.presenters import (
    STATE_WORDS,
    category_json,
    group_json,
    meeting_json,
    my_suggestion_json,
    participant_json,
    suggestion_json,
    suggestion_receipt_json,
    topic_record_json,
    topic_summary_json,
    turn_json,
)
from cityeye.documents.tables import Sheet, local_datetime
from cityeye.domain.participation import (
    Channel,
    Meeting,
    MeetingMode,
    Participant,
    ParticipantRole,
    Topic,
    TopicKind,
    TopicStep,
    Turn,
)
from cityeye.domain.users import User, UserRole, below
from cityeye.participation.service import (
    COUNCIL,
    REPORT_CATEGORY,
    SOURCE,
    STAFF,
    Participation,
    WantedAction,
    plain,
    text_tools,
)
from cityeye.store import participation as db
from cityeye.store.requests import cases_by_key

__all__ = ["COUNCIL", "PREFIX", "REPORT_CATEGORY", "SOURCE", "router"]

PREFIX = "/api/v1/participation"
MAX_PHOTOS = 4

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


class GroupWords(BaseModel):
    model_config = ConfigDict(extra="forbid")

    text: str = Field(min_length=1, max_length=4000)
    overwrite: bool = Field(
        default=False, description="also replace the answers members have already"
    )


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
    moderator: str | None = Field(
        default=None, max_length=64, description="a facilitator of the community who runs it"
    )


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


# ---------------------------------------------------------------------- the service
def participation_of(svc: Svc) -> Participation:
    """The app's :class:`~cityeye.participation.service.Participation` (built once by
    :func:`cityeye.api.app.create_app`). The rules are the service's; this module says
    who is signed in and applies the rate limit. 503 on an app built without a pipeline
    (never routed here: the router is added only with one)."""
    if svc.participation is None:
        raise NotLive("this server has no participation (started without a pipeline)")
    return svc.participation


#: An endpoint's parameter ``service: Service`` receives the app's Participation.
Service = Annotated[Participation, Depends(participation_of)]


def topic_record(service: Participation, t: Topic, viewer: User | None) -> dict[str, Any]:
    """The topic's record as ``viewer`` may see it (:func:`topic_record_json`)."""
    store = service.store
    ballot = db.get_ballot(store, t.id)
    result = service.tally_of(t, ballot)
    resolution = db.get_resolution(store, t.id)
    cases = (
        cases_by_key(store, [a.case_key for a in resolution.actions])
        if resolution is not None
        else {}
    )
    return topic_record_json(
        t,
        service.world,
        staff=viewer is not None and viewer.role in STAFF,
        steps=db.steps_of(store, t.id),
        meetings=[meeting_parts(service, m) for m in db.meetings_of(store, t.id)],
        suggestions=len(db.suggestions_of(store, t.id)),
        ballot=ballot,
        tally=result,
        resolution=resolution,
        cases=cases,
    )


def meeting_parts(
    service: Participation, m: Meeting
) -> tuple[Meeting, list[Participant], list[Turn]]:
    """A meeting with its participants and turns (:func:`meeting_json`'s arguments)."""
    return m, db.participants(service.store, m.id), db.turns(service.store, m.id)


router = APIRouter(prefix=PREFIX, tags=["participation"])


# ---------------------------------------------------------------------- suggestions
@router.post("/suggestions", status_code=201)
def new_suggestion(
    body: NewSuggestion, request: Request, user: MaybeUser, svc: Svc, service: Service
) -> dict[str, Any]:
    """A suggestion. From the portal (``channel: portal``) anyone may send one,
    signed in or not (limited per address); a volunteer or worker signs in as a
    handler and says so (``channel: volunteer`` / ``worker``)."""
    author = None
    if body.channel == Channel.PORTAL:
        take_or_refuse(svc.suggestion_limits, client_key(request), "suggestions")
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
        return suggestion_json(suggestion, service.world)
    return suggestion_receipt_json(suggestion)


#: The most suggestions one export holds (a street's year is ~24,000).
EXPORT_MAX = 50_000
#: The query parameters that narrow suggestions, the same on the list, the groups and
#: the export (the council page's filters).
Category = Annotated[str | None, Query(max_length=32, description="a suggestion category code")]
Answered = Annotated[
    bool | None, Query(description="true: answered only; false: not yet answered only")
]
First = Annotated[date | None, Query(description="made on or after this local day")]
Last = Annotated[date | None, Query(description="made on or before this local day")]
Words_ = Annotated[
    str | None, Query(max_length=100, description="words in the text, or part of the id")
]
Area = Annotated[str | None, Query(max_length=64, description="and below")]


def suggestion_filter(
    service: Service,
    category: Category = None,
    answered: Answered = None,
    first: First = None,
    last: Last = None,
    q: Words_ = None,
) -> db.SuggestionFilter:
    """The filter the query parameters ask for (days are the district's local days,
    as for cases), or 422 naming the parameter that is wrong; one dependency for the
    list, the groups and the export, so the three take the same filters."""
    codes = text_tools().CATEGORY_CODES
    if category is not None and category not in codes:
        raise HTTPException(422, f"category: {category!r} not among {', '.join(codes)}")
    for name, day in (("first", first), ("last", last)):
        if day is not None and not EARLIEST <= day <= LATEST:
            raise HTTPException(422, f"{name}: {day} is not between {EARLIEST} and {LATEST}")
    if first is not None and last is not None and first > last:
        raise HTTPException(422, f"last: {last} is before first ({first})")
    bound = local_day_bounds(service.world.timezone)
    text = plain("q", q) or None if q is not None else None
    return db.SuggestionFilter(
        category=category,
        answered=answered,
        since=bound(first, start=True),
        before=bound(last, start=False),
        text=text,
    )


#: An endpoint's parameter ``where: Filtered`` is :func:`suggestion_filter`'s answer.
Filtered = Annotated[db.SuggestionFilter, Depends(suggestion_filter)]
Group = Annotated[str | None, Query(max_length=64)]


@router.get("/suggestions")
def list_suggestions(
    user: CurrentUser,
    service: Service,
    where: Filtered,
    area: Area = None,
    group: Group = None,
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
    per_page: Annotated[int, Query(ge=1, le=200)] = 50,
) -> dict[str, Any]:
    """Suggestions within the caller's areas, newest first; narrowed by category,
    group, answered or not, local days ``first..last`` and words (``q``)."""
    found, total = service.find_suggestions(
        user,
        area,
        where=replace(where, group=group),
        offset=(page - 1) * per_page,
        limit=per_page,
    )
    return {
        "items": [suggestion_json(s, service.world, case) for s, case in found],
        "page": page,
        "per_page": per_page,
        "total": total,
    }


@router.get("/suggestions/mine")
def my_suggestions(user: CurrentUser, service: Service) -> list[dict[str, Any]]:
    """What the signed-in person suggested (on the portal signed in, or door to door
    as a volunteer), newest first, each with the community's answer once given — a
    whole group's one answer included."""
    return [my_suggestion_json(s, service.world) for s in service.mine(user)]


@router.get("/suggestions.xlsx")
def export_suggestions(
    request: Request,
    user: CurrentUser,
    service: Service,
    where: Filtered,
    area: Area = None,
    group: Group = None,
) -> Response:
    """The suggestions the same filters as the list let through, as a spreadsheet:
    Chinese column names, local times, the filters in its first line (up to
    :data:`EXPORT_MAX`; 422 for more: narrow the filters)."""
    where = replace(where, group=group)
    answered, category = where.answered, where.category
    found, total = service.find_suggestions(user, area, where=where, limit=EXPORT_MAX)
    if total > EXPORT_MAX:
        raise HTTPException(
            422, f"filters: {total} suggestions, more than {EXPORT_MAX} in one file"
        )
    world = service.world
    titles = {g.id: g.title for g in service.groups(user, area, where=where)}
    chosen = [world.areas[area].name if area in world.areas else "全部区域"]
    if answered is not None:
        chosen.append("已答复" if answered else "未答复")
    if category is not None:
        chosen.append(category_json(category)["zh"])
    if group is not None:
        chosen.append(f"分组“{titles.get(group, group)}”")
    first, last = request.query_params.get("first"), request.query_params.get("last")
    if first or last:
        chosen.append(f"{first or '…'} 至 {last or '…'}")
    if where.text:
        chosen.append(f"含“{where.text}”")
    made = local_datetime(service.now(), world.timezone)
    assert made is not None
    title = f"社情民意 · {' · '.join(chosen)} · 共 {total} 条（导出于 {made:%Y-%m-%d %H:%M}）"
    rows = [
        [
            s.id,
            local_datetime(s.created_at, world.timezone),
            world.areas[s.area].name if s.area in world.areas else s.area,
            s.channel.zh,
            category_json(s.category)["zh"],
            s.text,
            titles.get(s.group_id or "", ""),
            s.answer or "",
            local_datetime(s.answered_at, world.timezone),
            s.answered_by or "",
            f"{case.id}（{STATE_WORDS[case.state][0]}）" if case is not None else "",
            s.topic_id or "",
        ]
        for s, case in found
    ]
    sheet = Sheet(title, list(EXPORT_COLUMNS), rows, name="社情民意")
    return file_response(sheet, "xlsx", f"社情民意-{made:%Y%m%d-%H%M}")


#: The export's columns, in Chinese (the sheet is for the street office).
EXPORT_COLUMNS = (
    "编号",
    "提交时间",
    "区域",
    "渠道",
    "类别",
    "内容",
    "分组",
    "答复",
    "答复时间",
    "答复人",
    "工单",
    "议题",
)


@router.get("/groups")
def list_groups(
    user: CurrentUser,
    service: Service,
    where: Filtered,
    area: Area = None,
) -> list[dict[str, Any]]:
    """Groups of near-duplicate suggestions within the caller's areas, largest first:
    how many (of the suggestions the filters let through, as the list's; ``answered``
    keeps the groups with an answered, or an unanswered, one, counted whole), how many
    unanswered, the category, the title (the most representative member's words) and
    the keywords."""
    return [group_json(g, service.world) for g in service.groups(user, area, where=where)]


@router.post("/groups/{group_id}/answer")
def answer_group(
    group_id: Annotated[str, Path(max_length=64)],
    body: GroupWords,
    user: CurrentUser,
    service: Service,
) -> dict[str, Any]:
    """One answer to every suggestion of the group in the caller's areas (staff who
    answer), in one transaction; each suggestion then carries it as if answered alone.
    Those answered already keep their answer unless ``overwrite``. Members outside the
    caller's areas are not touched; 404 when none is inside them."""
    done = service.answer_group(user, group_id, body.text, overwrite=body.overwrite)
    return {"group": done.group, "answered": len(done.answered), "kept": done.kept}


def chosen_period(
    svc: Services, first: date | None, last: date | None
) -> tuple[datetime, datetime] | None:
    """``[start, end)`` of the local days ``first..last`` (checked as the KPIs' are),
    ``None`` when neither is given."""
    if first is None and last is None:
        return None
    return span(svc, *kpi_period(svc, first, last))


def with_period(
    svc: Services, first: date | None, last: date | None, found: dict[str, Any]
) -> dict[str, Any]:
    """Figures counted over :func:`chosen_period`, with the days they cover (``first``,
    ``last``) when a period was asked for."""
    if first is not None or last is not None:
        first, last = kpi_period(svc, first, last)
        found.update(first=first.isoformat(), last=last.isoformat())
    return found


@router.post("/suggestions/{suggestion_id}/answer")
def answer(
    suggestion_id: Annotated[str, Path(max_length=64)],
    body: Words,
    user: CurrentUser,
    service: Service,
) -> dict[str, Any]:
    """The office's answer to a suggestion (staff of its area)."""
    return suggestion_json(service.answer(user, suggestion_id, body.text), service.world)


@router.post("/suggestions/{suggestion_id}/case", status_code=201)
def to_case(
    suggestion_id: Annotated[str, Path(max_length=64)], user: CurrentUser, service: Service
) -> dict[str, Any]:
    """The suggestion becomes a case in the closed loop: a resident's report
    (``report.citizen`` from source ``participation``, its id the suggestion's)."""
    suggestion, case = service.to_case(user, suggestion_id)
    return suggestion_json(suggestion, service.world, case)


@router.post("/suggestions/{suggestion_id}/topic")
def to_topic(
    suggestion_id: Annotated[str, Path(max_length=64)],
    body: ToTopic,
    user: CurrentUser,
    service: Service,
) -> dict[str, Any]:
    """Put the suggestion on a topic: an existing one (``topic_id``, whose area holds
    the suggestion's) or a new one (``title``) for the suggestion's community — a
    红茶议事会 is the community's, so all its verified residents vote, and the
    resolution's actions go to the parties named, not to one grid's worker."""
    topic = service.to_topic(
        user, suggestion_id, topic_id=body.topic_id, title=body.title, kind=body.kind
    )
    return topic_summary_json(topic, service.world)


# ---------------------------------------------------------------------- topics
@router.post("/topics", status_code=201)
def create_topic(body: NewTopic, user: CurrentUser, service: Service) -> dict[str, Any]:
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
    return topic_record(service, topic, user)


@router.get("/topics")
def list_topics(
    service: Service,
    area: Annotated[str | None, Query(max_length=64, description="and below")] = None,
    step: Annotated[TopicStep | None, Query()] = None,
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
    per_page: Annotated[int, Query(ge=1, le=200)] = 50,
) -> dict[str, Any]:
    """Topics, newest first (public: what is deliberated, where, at which step)."""
    world = service.world
    areas = below(world, [service.known_area("area", area)]) if area is not None else None
    found, total = db.list_topics(
        service.store, areas, step, offset=(page - 1) * per_page, limit=per_page
    )
    return {
        "items": [topic_summary_json(t, world) for t in found],
        "page": page,
        "per_page": per_page,
        "total": total,
    }


@router.get("/topics/{topic_id}")
def get_topic(
    topic_id: Annotated[str, Path(max_length=64)], user: MaybeUser, service: Service
) -> dict[str, Any]:
    """The public record of a topic: its steps, meetings, ballot, the tally once the
    ballot is closed, and the resolution with each action's case. Who moved each
    step is a username for staff, "社区工作人员 community staff" for everyone else."""
    return topic_record(service, service.topic(topic_id), user)


@router.post("/topics/{topic_id}/advance")
def advance_topic(
    topic_id: Annotated[str, Path(max_length=64)], body: Note, user: CurrentUser, service: Service
) -> dict[str, Any]:
    """The next step (see the workflow); 403 for who, 409 for a guard."""
    return topic_record(service, service.advance(user, topic_id, body.note), user)


# ---------------------------------------------------------------------- meetings
@router.post("/topics/{topic_id}/meetings", status_code=201)
def new_meeting(
    topic_id: Annotated[str, Path(max_length=64)],
    body: NewMeeting,
    user: CurrentUser,
    service: Service,
) -> dict[str, Any]:
    """A meeting on the topic, online or offline, with its agenda; a facilitator
    (促动师) who calls it runs it, or staff name one (``moderator``)."""
    meeting = service.add_meeting(
        user,
        topic_id,
        body.mode,
        body.at,
        place=body.place,
        agenda=body.agenda,
        moderator=body.moderator,
    )
    return meeting_json(*meeting_parts(service, meeting))


@router.post("/meetings/{meeting_id}/participants", status_code=201)
def add_participant(
    meeting_id: Annotated[str, Path(max_length=64)],
    body: NewParticipant,
    user: CurrentUser,
    service: Service,
) -> dict[str, Any]:
    """Who takes part: a user (``user``, by username, who may then sign in and
    speak) or someone named (``name``)."""
    added = service.add_participant(user, meeting_id, body.role, username=body.user, name=body.name)
    return participant_json(added, named=True)


@router.post("/meetings/{meeting_id}/sign-in")
def sign_in(
    meeting_id: Annotated[str, Path(max_length=64)], user: CurrentUser, service: Service
) -> dict[str, Any]:
    """A participant signs in to the meeting (签到)."""
    return participant_json(service.sign_in(user, meeting_id))


@router.post("/meetings/{meeting_id}/turns", status_code=201)
def speak(
    meeting_id: Annotated[str, Path(max_length=64)],
    body: Words,
    user: CurrentUser,
    service: Service,
) -> dict[str, Any]:
    """A turn in an online meeting, by a participant who signed in."""
    return turn_json(service.speak(user, meeting_id, body.text))


@router.put("/meetings/{meeting_id}/minutes")
def minutes(
    meeting_id: Annotated[str, Path(max_length=64)],
    body: Words,
    user: CurrentUser,
    service: Service,
) -> dict[str, Any]:
    """The minutes (纪要) of the meeting."""
    meeting = service.set_minutes(user, meeting_id, body.text)
    return meeting_json(*meeting_parts(service, meeting))


@router.post("/meetings/{meeting_id}/decisions", status_code=201)
def decision(
    meeting_id: Annotated[str, Path(max_length=64)],
    body: Words,
    user: CurrentUser,
    service: Service,
) -> dict[str, Any]:
    """A decision the meeting took."""
    meeting = service.add_decision(user, meeting_id, body.text)
    return meeting_json(*meeting_parts(service, meeting))


# ---------------------------------------------------------------------- votes
@router.put("/topics/{topic_id}/ballot")
def put_ballot(
    topic_id: Annotated[str, Path(max_length=64)],
    body: NewBallot,
    user: CurrentUser,
    service: Service,
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
    return topic_record(service, topic, user)


@router.post("/topics/{topic_id}/votes", status_code=201)
def vote(
    topic_id: Annotated[str, Path(max_length=64)], body: Vote, user: CurrentUser, service: Service
) -> dict[str, Any]:
    """A verified resident of the topic's area votes, once. Nobody can see what
    they chose: the roll says who voted, the counters what was chosen."""
    service.vote(user, topic_id, body.choice)
    return {"topic": topic_id, "voted": True}


@router.post("/topics/{topic_id}/ballot/close")
def close(
    topic_id: Annotated[str, Path(max_length=64)], user: CurrentUser, service: Service
) -> dict[str, Any]:
    """Close the vote (not before its ``closes_at``): the eligible are counted as
    they are now, and the tally is published."""
    return topic_record(service, service.close_ballot(user, topic_id), user)


# ---------------------------------------------------------------------- resolution
@router.post("/topics/{topic_id}/resolution", status_code=201)
def resolve(
    topic_id: Annotated[str, Path(max_length=64)],
    body: NewResolution,
    user: CurrentUser,
    service: Service,
) -> dict[str, Any]:
    """形成决议: the resolution, and its actions, each a case in the closed loop sent
    to its party (``council/<topic>-<n>``)."""
    actions = [WantedAction(a.title, a.party, a.due_days) for a in body.actions]
    return topic_record(service, service.resolve(user, topic_id, body.text, actions), user)


# ---------------------------------------------------------------------- the cockpit
@router.get("/stats")
def stats(
    user: CurrentUser,
    service: Service,
    svc: Svc,
    area: Annotated[str | None, Query(max_length=64, description="and below")] = None,
    first: Annotated[date | None, Query(description="from this local day")] = None,
    last: Annotated[date | None, Query(description="to this local day")] = None,
) -> dict[str, Any]:
    """For the cockpit: suggestions this (local) month, groups, topics raised and
    resolved, resolution actions and how many of their cases are closed. With
    ``first``/``last`` (the cockpit's period): ``suggestions_total`` is the
    suggestions made in those days, and groups, topics, resolutions and actions are
    those of the period; the answer then carries ``first`` and ``last``."""
    found = service.stats(user, area, chosen_period(svc, first, last))
    return with_period(svc, first, last, found)
