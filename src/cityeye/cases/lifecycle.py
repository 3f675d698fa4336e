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

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from cityeye.domain import Case, CaseState, TimelineEntry

S = CaseState


class Role(StrEnum):
    """Who is acting, as far as the lifecycle is concerned."""

    DISPATCHER = "dispatcher"  # 指挥中心
    HANDLER = "handler"  # the party the case is assigned to (主办 or 协办)
    VERIFIER = "verifier"  # community or dispatcher checking the result (核查)
    REPORTER = "reporter"  # the resident who reported it
    SYSTEM = "system"  # the engine and the SLA clock


class Action(StrEnum):
    DISPATCH = "dispatch"  # 派遣
    ACCEPT = "accept"  # 受理
    ARRIVE = "arrive"  # 到场 / 开始处置
    HANDLE = "handle"  # 处置完成
    VERIFY = "verify"  # 核查通过
    CLOSE = "close"  # 结案
    RETURN = "return"  # 退回
    ESCALATE = "escalate"  # 升级
    DISMISS = "dismiss"  # 误报撤销
    REOPEN = "reopen"  # 重启
    SELF_RESOLVE = "self_resolve"  # 预警自动消警


@dataclass(frozen=True, slots=True)
class Rule:
    """One allowed move. ``reason`` actions must say why (a note)."""

    to: CaseState
    roles: frozenset[Role]
    reason: bool = False


def _r(to: CaseState, *roles: Role, reason: bool = False) -> Rule:
    return Rule(to, frozenset(roles), reason)


D, H, V, R, SYS = Role.DISPATCHER, Role.HANDLER, Role.VERIFIER, Role.REPORTER, Role.SYSTEM
A = Action

#: (state, action) → where it goes and who may do it. Everything else is illegal.
TRANSITIONS: dict[tuple[CaseState, Action], Rule] = {
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


class TransitionError(ValueError):
    """An action the table does not allow; nothing was changed."""

    def __init__(self, case: Case, action: Action, reason: str) -> None:
        super().__init__(
            f"case {case.id}: cannot {action.value} a {case.state.value} case: {reason}"
        )
        self.case_id = case.id
        self.state = case.state
        self.action = action
        self.reason = reason


def allowed(state: CaseState) -> dict[Action, Rule]:
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
