"""线上宣讲 (``/api/v1/briefings``) and 促动师 (``/api/v1/participation/facilitators``),
issue 21 items 5 and 7: the HTTP face of :mod:`cityeye.participation.briefings`.

* **Briefings**: dispatchers (and admins) of an area run them — create one with its
  invitation list (the area's enterprises by tag / sector, or named), add materials
  (uploaded attachments), record who signed up and who came, write down the questions
  asked, answer each or turn it into a case in the closed loop; leaders read; handlers
  and residents are refused (403), another street's briefing is 404.
* **Facilitators**: staff of a community train a resident or 小区专员 as its facilitator
  (who may then open and moderate topics there, and only there) or withdraw them;
  the list counts the active facilitators and the meetings they ran, per community
  and period.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query
from pydantic import BaseModel, ConfigDict, Field

from cityeye.api.auth import CurrentUser
from cityeye.api.deps import Svc
from cityeye.api.participation import PREFIX as PARTICIPATION
from cityeye.api.participation import Service, chosen_period, with_period
from cityeye.api.presenters import area_ref_json, case_state_json
from cityeye.domain import Case, World
from cityeye.domain.briefings import Briefing, Facilitator, Invitation, Question
from cityeye.domain.dates import iso_utc
from cityeye.domain.participation import MeetingMode
from cityeye.participation.briefings import BriefingRecord, Briefings
from cityeye.store.users import list_users

__all__ = ["PREFIX", "facilitators", "router"]

PREFIX = "/api/v1/briefings"
Ref = Annotated[str, Field(max_length=80)]
Code = Annotated[str, Field(max_length=64)]


# ---------------------------------------------------------------------- bodies
class NewBriefing(BaseModel):
    model_config = ConfigDict(extra="forbid")

    title: str = Field(min_length=1, max_length=200)
    topic: str = Field(min_length=1, max_length=2000, description="the policy it explains")
    mode: MeetingMode
    at: datetime
    area: str = Field(max_length=64, description="whose enterprises are invited")
    place: str = Field(default="", max_length=200, description="on site: where")
    link: str = Field(default="", max_length=500, description="online: the meeting's link")
    materials: list[Ref] = Field(default=[], max_length=20, description="uploaded attachments")
    tags: list[Code] = Field(default=[], max_length=10, description="invite those with all")
    sectors: list[Code] = Field(default=[], max_length=20, description="invite those in one")
    subjects: list[Code] = Field(default=[], max_length=500, description="and these")


class Materials(BaseModel):
    model_config = ConfigDict(extra="forbid")

    materials: list[Ref] = Field(min_length=1, max_length=20)


class Roll(BaseModel):
    model_config = ConfigDict(extra="forbid")

    signed_up: bool | None = None
    attended: bool | None = None


class NewQuestion(BaseModel):
    model_config = ConfigDict(extra="forbid")

    text: str = Field(min_length=1, max_length=2000)
    subject: str | None = Field(default=None, max_length=64, description="who asked")


class Answer(BaseModel):
    model_config = ConfigDict(extra="forbid")

    text: str = Field(min_length=1, max_length=4000)


class ToCase(BaseModel):
    model_config = ConfigDict(extra="forbid")

    category: str = Field(default="other", max_length=32, description="a report category")


class NewFacilitator(BaseModel):
    model_config = ConfigDict(extra="forbid")

    user: str = Field(min_length=1, max_length=64, description="a username")
    community: str = Field(max_length=64)
    note: str = Field(default="", max_length=200, description="e.g. the training")


# ---------------------------------------------------------------------- presenting
def briefings_of(service: Service) -> Briefings:
    """The briefings' rules over the app's participation service."""
    return Briefings(service)


Rules = Annotated[Briefings, Depends(briefings_of)]


def briefing_json(b: Briefing, world: World) -> dict[str, Any]:
    return {
        "id": b.id,
        "title": b.title,
        "topic": b.topic,
        "mode": b.mode.value,
        "at": iso_utc(b.at),
        "area": area_ref_json(world, b.area),
        "place": b.place,
        "link": b.link,
        "materials": list(b.materials),
        "created_at": iso_utc(b.created_at),
        "created_by": b.created_by,
    }


def invitation_json(i: Invitation, world: World) -> dict[str, Any]:
    return {
        "subject": i.subject_id,
        "name": i.name,
        "area": area_ref_json(world, i.area) if i.area else None,
        "signed_up_at": iso_utc(i.signed_up_at),
        "attended_at": iso_utc(i.attended_at),
    }


def question_json(q: Question, case: Case | None = None) -> dict[str, Any]:
    return {
        "n": q.n,
        "text": q.text,
        "subject": q.subject_id,
        "asked_at": iso_utc(q.asked_at),
        "answer": q.answer,
        "answered_at": iso_utc(q.answered_at),
        "answered_by": q.answered_by,
        "case_key": q.case_key,
        "case": case_state_json(case),
    }


def record_json(r: BriefingRecord, world: World) -> dict[str, Any]:
    """A briefing with its list (and the counts the page shows) and its questions."""
    return {
        **briefing_json(r.briefing, world),
        "invitations": [invitation_json(i, world) for i in r.invitations],
        "invited": len(r.invitations),
        "signed_up": sum(1 for i in r.invitations if i.signed_up_at is not None),
        "attended": sum(1 for i in r.invitations if i.attended_at is not None),
        "questions": [question_json(q, r.cases.get(q.case_key or "")) for q in r.questions],
    }


def facilitator_json(f: Facilitator, username: str, name: str, world: World) -> dict[str, Any]:
    return {
        "user": username,
        "name": name,
        "community": area_ref_json(world, f.community),
        "since": iso_utc(f.since),
        "granted_by": f.granted_by,
        "note": f.note,
        "active": f.active,
        "ended_at": iso_utc(f.ended_at),
    }


router = APIRouter(prefix=PREFIX, tags=["briefings"])
BriefingId = Annotated[str, Path(max_length=64)]
Area = Annotated[str | None, Query(max_length=64, description="and below")]
First = Annotated[date | None, Query(description="from this local day")]
Last = Annotated[date | None, Query(description="to this local day")]


# ---------------------------------------------------------------------- briefings
@router.post("", status_code=201)
def create(body: NewBriefing, user: CurrentUser, rules: Rules) -> dict[str, Any]:
    """A briefing and its invitation list: the area's enterprises carrying every tag
    of ``tags`` (and in one of ``sectors`` when given), and any named in ``subjects``."""
    made = rules.new(user, **body.model_dump())
    return record_json(made, rules.world)


@router.get("")
def list_briefings(
    user: CurrentUser,
    rules: Rules,
    area: Area = None,
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
    per_page: Annotated[int, Query(ge=1, le=200)] = 50,
) -> dict[str, Any]:
    """Briefings within the caller's areas, the latest first."""
    found, total = rules.find(user, area, offset=(page - 1) * per_page, limit=per_page)
    return {
        "items": [briefing_json(b, rules.world) for b in found],
        "page": page,
        "per_page": per_page,
        "total": total,
    }


