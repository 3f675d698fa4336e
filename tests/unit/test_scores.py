"""Colour codes as a scoring model (issue 20): the ``score`` trigger and ``score:`` block.

Scores here are computed by hand. A test scenario whose one term takes its points from
the event (``per: attrs.points``) puts a unit exactly at 59.99, 60, 80 or 80.01, so the
bands are held at their edges: under 60 red, 60–80 (both ends) yellow, over 80 green
(一码安, seed 001:78041). The catalogue's three codes are held in
``test_catalogue_rest.py`` (their specs); here, what a person sees when asking why a
unit has its colour, and what a scenario file gets wrong.

Times are minutes after ``kit.T0``; ``D`` is a day.
"""

from __future__ import annotations

from itertools import permutations
from pathlib import Path
from typing import Any

import pytest

from cityeye.domain import Alert, Device, Event, Severity, Venue
from cityeye.scenarios import Engine, LoadedScenario, load_catalogue, load_scenarios
from cityeye.scenarios.conditions import WorldValues
from cityeye.scenarios.scoring import Colour, explain
from kit import at, ev, small_world

D = 1440
WORLD = small_world(
    devices=[Device("SDV", "smoke_detector", "G1", venue="U1")],
    venues=[
        Venue("U1", "G1", ("unit",)),
        Venue("U2", "G1", ("unit",)),
        Venue("FU1", "G1", ("fire_safety_unit",)),
        Venue("PP1", "G1", ("prepaid_merchant",)),
    ],
)

SCENARIO = """module: emergency
scenarios:
  - id: test.score
    name: {zh: 测试评分, en: test score}
    reads: [test.points, test.state]
    key: venue
    tags: [unit]
    score:
      base: 100
      window: 10d
      red_below: 60
      green_above: 80
      terms:
        - label: {zh: 扣分, en: points}
          when: {kind: test.points}
          points: 1
          per: attrs.points
        - label: {zh: 状态, en: state}
          when: {kind: test.state}
          points: 1
          per: attrs.points
          state: s
    trigger: {type: score, colour: [yellow, red]}
    severity: low
    upgrade:
      - severity: high
        trigger: {type: score, colour: red}
    resolve: {type: score, colour: green}
    route: government
"""


@pytest.fixture(scope="module")
def scenario(tmp_path_factory: pytest.TempPathFactory) -> LoadedScenario:
    path = tmp_path_factory.mktemp("scores") / "score.yaml"
    path.write_text(SCENARIO, encoding="utf-8")
    result = load_scenarios([path])
    assert result.problems == []
    [loaded] = result.scenarios
    return loaded


def pts(minutes: float, points: float, venue: str = "U1", kind: str = "test.points") -> Event:
    return ev(kind, minutes, source="test", venue=venue, points=points)


def run(scenario: LoadedScenario, events: list[Event], **kw: Any) -> list[Alert]:
    engine = Engine([scenario], WORLD, **kw)
    for event in events:
        engine.feed(event)
    engine.finish()
    return engine.alerts


def rows(alerts: list[Alert]) -> list[tuple[str, str, Any, Any]]:
    return [(a.key, a.severity.value, a.opened_at, a.resolved_at) for a in alerts]


# ----------------------------------------------------------------- the bands' edges
@pytest.mark.parametrize(
    ("points", "expect"),
    [
        (-40.01, [("U1", "high", at(0), None)]),  # 59.99: red
        (-40, [("U1", "low", at(0), None)]),  # 60: yellow (60–80 both ends)
        (-20, [("U1", "low", at(0), None)]),  # 80: yellow
        (-19.99, []),  # 80.01: green, nothing to say
    ],
    ids=["59.99 red", "60 yellow", "80 yellow", "80.01 green"],
)
def test_the_bands_at_their_edges(
    scenario: LoadedScenario, points: float, expect: list[Any]
) -> None:
    assert rows(run(scenario, [pts(0, points)])) == expect


def test_the_score_is_the_sum_whatever_the_order_points_came_in(
    scenario: LoadedScenario,
) -> None:
    """Floating-point sums depend on their order (100 + 18.93 − 19.3 − 19.63 is
    80.00000000000001 one way, 80.0 another); the score does not: 80 is yellow (not
    green, which would resolve), in every order of the three."""
    terms = (-19.3, -19.63, 18.93)
    for order in permutations(terms):
        events = [pts(i, p) for i, p in enumerate(order)]
        [alert] = run(scenario, events)
        assert (alert.severity, alert.resolved_at) == (Severity.LOW, None), order


