"""The case lifecycle as one table: which action moves a case from which state to
which, and who may take it.

    reported → dispatched → accepted → in_progress → handled → verified → closed

with the branches of the seeds' closed loop: *returned* (the recipient says it is not
theirs, with a reason; back to the dispatcher), *escalated* (a missed deadline went one
level up the area hierarchy), *dismissed* (a false alarm, with a reason; counted in the
false-alarm rate), *reopened* (the verifier or the reporter rejects the handling) and
*self-resolved* (the alert resolved before anyone was dispatched; counted apart).

Reading the table is meant to be enough to know the rules; :func:`apply` is the only
way a case changes state, it refuses anything the table does not allow with an error
that says why and what would be allowed, and it records every change as an
append-only timeline entry (who, when, from, to, why, attachments).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from cityeye.domain import Case, CaseState, FieldError, TimelineEntry, World
from cityeye.domain.labels import Labelled
from cityeye.domain.users import UserRole
from cityeye.errors import InputError

S = CaseState


class Role(StrEnum):
    """Who is acting, as far as the lifecycle is concerned."""

    DISPATCHER = "dispatcher"  # 指挥中心
    HANDLER = "handler"  # the party the case is assigned to (主办 or 协办)
    VERIFIER = "verifier"  # community or dispatcher checking the result (核查)
    REPORTER = "reporter"  # the resident who reported it
    SYSTEM = "system"  # the engine and the SLA clock
    LEADER = "leader"  # a leader over the case's area: 督办 and 催办 only


class Action(Labelled):
    """A lifecycle move, named as the desk's button and the timeline say it."""

    DISPATCH = "dispatch", "派遣", "Dispatch"
    ACCEPT = "accept", "受理", "Accept"
    ARRIVE = "arrive", "到场", "On site"  # 到场 / 开始处置
    HANDLE = "handle", "处置完成", "Handled"
    VERIFY = "verify", "核查通过", "Verify"
    CLOSE = "close", "结案", "Close"
    RETURN = "return", "退回", "Return"
    ESCALATE = "escalate", "升级", "Escalated"
    DISMISS = "dismiss", "误报撤销", "Dismiss"
    REOPEN = "reopen", "重新处置", "Reopen"  # 重启
    SELF_RESOLVE = "self_resolve", "自动消警", "Resolved itself"  # 预警自动消警


@dataclass(frozen=True, slots=True)
class Transition:
    """One allowed move. ``reason`` actions must say why (a note)."""

    to: CaseState
    roles: frozenset[Role]
    reason: bool = False


def _r(to: CaseState, *roles: Role, reason: bool = False) -> Transition:
    return Transition(to, frozenset(roles), reason)


D, H, V, R, SYS = Role.DISPATCHER, Role.HANDLER, Role.VERIFIER, Role.REPORTER, Role.SYSTEM
A = Action