@router.get("/stats")
def stats(
    user: CurrentUser,
    rules: Rules,
    svc: Svc,
    area: Area = None,
    first: First = None,
    last: Last = None,
) -> dict[str, Any]:
    """Per period (local days ``first..last``; else all): sessions held, enterprises
    invited and reached (came at least once), attendances, questions asked, answered
    and made cases, and how many of those cases are closed."""
    found = rules.stats(user, area, chosen_period(svc, first, last))
    return with_period(svc, first, last, found)


@router.get("/{briefing_id}")
def get_briefing(briefing_id: BriefingId, user: CurrentUser, rules: Rules) -> dict[str, Any]:
    """One briefing with its invitation list and questions (404 outside your areas)."""
    return record_json(rules.record(rules.briefing(user, briefing_id)), rules.world)


@router.post("/{briefing_id}/materials")
def add_materials(
    briefing_id: BriefingId, body: Materials, user: CurrentUser, rules: Rules
) -> dict[str, Any]:
    """More materials (uploaded attachments) for the briefing."""
    return record_json(rules.add_materials(user, briefing_id, body.materials), rules.world)


@router.put("/{briefing_id}/invitations/{subject_id}")
def roll(
    briefing_id: BriefingId,
    subject_id: Annotated[str, Path(max_length=64)],
    body: Roll,
    user: CurrentUser,
    rules: Rules,
) -> dict[str, Any]:
    """An invited enterprise signed up (报名) and/or came (参会), or not after all;
    coming implies signing up, and attendance only from the briefing's start."""
    made = rules.roll(
        user, briefing_id, subject_id, signed_up=body.signed_up, attended=body.attended
    )
    return record_json(made, rules.world)


