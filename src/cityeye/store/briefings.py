"""线上宣讲 and 促动师 in the database: briefings with their invitation lists and
questions, facilitators and the meetings they ran.

Every list takes the areas the caller may see (``None``: all), so the bound is in the
SQL, as for cases and suggestions.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import func, insert, select, update

from cityeye.domain.briefings import Briefing, Facilitator, Invitation, Question
from cityeye.domain.participation import MeetingMode
from cityeye.store import tables as t
from cityeye.store.participation import _in
from cityeye.store.repo import Store


# ---------------------------------------------------------------------- briefings
def _briefing(r: Any) -> Briefing:
    return Briefing(
        id=r.id,
        title=r.title,
        topic=r.topic,
        mode=MeetingMode(r.mode),
        at=r.at,
        area=r.area_code,
        created_at=r.created_at,
        created_by=r.created_by,
        place=r.place,
        link=r.link,
        materials=tuple(r.materials or ()),
    )


def add_briefing(store: Store, b: Briefing, invited: Iterable[Invitation]) -> None:
    """The briefing and its invitation list, in one transaction."""
    rows = [
        {"briefing_id": b.id, "subject_id": i.subject_id, "name": i.name, "area_code": i.area}
        for i in invited
    ]
    with store.engine.begin() as conn:
        conn.execute(
            insert(t.briefings).values(
                id=b.id,
                title=b.title,
                topic=b.topic,
                mode=b.mode.value,
                at=b.at,
                place=b.place,
                link=b.link,
                area_code=b.area,
                materials=list(b.materials),
                created_at=b.created_at,
                created_by=b.created_by,
            )
        )
        if rows:
            conn.execute(insert(t.briefing_invitations), rows)


def get_briefing(store: Store, briefing_id: str) -> Briefing | None:
    with store.engine.connect() as conn:
        r = conn.execute(select(t.briefings).where(t.briefings.c.id == briefing_id)).first()
    return None if r is None else _briefing(r)


def list_briefings(
    store: Store, areas: Collection[str] | None, *, offset: int = 0, limit: int = 50
) -> tuple[list[Briefing], int]:
    """Briefings in ``areas``, the latest first, and how many there are."""
    c = t.briefings.c
    where = [w for w in (_in(c.area_code, areas),) if w is not None]
    with store.engine.connect() as conn:
        total = conn.execute(select(func.count()).select_from(t.briefings).where(*where))
        rows = conn.execute(
            select(t.briefings)
            .where(*where)
            .order_by(c.at.desc(), c.id)
            .offset(offset)
            .limit(limit)
        ).all()
        return [_briefing(r) for r in rows], total.scalar_one()


def add_materials(store: Store, briefing_id: str, refs: Iterable[str]) -> None:
    b = get_briefing(store, briefing_id)
    assert b is not None
    kept = list(dict.fromkeys([*b.materials, *refs]))
    with store.engine.begin() as conn:
        conn.execute(
            update(t.briefings).where(t.briefings.c.id == briefing_id).values(materials=kept)
        )


def _invitation(r: Any) -> Invitation:
    return Invitation(
        briefing_id=r.briefing_id,
        subject_id=r.subject_id,
        name=r.name,
        area=r.area_code,
        signed_up_at=r.signed_up_at,
        attended_at=r.attended_at,
    )


def invitations(store: Store, briefing_id: str) -> list[Invitation]:
    c = t.briefing_invitations.c
    with store.engine.connect() as conn:
        rows = conn.execute(
            select(t.briefing_invitations)
            .where(c.briefing_id == briefing_id)
            .order_by(c.subject_id)
        ).all()
    return [_invitation(r) for r in rows]


def set_roll(
    store: Store,
    briefing_id: str,
    subject_id: str,
    signed_up_at: datetime | None,
    attended_at: datetime | None,
) -> None:
    """An invited enterprise's sign-up and attendance, as they are now."""
    c = t.briefing_invitations.c
    with store.engine.begin() as conn:
        conn.execute(
            update(t.briefing_invitations)
            .where(c.briefing_id == briefing_id, c.subject_id == subject_id)
            .values(signed_up_at=signed_up_at, attended_at=attended_at)
        )