#: (state, action) → where it goes and who may do it. Everything else is illegal.
TRANSITIONS: dict[tuple[CaseState, Action], Transition] = {
    (S.REPORTED, A.DISPATCH): _r(S.DISPATCHED, D, SYS),
    (S.REPORTED, A.DISMISS): _r(S.DISMISSED, D, reason=True),
    (S.REPORTED, A.SELF_RESOLVE): _r(S.SELF_RESOLVED, SYS),
    (S.REPORTED, A.ESCALATE): _r(S.ESCALATED, SYS, D, reason=True),
    (S.DISPATCHED, A.ACCEPT): _r(S.ACCEPTED, H),
    (S.DISPATCHED, A.RETURN): _r(S.RETURNED, H, reason=True),
    (S.DISPATCHED, A.ESCALATE): _r(S.ESCALATED, SYS, D, reason=True),
    (S.DISPATCHED, A.DISMISS): _r(S.DISMISSED, D, reason=True),
    (S.RETURNED, A.DISPATCH): _r(S.DISPATCHED, D),
    (S.RETURNED, A.DISMISS): _r(S.DISMISSED, D, reason=True),
    (S.RETURNED, A.ESCALATE): _r(S.ESCALATED, SYS, D, reason=True),
    (S.ESCALATED, A.ACCEPT): _r(S.ACCEPTED, H),
    (S.ESCALATED, A.DISPATCH): _r(S.DISPATCHED, D),
    (S.ESCALATED, A.ESCALATE): _r(S.ESCALATED, SYS, D, reason=True),
    (S.ESCALATED, A.ARRIVE): _r(S.IN_PROGRESS, H),
    (S.ESCALATED, A.HANDLE): _r(S.HANDLED, H, reason=True),
    (S.ESCALATED, A.DISMISS): _r(S.DISMISSED, H, D, reason=True),
    (S.ACCEPTED, A.ARRIVE): _r(S.IN_PROGRESS, H),
    (S.ACCEPTED, A.HANDLE): _r(S.HANDLED, H, reason=True),
    (S.ACCEPTED, A.ESCALATE): _r(S.ESCALATED, SYS, D, reason=True),
    (S.ACCEPTED, A.DISMISS): _r(S.DISMISSED, H, D, reason=True),
    (S.IN_PROGRESS, A.HANDLE): _r(S.HANDLED, H, reason=True),
    (S.IN_PROGRESS, A.ESCALATE): _r(S.ESCALATED, SYS, D, reason=True),
    (S.IN_PROGRESS, A.DISMISS): _r(S.DISMISSED, H, D, reason=True),
    (S.HANDLED, A.VERIFY): _r(S.VERIFIED, V, D),
    (S.HANDLED, A.REOPEN): _r(S.REOPENED, V, D, R, reason=True),
    (S.VERIFIED, A.CLOSE): _r(S.CLOSED, D, SYS),
    (S.CLOSED, A.REOPEN): _r(S.REOPENED, R, V, D, reason=True),
    (S.REOPENED, A.DISPATCH): _r(S.DISPATCHED, D),
    (S.REOPENED, A.ACCEPT): _r(S.ACCEPTED, H),
    (S.REOPENED, A.ESCALATE): _r(S.ESCALATED, SYS, D, reason=True),
}


class Note(Labelled):
    """Entries that add to a case without moving it (the timeline records them too)."""

    CO_HANDLE = "co_handle", "协办", "Co-handling"  # another party joins the case
    PROGRESS = "progress", "记录进展", "Progress note"  # words or a photo on the way
    RATE = "rate", "居民评价", "Rated"  # the reporter's one to five stars on a closed case
    SUPERVISE = "supervise", "督办", "Supervised"  # a leader's supervision note (counted)
    URGE = "urge", "催办", "Urged"  # a leader's lighter nudge (counted apart)


class Record(Labelled):
    """Lines the case book writes on a timeline by itself, neither a move nor a note
    anyone may ask for: with :class:`Action` and :class:`Note` they are every
    ``TimelineEntry.action`` there is."""

    OPEN = "open", "立案", "Opened"  # the case is opened from an alert
    ALERT_JOINED = "alert_joined", "预警并入", "Alert joined"  # another alert of its key
    PRIORITY_RAISED = "priority_raised", "提升优先级", "Priority raised"  # severity went up
    REPORTED_LATE = "reported_late", "迟到补报", "Reported late"  # a back-filled report


@dataclass(frozen=True, slots=True)
class NoteRule:
    """Where a note may be added and who may add it."""

    states: frozenset[CaseState]
    roles: frozenset[Role]


_OPEN = frozenset(s for s in CaseState if not s.terminal)

#: note → in which states and by whom. A closed case takes no more notes but a rating.
NOTES: dict[Note, NoteRule] = {
    Note.CO_HANDLE: NoteRule(_OPEN, frozenset({D, SYS})),
    Note.PROGRESS: NoteRule(_OPEN, frozenset({D, H})),
    Note.RATE: NoteRule(frozenset({S.CLOSED}), frozenset({R})),
    Note.SUPERVISE: NoteRule(_OPEN, frozenset({Role.LEADER})),
    Note.URGE: NoteRule(_OPEN, frozenset({Role.LEADER})),
}

#: 督办 and 催办: what a leader does to a case. Neither moves it; both are recorded on
#: its timeline (with the leader as the actor), told to whoever handles it, and counted
#: (``supervisions`` and ``urges`` in :mod:`cityeye.cases.kpi`). They have their own
#: endpoints (``POST /api/v1/cases/{id}/supervise`` and ``/urge``), not the desk's moves.
SUPERVISION = frozenset({Note.SUPERVISE, Note.URGE})
#: Who may 督办 and 催办: leaders, and admins, on a case they can see (their areas cover
#: it — the API's area scope); nobody who handles or dispatches cases.
SUPERVISORS = frozenset({UserRole.LEADER, UserRole.ADMIN})
#: The longest 督办 or 催办 note, in characters (a note, not a report).
SUPERVISION_NOTE_MAX = 500
#: Our choice, not a seed's: a second 催办 of the same case within this time is refused,
#: so a nudge stays a nudge (a 督办, which says what to do, is not limited).
URGE_GAP = timedelta(minutes=10)


