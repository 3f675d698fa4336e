"""社会评价: an annual survey of units — the district's streets and its departments —
by invited respondents, whose results the assessment office weighs.

Seed ``002_eb65affc0b4d145a.txt`` (line 12) announces it: the district's 考评办
organises a yearly 社会评价 in which the participating units and individuals
("参加投票的单位和个人") evaluate each unit, and the evaluations, opinions and
suggestions become an important basis for assessing, evaluating, rewarding and
punishing streets and departments. How it is asked and counted here is ours (the seed
does not say): a 1–5 rating per unit with an optional comment, one response per
invitation, a 95 % t interval on each unit's mean (:mod:`cityeye.survey.stats`).

Who does what (our choice; docs/survey.md):

* **run** a survey (create it, invite, close it): admins and dispatchers whose post
  covers the whole district — the office that assesses streets cannot sit in one;
* **read** results and export them: the same, and the district's leaders;
* **answer**: whoever holds an unused token link (``sv_<id>_<secret>``, shown once,
  only its SHA-256 kept, as the API tokens), or a verified resident invited by
  account. Once each: a used link, or a resident who answered, is refused.

Anonymous: the answer turns the invitation's flag to used and adds to counters per unit
and score; comments are kept with their score only. Nothing in the results, the
export or the database says which invitation gave which answer (:mod:`cityeye.store.survey`).
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import IO, Any

from cityeye.accounts import residents_of
from cityeye.domain import AreaLevel, FieldError, World
from cityeye.domain.parties import PartyKind
from cityeye.domain.tokens import hash_secret, new_token, secret_matches, split_token
from cityeye.domain.users import User, UserRole, covers_district
from cityeye.errors import ConflictError, NotFoundError, RefusedError
from cityeye.store import Store
from cityeye.store import survey as db
from cityeye.store.survey import RATINGS, Answer, Invitation, Survey, Unit
from cityeye.survey.stats import Score, score

#: A survey link's token: ``sv_<id>_<secret>``.
PREFIX = "sv_"
#: Who runs surveys and who reads their results (at a district post, :func:`_district`).
RUNNERS = (UserRole.ADMIN, UserRole.DISPATCHER)
READERS = (UserRole.ADMIN, UserRole.DISPATCHER, UserRole.LEADER)
#: The most token links one request makes (a district's list of invitees is hundreds).
MAX_LINKS = 2000
MAX_COMMENT = 1000
QUESTION_ZH = "您对该单位本年度的工作满意吗？"
QUESTION_EN = "How satisfied are you with this unit's work this year?"
STREET, DEPARTMENT = "street", "department"


# ------------------------------------------------------------------------ who
def _district(user: User, world: World, roles: tuple[UserRole, ...], what: str) -> None:
    """Refuse unless ``user`` has one of ``roles`` at a post covering the district."""
    if user.role not in roles:
        raise RefusedError(f"role: only {what}")
    if not covers_district(user, world):
        raise RefusedError(
            "areas: surveys of the district's units are run and read at the district, "
            "not by a street or community post"
        )


def may_run(user: User, world: World) -> None:
    _district(user, world, RUNNERS, "the district's admins and dispatchers run surveys")


def may_read(user: User, world: World) -> None:
    _district(user, world, READERS, "the district's admins, dispatchers and leaders read results")


# ------------------------------------------------------------------------ units
def units_of(world: World) -> list[Unit]:
    """What may be rated: every street of the district, then every department (a party
    of the government kind), in code and name order."""
    streets = [Unit(f"{STREET}:{a.code}", STREET, a.name) for a in world.at_level(AreaLevel.STREET)]
    departments = sorted(
        (
            Unit(f"{DEPARTMENT}:{p.id}", DEPARTMENT, p.name)
            for p in world.parties.values()
            if p.kind == PartyKind.GOVERNMENT
        ),
        key=lambda u: (u.name, u.key),
    )
    return streets + departments


def create_survey(
    store: Store,
    world: World,
    staff: User,
    *,
    title: str,
    year: int,
    opens_at: datetime,
    closes_at: datetime,
    now: datetime,
    units: Sequence[str] | None = None,
    question_zh: str | None = None,
    question_en: str | None = None,
) -> Survey:
    """A new survey of ``units`` (keys of :func:`units_of`; all of them if ``None``)."""
    may_run(staff, world)
    title = title.strip()
    if not 1 <= len(title) <= 200:
        raise FieldError("title", "1–200 characters")
    if not 2000 <= year <= 2100:
        raise FieldError("year", "a year between 2000 and 2100")
    for name, value in (("opens_at", opens_at), ("closes_at", closes_at)):
        if value.tzinfo is None:
            raise FieldError(name, "give a time zone (e.g. +08:00)")
    if closes_at <= opens_at:
        raise FieldError("closes_at", "must be after opens_at")
    known = {u.key: u for u in units_of(world)}
    if units is None:
        chosen = list(known.values())
    else:
        unknown = [k for k in units if k not in known]
        if unknown:
            raise FieldError("units", f"not streets or departments of the district: {unknown}")
        if len(set(units)) != len(units):
            raise FieldError("units", "a unit is listed twice")
        chosen = [known[k] for k in units]
    if not chosen:
        raise FieldError("units", "rate at least one street or department")
    qz = (question_zh or QUESTION_ZH).strip()
    qe = (question_en or QUESTION_EN).strip()
    if not 1 <= len(qz) <= 300 or not 1 <= len(qe) <= 300:
        raise FieldError("question", "1–300 characters")
    survey = Survey(
        id=f"SV{year}-{secrets.token_hex(4)}",
        title=title,
        year=year,
        question_zh=qz,
        question_en=qe,
        opens_at=opens_at,
        closes_at=closes_at,
        created_at=now,
        created_by=staff.id,
        units=tuple(chosen),
    )
    db.add_survey(store, survey)
    return survey


def get(store: Store, survey_id: str) -> Survey:
    found = db.get_survey(store, survey_id)
    if found is None:
        raise NotFoundError(f"survey: no survey {survey_id!r}")
    return found


def close(store: Store, world: World, staff: User, survey_id: str, now: datetime) -> Survey:
    """Stop taking responses now."""
    may_run(staff, world)
    get(store, survey_id)
    if not db.close_survey(store, survey_id, now):
        raise ConflictError("survey: closed already")
    return get(store, survey_id)


# ------------------------------------------------------------------------ invitations
def invite_links(
    store: Store, world: World, staff: User, survey_id: str, count: int, now: datetime
) -> list[str]:
    """``count`` one-time tokens for ``survey_id``; the only copies there will be."""
    may_run(staff, world)
    survey = get(store, survey_id)
    if survey.closes_at <= now:
        raise ConflictError("survey: closed: it takes no more respondents")
    if not 1 <= count <= MAX_LINKS:
        raise FieldError("links", f"1–{MAX_LINKS} at a time")
    tokens, rows = [], []
    for _ in range(count):
        token_id, secret, whole = new_token(PREFIX, 8)
        rows.append(Invitation(token_id, survey_id, hash_secret(secret), None, False, None))
        tokens.append(whole)
    db.add_invitations(store, rows)
    return tokens


def invite_residents(
    store: Store, world: World, staff: User, survey_id: str, area: str | None, now: datetime
) -> int:
    """Invite every active verified resident whose home lies in ``area`` (the whole
    district if ``None``) and who is not invited yet; how many were added."""
    may_run(staff, world)
    survey = get(store, survey_id)
    if survey.closes_at <= now:
        raise ConflictError("survey: closed: it takes no more respondents")
    already = db.invited_users(store, survey_id)
    rows = [
        Invitation(secrets.token_hex(8), survey_id, None, u.id, False, None)
        for u in residents_of(store, world, staff, area)
        if u.active and u.id not in already
    ]
    db.add_invitations(store, rows)
    return len(rows)


# ------------------------------------------------------------------------ answering
@dataclass(frozen=True, slots=True)
class Ballot:
    """What a respondent sees: the survey and whether their invitation was used."""

    survey: Survey
    answered: bool
    open: bool


def _is_open(survey: Survey, now: datetime) -> bool:
    return survey.opens_at <= now < survey.closes_at


def _token_invitation(store: Store, token: str) -> Invitation:
    parts = split_token(token.strip(), PREFIX)
    found = db.get_invitation(store, parts[0]) if parts else None
    stored = found.secret_hash if found is not None else None
    if not secret_matches(parts[1] if parts else token, stored):
        raise NotFoundError("token: no such survey link (check it was copied whole)")
    assert found is not None
    return found


def ballot_by_token(store: Store, token: str, now: datetime) -> Ballot:
    invitation = _token_invitation(store, token)
    survey = get(store, invitation.survey_id)
    return Ballot(survey, invitation.used, _is_open(survey, now))


def _resident_invitation(store: Store, user: User, survey_id: str) -> Invitation:
    if user.role != UserRole.RESIDENT:
        raise RefusedError("role: only residents answer; staff run the survey")
    for invitation in db.invitations_of_user(store, user.id):
        if invitation.survey_id == survey_id:
            return invitation
    raise NotFoundError(f"survey: you are not invited to {survey_id!r}")


def ballots_of_resident(store: Store, user: User, now: datetime) -> list[Ballot]:
    """The surveys ``user`` is invited to, open ones first."""
    if user.role != UserRole.RESIDENT:
        raise RefusedError("role: only residents answer; staff run the survey")
    out = []
    for invitation in db.invitations_of_user(store, user.id):
        survey = get(store, invitation.survey_id)
        out.append(Ballot(survey, invitation.used, _is_open(survey, now)))
    return sorted(out, key=lambda b: (not b.open, -b.survey.year, b.survey.id))


def _answers(survey: Survey, raw: Sequence[dict[str, Any]]) -> list[Answer]:
    """Check a response's answers: known units, each once, a score 1–5, a comment of
    at most :data:`MAX_COMMENT` characters. Units left out are skipped, not zero."""
    units = {u.key for u in survey.units}
    out: list[Answer] = []
    seen: set[str] = set()
    for i, item in enumerate(raw):
        unit = item.get("unit")
        if unit not in units:
            raise FieldError(f"answers[{i}].unit", f"not a unit of this survey: {unit!r}")
        if unit in seen:
            raise FieldError(f"answers[{i}].unit", "rated twice in one response")
        seen.add(unit)
        rating = item.get("rating")
        if isinstance(rating, bool) or not isinstance(rating, int) or rating not in RATINGS:
            raise FieldError(f"answers[{i}].rating", "a whole number from 1 to 5")
        comment = item.get("comment")
        if comment is not None and not isinstance(comment, str):
            raise FieldError(f"answers[{i}].comment", "text")
        comment = (comment or "").strip() or None
        if comment is not None and len(comment) > MAX_COMMENT:
            raise FieldError(f"answers[{i}].comment", f"at most {MAX_COMMENT} characters")
        out.append(Answer(unit, rating, comment))
    if not out:
        raise FieldError("answers", "rate at least one unit")
    return out


@dataclass(frozen=True, slots=True)
class Recorded:
    """The answer was counted (``again``: it had been, by this phone's earlier send)."""

    survey: Survey
    again: bool = False


def _respond(
    store: Store,
    invitation: Invitation,
    raw: Sequence[dict[str, Any]],
    receipt: str | None,
    now: datetime,
    used_reason: str,
) -> Recorded:
    survey = get(store, invitation.survey_id)
    receipt_hash = hash_secret(receipt) if receipt else None
    if invitation.used:
        if receipt_hash is not None and receipt_hash == invitation.receipt_hash:
            return Recorded(survey, again=True)  # the phone lost our first answer
        raise ConflictError(used_reason)
    if now < survey.opens_at:
        raise ConflictError("survey: not open yet")
    if now >= survey.closes_at:
        raise ConflictError("survey: closed")
    answers = _answers(survey, raw)
    if not db.answer(
        store, invitation, answers, receipt_hash or hash_secret(secrets.token_hex(16))
    ):
        raise ConflictError(used_reason)  # another send won the race
    return Recorded(survey)


def respond_by_token(
    store: Store,
    token: str,
    raw: Sequence[dict[str, Any]],
    now: datetime,
    receipt: str | None = None,
) -> Recorded:
    """Count a token holder's answers, once per token. ``receipt``: the phone's own
    key for this submission, so a resend after a lost answer is not refused."""
    return _respond(
        store,
        _token_invitation(store, token),
        raw,
        receipt,
        now,
        "token: this link has been used: one response per link",
    )


def respond_as_resident(
    store: Store,
    user: User,
    survey_id: str,
    raw: Sequence[dict[str, Any]],
    now: datetime,
    receipt: str | None = None,
) -> Recorded:
    """Count an invited resident's answers, once per survey."""
    return _respond(
        store,
        _resident_invitation(store, user, survey_id),
        raw,
        receipt,
        now,
        "survey: you have answered this survey already: one response per resident",
    )


# ------------------------------------------------------------------------ results
@dataclass(frozen=True, slots=True)
class UnitResult:
    unit: Unit
    score: Score
    comments: list[tuple[int, str]] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class Results:
    survey: Survey
    invited: int
    answered: int
    units: list[UnitResult]


def results(store: Store, world: World, staff: User, survey_id: str) -> Results:
    """Each unit's count, mean, 95 % interval and comments; nothing of who answered."""
    may_read(staff, world)
    survey = get(store, survey_id)
    counts = db.tallies(store, survey_id)
    said: dict[str, list[tuple[int, str]]] = {}
    for unit, rating, text in db.comments(store, survey_id):
        said.setdefault(unit, []).append((rating, text))
    invited, answered = db.invitation_counts(store, survey_id)
    return Results(
        survey,
        invited,
        answered,
        [UnitResult(u, score(counts.get(u.key, {})), said.get(u.key, [])) for u in survey.units],
    )


#: A unit's kind in words: the world's own names for a street and a department.
KIND_NAMES = {STREET: AreaLevel.STREET, DEPARTMENT: PartyKind.GOVERNMENT}


def write_xlsx(found: Results, out: Path | IO[bytes]) -> None:
    """The results for the assessment office: a sheet of units (count, mean, interval,
    how many gave each score) and a sheet of comments (unit, score, text)."""
    from openpyxl import Workbook
    from openpyxl.styles import Font

    from cityeye.documents import xlsx_rows

    s = found.survey
    book = Workbook()
    sheet = book.active
    sheet.title = "结果 Results"
    sheet.append([s.title])
    sheet["A1"].font = Font(bold=True, size=14)
    sheet.append(
        [f"评价年度 year {s.year} · 邀请 invited {found.invited} · 已答 answered {found.answered}"]
    )
    sheet.append(["区间：均值的 95% t 区间，至少 2 个评分 · 95% t interval on the mean (n ≥ 2)"])
    sheet.append(["匿名：不含答卷人的任何信息 · anonymous: nothing of who answered"])
    sheet.append([])
    header = [
        "单位 Unit",
        "类别 Kind",
        "评价数 Responses",
        "平均分 Mean",
        "区间下限 Low",
        "区间上限 High",
        *(f"打 {r} 分人数 Rated {r}" for r in RATINGS),
    ]

    def two(v: float | None) -> float | None:
        return None if v is None else round(v, 2)

    rows = [
        [
            r.unit.name,
            KIND_NAMES[r.unit.kind].zh if r.unit.kind in KIND_NAMES else r.unit.kind,
            r.score.n,
            two(r.score.mean),
            two(r.score.low),
            two(r.score.high),
            *(r.score.counts[k] for k in RATINGS),
        ]
        for r in found.units
    ]
    xlsx_rows(sheet, header, rows, kinds={3: "text", 4: "text", 5: "text"})
    said = book.create_sheet("意见 Comments")
    xlsx_rows(
        said,
        ["单位 Unit", "评分 Rating", "意见 Comment"],
        [[r.unit.name, rating, text] for r in found.units for rating, text in r.comments],
    )
    book.save(out)
