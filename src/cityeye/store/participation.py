"""社情民意 and 红茶议事会 in the database: suggestions, topics with their public record,
meetings, ballots with an anonymous tally, resolutions.

Every list of suggestions takes the areas the caller may see (``None``: all), so the
bound is in the SQL, as for cases. A vote writes the roll row (who voted) and bumps the
option's counter (what was chosen, by nobody) in one transaction: the roll's key
refuses a second vote, and then the counter is not bumped either.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Collection
from dataclasses import dataclass, replace
from datetime import datetime
from fractions import Fraction
from typing import Any

from sqlalchemy import delete, false, func, insert, or_, select, update
from sqlalchemy.exc import IntegrityError

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
    Topic,
    TopicKind,
    TopicStep,
    Turn,
)
from cityeye.store import tables as t
from cityeye.store.repo import Store

GROUPER_STATE = "participation.grouper"


def _in(column: Any, areas: Collection[str] | None) -> Any:
    if areas is None:
        return None
    return column.in_(sorted(areas)) if areas else false()


# ---------------------------------------------------------------------- suggestions
def _suggestion(r: Any) -> Suggestion:
    return Suggestion(
        id=r.id,
        channel=Channel(r.channel),
        category=r.category,
        text=r.text,
        area=r.area_code,
        created_at=r.created_at,
        photos=tuple(r.photos or ()),
        author=r.author,
        group_id=r.group_id,
        terms=tuple(r.terms or ()),
        answer=r.answer,
        answered_at=r.answered_at,
        answered_by=r.answered_by,
        case_key=r.case_key,
        topic_id=r.topic_id,
    )


def add_suggestion(store: Store, s: Suggestion) -> None:
    with store.engine.begin() as conn:
        conn.execute(
            insert(t.suggestions).values(
                id=s.id,
                channel=s.channel.value,
                category=s.category,
                text=s.text,
                area_code=s.area,
                photos=list(s.photos),
                author=s.author,
                created_at=s.created_at,
                group_id=s.group_id,
                terms=list(s.terms),
            )
        )


def get_suggestion(store: Store, suggestion_id: str) -> Suggestion | None:
    with store.engine.connect() as conn:
        r = conn.execute(select(t.suggestions).where(t.suggestions.c.id == suggestion_id)).first()
    return None if r is None else _suggestion(r)


def all_suggestions(store: Store) -> list[Suggestion]:
    """Every suggestion in the order it came (to rebuild the groups)."""
    s = t.suggestions.c
    with store.engine.connect() as conn:
        rows = conn.execute(select(t.suggestions).order_by(s.created_at, s.id)).all()
    return [_suggestion(r) for r in rows]


@dataclass(frozen=True, slots=True)
class SuggestionFilter:
    """What a member of staff narrows the suggestions to (the council page's filters,
    the list's and the groups' query parameters alike): a category, a group, answered
    or not, a time span ``[since, before)``, words in the text or the id, and who sent
    it (``author``: a user id, for "my suggestions")."""

    category: str | None = None
    group: str | None = None
    answered: bool | None = None
    since: datetime | None = None
    before: datetime | None = None
    text: str | None = None
    author: str | None = None


def _where(areas: Collection[str] | None, f: SuggestionFilter) -> list[Any]:
    s = t.suggestions.c
    conditions = [c for c in (_in(s.area_code, areas),) if c is not None]
    if f.category is not None:
        conditions.append(s.category == f.category)
    if f.group is not None:
        conditions.append(s.group_id == f.group)
    if f.answered is not None:
        conditions.append(s.answer.is_not(None) if f.answered else s.answer.is_(None))
    if f.author is not None:
        conditions.append(s.author == f.author)
    if f.since is not None:
        conditions.append(s.created_at >= f.since)
    if f.before is not None:
        conditions.append(s.created_at < f.before)
    if f.text:
        escaped = f.text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        conditions.append(
            or_(
                s.text.ilike(f"%{escaped}%", escape="\\"),
                s.id.ilike(f"%{escaped}%", escape="\\"),
            )
        )
    return conditions


def find_suggestions(
    store: Store,
    areas: Collection[str] | None,
    *,
    where: SuggestionFilter = SuggestionFilter(),
    offset: int = 0,
    limit: int | None = 50,
) -> tuple[list[Suggestion], int]:
    """One page of the suggestions in ``areas`` that ``where`` lets through, newest
    first, and how many in all (``limit`` ``None``: all of them, for an export)."""
    s = t.suggestions.c
    conditions = _where(areas, where)
    with store.engine.connect() as conn:
        total = conn.execute(
            select(func.count()).select_from(t.suggestions).where(*conditions)
        ).scalar_one()
        rows = conn.execute(
            select(t.suggestions)
            .where(*conditions)
            .order_by(s.created_at.desc(), s.id.desc())
            .offset(offset)
            .limit(limit)
        ).all()
    return [_suggestion(r) for r in rows], int(total)


@dataclass(frozen=True, slots=True)
class Group:
    id: str
    count: int
    category: str  # the most frequent category of its suggestions
    terms: tuple[str, ...]  # the most frequent terms: its keywords
    areas: tuple[str, ...]
    latest: datetime
    unanswered: int = 0  # of ``count``, how many have no answer yet
    #: its most representative sentence (:meth:`Participation.groups` fills it in)
    title: str = ""
    texts: tuple[str, ...] = ()  # the members' texts (to find that sentence)


def groups(
    store: Store,
    areas: Collection[str] | None,
    limit: int = 200,
    *,
    where: SuggestionFilter = SuggestionFilter(),
) -> list[Group]:
    """The groups with suggestions in ``areas`` that ``where`` lets through, largest
    first; each counts only those suggestions — except for ``where.answered``, which
    keeps the groups with at least one suggestion answered (or not) among them, each
    still counted whole with how many of it are unanswered: a group of 88 with 3
    unanswered is listed as 88, 3 of them open, and its one answer reaches all 88."""
    s = t.suggestions.c
    conditions = [*_where(areas, replace(where, answered=None)), s.group_id.is_not(None)]
    with store.engine.connect() as conn:
        rows = conn.execute(
            select(
                s.group_id, s.category, s.terms, s.area_code, s.created_at, s.text, s.answer
            ).where(*conditions)
        ).all()
    by_group: dict[str, list[Any]] = {}
    for r in rows:
        by_group.setdefault(r.group_id, []).append(r)
    out = []
    for gid, members in by_group.items():
        if where.answered is not None and not any(
            (m.answer is not None) == where.answered for m in members
        ):
            continue
        categories = Counter(m.category for m in members)
        terms = Counter(term for m in members for term in (m.terms or ()))
        out.append(
            Group(
                id=gid,
                count=len(members),
                category=categories.most_common(1)[0][0],
                terms=tuple(term for term, _ in terms.most_common(5)),
                areas=tuple(sorted({m.area_code for m in members})),
                latest=max(m.created_at for m in members),
                unanswered=sum(1 for m in members if m.answer is None),
                texts=tuple(m.text for m in members),
            )
        )
    out.sort(key=lambda g: (-g.count, g.id))
    return out[:limit]


def answer_suggestion(store: Store, suggestion_id: str, text: str, at: datetime, by: str) -> None:
    answer_suggestions(store, [suggestion_id], text, at, by, overwrite=True)


def answer_suggestions(
    store: Store,
    ids: Collection[str],
    text: str,
    at: datetime,
    by: str,
    *,
    overwrite: bool,
) -> list[str]:
    """One answer to many suggestions in one transaction (a group's members); without
    ``overwrite`` those answered already — even a moment ago, by someone else — keep
    their answer. The ids answered now."""
    s = t.suggestions.c
    if not ids:
        return []
    wanted = [s.id.in_(sorted(ids))]
    if not overwrite:
        wanted.append(s.answer.is_(None))
    with store.engine.begin() as conn:
        done = conn.execute(
            update(t.suggestions)
            .where(*wanted)
            .values(answer=text, answered_at=at, answered_by=by)
            .returning(s.id)
        ).all()
    chosen = sorted(r.id for r in done)
    return chosen


def link_case(store: Store, suggestion_id: str, case_key: str) -> bool:
    """Mark the suggestion as having become a case; ``False`` if it already had."""
    s = t.suggestions.c
    with store.engine.begin() as conn:
        done = conn.execute(
            update(t.suggestions)
            .where(s.id == suggestion_id, s.case_key.is_(None))
            .values(case_key=case_key)
        )
    return bool(done.rowcount)


def unlink_case(store: Store, suggestion_id: str) -> None:
    with store.engine.begin() as conn:
        conn.execute(
            update(t.suggestions).where(t.suggestions.c.id == suggestion_id).values(case_key=None)
        )


def link_topic(store: Store, suggestion_id: str, topic_id: str) -> None:
    with store.engine.begin() as conn:
        conn.execute(
            update(t.suggestions)
            .where(t.suggestions.c.id == suggestion_id)
            .values(topic_id=topic_id)
        )


def suggestions_of(store: Store, topic_id: str) -> list[Suggestion]:
    s = t.suggestions.c
    with store.engine.connect() as conn:
        rows = conn.execute(
            select(t.suggestions).where(s.topic_id == topic_id).order_by(s.created_at)
        ).all()
    return [_suggestion(r) for r in rows]


# ---------------------------------------------------------------------- topics
def _fraction(text: str) -> Fraction:
    return Fraction(text)


def _topic(r: Any) -> Topic:
    return Topic(
        id=r.id,
        title=r.title,
        description=r.description,
        area=r.area_code,
        kind=TopicKind(r.kind),
        step=TopicStep(r.step),
        created_at=r.created_at,
        step_due_at=r.step_due_at,
        rules=Rules(_fraction(r.quorum), _fraction(r.majority)),
        created_by=r.created_by,
    )


def _record(conn: Any, topic_id: str, record: StepRecord) -> None:
    conn.execute(
        insert(t.topic_steps).values(
            topic_id=topic_id,
            step=record.step.value,
            at=record.at,
            actor=record.actor,
            note=record.note,
        )
    )


def add_topic(store: Store, topic: Topic, record: StepRecord) -> None:
    with store.engine.begin() as conn:
        conn.execute(
            insert(t.topics).values(
                id=topic.id,
                title=topic.title,
                description=topic.description,
                area_code=topic.area,
                kind=topic.kind.value,
                step=topic.step.value,
                step_due_at=topic.step_due_at,
                quorum=str(topic.rules.quorum),
                majority=str(topic.rules.majority),
                created_at=topic.created_at,
                created_by=topic.created_by,
            )
        )
        _record(conn, topic.id, record)


def get_topic(store: Store, topic_id: str) -> Topic | None:
    with store.engine.connect() as conn:
        r = conn.execute(select(t.topics).where(t.topics.c.id == topic_id)).first()
    return None if r is None else _topic(r)


def list_topics(
    store: Store,
    areas: Collection[str] | None,
    step: TopicStep | None = None,
    *,
    offset: int = 0,
    limit: int = 50,
) -> tuple[list[Topic], int]:
    c = t.topics.c
    where = [w for w in (_in(c.area_code, areas),) if w is not None]
    if step is not None:
        where.append(c.step == step.value)
    with store.engine.connect() as conn:
        total = conn.execute(select(func.count()).select_from(t.topics).where(*where)).scalar_one()
        rows = conn.execute(
            select(t.topics)
            .where(*where)
            .order_by(c.created_at.desc(), c.id.desc())
            .offset(offset)
            .limit(limit)
        ).all()
    return [_topic(r) for r in rows], int(total)


def move_topic(store: Store, was: TopicStep, topic: Topic, record: StepRecord) -> bool:
    """Store the topic's new step if it is still at ``was`` (two people moving it at
    once: the second finds it moved and nothing happens); ``False`` then."""
    c = t.topics.c
    with store.engine.begin() as conn:
        done = conn.execute(
            update(t.topics)
            .where(c.id == topic.id, c.step == was.value)
            .values(step=topic.step.value, step_due_at=topic.step_due_at)
        )
        if not done.rowcount:
            return False
        _record(conn, topic.id, record)
        if topic.step == TopicStep.VOTE:
            conn.execute(
                update(t.ballots).where(t.ballots.c.topic_id == topic.id).values(opens_at=record.at)
            )
    return True


def set_rules(store: Store, topic_id: str, rules: Rules) -> None:
    with store.engine.begin() as conn:
        conn.execute(
            update(t.topics)
            .where(t.topics.c.id == topic_id)
            .values(quorum=str(rules.quorum), majority=str(rules.majority))
        )


def steps_of(store: Store, topic_id: str) -> list[StepRecord]:
    c = t.topic_steps.c
    with store.engine.connect() as conn:
        rows = conn.execute(
            select(t.topic_steps).where(c.topic_id == topic_id).order_by(c.seq)
        ).all()
    return [StepRecord(TopicStep(r.step), r.at, r.actor, r.note) for r in rows]


# ---------------------------------------------------------------------- meetings
def _meeting(r: Any) -> Meeting:
    return Meeting(
        id=r.id,
        topic_id=r.topic_id,
        mode=MeetingMode(r.mode),
        at=r.at,
        place=r.place,
        agenda=tuple(r.agenda or ()),
        minutes=r.minutes,
        decisions=tuple(r.decisions or ()),
    )


def add_meeting(store: Store, meeting: Meeting) -> None:
    with store.engine.begin() as conn:
        conn.execute(
            insert(t.meetings).values(
                id=meeting.id,
                topic_id=meeting.topic_id,
                mode=meeting.mode.value,
                at=meeting.at,
                place=meeting.place,
                agenda=list(meeting.agenda),
                minutes=meeting.minutes,
                decisions=list(meeting.decisions),
            )
        )


def get_meeting(store: Store, meeting_id: str) -> Meeting | None:
    with store.engine.connect() as conn:
        r = conn.execute(select(t.meetings).where(t.meetings.c.id == meeting_id)).first()
    return None if r is None else _meeting(r)


def meetings_of(store: Store, topic_id: str) -> list[Meeting]:
    c = t.meetings.c
    with store.engine.connect() as conn:
        rows = conn.execute(
            select(t.meetings).where(c.topic_id == topic_id).order_by(c.at, c.id)
        ).all()
    return [_meeting(r) for r in rows]


def set_minutes(store: Store, meeting_id: str, minutes: str) -> None:
    with store.engine.begin() as conn:
        conn.execute(
            update(t.meetings).where(t.meetings.c.id == meeting_id).values(minutes=minutes)
        )


def add_decision(store: Store, meeting_id: str, text: str) -> tuple[str, ...]:
    with store.engine.begin() as conn:
        row = conn.execute(
            select(t.meetings.c.decisions).where(t.meetings.c.id == meeting_id)
        ).first()
        decisions = [*(row.decisions if row is not None else ()), text]
        conn.execute(
            update(t.meetings).where(t.meetings.c.id == meeting_id).values(decisions=decisions)
        )
    return tuple(decisions)


def _participant(r: Any) -> Participant:
    return Participant(
        r.meeting_id, r.n, ParticipantRole(r.role), r.user_id, r.name, r.signed_in_at
    )


def add_participant(store: Store, p: Participant) -> Participant:
    """Add ``p`` with the next number of its meeting (``p.n`` is ignored)."""
    c = t.meeting_participants.c
    for _ in range(5):  # two added at once drew the same number: draw again
        try:
            with store.engine.begin() as conn:
                n = conn.execute(
                    select(func.coalesce(func.max(c.n), 0)).where(c.meeting_id == p.meeting_id)
                ).scalar_one()
                conn.execute(
                    insert(t.meeting_participants).values(
                        meeting_id=p.meeting_id,
                        n=int(n) + 1,
                        role=p.role.value,
                        user_id=p.user_id,
                        name=p.name,
                        signed_in_at=p.signed_in_at,
                    )
                )
            return Participant(p.meeting_id, int(n) + 1, p.role, p.user_id, p.name, None)
        except IntegrityError:
            continue
    raise RuntimeError("could not number the participant")


def participants(store: Store, meeting_id: str) -> list[Participant]:
    c = t.meeting_participants.c
    with store.engine.connect() as conn:
        rows = conn.execute(
            select(t.meeting_participants).where(c.meeting_id == meeting_id).order_by(c.n)
        ).all()
    return [_participant(r) for r in rows]


def sign_in(store: Store, meeting_id: str, n: int, at: datetime) -> None:
    c = t.meeting_participants.c
    with store.engine.begin() as conn:
        conn.execute(
            update(t.meeting_participants)
            .where(c.meeting_id == meeting_id, c.n == n, c.signed_in_at.is_(None))
            .values(signed_in_at=at)
        )


def add_turn(store: Store, turn: Turn) -> None:
    with store.engine.begin() as conn:
        conn.execute(
            insert(t.meeting_turns).values(
                meeting_id=turn.meeting_id, speaker=turn.speaker, text=turn.text, at=turn.at
            )
        )


def turns(store: Store, meeting_id: str, limit: int = 1000) -> list[Turn]:
    c = t.meeting_turns.c
    with store.engine.connect() as conn:
        rows = conn.execute(
            select(t.meeting_turns).where(c.meeting_id == meeting_id).order_by(c.seq).limit(limit)
        ).all()
    return [Turn(r.meeting_id, r.speaker, r.text, r.at) for r in rows]


# ---------------------------------------------------------------------- ballots
def put_ballot(store: Store, ballot: Ballot) -> None:
    """Define (or redefine, before any vote) a topic's ballot: its options start at
    zero votes."""
    with store.engine.begin() as conn:
        conn.execute(delete(t.vote_choices).where(t.vote_choices.c.topic_id == ballot.topic_id))
        conn.execute(delete(t.ballots).where(t.ballots.c.topic_id == ballot.topic_id))
        conn.execute(
            insert(t.ballots).values(
                topic_id=ballot.topic_id,
                options=list(ballot.options),
                closes_at=ballot.closes_at,
                opens_at=ballot.opens_at,
            )
        )
        conn.execute(
            insert(t.vote_choices),
            [{"topic_id": ballot.topic_id, "option": o, "votes": 0} for o in ballot.options],
        )


def get_ballot(store: Store, topic_id: str) -> Ballot | None:
    with store.engine.connect() as conn:
        r = conn.execute(select(t.ballots).where(t.ballots.c.topic_id == topic_id)).first()
    if r is None:
        return None
    return Ballot(r.topic_id, tuple(r.options), r.closes_at, r.opens_at, r.closed_at, r.eligible)


def cast_vote(store: Store, topic_id: str, user_id: str, option: str) -> bool:
    """One resident's vote: the roll row and the option's counter together. ``False``
    when they voted already (the roll's key); then nothing is counted."""
    try:
        with store.engine.begin() as conn:
            conn.execute(insert(t.vote_roll).values(topic_id=topic_id, user_id=user_id))
            v = t.vote_choices.c
            bumped = conn.execute(
                update(t.vote_choices)
                .where(v.topic_id == topic_id, v.option == option)
                .values(votes=v.votes + 1)
            )
            if bumped.rowcount != 1:
                raise LookupError(f"option {option!r} is not on the ballot of {topic_id}")
    except IntegrityError:
        return False
    return True


def has_voted(store: Store, topic_id: str, user_id: str) -> bool:
    r = t.vote_roll.c
    with store.engine.connect() as conn:
        found = conn.execute(
            select(r.user_id).where(r.topic_id == topic_id, r.user_id == user_id)
        ).first()
    return found is not None


def vote_counts(store: Store, topic_id: str) -> dict[str, int]:
    v = t.vote_choices.c
    with store.engine.connect() as conn:
        rows = conn.execute(select(v.option, v.votes).where(v.topic_id == topic_id)).all()
    return {r.option: int(r.votes) for r in rows}


def close_ballot(store: Store, topic_id: str, at: datetime, eligible: int) -> bool:
    """Close the ballot, fixing how many were eligible; ``False`` if closed already."""
    b = t.ballots.c
    with store.engine.begin() as conn:
        done = conn.execute(
            update(t.ballots)
            .where(b.topic_id == topic_id, b.closed_at.is_(None))
            .values(closed_at=at, eligible=eligible)
        )
    return bool(done.rowcount)


# ---------------------------------------------------------------------- resolutions
def add_resolution(store: Store, resolution: Resolution) -> bool:
    """Store the resolution and its actions; ``False`` if the topic has one already."""
    try:
        with store.engine.begin() as conn:
            conn.execute(
                insert(t.resolutions).values(
                    topic_id=resolution.topic_id,
                    text=resolution.text,
                    at=resolution.at,
                    actor=resolution.actor,
                )
            )
            for a in resolution.actions:
                conn.execute(
                    insert(t.resolution_actions).values(
                        topic_id=resolution.topic_id,
                        n=a.n,
                        title=a.title,
                        party=a.party,
                        due_at=a.due_at,
                        case_key=a.case_key,
                    )
                )
    except IntegrityError:
        return False
    return True


def get_resolution(store: Store, topic_id: str) -> Resolution | None:
    with store.engine.connect() as conn:
        r = conn.execute(select(t.resolutions).where(t.resolutions.c.topic_id == topic_id)).first()
        if r is None:
            return None
        a = t.resolution_actions.c
        rows = conn.execute(
            select(t.resolution_actions).where(a.topic_id == topic_id).order_by(a.n)
        ).all()
    actions = tuple(ResolutionAction(x.n, x.title, x.party, x.due_at, x.case_key) for x in rows)
    return Resolution(r.topic_id, r.text, r.at, r.actor, actions)


# ---------------------------------------------------------------------- the cockpit
def counts(
    store: Store,
    areas: Collection[str] | None,
    month_start: datetime,
    month_end: datetime,
    period: tuple[datetime, datetime] | None = None,
) -> dict[str, Any]:
    """The figures behind ``GET stats``: suggestions this month, groups, topics raised and
    resolved, resolution actions and their case keys. With ``period`` ``[start, end)``:
    the suggestions made, the groups they fall in, the topics raised, resolved and the
    actions decided in it (else: all there are)."""
    s, tp, r = t.suggestions.c, t.topics.c, t.resolutions.c
    in_areas = [w for w in (_in(s.area_code, areas),) if w is not None]
    topic_areas = [w for w in (_in(tp.area_code, areas),) if w is not None]
    made, raised_in, resolved_in = list(in_areas), list(topic_areas), list(topic_areas)
    if period is not None:
        start, end = period
        made += [s.created_at >= start, s.created_at < end]
        raised_in += [tp.created_at >= start, tp.created_at < end]
        resolved_in += [r.at >= start, r.at < end]
    with store.engine.connect() as conn:
        month = conn.execute(
            select(func.count())
            .select_from(t.suggestions)
            .where(*in_areas, s.created_at >= month_start, s.created_at < month_end)
        ).scalar_one()
        total = conn.execute(
            select(func.count()).select_from(t.suggestions).where(*made)
        ).scalar_one()
        group_count = conn.execute(
            select(func.count(func.distinct(s.group_id))).where(*made, s.group_id.is_not(None))
        ).scalar_one()
        raised = conn.execute(
            select(func.count()).select_from(t.topics).where(*raised_in)
        ).scalar_one()
        resolved = conn.execute(
            select(func.count())
            .select_from(t.resolutions.join(t.topics, t.topics.c.id == t.resolutions.c.topic_id))
            .where(*resolved_in)
        ).scalar_one()
        keys = conn.execute(
            select(t.resolution_actions.c.case_key)
            .select_from(
                t.resolution_actions.join(
                    t.topics, t.topics.c.id == t.resolution_actions.c.topic_id
                ).join(t.resolutions, t.resolutions.c.topic_id == t.topics.c.id)
            )
            .where(*resolved_in)
        ).all()
    return {
        "suggestions_month": int(month),
        "suggestions_total": int(total),
        "groups": int(group_count),
        "topics_raised": int(raised),
        "topics_resolved": int(resolved),
        "action_keys": [r.case_key for r in keys],
    }