def test_yellow_opens_low_red_raises_it_and_each_scored_event_joins(
    scenario: LoadedScenario,
) -> None:
    events = [pts(0, -25), pts(60, -10), pts(120, -10), pts(180, 5)]  # 75, 65, 55, 60
    [alert] = run(scenario, events)
    assert (alert.severity, alert.opened_at, alert.resolved_at) == (Severity.HIGH, at(0), None)
    assert alert.count == 4
    assert alert.event_ids == [e.id for e in events]


def test_green_again_resolves_and_a_new_fall_opens_the_next_alert(
    scenario: LoadedScenario,
) -> None:
    events = [pts(0, -30), pts(60, 11), pts(120, -1), pts(180, -11)]  # 70, 81, 80, 69
    alerts = run(scenario, events)
    assert [(a.id, a.severity.value, a.opened_at, a.resolved_at) for a in alerts] == [
        ("test.score/U1/1", "low", at(0), at(60)),
        ("test.score/U1/2", "low", at(120), None),
    ]


def test_a_term_counts_for_the_window_both_ends_then_leaves_it(
    scenario: LoadedScenario,
) -> None:
    """−45 at 0 and −10 at 1 d: 45, red. At 10 d the first still counts; once the clock
    passes 10 d it leaves (90: green, resolved at 10 d exactly)."""
    still = run(scenario, [pts(0, -45), pts(D, -10), pts(10 * D, 0, venue="U2")])
    assert rows(still) == [("U1", "high", at(0), None)]
    gone = run(scenario, [pts(0, -45), pts(D, -10), pts(10 * D + 1, 0, venue="U2")])
    assert rows(gone) == [("U1", "high", at(0), at(10 * D))]


def test_leaving_red_for_yellow_by_the_clock_is_no_new_firing(
    scenario: LoadedScenario,
) -> None:
    """−25 at 0, −20 at 1 d: 55, red. At 10 d the −25 leaves: 80, yellow — the alert stays
    open (yellow is still in the trigger's colours) and is not counted again."""
    events = [pts(0, -25), pts(D, -20), pts(10 * D + 5, 0, venue="U2")]
    [alert] = run(scenario, events)
    assert (alert.severity, alert.count, alert.resolved_at) == (Severity.HIGH, 2, None)


def test_only_the_latest_event_of_a_state_counts(scenario: LoadedScenario) -> None:
    """The same state reported short twice costs once (70, not 40); reported fine
    again, its cost is gone (100: resolved)."""
    state = "test.state"
    twice = run(scenario, [pts(0, -30, kind=state), pts(D, -30, kind=state)])
    assert rows(twice) == [("U1", "low", at(0), None)]
    fixed = run(scenario, [pts(0, -30, kind=state), pts(D, 0, kind=state)])
    assert rows(fixed) == [("U1", "low", at(0), at(D))]


def test_keys_are_scored_apart_and_only_registered_ones(scenario: LoadedScenario) -> None:
    events = [pts(0, -30, venue="U1"), pts(1, -15, venue="U2"), pts(2, -50, venue="U9")]
    assert rows(run(scenario, events)) == [("U1", "low", at(0), None)]


def test_a_per_field_that_is_not_a_number_scores_nothing(scenario: LoadedScenario) -> None:
    events = [ev("test.points", 0, venue="U1", points="lots"), pts(1, -25)]
    [alert] = run(scenario, events)
    assert alert.event_ids == [events[1].id]  # 75: the word was not scored


def test_a_late_event_changes_no_score(scenario: LoadedScenario) -> None:
    """Beyond the lateness an event is stored, not scored: a score at a time must not
    depend on what arrived after the clock had passed it."""
    events = [pts(0, -10), pts(30, 0, venue="U2"), pts(5, -50)]  # the −50 is 25 min late
    assert run(scenario, events, lateness_s=600) == []


def test_within_the_lateness_the_arrival_order_changes_nothing(
    scenario: LoadedScenario,
) -> None:
    in_order = [pts(0, -25), pts(2, -20), pts(4, 30), pts(6, -30)]  # 75 55 85 55
    shuffled = [in_order[3], in_order[1], in_order[0], in_order[2]]
    assert rows(run(scenario, shuffled)) == rows(run(scenario, in_order))
    assert rows(run(scenario, in_order)) == [
        ("U1", "high", at(0), at(4)),
        ("U1", "high", at(6), None),
    ]


def test_a_snapshot_keeps_the_score(scenario: LoadedScenario) -> None:
    engine = Engine([scenario], WORLD)
    engine.feed(pts(0, -30))
    engine.feed(pts(20, 0, venue="U2"))
    restored = Engine([scenario], WORLD)
    restored.restore(engine.snapshot())
    for event in (pts(30, -15), pts(60, 0, venue="U2")):  # 70 − 15 = 55: red
        restored.feed(event)
    restored.finish()
    assert rows(restored.alerts) == [("U1", "high", at(0), None)]


