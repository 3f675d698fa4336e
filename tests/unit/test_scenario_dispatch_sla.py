"""Alerts recorded but not dispatched (``record_only``) and a scenario's own deadlines
(``sla: {stage: duration}``): as written in a scenario file, as the case book applies
them, and as the built-in lift scenarios use them (issue 20)."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from cityeye.analysis import Analysis
from cityeye.cases import Action, Actor, CaseBook, Role, Stage
from cityeye.domain import Alert, Case, CaseState, Event, Party, PartyKind, Severity, World
from cityeye.scenarios import load_catalogue
from cityeye.scenarios.spec import load_scenarios
from kit import at, default_world, ev

PROPERTY = Party("PM1", "物业甲", PartyKind.PROPERTY, ("C1",))


def world() -> World:
    return replace(default_world(), parties={PROPERTY.id: PROPERTY})


def write(tmp_path: Path, body: str) -> Path:
    path = tmp_path / "mine.yaml"
    path.write_text(
        "module: emergency\nscenarios:\n  - id: my.lift\n"
        "    name: {zh: 测试, en: Test}\n    reads: [elevator.ebike_detected]\n"
        "    key: device\n    trigger: {type: threshold}\n    resolve: {type: case}\n"
        "    route: property\n" + body,
        encoding="utf-8",
    )
    return path


# ------------------------------------------------------------------ the file
def test_record_only_and_per_stage_sla_load(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "    severity: medium\n    record_only: [medium]\n"
        "    upgrade:\n      - severity: high\n"
        "        trigger: {type: count, count: 3, window: 60m}\n"
        "    sla: {arrive: 30m, handle: 2h}\n",
    )
    result = load_scenarios([path])
    assert result.problems == []
    [loaded] = result.scenarios
    assert loaded.config.record_only == [Severity.MEDIUM]
    assert loaded.config.own_sla() == {"arrive": 1800, "handle": 7200}
    assert loaded.to_spec().sla == {"arrive": 1800, "handle": 7200}


def test_the_old_sla_tag_still_loads(tmp_path: Path) -> None:
    result = load_scenarios([write(tmp_path, "    severity: high\n    sla: emergency\n")])
    assert result.problems == []
    assert result.scenarios[0].config.own_sla() is None
    assert result.scenarios[0].to_spec().sla == "emergency"


@pytest.mark.parametrize(
    ("body", "problem"),
    [
        (
            "    severity: medium\n    record_only: [high]\n",
            "record_only[0]: high is not a severity this scenario raises (medium)",
        ),
        (
            "    severity: medium\n    record_only: [medium, medium]\n",
            "record_only[1]: medium twice",
        ),
        ("    severity: medium\n    record_only: [urgent]\n", "record_only[0]: Input should be"),
        (
            "    severity: high\n    sla: {arrive: 30m, accept: 1h}\n",
            "sla: arrive (1800 s) is due before accept (3600 s)",
        ),
        ("    severity: high\n    sla: {arrive: 0s}\n", "sla: arrive: a deadline must be longer"),
        ("    severity: high\n    sla: {travel: 30m}\n", "sla: 'travel' is not a stage"),
        ("    severity: high\n    sla: {}\n", "sla: give at least one stage"),
        ("    severity: high\n    sla: 5\n", "sla: is a tag, or deadlines per stage"),
    ],
)
def test_bad_fields_name_file_line_and_field(tmp_path: Path, body: str, problem: str) -> None:
    path = write(tmp_path, body)
    problems = load_scenarios([path]).render_problems()
    assert len(problems) == 1, problems
    assert problems[0].startswith(f"{path}:11: scenarios[0].{problem}"), problems


# ------------------------------------------------------------------ the book
ROUTES = {"elevator.ebike": PartyKind.PROPERTY, "elevator.trapped": PartyKind.PROPERTY}


def lift_alert(severity: Severity, minutes: float = 0, n: int = 1) -> Alert:
    alert_id = f"elevator.ebike/EL1/{n}"
    return Alert(alert_id, "elevator.ebike", "EL1", severity, at(minutes), area="G1")


def test_a_record_only_alert_opens_no_case() -> None:
    book = CaseBook(world(), ROUTES, record_only={"elevator.ebike": [Severity.MEDIUM]})
    assert book.on_alert("opened", lift_alert(Severity.MEDIUM), at(0)) is None
    assert book.on_alert("updated", lift_alert(Severity.MEDIUM), at(5)) is None
    resolved = lift_alert(Severity.MEDIUM)
    resolved.resolved_at = at(65)
    assert book.on_alert("resolved", resolved, at(65)) is None
    assert book.cases == {}


def test_an_upgrade_past_record_only_opens_the_case_then() -> None:
    book = CaseBook(world(), ROUTES, record_only={"elevator.ebike": [Severity.MEDIUM]})
    book.on_alert("opened", lift_alert(Severity.MEDIUM), at(0))
    case = book.on_alert("updated", lift_alert(Severity.HIGH), at(20))
    assert case is not None
    assert (case.opened_at, case.severity, case.lead) == (at(20), Severity.HIGH, "PM1")
    track = book.tracking[case.id]
    assert (track.stage, track.deadline) == (Stage.ACCEPT, at(30))  # high: 10 min from then
    assert case.due_at == at(20 + 120)
    # the same alert growing afterwards joins, it does not open another case
    assert book.on_alert("updated", lift_alert(Severity.HIGH), at(25)) is case
    assert len(book.cases) == 1


def test_without_record_only_the_same_alert_is_dispatched_at_once() -> None:
    book = CaseBook(world(), ROUTES)
    case = book.on_alert("opened", lift_alert(Severity.MEDIUM), at(0))
    assert case is not None
    assert case.state == CaseState.DISPATCHED


def test_a_scenario_sla_replaces_the_severitys_limits() -> None:
    book = CaseBook(
        world(), ROUTES, scenario_sla={"elevator.trapped": {"accept": 60, "arrive": 1800}}
    )
    trapped = Alert("t/1", "elevator.trapped", "EL1", Severity.CRITICAL, at(0), area="G1")
    case = book.on_alert("opened", trapped, at(0))
    assert case is not None
    book.act(case, Action.ACCEPT, Actor("PM1", Role.HANDLER), at(0.5))
    track = book.tracking[case.id]
    assert (track.stage, track.deadline) == (Stage.ARRIVE, at(30))  # not the generic 5 min
    book.advance(at(29))
    assert track.escalations == []
    book.advance(at(30.5))
    assert [e.stage for e in track.escalations] == [Stage.ARRIVE]


# ------------------------------------------------------------------ the catalogue
def feed(events: list[Event]) -> Analysis:
    analysis = Analysis(load_catalogue(), world())
    for event in events:
        analysis.feed(event)
    analysis.finish()
    return analysis


def lift_cases(analysis: Analysis, scenario: str) -> list[Case]:
    return [c for c in analysis.book.cases.values() if c.scenario == scenario]


def test_ebike_detections_below_the_upgrade_are_counted_not_dispatched() -> None:
    """The lift blocks the e-bike itself; the seeds count the blocks (000:120)."""
    events = [ev("elevator.ebike_detected", m, device="EL1") for m in (0, 9, 80, 89.5)]
    analysis = feed(events)
    alerts = [a for a in analysis.engine.alerts if a.scenario == "elevator.ebike"]
    assert [a.count for a in alerts] == [2, 2]  # recorded and counted
    assert lift_cases(analysis, "elevator.ebike") == []  # nobody is sent


def test_the_third_ebike_within_60_min_reaches_the_property_then() -> None:
    events = [ev("elevator.ebike_detected", m, device="EL1") for m in (0, 9, 18)]
    analysis = feed(events)
    [case] = lift_cases(analysis, "elevator.ebike")
    assert (case.opened_at, case.severity, case.lead) == (at(18), Severity.HIGH, "PM1")


def test_a_trapped_lift_gets_30_minutes_to_arrive() -> None:
    analysis = feed([ev("elevator.trapped", 0, device="EL1", persons=2)])
    [case] = lift_cases(analysis, "elevator.trapped")
    book = analysis.book
    assert book.limits(case)[Severity.CRITICAL][Stage.ARRIVE] == 30 * 60
    book.act(case, Action.ACCEPT, Actor("PM1", Role.HANDLER), at(1))
    assert book.tracking[case.id].deadline == at(30)


def test_a_snapshot_keeps_a_recorded_alert_and_an_older_one_still_loads() -> None:
    """A restart between the record-only alert and its upgrade still opens the case;
    a book snapshot from before record_only (no recorded alerts in it) loads."""
    only = {"elevator.ebike": [Severity.MEDIUM]}
    book = CaseBook(world(), ROUTES, record_only=only)
    book.on_alert("opened", lift_alert(Severity.MEDIUM), at(0))
    restarted = CaseBook(world(), ROUTES, record_only=only)
    restarted.load_state(book.state())
    assert restarted.on_alert("updated", lift_alert(Severity.HIGH), at(20)) is not None
    old = {k: v for k, v in CaseBook(world(), ROUTES).state().items() if k != "_recorded"}
    CaseBook(world(), ROUTES).load_state(old)