def urge_wait(case: Case, at: datetime) -> int:
    """Seconds (rounded up) until ``case`` may be urged again at ``at``; 0: now."""
    last = next((e.at for e in reversed(case.timeline) if e.action == Note.URGE), None)
    if last is None or at - last >= URGE_GAP:
        return 0
    return math.ceil((URGE_GAP - (at - last)).total_seconds())


def check_supervision(case: Case, note: Note, text: str, at: datetime) -> None:
    """Raise :class:`~cityeye.domain.FieldError` when ``case`` takes no ``note`` (督办
    or 催办) with ``text`` at ``at``: an ended case (``state``), a 督办 without words or
    a note too long (``note``), a 催办 within :data:`URGE_GAP` of the last (``urge``).
    The API asks before it sends the move and the case book again when it applies it,
    so the answer is the same either way."""
    if case.state not in NOTES[note].states:
        raise FieldError(
            "state",
            f"case {case.id} has ended ({case.state.value}, {case.state.zh}): "
            f"an ended case takes no {note.value} ({note.zh})",
        )
    if note == Note.SUPERVISE and not text.strip():
        raise FieldError("note", "a supervision (督办) must say what is to be done")
    if len(text) > SUPERVISION_NOTE_MAX:
        raise FieldError("note", f"{len(text)} characters; at most {SUPERVISION_NOTE_MAX}")
    wait = urge_wait(case, at) if note == Note.URGE else 0
    if wait:
        minutes = int(URGE_GAP.total_seconds() // 60)
        raise FieldError(
            "urge",
            f"case {case.id} was urged less than {minutes} minutes ago; urge again in {wait} s",
        )


#: A move a person or the system asks for: a lifecycle action or a note.
Move = Action | Note

#: The role an action is taken in when whoever asks does not say (a scripted event, an
#: admin on the desk, who acts in the action's usual role).
DEFAULT_ROLE: dict[Move, Role] = {
    A.DISPATCH: D,
    A.ACCEPT: H,
    A.ARRIVE: H,
    A.HANDLE: H,
    A.RETURN: H,
    A.VERIFY: V,
    A.CLOSE: D,
    A.DISMISS: D,
    A.REOPEN: R,
    A.ESCALATE: D,
    A.SELF_RESOLVE: SYS,
    Note.CO_HANDLE: D,
    Note.PROGRESS: D,
    Note.RATE: R,
}

#: Moves that name a party (the one dispatched to, the one joining).
NAMES_PARTY = frozenset({A.DISPATCH, Note.CO_HANDLE})


def parse_move(value: str) -> Move:
    """The action or note called ``value``; ``ValueError`` naming the options."""
    for kind in (Action, Note):
        try:
            return kind(value)
        except ValueError:
            continue
    options = ", ".join([*(a.value for a in Action), *(n.value for n in Note)])
    raise ValueError(f"{value!r} is not one of {options}")


def roles_for(move: Move) -> frozenset[Role]:
    """Everyone who may take ``move`` in at least one state."""
    if isinstance(move, Note):
        return NOTES[move].roles
    return frozenset(r for (_, a), rule in TRANSITIONS.items() if a == move for r in rule.roles)


def moves(state: CaseState, role: Role) -> list[Move]:
    """What ``role`` may do to a case in ``state``, actions in the table's order, then
    notes: the buttons a page offers are these and no others."""
    out: list[Move] = [a for a, rule in allowed(state).items() if role in rule.roles]
    out += [n for n, rule in NOTES.items() if state in rule.states and role in rule.roles]
    return out


def needs_reason(state: CaseState, move: Move) -> bool:
    """Whether ``move`` from ``state`` must say why (a note)."""
    rule = TRANSITIONS.get((state, move)) if isinstance(move, Action) else None
    return rule is not None and rule.reason


def check_note(case: Case, note: Note) -> None:
    """Raise :class:`TransitionError` when ``case`` takes no ``note`` in its state."""
    rule = NOTES[note]
    if case.state not in rule.states:
        where = ", ".join(s.value for s in CaseState if s in rule.states)
        raise TransitionError(case, note, f"only a case that is {where} takes one")


#: The lifecycle role each kind of desk user acts in; an admin acts in the move's usual
#: role (:func:`acting_role`). Leaders move nothing (their 督办 and 催办 are
#: :data:`SUPERVISION`, apart from these moves); residents act through the portal.
_DESK_ROLE = {UserRole.DISPATCHER: D, UserRole.HANDLER: H}


def acting_role(user: UserRole, move: Move) -> Role | None:
    """The role a signed-in person takes ``move`` in, or ``None`` when they never may.
    A person is never the system, and on the desk never the reporter: an admin whose
    move usually is theirs acts as a dispatcher."""
    if user in _DESK_ROLE:
        return _DESK_ROLE[user]
    if user == UserRole.ADMIN:
        role = DEFAULT_ROLE[move]
        return D if role in (SYS, R) else role
    return None


def handles(case: Case, party: str | None) -> bool:
    """Whether ``party`` handles ``case`` (its lead or a co-handler): a handler acts on
    such cases only."""
    return party is not None and party in (case.lead, *case.co_handlers)


def person_moves(case: Case, user: UserRole, party: str | None) -> list[Move]:
    """The moves a desk user may make on ``case`` now: what the table allows from its
    state for the role they act in, and for a handler only on a case their party
    handles. The desk shows exactly these as buttons and the API accepts exactly
    these (``tests/unit/test_lifecycle_moves.py`` walks every state and role)."""
    if user == UserRole.HANDLER and not handles(case, party):
        return []
    out: list[Move] = []
    for role in (D, H, V):
        for move in moves(case.state, role):
            if move not in out and acting_role(user, move) == role:
                out.append(move)
    return out


class TransitionError(InputError):
    """An action the table does not allow; nothing was changed (an
    :class:`~cityeye.errors.InputError`, so still a ValueError)."""

    def __init__(self, case: Case, action: Move, reason: str) -> None:
        super().__init__(
            f"case {case.id}: cannot {action.value} a {case.state.value} case: {reason}"
        )
        self.case_id = case.id
        self.state = case.state
        self.action = action
        self.reason = reason


def allowed(state: CaseState) -> dict[Action, Transition]:
    """The actions possible from ``state``."""
    return {action: rule for (s, action), rule in TRANSITIONS.items() if s == state}


@dataclass(frozen=True, slots=True)
class Actor:
    """Someone acting on a case: an id (user, party or ``system``) and a role."""

    id: str
    role: Role


def apply(
    case: Case,
    action: Action,
    actor: Actor,
    at: datetime,
    note: str = "",
    attachments: tuple[str, ...] = (),
) -> TimelineEntry:
    """Move ``case`` by ``action`` and record it; raise :class:`TransitionError` (and
    change nothing) if the table does not allow it."""
    rule = TRANSITIONS.get((case.state, action))
    if rule is None:
        options = ", ".join(a.value for a in allowed(case.state)) or "none (final)"
        raise TransitionError(case, action, f"allowed from {case.state.value}: {options}")
    if actor.role not in rule.roles:
        who = ", ".join(sorted(r.value for r in rule.roles))
        raise TransitionError(case, action, f"a {actor.role.value} may not; only {who}")
    if rule.reason and not note.strip():
        raise TransitionError(case, action, "a reason is required (note)")
    if case.timeline and at < case.timeline[-1].at:
        raise TransitionError(
            case,
            action,
            f"{at.isoformat()} is before the last entry ({case.timeline[-1].at.isoformat()})",
        )
    entry = TimelineEntry(at, actor.id, action.value, case.state, rule.to, note, attachments)
    case.timeline.append(entry)
    case.state = rule.to
    if rule.to.terminal:
        case.closed_at = at
    elif rule.to == S.REOPENED:
        case.closed_at = None
    return entry


#: Who the lifecycle says acted, when no party or person is named (a timeline's actor).
ACTOR_NAMES = {
    "system": "系统",
    "dispatcher": "指挥中心",
    "verifier": "核查人员",
    "handler": "处置单位",
    "reporter": "上报居民",
}


def actor_name(actor: str, world: World, people: Mapping[str, str]) -> str:
    """A timeline's actor as people know them: a party's or a person's name (``people``:
    username → display name), or what the system role is called — never an id or an
    enum. The case card and the reports name actors through this one rule."""
    party = world.parties.get(actor)
    if party is not None:
        return party.name
    if actor in ACTOR_NAMES:
        return ACTOR_NAMES[actor]
    return people.get(actor, "工作人员")