# ----------------------------------------------------------------- why a unit is red
def test_the_card_says_which_events_took_how_many_points(scenario: LoadedScenario) -> None:
    """What the alert's events explain, term by term: the fire-safety unit's yellow is a
    failed inspection's 3 hazards (−30) and two smoke alarms (−5 each): 60 exactly."""
    [unit] = [s for s in load_catalogue() if s.id == "fire.unit_colour"]
    world = small_world(
        devices=[Device("SD1", "smoke_detector", "G1", venue="FU1")],
        venues=[Venue("FU1", "G1", ("fire_safety_unit",))],
    )
    check = ev(
        "inspection.result",
        0,
        source="xf",
        venue="FU1",
        scheme="fire_safety",
        result="fail",
        hazards=3,
    )
    alarms = [ev("smoke.alarm", m, device="SD1") for m in (60, 120)]
    events = [check, *alarms]
    engine = Engine([unit], world)
    for event in events:
        engine.feed(event)
    engine.finish()
    [alert] = engine.alerts
    assert (alert.severity, alert.event_ids) == (Severity.LOW, [e.id for e in events])
    assert unit.config.score is not None
    compiled = unit.config.score.compile("score", WorldValues(district="330105"))
    card = explain(compiled, events, at(120), lambda _t: 0)
    assert (card.base, card.score, card.colour) == (100, 60, Colour.YELLOW)
    assert [(x.event_id, x.label_zh, x.points) for x in card.lines] == [
        (check.id, "消防检查不合格（每处隐患）", -30),
        (alarms[0].id, "烟感报警", -5),
        (alarms[1].id, "烟感报警", -5),
    ]
    assert card.to_json()["colour_zh"] == "黄码"


def test_the_card_leaves_out_what_the_window_has_left(scenario: LoadedScenario) -> None:
    assert scenario.config.score is not None
    compiled = scenario.config.score.compile("score", WorldValues(district="330105"))
    events = [pts(0, -45), pts(D, -10), pts(2 * D, 0, kind="test.state")]
    card = explain(compiled, events, at(10 * D), lambda _t: 0)
    assert (card.score, card.colour) == (45, Colour.RED)
    later = explain(compiled, events, at(10 * D + 1), lambda _t: 0)
    assert (later.score, later.colour) == (90, Colour.GREEN)
    assert [x.event_id for x in later.lines] == [events[1].id, events[2].id]


# ----------------------------------------------------------------- scenario files
def _problems(tmp_path: Path, text: str) -> list[str]:
    path = tmp_path / "bad.yaml"
    path.write_text(text, encoding="utf-8")
    return load_scenarios([path]).render_problems()


def test_a_score_trigger_without_a_score_block_is_refused(tmp_path: Path) -> None:
    text = SCENARIO.replace("    score:\n", "    unused:\n", 1)
    text = text.split("    unused:\n")[0] + text.split("          state: s\n")[1]
    problems = _problems(tmp_path, text)
    assert any("scenarios[0]" in p and "needs the scenario's score: block" in p for p in problems)


def test_bands_out_of_order_are_refused(tmp_path: Path) -> None:
    problems = _problems(tmp_path, SCENARIO.replace("red_below: 60", "red_below: 90"))
    assert any(
        "scenarios[0].score" in p and "red_below (90) must not be above green_above (80)" in p
        for p in problems
    )


def test_a_bad_term_names_its_place(tmp_path: Path) -> None:
    text = SCENARIO.replace("when: {kind: test.points}", "when: {attrs.points: {gte: many}}")
    problems = _problems(tmp_path, text)
    assert any("scenarios[0].score.terms[0].when.attrs.points.gte" in p for p in problems)


def test_an_unknown_colour_is_refused(tmp_path: Path) -> None:
    problems = _problems(tmp_path, SCENARIO.replace("colour: green}", "colour: blue}"))
    assert any("scenarios[0].resolve.colour" in p and "'blue'" in p for p in problems)


def test_a_score_upgrade_counted_within_the_alert_is_refused(tmp_path: Path) -> None:
    """A score counted only from the alert's opening would forget what made it yellow."""
    text = SCENARIO.replace(
        "      - severity: high\n", "      - severity: high\n        scope: alert\n", 1
    )
    problems = _problems(tmp_path, text)
    assert any("scenarios[0]" in p and "needs scope: key" in p for p in problems)
