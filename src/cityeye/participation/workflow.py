"""The six-step workflow of a topic as an explicit transition table (the 六步议事法 of
大关街道's 百姓圆桌会, seed 000:555; cityeye uses it for the 红茶议事会's topics).

A topic moves one step at a time, forward only: 提出议题 → 广开言路 → 民主协商 → 拟订方案 →
居民表决 → 形成决议. Who moves it: a dispatcher whose post covers the topic's area, an
admin, or a facilitator (促动师) of the topic's community; a leader (who looks, never
changes) and any other resident never do. Each step gets a
deadline (``DEFAULT_DAYS``, configurable); each move appends a :class:`StepRecord` to
the public record. Two steps have guards:

* 拟订方案 → 居民表决 only with a ballot defined and not closed (what is voted on);
* 居民表决 → 形成决议 only when the ballot is closed and passed.

Refusals are :class:`~cityeye.domain.FieldError`: :class:`Refused` for who (HTTP 403),
:class:`Blocked` for a guard (HTTP 409), each naming the field and the reason.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from cityeye.domain import FieldError, World
from cityeye.domain.participation import Ballot, StepRecord, Tally, Topic, TopicStep
from cityeye.domain.users import User, UserRole, scope_of
from cityeye.errors import ConflictError, RefusedError

#: Days each step may take by default (the deadline is set when the step begins).
DEFAULT_DAYS: Mapping[TopicStep, int] = {
    TopicStep.PROPOSE: 7,
    TopicStep.OPINIONS: 7,
    TopicStep.CONSULT: 14,
    TopicStep.DRAFT: 7,
    TopicStep.VOTE: 7,
    TopicStep.RESOLVE: 7,
}
#: Who may run topics (within their area scope).
MANAGERS = frozenset({UserRole.DISPATCHER, UserRole.ADMIN})


class Refused(RefusedError, FieldError):
    """The person may not do this (a RefusedError: 403)."""


class Blocked(ConflictError, FieldError):
    """The topic is not ready for this (a ConflictError: 409)."""


Guard = Callable[[Topic, Ballot | None, Tally | None], None]


def _ballot_open(_topic: Topic, ballot: Ballot | None, _tally: Tally | None) -> None:
    if ballot is None:
        raise Blocked("ballot", "define the ballot (PUT ballot) before the vote begins")
    if ballot.closed:
        raise Blocked("ballot", "the ballot is closed already")
    if len(ballot.options) < 2:
        raise Blocked("ballot.options", "a ballot needs at least two options")


def _ballot_passed(_topic: Topic, ballot: Ballot | None, tally: Tally | None) -> None:
    if ballot is None or not ballot.closed or tally is None:
        raise Blocked("ballot", "close the ballot before the resolution")
    if not tally.quorum_met:
        raise Blocked(
            "ballot",
            f"not passed: {tally.voters} of {tally.eligible} eligible voted, below the quorum",
        )
    if not tally.passed:
        raise Blocked("ballot", "not passed: no option has the majority of the votes cast")


@dataclass(frozen=True, slots=True)
class Transition:
    source: TopicStep
    target: TopicStep
    guard: Guard | None = None


#: The only moves there are.
TRANSITIONS: Mapping[TopicStep, Transition] = {
    t.source: t
    for t in (
        Transition(TopicStep.PROPOSE, TopicStep.OPINIONS),
        Transition(TopicStep.OPINIONS, TopicStep.CONSULT),
        Transition(TopicStep.CONSULT, TopicStep.DRAFT),
        Transition(TopicStep.DRAFT, TopicStep.VOTE, _ballot_open),
        Transition(TopicStep.VOTE, TopicStep.RESOLVE, _ballot_passed),
    )
}


def may_manage(user: User, area: str, world: World, moderates: str | None = None) -> None:
    """Raise :class:`Refused` unless ``user`` may run topics in ``area``: a manager
    within their post's areas, or a facilitator (促动师) whose community
    (``moderates``) holds ``area`` — there and only there."""
    if user.role not in MANAGERS:
        if moderates is not None and world.within(area, moderates):
            return
        if moderates is not None:
            raise Refused("area", f"{area} is outside {moderates}, the community you facilitate")
        raise Refused("role", f"a {user.role.value} may not run deliberation topics")
    if not scope_of(user, world).allows(area):
        raise Refused("area", f"{area} is outside the areas of your post")


def due(step: TopicStep, at: datetime, days: Mapping[TopicStep, int] = DEFAULT_DAYS) -> datetime:
    """The deadline of ``step`` when it begins ``at``."""
    return at + timedelta(days=days[step])


def advance(
    topic: Topic,
    user: User,
    world: World,
    at: datetime,
    *,
    note: str = "",
    ballot: Ballot | None = None,
    tally: Tally | None = None,
    days: Mapping[TopicStep, int] = DEFAULT_DAYS,
    moderates: str | None = None,
) -> tuple[Topic, StepRecord]:
    """The topic one step on, and the record of the move; :class:`Refused` or
    :class:`Blocked` when not. ``moderates``: the community the user facilitates."""
    may_manage(user, topic.area, world, moderates)
    move = TRANSITIONS.get(topic.step)
    if move is None:
        raise Blocked("step", f"{topic.step.zh} ({topic.step.value}) is the last step")
    if move.guard is not None:
        move.guard(topic, ballot, tally)
    moved = replace(topic, step=move.target, step_due_at=due(move.target, at, days))
    return moved, StepRecord(move.target, at, user.username, note)
