"""The lifecycle is the only source of allowed moves (issue 16): for every state a case
can be in and every kind of desk user, the moves the case's JSON offers (the desk's
buttons) are exactly the moves the API and the case book then accept. (Over HTTP, and
in the desk's own buttons: test_auth_cases.py and test_browser_loop.py.)

The desk once kept its own table and offered a handler "return" on accepted,
in-progress, escalated and reopened cases, which the lifecycle refuses (a 422 on a
tap); this walks the whole space so that no such button can come back."""

from __future__ import annotations

import pytest
from fastapi import HTTPException

from cityeye.api.cases import Move, action_attrs, check_move
from cityeye.api.presenters import moves_json
from cityeye.cases import CaseBook, TransitionError
from cityeye.cases.lifecycle import Action, Note, person_moves
from cityeye.domain import (
    Alert,
    Area,
    AreaLevel,
    Case,
    CaseState,
    FieldError,
    Party,
    PartyKind,
    Severity,
    World,
)
from cityeye.domain.users import User, UserRole
from kit import at

AREAS = {
    "D": Area("D", "拱墅区", AreaLevel.DISTRICT),
    "S1": Area("S1", "小河街道", AreaLevel.STREET, "D"),
    "G1": Area("G1", "第1网格", AreaLevel.GRID, "S1"),
}
PARTIES = [
    Party("GW1", "张网格员", PartyKind.GRID_WORKER, ("G1",)),
    Party("ST1", "小河街道办", PartyKind.GOVERNMENT, ("S1",)),
]
WORLD = World(
    district=AREAS["D"],
    timezone="Asia/Shanghai",
    areas=AREAS,
    parties={p.id: p for p in PARTIES},
)
ROUTES = {"fire.smoke": PartyKind.GRID_WORKER}

USERS = [
    User("u1", "disp", "调度员", UserRole.DISPATCHER, areas=("D",)),
    User("u2", "gw", "张网格员", UserRole.HANDLER, party_id="GW1", areas=("G1",)),
    User("u3", "street", "街道办", UserRole.HANDLER, party_id="ST1", areas=("S1",)),
    User("u4", "admin", "管理员", UserRole.ADMIN),
    User("u5", "boss", "领导", UserRole.LEADER, areas=("D",)),
    User("u6", "res", "居民", UserRole.RESIDENT),
]
EVERY_MOVE = [*Action, *Note]
WHY = "现场核实 checked on site"

# how a case gets into each state: the scripted moves after an alert opened it
# (dispatched to GW1), or after one no route covers opened it (reported)
PATHS: dict[CaseState, tuple[str, list[tuple[str, str]]]] = {
    CaseState.DISPATCHED: ("fire.smoke", []),
    CaseState.ACCEPTED: ("fire.smoke", [("accept", "handler")]),
    CaseState.IN_PROGRESS: ("fire.smoke", [("accept", "handler"), ("arrive", "handler")]),
    CaseState.HANDLED: ("fire.smoke", [("accept", "handler"), ("handle", "handler")]),
    CaseState.VERIFIED: (
        "fire.smoke",
        [("accept", "handler"), ("handle", "handler"), ("verify", "verifier")],
    ),
    CaseState.CLOSED: (
        "fire.smoke",
        [("accept", "handler"), ("handle", "handler"), ("verify", "verifier"), ("close", "")],
    ),
    CaseState.REOPENED: (
        "fire.smoke",
        [("accept", "handler"), ("handle", "handler"), ("reopen", "dispatcher")],
    ),
    CaseState.RETURNED: ("fire.smoke", [("return", "handler")]),
    CaseState.ESCALATED: ("fire.smoke", [("escalate", "dispatcher")]),
    CaseState.DISMISSED: ("fire.smoke", [("dismiss", "dispatcher")]),
    CaseState.REPORTED: ("noise.night", []),
}


def case_in(state: CaseState) -> tuple[CaseBook, Case]:
    """A fresh book holding one case, moved into ``state`` the way people move it."""
    scenario, path = PATHS[state]
    book = CaseBook(WORLD, ROUTES)
    alert = Alert(f"{scenario}/B1/1", scenario, "B1", Severity.HIGH, at(0), area="G1")
    case = book.on_alert("opened", alert, at(0))
    assert case is not None
    for second, (action, role) in enumerate(path, start=1):
        attrs = {"case": case.id, "action": action, "note": WHY, "party": "GW1"}
        if role:
            attrs["role"] = role
        book.scripted(attrs, at(second / 60))  # seconds apart: no deadline passes
    assert case.state == state
    return book, case


def accepted(state: CaseState, user: User, action: str) -> bool:
    """Whether the API lets ``user`` ask for ``action`` and the book then applies it."""
    book, case = case_in(state)
    party = "ST1" if action in ("dispatch", "co_handle") else None
    move = Move(action=action, note=WHY, party=party)
    try:
        role = check_move(user, case, move)
        book.scripted(action_attrs(user, case, move, role, book.version(case)), at(0.5))
    except (HTTPException, TransitionError, FieldError):
        return False
    return True


def test_every_state_can_be_reached() -> None:
    reachable = set(PATHS)
    # self-resolved only happens to the system (an alert that resolved undispatched)
    assert reachable | {CaseState.SELF_RESOLVED} == set(CaseState)


@pytest.mark.parametrize("state", list(PATHS), ids=lambda s: s.value)
@pytest.mark.parametrize("user", USERS, ids=lambda u: u.username)
def test_the_moves_shown_are_exactly_the_moves_accepted(state: CaseState, user: User) -> None:
    _, case = case_in(state)
    shown = {m["action"] for m in moves_json(case, user)}
    works = {m.value for m in EVERY_MOVE if accepted(state, user, m.value)}
    assert shown == works


def test_a_handler_is_never_offered_a_return_the_lifecycle_refuses() -> None:
    gw = USERS[1]
    for state in (CaseState.ACCEPTED, CaseState.IN_PROGRESS, CaseState.ESCALATED):
        _, case = case_in(state)
        assert Action.RETURN not in person_moves(case, gw.role, gw.party_id)
    _, case = case_in(CaseState.DISPATCHED)
    assert Action.RETURN in person_moves(case, gw.role, gw.party_id)


def test_a_move_says_when_it_needs_a_reason_and_a_party() -> None:
    _, case = case_in(CaseState.REPORTED)
    offered = {m["action"]: m for m in moves_json(case, USERS[0])}
    assert offered["dispatch"] == {"action": "dispatch", "reason": False, "party": True}
    assert offered["dismiss"]["reason"] is True
    assert offered["co_handle"]["party"] is True
    _, case = case_in(CaseState.ACCEPTED)
    offered = {m["action"]: m for m in moves_json(case, USERS[1])}
    assert offered["handle"]["reason"] is True  # 处置完成 says what was done


def test_nobody_on_the_desk_acts_as_the_system() -> None:
    _, case = case_in(CaseState.REPORTED)
    for user in USERS:
        assert "self_resolve" not in {m["action"] for m in moves_json(case, user)}
        assert not accepted(CaseState.REPORTED, user, "self_resolve")
