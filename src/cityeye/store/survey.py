"""社会评价 surveys in the database: the surveys and their units, the invitations (a
token's hash or a resident, and a used flag), the ratings as counters and the comments.

An answer is one transaction: the invitation's flag turns from unused to used (only
if it was unused: a second answer changes no row, and then nothing is counted), the
counters of the scores given go up by one, the comments are added with a random id.
No row says who answered what, nor when (:mod:`cityeye.survey`).
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Integer, and_, cast, func, insert, select, update

from cityeye.store import tables as t
from cityeye.store.repo import Store

RATINGS = (1, 2, 3, 4, 5)


@dataclass(frozen=True, slots=True)
class Unit:
    """A unit a survey rates: ``key`` ``street:<area>`` or ``department:<party>``."""

    key: str
    kind: str  # "street" | "department"
    name: str


@dataclass(frozen=True, slots=True)
class Survey:
    id: str
    title: str
    year: int
    question_zh: str
    question_en: str
    opens_at: datetime
    closes_at: datetime
    created_at: datetime
    created_by: str
    units: tuple[Unit, ...] = ()


@dataclass(frozen=True, slots=True)
class Invitation:
    id: str
    survey_id: str
    secret_hash: str | None
    user_id: str | None
    used: bool
    receipt_hash: str | None


@dataclass(frozen=True, slots=True)
class Answer:
    """One unit's part of a response: a score and an optional comment."""

    unit: str
    rating: int
    comment: str | None = None


def add_survey(store: Store, survey: Survey) -> None:
    with store.engine.begin() as conn:
        conn.execute(
            insert(t.surveys).values(
                id=survey.id,
                title=survey.title,
                year=survey.year,
                question_zh=survey.question_zh,
                question_en=survey.question_en,
                opens_at=survey.opens_at,
                closes_at=survey.closes_at,
                created_at=survey.created_at,
                created_by=survey.created_by,
            )
        )
        conn.execute(
            insert(t.survey_units),
            [
                {"survey_id": survey.id, "unit": u.key, "n": n, "kind": u.kind, "name": u.name}
                for n, u in enumerate(survey.units)
            ],
        )
        conn.execute(
            insert(t.survey_tally),
            [
                {"survey_id": survey.id, "unit": u.key, "rating": r, "count": 0}
                for u in survey.units
                for r in RATINGS
            ],
        )


def _units(conn: Any, survey_id: str) -> tuple[Unit, ...]:
    c = t.survey_units.c
    rows = conn.execute(select(t.survey_units).where(c.survey_id == survey_id).order_by(c.n)).all()
    return tuple(Unit(r.unit, r.kind, r.name) for r in rows)


def _survey(conn: Any, r: Any) -> Survey:
    return Survey(
        r.id,
        r.title,
        r.year,
        r.question_zh,
        r.question_en,
        r.opens_at,
        r.closes_at,
        r.created_at,
        r.created_by,
        _units(conn, r.id),
    )


def get_survey(store: Store, survey_id: str) -> Survey | None:
    with store.engine.connect() as conn:
        r = conn.execute(select(t.surveys).where(t.surveys.c.id == survey_id)).first()
        return None if r is None else _survey(conn, r)


def list_surveys(store: Store) -> list[Survey]:
    """Every survey, the newest year first."""
    c = t.surveys.c
    with store.engine.connect() as conn:
        rows = conn.execute(select(t.surveys).order_by(c.year.desc(), c.created_at.desc())).all()
        return [_survey(conn, r) for r in rows]


def add_invitations(store: Store, rows: Sequence[Invitation]) -> None:
    if not rows:
        return
    with store.engine.begin() as conn:
        conn.execute(
            insert(t.survey_invitations),
            [
                {
                    "id": i.id,
                    "survey_id": i.survey_id,
                    "secret_hash": i.secret_hash,
                    "user_id": i.user_id,
                    "used": i.used,
                    "receipt_hash": None,
                }
                for i in rows
            ],
        )