@router.post("/{briefing_id}/questions", status_code=201)
def ask(
    briefing_id: BriefingId, body: NewQuestion, user: CurrentUser, rules: Rules
) -> dict[str, Any]:
    """A question asked during the briefing, by an invited enterprise when known."""
    return question_json(rules.ask(user, briefing_id, body.text, body.subject))


@router.post("/{briefing_id}/questions/{n}/answer")
def answer(
    briefing_id: BriefingId,
    n: Annotated[int, Path(ge=1, le=100_000)],
    body: Answer,
    user: CurrentUser,
    rules: Rules,
) -> dict[str, Any]:
    """The answer to a question."""
    return question_json(rules.answer(user, briefing_id, n, body.text))


@router.post("/{briefing_id}/questions/{n}/case", status_code=201)
def to_case(
    briefing_id: BriefingId,
    n: Annotated[int, Path(ge=1, le=100_000)],
    body: ToCase,
    user: CurrentUser,
    rules: Rules,
) -> dict[str, Any]:
    """The question becomes a case in the closed loop (a report from source
    ``briefing``, in the asking enterprise's area), routed like any report."""
    question, case = rules.to_case(user, briefing_id, n, body.category)
    return question_json(question, case)


# ---------------------------------------------------------------------- facilitators
facilitators = APIRouter(prefix=f"{PARTICIPATION}/facilitators", tags=["participation"])


@facilitators.get("")
def list_facilitators(
    user: CurrentUser,
    rules: Rules,
    svc: Svc,
    area: Area = None,
    first: First = None,
    last: Last = None,
) -> dict[str, Any]:
    """The facilitators of the communities within the caller's areas, and per
    community: how many are active and how many meetings they ran in the period
    (local days ``first..last``; else all)."""
    chosen = chosen_period(svc, first, last)
    found, rows, ran = rules.facilitators(user, area, chosen)
    world = rules.world
    people = {u.id: u for u in list_users(rules.p.store)}
    listed = {
        "items": [
            facilitator_json(f, people[f.user_id].username, people[f.user_id].display_name, world)
            | {"meetings": ran.get(f.user_id, 0)}
            for f in found
            if f.user_id in people
        ],
        "communities": [r | {"area": area_ref_json(world, r["area"])} for r in rows],
        "facilitators": sum(r["facilitators"] for r in rows),
        "meetings": sum(r["meetings"] for r in rows),
    }
    return with_period(svc, first, last, listed)


@facilitators.get("/mine")
def my_facilitation(user: CurrentUser, rules: Rules) -> dict[str, Any]:
    """Whether the signed-in person is an active facilitator, and of which community
    (the portal then offers them to open and moderate topics there)."""
    found = rules.mine(user)
    if found is None:
        return {"active": False, "community": None}
    return facilitator_json(found, user.username, user.display_name, rules.world)


@facilitators.post("", status_code=201)
def train(body: NewFacilitator, user: CurrentUser, rules: Rules) -> dict[str, Any]:
    """Train a resident (whose home is in the community) or a 小区专员 (a handler whose
    party serves it) as a facilitator of the community (staff of that community)."""
    made = rules.train(user, body.user, body.community, body.note)
    who = rules.facilitator_user(body.user)
    return facilitator_json(made, who.username, who.display_name, rules.world)


@facilitators.delete("/{username}")
def withdraw(
    username: Annotated[str, Path(max_length=64)], user: CurrentUser, rules: Rules
) -> dict[str, Any]:
    """The facilitator steps down; the meetings they ran stay counted."""
    ended = rules.withdraw(user, username)
    who = rules.facilitator_user(username)
    return facilitator_json(ended, who.username, who.display_name, rules.world)
