"""线上宣讲 and 促动师 (issue 21 items 5, 7): policy briefings for enterprises, and the
红茶议事会's trained facilitators.

A **briefing** (宣讲) is run by staff of an area (dispatchers and admins within their
post's areas; leaders read): its invitation list is drawn from the enterprises of that
area by tag or sector (:func:`enterprises`), each invited enterprise signs up and comes
or not (staff record both: enterprises have no accounts yet), and each question asked
during the session is answered, or turned into a case in the same closed loop as a
resident's report (``report.citizen`` from source ``briefing``, key
``briefing/<briefing>-<n>``), as a suggestion is (:meth:`Participation.to_case`).

A **facilitator** (促动师) is a resident or 小区专员 (a handler) trained to open and
moderate topics in one community (:meth:`Participation.moderate`); a flag beside the
account, granted and withdrawn by staff of that community, so that ``UserRole`` (a
contract served by /api/v1/meta) stays as it is.

The seed counts both (000:376: "开展疫情政策线上宣讲 13 场", "成功培育小区专员等红茶议事会促动
师 45 人"); the workflow here is our choice.
"""

from __future__ import annotations

import secrets
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from cityeye.domain import REPORT_CATEGORIES, AreaLevel, Case, CaseState, Event, FieldError, World
from cityeye.domain.briefings import FACILITATOR_ROLES, Briefing, Facilitator, Invitation, Question
from cityeye.domain.dates import local_date
from cityeye.domain.participation import MeetingMode
from cityeye.domain.users import User, UserRole, scope_of
from cityeye.participation.service import (
    STAFF,
    Conflict,
    NotFound,
    Participation,
    plain,
    when,
    words,
)
from cityeye.participation.votes import home_within
from cityeye.participation.workflow import MANAGERS, Refused
from cityeye.store import briefings as db
from cityeye.store.requests import cases_by_key
from cityeye.store.users import user_with_hash

SOURCE = "briefing"  # a briefing's question that became a case
#: The world file's tag of an enterprise subject.
ENTERPRISE_TAG = "enterprise"


@dataclass(frozen=True, slots=True)
class Enterprise:
    """An enterprise that can be invited: its subject id, name, area, tags, sector."""

    id: str
    name: str
    area: str | None
    tags: tuple[str, ...]
    sector: str | None = None


def enterprises(world: World) -> list[Enterprise]:
    """Every enterprise the invitation lists are drawn from: for now, the world file's
    subjects tagged ``enterprise`` (their ``sector`` from the subject's extra fields,
    when given). The one place to switch to the enterprise registry (issue 21 item 1)
    when it lands."""
    return [
        Enterprise(
            s.id,
            s.name or s.id,
            s.area,
            s.tags,
            str(s.extra["sector"]) if s.extra.get("sector") else None,
        )
        for s in sorted(world.subjects.values(), key=lambda s: s.id)
        if ENTERPRISE_TAG in s.tags
    ]


def invitees(
    world: World, area: str, tags: Sequence[str] = (), sectors: Sequence[str] = ()
) -> list[Enterprise]:
    """The enterprises within ``area`` that carry every tag of ``tags`` and, when
    ``sectors`` are given, are in one of them."""
    return [
        e
        for e in enterprises(world)
        if world.within(e.area, area)
        and all(t in e.tags for t in tags)
        and (not sectors or e.sector in sectors)
    ]


@dataclass(frozen=True, slots=True)
class BriefingRecord:
    """A briefing with its invitation list and questions (and their cases)."""

    briefing: Briefing
    invitations: list[Invitation]
    questions: list[Question]
    cases: dict[str, Case]