def _invitation(r: Any) -> Invitation:
    return Invitation(r.id, r.survey_id, r.secret_hash, r.user_id, r.used, r.receipt_hash)


def get_invitation(store: Store, invitation_id: str) -> Invitation | None:
    c = t.survey_invitations.c
    with store.engine.connect() as conn:
        r = conn.execute(select(t.survey_invitations).where(c.id == invitation_id)).first()
    return None if r is None else _invitation(r)


def invitations_of_user(store: Store, user_id: str) -> list[Invitation]:
    c = t.survey_invitations.c
    with store.engine.connect() as conn:
        rows = conn.execute(select(t.survey_invitations).where(c.user_id == user_id)).all()
    return [_invitation(r) for r in rows]


def invited_users(store: Store, survey_id: str) -> set[str]:
    c = t.survey_invitations.c
    with store.engine.connect() as conn:
        rows = conn.execute(
            select(c.user_id).where(c.survey_id == survey_id, c.user_id.is_not(None))
        )
        return {u for u in rows.scalars() if u is not None}


def invitation_counts(store: Store, survey_id: str) -> tuple[int, int]:
    """(invited, answered) of a survey."""
    c = t.survey_invitations.c
    with store.engine.connect() as conn:
        row = conn.execute(
            select(func.count(), func.coalesce(func.sum(cast(c.used, Integer)), 0)).where(
                c.survey_id == survey_id
            )
        ).one()
    return int(row[0]), int(row[1])


def answer(
    store: Store, invitation: Invitation, answers: Sequence[Answer], receipt_hash: str
) -> bool:
    """Record a response against ``invitation``: ``False`` (and nothing recorded) when
    the invitation was used already."""
    inv = t.survey_invitations.c
    tally = t.survey_tally.c
    with store.engine.begin() as conn:
        done = conn.execute(
            update(t.survey_invitations)
            .where(inv.id == invitation.id, inv.used.is_(False))
            .values(used=True, receipt_hash=receipt_hash)
        )
        if done.rowcount != 1:
            return False
        for a in answers:
            conn.execute(
                update(t.survey_tally)
                .where(
                    and_(
                        tally.survey_id == invitation.survey_id,
                        tally.unit == a.unit,
                        tally.rating == a.rating,
                    )
                )
                .values(count=tally["count"] + 1)
            )
        comments = [
            {
                "id": secrets.token_hex(12),
                "survey_id": invitation.survey_id,
                "unit": a.unit,
                "rating": a.rating,
                "text": a.comment,
            }
            for a in answers
            if a.comment
        ]
        if comments:
            conn.execute(insert(t.survey_comments), comments)
    return True


def tallies(store: Store, survey_id: str) -> dict[str, dict[int, int]]:
    """{unit: {score: how many gave it}} for every unit of the survey."""
    c = t.survey_tally.c
    out: dict[str, dict[int, int]] = {}
    with store.engine.connect() as conn:
        for r in conn.execute(select(t.survey_tally).where(c.survey_id == survey_id)):
            out.setdefault(r.unit, {})[r.rating] = r._mapping["count"]
    return out


def comments(store: Store, survey_id: str) -> list[tuple[str, int, str]]:
    """(unit, score, text) of every comment, in the text's order — never the order
    they came in, which could be matched with when someone answered."""
    c = t.survey_comments.c
    with store.engine.connect() as conn:
        rows = conn.execute(
            select(c.unit, c.rating, c.text)
            .where(c.survey_id == survey_id)
            .order_by(c.unit, c.text, c.id)
        ).all()
    return [(r.unit, r.rating, r.text) for r in rows]


def close_survey(store: Store, survey_id: str, at: datetime) -> bool:
    """End the survey now (if it closes later); ``False`` when it had closed."""
    c = t.surveys.c
    with store.engine.begin() as conn:
        done = conn.execute(
            update(t.surveys).where(c.id == survey_id, c.closes_at > at).values(closes_at=at)
        )
    return bool(done.rowcount)
