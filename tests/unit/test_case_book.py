"""Alerts become cases; cases find the party of the smallest enclosing area; deadlines
run on event time and escalate one level up, then again."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, timedelta

import pytest

from cityeye.cases import DEFAULT_SLA, Action, Actor, CaseBook, Role, Stage, route
from cityeye.cases.routing import Plan, plan
from cityeye.domain import (
    Alert,
    Area,
    AreaLevel,
    CaseState,
    Party,
    PartyKind,
    RoutingRule,
    Severity,
    World,
)
from kit import T0, at

AREAS = {
    "D": Area("D", "拱墅区", AreaLevel.DISTRICT),
    "S1": Area("S1", "小河街道", AreaLevel.STREET, "D"),
    "C1": Area("C1", "长征桥社区", AreaLevel.COMMUNITY, "S1"),
    "G1": Area("G1", "第1网格", AreaLevel.GRID, "C1"),
    "G2": Area("G2", "第2网格", AreaLevel.GRID, "C1"),
}
PARTIES = [
    Party("GW1", "张网格员", PartyKind.GRID_WORKER, ("G1",)),
    Party("CO1", "长征桥社区居委会", PartyKind.COMMUNITY, ("C1",)),
    Party("ST1", "小河街道办", PartyKind.GOVERNMENT, ("S1",)),
    Party("CG", "区城管局", PartyKind.GOVERNMENT, ("D",)),
    Party("PM1", "物业甲", PartyKind.PROPERTY, ("C1",)),
    Party("PM2", "物业乙", PartyKind.PROPERTY, ("C1",)),
]
WORLD = World(
    district=AREAS["D"],
    timezone="Asia/Shanghai",
    areas=AREAS,
    parties={p.id: p for p in PARTIES},
)
ROUTES = {
    "fire.smoke": PartyKind.GRID_WORKER,
    "elevator.ebike": PartyKind.PROPERTY,
    "garbage.dumping": PartyKind.GOVERNMENT,
}
HANDLER = Actor("GW1", Role.HANDLER)


def alert(
    scenario: str = "fire.smoke",
    key: str = "B1",
    severity: Severity = Severity.HIGH,
    minutes: float = 0,
    area: str = "G1",
    n: int = 1,
) -> Alert:
    return Alert(f"{scenario}/{key}/{n}", scenario, key, severity, at(minutes), area=area)


def test_routing_prefers_the_smallest_enclosing_area_then_least_load() -> None:
    assert route(WORLD, PartyKind.GRID_WORKER, "G1").id == "GW1"  # type: ignore[union-attr]
    assert route(WORLD, PartyKind.GRID_WORKER, "G2") is None  # no worker for G2 or above
    assert route(WORLD, PartyKind.GOVERNMENT, "G2").id == "ST1"  # type: ignore[union-attr]
    assert route(WORLD, PartyKind.PROPERTY, "G2").id == "PM1"  # type: ignore[union-attr]
    assert route(WORLD, PartyKind.PROPERTY, "G2", {"PM1": 3, "PM2": 1}).id == "PM2"  # type: ignore[union-attr]
    assert route(WORLD, PartyKind.GOVERNMENT, None).id == "CG"  # type: ignore[union-attr]


def test_alert_opens_a_dispatched_case_and_the_same_key_joins_it() -> None:
    book = CaseBook(WORLD, ROUTES)
    first = book.on_alert("opened", alert(), at(0))
    assert first is not None
    assert (first.state, first.lead) == (CaseState.DISPATCHED, "GW1")
    again = book.on_alert("opened", alert(n=2, minutes=1), at(1))
    assert again is first
    assert book.tracking[first.id].alert_ids == ["fire.smoke/B1/1", "fire.smoke/B1/2"]
    other = book.on_alert("opened", alert(key="B2"), at(2))
    assert other is not first


def test_each_report_is_its_own_case() -> None:
    book = CaseBook(WORLD, ROUTES)
    a = book.on_alert("opened", alert("citizen.report", "app/1", Severity.LOW), at(0))
    b = book.on_alert("opened", alert("citizen.report", "app/1", Severity.LOW, n=2), at(0))
    assert a is not b


def test_alert_resolved_before_dispatch_self_resolves_the_case() -> None:
    book = CaseBook(WORLD, ROUTES, auto_dispatch=False)
    case = book.on_alert("opened", alert(), at(0))
    resolved = alert()
    resolved.resolved_at = at(5)
    book.on_alert("resolved", resolved, at(5))
    assert case is not None
    assert (case.state, case.closed_at) == (CaseState.SELF_RESOLVED, at(5))


@pytest.mark.parametrize(
    ("severity", "stage", "minutes"),
    [
        (Severity.CRITICAL, Stage.ACCEPT, 1),
        (Severity.HIGH, Stage.ACCEPT, 10),
        (Severity.MEDIUM, Stage.ACCEPT, 60),
        (Severity.LOW, Stage.HANDLE, 72 * 60),
    ],
)
def test_sla_defaults_for_the_first_stage(severity: Severity, stage: Stage, minutes: int) -> None:
    book = CaseBook(WORLD, ROUTES)
    case = book.on_alert("opened", alert(severity=severity), at(0))
    assert case is not None
    track = book.tracking[case.id]
    assert (track.stage, track.deadline) == (stage, at(minutes))
    assert DEFAULT_SLA[severity][stage] == minutes * 60


def test_critical_follows_the_default_sla() -> None:
    """cityeye's default SLA (our choice) for a critical case: accept within 1 minute,
    arrive within 5, handled within 20 (from the report)."""
    book = CaseBook(WORLD, ROUTES)
    case = book.on_alert("opened", alert(severity=Severity.CRITICAL), at(0))
    assert case is not None
    track = book.tracking[case.id]
    book.act(case, Action.ACCEPT, HANDLER, at(0.5))
    assert (track.stage, track.deadline) == (Stage.ARRIVE, at(5))
    book.act(case, Action.ARRIVE, HANDLER, at(4))
    assert (track.stage, track.deadline) == (Stage.HANDLE, at(20))
    book.act(case, Action.HANDLE, HANDLER, at(19), "已处置")
    assert (track.stage, track.deadline) == (None, None)
    book.advance(at(60))
    assert track.escalations == []


def test_missed_deadline_escalates_one_level_up_then_again() -> None:
    book = CaseBook(WORLD, ROUTES)
    case = book.on_alert("opened", alert(), at(0))  # high: accept within 10 min
    assert case is not None
    book.advance(at(10))  # exactly at the deadline: not missed yet
    assert case.state == CaseState.DISPATCHED
    book.advance(at(10.5))
    track = book.tracking[case.id]
    assert case.state == CaseState.ESCALATED
    assert [(e.at, e.stage, e.to) for e in track.escalations] == [(at(10), Stage.ACCEPT, "CO1")]
    book.advance(at(21))  # the next 10 minutes missed too
    assert [e.to for e in track.escalations] == ["CO1", "ST1"]
    book.advance(at(32))  # and again, to the district
    book.advance(at(300))  # nobody above the district: no more escalations
    assert [e.to for e in track.escalations] == ["CO1", "ST1", "CG", None]
    book.act(case, Action.ACCEPT, HANDLER, at(301))  # work goes on
    assert case.state == CaseState.ACCEPTED
    assert case.state == CaseState.ACCEPTED


def test_upgrade_raises_priority_and_restarts_the_clock_tighter() -> None:
    book = CaseBook(WORLD, ROUTES)
    case = book.on_alert("opened", alert(severity=Severity.HIGH), at(0))
    assert case is not None
    upgraded = alert(severity=Severity.CRITICAL)
    book.on_alert("updated", upgraded, at(3))
    track = book.tracking[case.id]
    assert case.severity == Severity.CRITICAL
    assert (track.stage, track.deadline) == (Stage.ACCEPT, at(4))  # 1 min from the upgrade
    assert any(e.action == "priority_raised" for e in case.timeline)


def test_case_json_lists_states_and_escalations() -> None:
    book = CaseBook(WORLD, ROUTES)
    case = book.on_alert("opened", alert(), at(0))
    assert case is not None
    book.advance(at(11))
    line = book.to_json(case)
    assert [s["to"] for s in line["states"]] == ["reported", "dispatched", "escalated"]
    assert line["escalations"][0]["to"] == "CO1"
    assert line["lead"] == "GW1"
    assert T0.utcoffset() == timedelta(hours=8)
    assert (line["due_at"], line["overdue_s"]) == (at(120).astimezone(UTC).isoformat(), 0.0)
    book.advance(at(150))  # high: handled within 2 h, now half an hour past
    assert book.to_json(case)["overdue_s"] == 30 * 60


def test_kpis_by_hand_computed_fixture() -> None:
    """Four cases, counted by hand: two closed (one on time, one late, one co-handled by
    a property company, one rated 5), one dismissed, one still open."""
    from cityeye.cases.kpi import breakdown, by_area_level, kpis

    book = CaseBook(WORLD, ROUTES)
    a = book.on_alert("opened", alert(key="B1", severity=Severity.HIGH), at(0))
    b = book.on_alert("opened", alert(key="B2", severity=Severity.HIGH, area="G2"), at(0))
    c = book.on_alert("opened", alert(key="B3"), at(0))
    d = book.on_alert("opened", alert(key="B4"), at(0))
    assert a is not None
    assert b is not None
    assert c is not None
    assert d is not None
    book.act(c, Action.DISMISS, Actor("d", Role.DISPATCHER), at(3), "误报")
    book.dispatch(b, "GW1", Actor("d", Role.DISPATCHER), at(4))  # no worker for G2
    book.act(a, Action.ACCEPT, HANDLER, at(5))
    book.act(b, Action.ACCEPT, HANDLER, at(5))
    for case, handled_at in ((a, 60), (b, 150)):  # high: handle within 2 h
        book.act(case, Action.HANDLE, HANDLER, at(handled_at), "done")
        book.act(case, Action.VERIFY, Actor("CO1", Role.VERIFIER), at(handled_at + 1))
        book.act(case, Action.CLOSE, Actor("d", Role.DISPATCHER), at(handled_at + 2))
    book.add_co_handler(a, "PM1")
    a.rating = 5
    figures = kpis(book.cases.values(), WORLD.parties, at(0), at(24 * 60), alerts=4)
    assert figures["closed"] == 2
    assert figures["due"] == 3  # a, b (closed) and d (due at 2 h); c dismissed
    assert figures["handling_rate"] == round(2 / 3, 4)
    assert figures["on_time_rate"] == 0.5  # b closed at 152 min > 120
    assert figures["co_governance_rate"] == 0.5  # only a had the property company
    assert figures["satisfaction"] == 1.0
    assert figures["false_alarm_rate"] == 0.25
    assert figures["times"]["close"]["n"] == 2
    by_grid = breakdown(
        book.cases.values(), WORLD.parties, at(0), at(24 * 60), by_area_level(WORLD, AreaLevel.GRID)
    )
    assert by_grid["G1"]["closed"] == 1
    assert by_grid["G2"]["closed"] == 1
    by_street = breakdown(
        book.cases.values(),
        WORLD.parties,
        at(0),
        at(24 * 60),
        by_area_level(WORLD, AreaLevel.STREET),
    )
    assert by_street["S1"]["closed"] == 2  # grids roll up to their street


# ---------------------------------------------------------------- routing rules (data)
RULES = (
    RoutingRule(("elevator.ebike",), PartyKind.PROPERTY, co_handlers=(PartyKind.COMMUNITY,)),
    RoutingRule(("fire.*",), party="CG"),
    RoutingRule(("fire.smoke",), PartyKind.GRID_WORKER, area="G1"),
    RoutingRule(("*",), PartyKind.GOVERNMENT, area="C1"),
)
RULED = replace(WORLD, routing=RULES)


def test_the_most_specific_rule_wins() -> None:
    # the exact scenario beats the pattern: fire.smoke in G1 goes to the grid worker
    assert plan(RULED, "fire.smoke", "G1", None) == Plan(PartyKind.GRID_WORKER, rule=2)
    # in G2 the G1 rule does not apply; "fire.*" beats the catch-all "*" of C1, and a
    # fixed party brings its own kind (for escalation)
    assert plan(RULED, "fire.smoke", "G2", None) == Plan(PartyKind.GOVERNMENT, "CG", rule=1)
    # what no rule names falls to the catch-all, but only inside C1
    assert plan(RULED, "garbage.dumping", "G2", None) == Plan(PartyKind.GOVERNMENT, rule=3)
    assert plan(RULED, "garbage.dumping", "S1", PartyKind.GRID_WORKER) == Plan(
        PartyKind.GRID_WORKER
    )
    # no rule at all: the scenario's own route
    assert plan(WORLD, "elevator.ebike", "G1", PartyKind.PROPERTY) == Plan(PartyKind.PROPERTY)


def test_the_smaller_area_wins_among_equally_specific_rules() -> None:
    world = replace(
        WORLD,
        routing=(
            RoutingRule(("fire.smoke",), PartyKind.GOVERNMENT),
            RoutingRule(("fire.smoke",), PartyKind.PROPERTY, area="C1"),
            RoutingRule(("fire.smoke",), PartyKind.VOLUNTEER, area="C1"),  # shadowed
        ),
    )
    assert plan(world, "fire.smoke", "G1", None) == Plan(PartyKind.PROPERTY, rule=1)
    assert plan(world, "fire.smoke", "S1", None) == Plan(PartyKind.GOVERNMENT, rule=0)


def test_book_routes_by_the_world_rules_with_co_handlers() -> None:
    book = CaseBook(RULED, ROUTES)
    lift = book.on_alert("opened", alert("elevator.ebike", "EL1", area="G2"), at(0))
    assert lift is not None
    # property company leads, the community co-handles (协办), both from data
    assert (lift.lead, lift.co_handlers) == ("PM1", ["CO1"])
    fire = book.on_alert("opened", alert("fire.heat", "B9", area="D"), at(1))
    assert fire is not None
    assert fire.lead == "CG"


def test_world_file_deadlines_replace_a_severitys_defaults() -> None:
    world = replace(WORLD, sla={"high": {"handle": 3600}})  # no accept limit any more
    book = CaseBook(world, ROUTES)
    case = book.on_alert("opened", alert(severity=Severity.HIGH), at(0))
    assert case is not None
    assert case.due_at == at(60)
    book.advance(at(30))  # 10 min would have escalated under the default accept limit
    assert case.state == CaseState.DISPATCHED
    book.advance(at(61))
    assert case.state == CaseState.ESCALATED
    assert book.sla[Severity.CRITICAL] == DEFAULT_SLA[Severity.CRITICAL]