def _question(r: Any) -> Question:
    return Question(
        briefing_id=r.briefing_id,
        n=r.n,
        text=r.text,
        asked_at=r.asked_at,
        subject_id=r.subject_id,
        answer=r.answer,
        answered_at=r.answered_at,
        answered_by=r.answered_by,
        case_key=r.case_key,
    )


def add_question(store: Store, q: Question) -> Question:
    """The question, numbered after the briefing's last one."""
    c = t.briefing_questions.c
    with store.engine.begin() as conn:
        last = conn.execute(
            select(func.max(c.n)).where(c.briefing_id == q.briefing_id)
        ).scalar_one()
        n = (last or 0) + 1
        conn.execute(
            insert(t.briefing_questions).values(
                briefing_id=q.briefing_id,
                n=n,
                subject_id=q.subject_id,
                text=q.text,
                asked_at=q.asked_at,
            )
        )
    return Question(q.briefing_id, n, q.text, q.asked_at, q.subject_id)


def questions(store: Store, briefing_id: str) -> list[Question]:
    c = t.briefing_questions.c
    with store.engine.connect() as conn:
        rows = conn.execute(
            select(t.briefing_questions).where(c.briefing_id == briefing_id).order_by(c.n)
        ).all()
    return [_question(r) for r in rows]


def get_question(store: Store, briefing_id: str, n: int) -> Question | None:
    c = t.briefing_questions.c
    with store.engine.connect() as conn:
        r = conn.execute(
            select(t.briefing_questions).where(c.briefing_id == briefing_id, c.n == n)
        ).first()
    return None if r is None else _question(r)


def answer_question(
    store: Store, briefing_id: str, n: int, text: str, at: datetime, by: str
) -> None:
    c = t.briefing_questions.c
    with store.engine.begin() as conn:
        conn.execute(
            update(t.briefing_questions)
            .where(c.briefing_id == briefing_id, c.n == n)
            .values(answer=text, answered_at=at, answered_by=by)
        )


def link_case(store: Store, briefing_id: str, n: int, case_key: str) -> bool:
    """The question's case, once: ``False`` when it has one already."""
    c = t.briefing_questions.c
    with store.engine.begin() as conn:
        done = conn.execute(
            update(t.briefing_questions)
            .where(c.briefing_id == briefing_id, c.n == n, c.case_key.is_(None))
            .values(case_key=case_key)
        )
        return bool(done.rowcount)


def unlink_case(store: Store, briefing_id: str, n: int) -> None:
    c = t.briefing_questions.c
    with store.engine.begin() as conn:
        conn.execute(
            update(t.briefing_questions)
            .where(c.briefing_id == briefing_id, c.n == n)
            .values(case_key=None)
        )