class Briefings:
    """The rules of briefings and facilitators, over the app's :class:`Participation`
    (its store, world, pipeline, attachments and clock)."""

    def __init__(self, participation: Participation) -> None:
        self.p = participation

    @property
    def world(self) -> World:
        return self.p.world

    # ------------------------------------------------------------------ access
    def readable(self, user: User, area: str | None) -> frozenset[str] | None:
        """The areas whose briefings ``user`` sees (staff who read: managers and
        leaders; a handler is refused), narrowed to ``area``."""
        if user.role not in MANAGERS | {UserRole.LEADER}:
            raise Refused("role", "briefings are run by dispatchers and read by leaders")
        return self.p.readable_areas(user, area)

    def briefing(self, user: User, briefing_id: str) -> Briefing:
        """A briefing ``user`` may see; :class:`NotFound` outside their areas."""
        self.readable(user, None)
        found = db.get_briefing(self.p.store, briefing_id)
        if found is None or not scope_of(user, self.world).allows(found.area):
            raise NotFound("briefing", f"no briefing {briefing_id[:80]!r}")
        return found

    def run(self, user: User, briefing_id: str) -> Briefing:
        """A briefing ``user`` may change (404 outside their areas, 403 for a leader)."""
        found = self.briefing(user, briefing_id)
        self.p.manage(user, found.area)
        return found

    def record(self, b: Briefing) -> BriefingRecord:
        store = self.p.store
        asked = db.questions(store, b.id)
        cases = cases_by_key(store, [q.case_key for q in asked if q.case_key])
        return BriefingRecord(b, db.invitations(store, b.id), asked, cases)

    # ------------------------------------------------------------------ briefings
    def new(
        self,
        user: User,
        *,
        title: str,
        topic: str,
        mode: MeetingMode,
        at: datetime,
        area: str,
        place: str = "",
        link: str = "",
        materials: Sequence[str] = (),
        tags: Sequence[str] = (),
        sectors: Sequence[str] = (),
        subjects: Sequence[str] = (),
    ) -> BriefingRecord:
        """A briefing and its invitation list: the enterprises of ``area`` with the
        ``tags`` and ``sectors`` asked for, and any named in ``subjects``."""
        self.p.known_area("area", area)
        self.p.manage(user, area)
        place, link = plain("place", place), plain("link", link)
        if mode == MeetingMode.ONLINE and not link:
            raise FieldError("link", "an online briefing needs its link")
        if mode == MeetingMode.OFFLINE and not place:
            raise FieldError("place", "an on-site briefing needs its place")
        if link and not link.startswith(("https://", "http://")):
            raise FieldError("link", "give an http(s) address")
        self.p.files.check(list(materials))
        chosen = {e.id: e for e in invitees(self.world, area, tags, sectors)}
        known = {e.id: e for e in enterprises(self.world)}
        for i, sid in enumerate(subjects):
            e = known.get(sid)
            if e is None:
                raise FieldError(f"subjects[{i}]", f"no enterprise {sid[:64]!r}")
            if not self.world.within(e.area, area):
                raise FieldError(f"subjects[{i}]", f"{e.name} is not within {area}")
            chosen[e.id] = e
        if not chosen:
            raise FieldError("tags", "no enterprise of the area matches: nobody to invite")
        now = self.p.now()
        b = Briefing(
            id=f"BR-{local_date(now, self.world.timezone):%Y%m%d}-{secrets.token_hex(3).upper()}",
            title=words("title", title),
            topic=words("topic", topic),
            mode=mode,
            at=when("at", at),
            area=area,
            created_at=now,
            created_by=user.username,
            place=place,
            link=link,
            materials=tuple(dict.fromkeys(materials)),
        )
        invited = [Invitation(b.id, e.id, e.name, e.area) for e in chosen.values()]
        db.add_briefing(self.p.store, b, invited)
        return self.record(b)

    def find(
        self, user: User, area: str | None, *, offset: int = 0, limit: int = 50
    ) -> tuple[list[Briefing], int]:
        return db.list_briefings(
            self.p.store, self.readable(user, area), offset=offset, limit=limit
        )

    def add_materials(self, user: User, briefing_id: str, refs: Sequence[str]) -> BriefingRecord:
        b = self.run(user, briefing_id)
        self.p.files.check(list(refs))
        db.add_materials(self.p.store, b.id, refs)
        return self.record(self.run(user, b.id))

    def roll(
        self,
        user: User,
        briefing_id: str,
        subject_id: str,
        *,
        signed_up: bool | None = None,
        attended: bool | None = None,
    ) -> BriefingRecord:
        """Record that an invited enterprise signed up (报名) and came (参会), or undo
        either; coming implies having signed up."""
        b = self.run(user, briefing_id)
        if signed_up is None and attended is None:
            raise FieldError("signed_up", "give signed_up or attended")
        current = {i.subject_id: i for i in db.invitations(self.p.store, b.id)}.get(subject_id)
        if current is None:
            raise NotFound("subject", f"{subject_id[:64]!r} is not invited to this briefing")
        now = self.p.now()
        if attended and now < b.at:
            raise Conflict("attended", "the briefing has not begun yet")
        up, came = current.signed_up_at, current.attended_at
        if signed_up is not None:
            up = (up or now) if signed_up else None
            came = came if signed_up else None  # no sign-up, no attendance
        if attended is not None:
            came = (came or now) if attended else None
            up = (up or now) if attended else up
        db.set_roll(self.p.store, b.id, subject_id, up, came)
        return self.record(b)

    def ask(self, user: User, briefing_id: str, text: str, subject: str | None = None) -> Question:
        """A question asked during the briefing (staff write down what was asked, and
        by which invited enterprise when known)."""
        b = self.run(user, briefing_id)
        if subject is not None and subject not in {
            i.subject_id for i in db.invitations(self.p.store, b.id)
        }:
            raise FieldError("subject", f"{subject[:64]!r} is not invited to this briefing")
        return db.add_question(
            self.p.store, Question(b.id, 0, words("text", text), self.p.now(), subject)
        )

    def question(self, user: User, briefing_id: str, n: int) -> tuple[Briefing, Question]:
        b = self.run(user, briefing_id)
        found = db.get_question(self.p.store, b.id, n)
        if found is None:
            raise NotFound("question", f"no question {n} in {b.id}")
        return b, found

    def answer(self, user: User, briefing_id: str, n: int, text: str) -> Question:
        """The answer to a question, given on the spot or after."""
        b, q = self.question(user, briefing_id, n)
        answer = words("text", text)
        db.answer_question(self.p.store, b.id, q.n, answer, self.p.now(), user.username)
        return self.question(user, b.id, n)[1]

    def to_case(
        self, user: User, briefing_id: str, n: int, category: str = "other"
    ) -> tuple[Question, Case | None]:
        """The question becomes a case in the closed loop: a report (``report.citizen``
        from source ``briefing``, its id ``<briefing>-<n>``) in the asking enterprise's
        area (else the briefing's), routed like any report of its category."""
        b, q = self.question(user, briefing_id, n)
        if category not in REPORT_CATEGORIES:
            raise FieldError("category", f"{category!r} not among {', '.join(REPORT_CATEGORIES)}")
        invited = {i.subject_id: i for i in db.invitations(self.p.store, b.id)}
        asker = invited.get(q.subject_id or "")
        area = asker.area if asker is not None and asker.area else b.area
        event = Event(
            id=f"{b.id}-{q.n}",
            kind="report.citizen",
            ts=self.p.now(),
            source=SOURCE,
            area=area,
            attrs={
                "category": category,
                "text": f"{b.title}（宣讲提问{'，' + asker.name if asker else ''}）：{q.text}",
                "briefing": b.id,
                **({"subject": asker.subject_id} if asker is not None else {}),
            },
        )
        if not db.link_case(self.p.store, b.id, q.n, event.ref):
            raise Conflict("case", "this question is a case already")
        try:
            result = self.p.pipeline.ingest([event])[0]
        except BaseException:
            db.unlink_case(self.p.store, b.id, q.n)
            raise
        if result.status not in ("accepted", "duplicate"):
            db.unlink_case(self.p.store, b.id, q.n)
            raise FieldError(result.field or "report", str(result.reason))
        updated = self.question(user, b.id, n)[1]
        return updated, cases_by_key(self.p.store, [event.ref]).get(event.ref)

    def stats(
        self, user: User, area: str | None, period: tuple[datetime, datetime] | None
    ) -> dict[str, Any]:
        """Sessions, enterprises invited and reached, questions asked, answered and
        made cases (and how many of those cases are closed) in the period."""
        figures = db.counts(self.p.store, self.readable(user, area), period)
        keys = figures.pop("case_keys")
        cases = cases_by_key(self.p.store, keys)
        return {
            **figures,
            "questions_to_cases": len(keys),
            "cases_closed": sum(1 for c in cases.values() if c.state == CaseState.CLOSED),
        }

    # ------------------------------------------------------------------ facilitators
    def community(self, field: str, code: str) -> str:
        area = self.world.areas.get(code)
        if area is None or area.level != AreaLevel.COMMUNITY:
            raise FieldError(field, f"{code[:64]!r} is not a community")
        return code

    def train(self, user: User, username: str, community: str, note: str = "") -> Facilitator:
        """Make ``username`` a facilitator of ``community`` (staff of that community):
        a resident whose home is there, or a handler (小区专员) whose party serves it."""
        self.community("community", community)
        self.p.manage(user, community)
        found = user_with_hash(self.p.store, username)
        if found is None:
            raise FieldError("user", f"no user {username[:64]!r}")
        who = found[0]
        if not who.active:
            raise FieldError("user", f"{username}'s account is disabled")
        if who.role not in FACILITATOR_ROLES:
            raise FieldError("user", f"a {who.role.value} runs topics by role; no flag needed")
        if who.role == UserRole.RESIDENT and not home_within(who, community, self.world):
            raise FieldError("user", f"{username}'s home is not in {community}")
        if who.role == UserRole.HANDLER and not scope_of(who, self.world).allows(community):
            raise FieldError("user", f"{username}'s party does not serve {community}")
        made = Facilitator(who.id, community, self.p.now(), user.username, plain("note", note))
        db.put_facilitator(self.p.store, made)
        return made

    def withdraw(self, user: User, username: str) -> Facilitator:
        """The facilitator steps down (their meetings stay counted)."""
        who = self.facilitator_user(username)
        f = db.get_facilitator(self.p.store, who.id)
        if f is None or not scope_of(user, self.world).allows(f.community):
            raise NotFound("user", f"{username[:64]!r} is not a facilitator among yours")
        self.p.manage(user, f.community)
        if not db.end_facilitator(self.p.store, who.id, self.p.now()):
            raise Conflict("user", f"{username} stepped down already")
        ended = db.get_facilitator(self.p.store, who.id)
        assert ended is not None
        return ended

    def mine(self, user: User) -> Facilitator | None:
        """The signed-in person's own facilitation, while active (what the portal
        offers them: opening and moderating topics in that community)."""
        if self.p.moderates(user) is None:
            return None
        return db.get_facilitator(self.p.store, user.id)

    def facilitator_user(self, username: str) -> User:
        found = user_with_hash(self.p.store, username)
        if found is None:
            raise NotFound("user", f"no user {username[:64]!r}")
        return found[0]

    def facilitators(
        self, user: User, area: str | None, period: tuple[datetime, datetime] | None
    ) -> tuple[list[Facilitator], list[dict[str, Any]], dict[str, int]]:
        """The facilitators of the communities in the caller's areas (narrowed to
        ``area``); per community, how many are active and the meetings they ran in the
        period; and the meetings each ran in the period (by user id)."""
        if user.role not in STAFF - {UserRole.HANDLER}:
            raise Refused("role", "facilitators are managed by dispatchers and read by leaders")
        areas = self.p.readable_areas(user, area)
        communities = [
            a.code
            for a in self.world.areas.values()
            if a.level == AreaLevel.COMMUNITY and (areas is None or a.code in areas)
        ]
        found = db.facilitators(self.p.store, communities)
        mine = {f.user_id: f.community for f in found}
        ran: Counter[str] = Counter()
        by_user: Counter[str] = Counter()
        for user_id, topic_area in db.moderated(self.p.store, period):
            community = mine.get(user_id)
            if community is not None and self.world.within(topic_area, community):
                ran[community] += 1
                by_user[user_id] += 1
        active = Counter(f.community for f in found if f.active)
        rows = [
            {
                "area": code,
                "facilitators": active[code],
                "meetings": ran[code],
            }
            for code in sorted(communities)
        ]
        return found, rows, dict(by_user)
