"""The case lifecycle table: every allowed move, every refused one, who may act, and the
timeline each move leaves behind."""

from __future__ import annotations

import copy
from datetime import timedelta
from pathlib import Path

import pytest

from cityeye.cases import TRANSITIONS, Action, Actor, Role, TransitionError, allowed, apply
from cityeye.cases.lifecycle import NOTES
from cityeye.domain import Case, CaseOrigin, CaseState, Severity
from kit import T0

DOCS = Path(__file__).resolve().parents[2] / "docs" / "cases.md"
ACTORS = {role: Actor(f"{role.value}-1", role) for role in Role}


def case_in(state: CaseState) -> Case:
    return Case(
        id="C1",
        origin=CaseOrigin.ALERT,
        state=state,
        severity=Severity.HIGH,
        opened_at=T0,
        title="烟感报警",
    )


def test_the_closed_loop_end_to_end_leaves_a_timeline() -> None:
    case = case_in(CaseState.REPORTED)
    steps = [
        (Action.DISPATCH, Role.DISPATCHER, ""),
        (Action.ACCEPT, Role.HANDLER, ""),
        (Action.ARRIVE, Role.HANDLER, "已到场"),
        (Action.HANDLE, Role.HANDLER, "已清理楼道杂物"),
        (Action.VERIFY, Role.VERIFIER, ""),
        (Action.CLOSE, Role.DISPATCHER, ""),
    ]
    for minute, (action, role, note) in enumerate(steps):
        apply(case, action, ACTORS[role], T0 + timedelta(minutes=minute), note, ("p.jpg",))
    assert case.state == CaseState.CLOSED
    assert case.closed_at == T0 + timedelta(minutes=5)
    assert [(e.from_state, e.to_state) for e in case.timeline] == [
        (CaseState.REPORTED, CaseState.DISPATCHED),
        (CaseState.DISPATCHED, CaseState.ACCEPTED),
        (CaseState.ACCEPTED, CaseState.IN_PROGRESS),
        (CaseState.IN_PROGRESS, CaseState.HANDLED),
        (CaseState.HANDLED, CaseState.VERIFIED),
        (CaseState.VERIFIED, CaseState.CLOSED),
    ]
    assert case.timeline[3].actor == "handler-1"
    assert case.timeline[3].note == "已清理楼道杂物"
    assert case.timeline[3].attachments == ("p.jpg",)


@pytest.mark.parametrize(
    ("state", "action", "role"),
    [(s, a, r) for (s, a), rule in TRANSITIONS.items() for r in sorted(rule.roles)],
)
def test_every_allowed_move(state: CaseState, action: Action, role: Role) -> None:
    case = case_in(state)
    entry = apply(case, action, ACTORS[role], T0, "原因 reason")
    assert case.state == TRANSITIONS[(state, action)].to
    assert (entry.from_state, entry.to_state, entry.action) == (state, case.state, action.value)
    assert case.timeline == [entry]


@pytest.mark.parametrize(
    ("state", "action", "role"),
    [(s, a, r) for (s, a), rule in TRANSITIONS.items() for r in Role if r not in rule.roles],
)
def test_the_wrong_role_is_refused_and_nothing_changes(
    state: CaseState, action: Action, role: Role
) -> None:
    case = case_in(state)
    before = copy.deepcopy(case)
    with pytest.raises(TransitionError, match=f"a {role.value} may not"):
        apply(case, action, ACTORS[role], T0, "原因")
    assert case == before


@pytest.mark.parametrize(
    ("state", "action"),
    [(s, a) for s in CaseState for a in Action if (s, a) not in TRANSITIONS],
)
def test_every_other_move_is_illegal_and_says_what_is_allowed(
    state: CaseState, action: Action
) -> None:
    case = case_in(state)
    before = copy.deepcopy(case)
    with pytest.raises(TransitionError) as info:
        apply(case, action, ACTORS[Role.DISPATCHER], T0, "原因")
    assert f"allowed from {state.value}:" in str(info.value)
    for other in allowed(state):
        assert other.value in str(info.value)
    assert case == before


@pytest.mark.parametrize(
    ("state", "action"), [(s, a) for (s, a), rule in TRANSITIONS.items() if rule.reason]
)
def test_returns_dismissals_escalations_and_reopens_need_a_reason(
    state: CaseState, action: Action
) -> None:
    case = case_in(state)
    role = sorted(TRANSITIONS[(state, action)].roles)[0]
    with pytest.raises(TransitionError, match="reason is required"):
        apply(case, action, ACTORS[role], T0, "   ")
    assert case.timeline == []


def test_final_states_allow_only_a_reopen_of_a_closed_case() -> None:
    assert allowed(CaseState.DISMISSED) == {}
    assert allowed(CaseState.SELF_RESOLVED) == {}
    assert set(allowed(CaseState.CLOSED)) == {Action.REOPEN}


def test_reopening_a_closed_case_clears_its_close_time() -> None:
    case = case_in(CaseState.VERIFIED)
    apply(case, Action.CLOSE, ACTORS[Role.DISPATCHER], T0)
    apply(case, Action.REOPEN, ACTORS[Role.REPORTER], T0 + timedelta(hours=1), "还是有味道")
    assert (case.state, case.closed_at) == (CaseState.REOPENED, None)


def test_time_cannot_run_backwards_in_a_timeline() -> None:
    case = case_in(CaseState.REPORTED)
    apply(case, Action.DISPATCH, ACTORS[Role.DISPATCHER], T0)
    with pytest.raises(TransitionError, match="before the last entry"):
        apply(case, Action.ACCEPT, ACTORS[Role.HANDLER], T0 - timedelta(seconds=1))
    assert case.state == CaseState.DISPATCHED


def render_table() -> str:
    lines = [
        "| 从 from | 动作 action | 到 to | 谁可以 who | 须说明理由 reason |",
        "| --- | --- | --- | --- | --- |",
    ]
    for (state, action), rule in TRANSITIONS.items():
        who = ", ".join(sorted(r.value for r in rule.roles))
        lines.append(
            f"| {state.zh} `{state.value}` | `{action.value}` | {rule.to.zh} `{rule.to.value}` "
            f"| {who} | {'✓' if rule.reason else ''} |"
        )
    return "\n".join(lines)


def render_notes() -> str:
    lines = [
        "| 记录 note | 在哪些状态 in states | 谁可以 who |",
        "| --- | --- | --- |",
    ]
    for note, rule in NOTES.items():
        states = ", ".join(f"`{s.value}`" for s in CaseState if s in rule.states)
        who = ", ".join(sorted(r.value for r in rule.roles))
        lines.append(f"| `{note.value}` | {states} | {who} |")
    return "\n".join(lines)


def test_docs_show_the_table_the_code_enforces() -> None:
    text = DOCS.read_text(encoding="utf-8")
    assert render_table() in text
    assert render_notes() in text