def counts(
    store: Store, areas: Collection[str] | None, period: tuple[datetime, datetime] | None
) -> dict[str, Any]:
    """Briefings held in the period (by their time), enterprises invited and reached
    (came, each counted once however many sessions it attended), questions asked,
    answered and made cases, and those cases' keys."""
    b, i, q = t.briefings.c, t.briefing_invitations.c, t.briefing_questions.c
    where = [w for w in (_in(b.area_code, areas),) if w is not None]
    if period is not None:
        where += [b.at >= period[0], b.at < period[1]]
    with_i = t.briefing_invitations.join(t.briefings, b.id == i.briefing_id)
    with_q = t.briefing_questions.join(t.briefings, b.id == q.briefing_id)
    with store.engine.connect() as conn:
        sessions = conn.execute(select(func.count()).select_from(t.briefings).where(*where))
        invited = conn.execute(
            select(func.count(func.distinct(i.subject_id))).select_from(with_i).where(*where)
        )
        reached = conn.execute(
            select(func.count(func.distinct(i.subject_id)))
            .select_from(with_i)
            .where(*where, i.attended_at.is_not(None))
        )
        attendances = conn.execute(
            select(func.count()).select_from(with_i).where(*where, i.attended_at.is_not(None))
        )
        asked = conn.execute(select(func.count()).select_from(with_q).where(*where))
        answered = conn.execute(
            select(func.count()).select_from(with_q).where(*where, q.answered_at.is_not(None))
        )
        keys = conn.execute(
            select(q.case_key).select_from(with_q).where(*where, q.case_key.is_not(None))
        )
        return {
            "sessions": sessions.scalar_one(),
            "enterprises_invited": invited.scalar_one(),
            "enterprises_reached": reached.scalar_one(),
            "attendances": attendances.scalar_one(),
            "questions": asked.scalar_one(),
            "questions_answered": answered.scalar_one(),
            "case_keys": [r[0] for r in keys.all()],
        }


# ---------------------------------------------------------------------- facilitators
def _facilitator(r: Any) -> Facilitator:
    return Facilitator(r.user_id, r.community, r.since, r.granted_by, r.note, r.ended_at)


def put_facilitator(store: Store, f: Facilitator) -> None:
    """Train (or train again) a facilitator: one community per person."""
    c = t.facilitators.c
    values = {
        "community": f.community,
        "since": f.since,
        "granted_by": f.granted_by,
        "note": f.note,
        "ended_at": None,
    }
    with store.engine.begin() as conn:
        done = conn.execute(update(t.facilitators).where(c.user_id == f.user_id).values(values))
        if not done.rowcount:
            conn.execute(insert(t.facilitators).values(user_id=f.user_id, **values))


def get_facilitator(store: Store, user_id: str) -> Facilitator | None:
    with store.engine.connect() as conn:
        r = conn.execute(select(t.facilitators).where(t.facilitators.c.user_id == user_id)).first()
    return None if r is None else _facilitator(r)


def end_facilitator(store: Store, user_id: str, at: datetime) -> bool:
    c = t.facilitators.c
    with store.engine.begin() as conn:
        done = conn.execute(
            update(t.facilitators)
            .where(c.user_id == user_id, c.ended_at.is_(None))
            .values(ended_at=at)
        )
        return bool(done.rowcount)


def facilitators(store: Store, communities: Collection[str] | None) -> list[Facilitator]:
    """Facilitators (past ones too) of ``communities``, by community and since."""
    c = t.facilitators.c
    where = [w for w in (_in(c.community, communities),) if w is not None]
    with store.engine.connect() as conn:
        rows = conn.execute(
            select(t.facilitators).where(*where).order_by(c.community, c.since, c.user_id)
        ).all()
    return [_facilitator(r) for r in rows]


def set_moderator(store: Store, meeting_id: str, user_id: str) -> None:
    with store.engine.begin() as conn:
        conn.execute(insert(t.meeting_moderators).values(meeting_id=meeting_id, user_id=user_id))


def moderated(store: Store, period: tuple[datetime, datetime] | None) -> list[tuple[str, str]]:
    """(moderator's user id, the topic's area) of each meeting a facilitator ran, in
    the period (by the meeting's time)."""
    m, mm, tp = t.meetings.c, t.meeting_moderators.c, t.topics.c
    where = [] if period is None else [m.at >= period[0], m.at < period[1]]
    with store.engine.connect() as conn:
        rows = conn.execute(
            select(mm.user_id, tp.area_code)
            .select_from(
                t.meeting_moderators.join(t.meetings, m.id == mm.meeting_id).join(
                    t.topics, tp.id == m.topic_id
                )
            )
            .where(*where)
        ).all()
    return [(r[0], r[1]) for r in rows]
