"""Response standards (issue 19 item 4): a month of critical cases with known timings in
two streets, and the 135 standard's "1 分钟响应率 / 5 分钟到达率 / 现场处结率" per street,
community and party checked against values worked out by hand; the edges (exactly at
the limit, a step skipped, a case still open, a false alarm); the area scope of
``/api/v1/standards/attainment``; and the world file's ``standards:`` section."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml
from fastapi.testclient import TestClient
from openpyxl import load_workbook
from test_cockpit_api import DAGUAN, PASSWORD, XIAOHE, two_streets

from cityeye.accounts import create_user
from cityeye.api.app import create_app
from cityeye.cases.lifecycle import Action, Actor, Role, apply
from cityeye.cases.standards import (
    DEFAULT_STANDARDS,
    MET,
    MISSED,
    PENDING,
    Mark,
    attainment,
    closed_on_site,
    outcome,
    reached,
    standards_for,
)
from cityeye.domain import Case, CaseOrigin, CaseState, Severity
from cityeye.domain.users import Scope, below
from cityeye.live.clock import ReplayClock
from cityeye.live.pipeline import LivePipeline
from cityeye.report import build_report, render_html, write_xlsx
from cityeye.store import Store
from cityeye.store.standards import standard_cases
from cityeye.world import load_world
from cityeye.world.load import WorldError

T135 = DEFAULT_STANDARDS[0]
STEP = {s.id: s for s in T135.steps}
D, H, V = Actor("P-X", Role.DISPATCHER), Actor("P-X", Role.HANDLER), Actor("v", Role.VERIFIER)
SYS = Actor("system", Role.SYSTEM)
A = Action
NOV = datetime.fromisoformat("2026-11-01T00:00:00+08:00")
DEC = datetime.fromisoformat("2026-12-01T00:00:00+08:00")
#: "now" for the API: the last minute of November, local time
NOW = datetime.fromisoformat("2026-11-30T23:59:40+08:00")


def case(
    cid: str,
    area: str,
    opened: datetime,
    moves: list[tuple[float, Action]],
    *,
    lead: str = "P-CG",
    severity: Severity = Severity.CRITICAL,
) -> Case:
    """A case opened at ``opened`` and moved by ``moves`` (seconds after the opening)
    through the real lifecycle table, so every timeline is one cityeye could record."""
    c = Case(cid, CaseOrigin.ALERT, CaseState.REPORTED, severity, opened, "t", "fire.smoke")
    c.area, c.lead = area, lead
    for seconds, action in moves:
        actor = {A.VERIFY: V, A.REOPEN: V, A.CLOSE: D, A.ESCALATE: SYS}.get(action, H)
        if action in (Action.DISPATCH, Action.DISMISS):
            actor = D
        note = "why" if action in (A.HANDLE, A.RETURN, A.ESCALATE, A.REOPEN) else ""
        note = "误报" if action == Action.DISMISS else note
        apply(c, action, actor, opened + timedelta(seconds=seconds), note)
    return c


CLOSE = [(900.0, A.HANDLE), (950.0, A.VERIFY), (1000.0, A.CLOSE)]


def month() -> list[Case]:
    """Hand-made November. 小河街道 (G0001-G0003), critical:

    x1 accept 30 s, arrive 240 s, closed            → 1 min met,    5 min met,    on site
    x2 accept 60 s, arrive 300 s (both exactly)     → met,          met,          on site
    x3 returned and re-dispatched, accept 61 s,
       arrive 301 s, closed                         → missed,       missed,       not on site
    x4 accept 45 s, handled at 200 s (no 到场), closed → met,       met (handled), on site
    x5 escalated at 61 s, accepted 90 s, arrive 600 s, open → missed, missed
    xo opened 31 Oct, closed 1 Nov (plain)          → not timed in Nov,           on site
    plus a high case (not covered) and a dismissed critical one (a false alarm: out).
    → 1 min 3/5, 5 min 3/5, on site 4/5.

    大关街道 (G0101), critical:
    d1 accept 20 s, arrive 100 s, closed            → met,          met,          on site
    d2 opened 20 s before now, dispatched only      → pending,      pending
    d3 accepted 50 s, never arrived, open           → met,          missed
    → 1 min 2/2 (1 pending), 5 min 1/2 (1 pending), on site 1/1.
    """
    day = NOV + timedelta(days=9, hours=10)
    return [
        case("x1", "G0001", day, [(0, A.DISPATCH), (30, A.ACCEPT), (240, A.ARRIVE), *CLOSE],
             lead="P-GW1"),
        case("x2", "G0002", day, [(0, A.DISPATCH), (60, A.ACCEPT), (300, A.ARRIVE), *CLOSE]),
        case("x3", "G0003", day, [(0, A.DISPATCH), (20, A.RETURN), (40, A.DISPATCH),
                                  (61, A.ACCEPT), (301, A.ARRIVE), *CLOSE]),
        case("x4", "G0001", day, [(0, A.DISPATCH), (45, A.ACCEPT), (200, A.HANDLE),
                                  (250, A.VERIFY), (260, A.CLOSE)], lead="P-GW1"),
        case("x5", "G0003", day, [(0, A.DISPATCH), (61, A.ESCALATE), (90, A.ACCEPT),
                                  (600, A.ARRIVE)]),
        case("xo", "G0001", NOV - timedelta(minutes=30),
             [(0, A.DISPATCH), (30, A.ACCEPT), (100, A.ARRIVE), (900, A.HANDLE),
              (1850, A.VERIFY), (1860, A.CLOSE)], lead="P-GW1"),
        case("xh", "G0002", day, [(0, A.DISPATCH), (10, A.ACCEPT)], severity=Severity.HIGH),
        case("xf", "G0002", day, [(0, A.DISPATCH), (200, A.DISMISS)]),
        case("d1", "G0101", day, [(0, A.DISPATCH), (20, A.ACCEPT), (100, A.ARRIVE), *CLOSE],
             lead="P-GW9"),
        case("d2", "G0101", NOW - timedelta(seconds=20), [(0, A.DISPATCH)], lead="P-GW9"),
        case("d3", "G0101", day + timedelta(days=3), [(0, A.DISPATCH), (50, A.ACCEPT)],
             lead="P-GW9"),
    ]  # fmt: skip


def counts(step: dict[str, Any]) -> tuple[int, int, int]:
    return step["met"], step["denominator"], step["pending"]


# ------------------------------------------------------------------ the measure itself
def test_each_step_is_met_at_its_limit_and_missed_a_second_after() -> None:
    cases = {c.id: c for c in month()}
    assert outcome(cases["x2"], STEP["take_call"], NOV, DEC, NOW) == MET  # 60 s: ≤ 1 min
    assert outcome(cases["x2"], STEP["start"], NOV, DEC, NOW) == MET  # 300 s
    assert outcome(cases["x3"], STEP["take_call"], NOV, DEC, NOW) == MISSED  # 61 s
    assert outcome(cases["x3"], STEP["start"], NOV, DEC, NOW) == MISSED  # 301 s


def test_a_skipped_stage_is_reached_by_the_next_one() -> None:
    """到场 was never pressed: handled at 200 s means on site by then; an escalated
    case taken by the level above without a dispatch was dispatched when taken."""
    cases = {c.id: c for c in month()}
    x4 = cases["x4"]
    assert reached(x4, Mark.ARRIVED) == x4.opened_at + timedelta(seconds=200)
    assert outcome(x4, STEP["start"], NOV, DEC, NOW) == MET
    escalated = case("e", "G0001", NOV, [(100, A.ESCALATE), (130, A.ACCEPT)])
    assert reached(escalated, Mark.DISPATCHED) == NOV + timedelta(seconds=130)
    assert outcome(escalated, STEP["set_out"], NOV, DEC, NOW) == MET


def test_an_open_case_is_pending_until_its_limit_passes() -> None:
    open_case = case("o", "G0001", NOW - timedelta(seconds=20), [(0, A.DISPATCH)])
    assert outcome(open_case, STEP["take_call"], NOV, DEC, NOW) == PENDING
    assert outcome(open_case, STEP["take_call"], NOV, DEC, NOW + timedelta(seconds=40)) == PENDING
    assert outcome(open_case, STEP["take_call"], NOV, DEC, NOW + timedelta(seconds=41)) == MISSED
    assert outcome(open_case, STEP["on_site"], NOV, DEC, NOW) is None  # not closed


def test_closed_on_site_means_no_transfer() -> None:
    cases = {c.id: c for c in month()}
    assert closed_on_site(cases["x1"])
    assert not closed_on_site(cases["x3"])  # returned and re-dispatched
    assert not closed_on_site(cases["x5"])  # open (and escalated)
    reopened = case("r", "G0001", NOV, [(0, A.DISPATCH), (10, A.ACCEPT), *CLOSE,
                                        (2000, A.REOPEN), (2100, A.ACCEPT), (2200, A.HANDLE),
                                        (2300, A.VERIFY), (2400, A.CLOSE)])  # fmt: skip
    assert reopened.state == CaseState.CLOSED
    assert not closed_on_site(reopened)


def test_false_alarms_and_other_severities_are_not_counted() -> None:
    cases = {c.id: c for c in month()}
    result = attainment(T135, [cases["xf"], cases["xh"]], NOV, DEC, NOW)
    assert result["total"]["cases"] == 0
    assert result["total"]["steps"]["take_call"]["rate"] is None  # nothing is not 100 %


# ------------------------------------------------------------------ the API
class Env:
    def __init__(self, client: TestClient, store: Store) -> None:
        self.client, self.store = client, store

    def get(self, user: str, **params: str) -> Any:
        r = self.client.post("/api/v1/auth/login", json={"username": user, "password": PASSWORD})
        self.client.cookies.clear()
        headers = {"Authorization": f"Bearer {r.json()['token']}"}
        return self.client.get("/api/v1/standards/attainment", params=params, headers=headers)


USERS: dict[str, dict[str, Any]] = {
    "xh_street": {"role": "dispatcher", "areas": (XIAOHE,)},
    "dg_street": {"role": "dispatcher", "areas": (DAGUAN,)},
    "cz_comm": {"role": "dispatcher", "areas": ("330105001001",)},
    "boss": {"role": "leader", "areas": ("330105",)},
    "root": {"role": "admin"},
    "li": {"role": "handler", "party_id": "P-GW9"},  # the grid worker of G0101 (大关)
    "resident": {"role": "resident"},
}


@pytest.fixture
def env(tmp_path: Path) -> Iterator[Env]:
    store = Store.open(f"sqlite:///{tmp_path / 'standards.db'}")
    world = load_world(two_streets(tmp_path))
    store.save_world(world)
    for name, spec in USERS.items():
        create_user(store, world, username=name, password=PASSWORD, **spec)
    store.save_cases(month())
    pipeline = LivePipeline(store, lateness_s=0)
    app = create_app(store, pipeline, wall_clock=False, clock=ReplayClock(NOW, speed=0))
    with TestClient(app) as client:
        yield Env(client, store)
    store.close()


NOVEMBER = {"first": "2026-11-01", "last": "2026-11-30"}


def by_value(body: dict[str, Any]) -> dict[str, dict[str, Any]]:
    (standard,) = body["standards"]
    return {row["value"]: row for row in standard["rows"]}


def test_a_months_attainment_per_street_matches_the_hand_count(env: Env) -> None:
    r = env.get("root", by="street", **NOVEMBER)
    assert r.status_code == 200, r.text
    body = r.json()
    (standard,) = body["standards"]
    assert standard["id"] == "135"
    assert [s["rate_zh"] for s in standard["steps"]] == [
        "1 分钟响应率", "3 分钟出动率", "5 分钟到达率", "现场处结率",
    ]  # fmt: skip
    rows = by_value(body)
    assert set(rows) == {XIAOHE, DAGUAN}
    xh, dg = rows[XIAOHE]["steps"], rows[DAGUAN]["steps"]
    assert rows[XIAOHE]["name"] == "小河街道"
    assert counts(xh["take_call"]) == (3, 5, 0)
    assert xh["take_call"]["rate"] == 0.6
    assert counts(xh["start"]) == (3, 5, 0)
    assert counts(xh["on_site"]) == (4, 5, 0)
    assert xh["on_site"]["rate"] == 0.8
    assert counts(xh["set_out"]) == (5, 5, 0)  # everything was dispatched at once
    assert counts(dg["take_call"]) == (2, 2, 1)
    assert dg["take_call"]["rate"] == 1.0
    assert counts(dg["start"]) == (1, 2, 1)
    assert dg["start"]["rate"] == 0.5
    assert counts(dg["on_site"]) == (1, 1, 0)
    total = standard["total"]["steps"]
    assert counts(total["take_call"]) == (5, 7, 1)
    assert total["take_call"]["rate"] == round(5 / 7, 4)
    assert counts(total["start"]) == (4, 7, 1)


def test_per_community_and_per_party_inside_a_street(env: Env) -> None:
    communities = by_value(env.get("root", area=XIAOHE, by="community", **NOVEMBER).json())
    # 长征桥社区 (G0001, G0002): x1, x2, x4 (+ xo closed); 小河社区 (G0003): x3, x5
    assert counts(communities["330105001001"]["steps"]["take_call"]) == (3, 3, 0)
    assert counts(communities["330105001002"]["steps"]["take_call"]) == (0, 2, 0)
    assert counts(communities["330105001001"]["steps"]["on_site"]) == (4, 4, 0)
    parties = by_value(env.get("root", area=XIAOHE, by="party", **NOVEMBER).json())
    assert parties["P-GW1"]["name"] == "张网格员"
    assert counts(parties["P-GW1"]["steps"]["take_call"]) == (2, 2, 0)  # x1, x4
    assert counts(parties["P-CG"]["steps"]["take_call"]) == (1, 3, 0)  # x2; x3, x5 missed


def test_the_period_decides_which_cases_count(env: Env) -> None:
    """A case counts for the timed steps in the period it was opened in and for 现场处结
    in the one it was closed in: the case opened on 31 October counts once each."""
    october = env.get("root", first="2026-10-01", last="2026-10-31").json()
    steps = october["standards"][0]["total"]["steps"]
    assert counts(steps["take_call"]) == (1, 1, 0)
    assert counts(steps["on_site"]) == (0, 0, 0)
    assert steps["on_site"]["rate"] is None


def test_attainment_keeps_to_the_callers_areas(env: Env) -> None:
    assert env.get("dg_street", area=XIAOHE, **NOVEMBER).status_code == 404
    assert env.get("xh_street", area=DAGUAN, **NOVEMBER).status_code == 404
    assert env.get("cz_comm", area=XIAOHE, **NOVEMBER).status_code == 404  # the street above
    assert env.get("xh_street", **NOVEMBER).status_code == 422  # must name one of its areas
    mine = env.get("dg_street", area=DAGUAN, by="street", **NOVEMBER).json()
    assert set(by_value(mine)) == {DAGUAN}
    assert counts(mine["standards"][0]["total"]["steps"]["take_call"]) == (2, 2, 1)
    # a community's dispatcher grouping by street sees no street row (it would count
    # only their part of it), and their own community's figures
    community = env.get("cz_comm", area="330105001001", by="street", **NOVEMBER).json()
    assert by_value(community) == {}
    assert counts(community["standards"][0]["total"]["steps"]["take_call"]) == (3, 3, 0)
    # a handler: their party's grid, not the street next door
    assert env.get("li", area=XIAOHE, **NOVEMBER).status_code == 404
    grid = env.get("li", area="G0101", **NOVEMBER).json()
    assert counts(grid["standards"][0]["total"]["steps"]["take_call"]) == (2, 2, 1)
    # a resident sees no case through this, so no area's rates either
    assert env.get("resident", area="G0101", **NOVEMBER).status_code == 404
    assert env.get("resident", **NOVEMBER).status_code == 422
    whole = env.get("boss", area="330105", **NOVEMBER).json()
    assert counts(whole["standards"][0]["total"]["steps"]["take_call"]) == (5, 7, 1)


def test_bad_parameters_name_the_field(env: Env) -> None:
    bad_by = env.get("root", by="grid", **NOVEMBER)
    assert bad_by.status_code == 422
    assert "by" in bad_by.text
    unknown = env.get("root", standard="1520", **NOVEMBER)
    assert unknown.status_code == 404
    assert "standard" in unknown.json()["detail"]


def test_the_standards_are_listed_with_their_steps(env: Env) -> None:
    r = env.client.post("/api/v1/auth/login", json={"username": "root", "password": PASSWORD})
    listed = env.client.get(
        "/api/v1/standards", headers={"Authorization": f"Bearer {r.json()['token']}"}
    ).json()
    (standard,) = listed["standards"]
    assert standard["severities"] == ["critical"]
    assert [(s["mark"], s["within_s"]) for s in standard["steps"]] == [
        ("accepted", 60), ("dispatched", 180), ("arrived", 300), ("closed_on_site", None),
    ]  # fmt: skip


# ------------------------------------------------------------------ the world file
def world_with(tmp_path: Path, standards: Any) -> Path:
    doc = yaml.safe_load(two_streets(tmp_path).read_text("utf-8"))
    doc["standards"] = standards
    path = tmp_path / "with_standards.yaml"
    path.write_text(yaml.safe_dump(doc, allow_unicode=True, sort_keys=False), "utf-8")
    return path


def test_a_world_file_replaces_the_built_in_standards(tmp_path: Path) -> None:
    path = world_with(
        tmp_path,
        [
            {
                "id": "fire10",
                "name": "火情 10 分钟到场",
                "scenarios": "fire.*",
                "steps": [
                    {"id": "arrive", "name": "10 分钟到场", "mark": "arrived", "within": "10m"}
                ],
            }
        ],
    )
    world = load_world(path)
    (standard,) = standards_for(world.standards)
    assert (standard.id, standard.scenarios, standard.steps[0].within_s) == (
        "fire10",
        ("fire.*",),
        600,
    )
    store = Store.open(f"sqlite:///{tmp_path / 'w.db'}")
    store.save_world(world)
    stored = store.load_world()
    assert stored is not None
    assert standards_for(stored.standards) == standards_for(world.standards)
    store.close()
    assert standards_for(load_world(two_streets(tmp_path)).standards) == DEFAULT_STANDARDS
    assert standards_for(load_world(world_with(tmp_path, [])).standards) == ()


def test_a_wrong_standard_is_reported_with_its_line(tmp_path: Path) -> None:
    """Every problem at once, each with its path and line: the shape of each standard
    first, then (in the well-formed ones) the rules between its fields."""
    path = world_with(
        tmp_path,
        [
            {
                "id": "s1",
                "name": "x",
                "severities": ["urgent"],
                "steps": [{"id": "c", "name": "c", "mark": "left", "within": "1m"}],
            },
            {
                "id": "s2",
                "name": "y",
                "steps": [
                    {"id": "a", "name": "a", "mark": "accepted"},
                    {"id": "a", "name": "b", "mark": "closed_on_site", "within": "1m"},
                ],
            },
            {"id": "s2", "name": "z", "steps": [{"id": "a", "name": "a", "mark": "closed"}]},
        ],
    )
    with pytest.raises(WorldError) as caught:
        load_world(path)
    text = str(caught.value)
    lines = path.read_text("utf-8").splitlines()
    found = {p.path: p for p in caught.value.problems}
    assert "standards[0].severities[0]" in found, text
    assert "standards[0].steps[0].mark" in found, text
    assert "standards[1].steps[0].within" in found, text  # a timed mark needs one
    assert "standards[1].steps[1].within" in found, text  # an outcome takes none
    assert "standards[1].steps[1].id" in found, text  # twice in one standard
    assert "standards[2].id" in found, text  # a second s2
    assert "standards[2].steps[0].within" in found, text
    mark_line = found["standards[0].steps[0].mark"].line
    assert mark_line is not None
    assert "left" in lines[mark_line - 1]


# ------------------------------------------------------------------ the monthly report
def test_the_monthly_report_has_the_same_attainment(tmp_path: Path) -> None:
    store = Store.open(f"sqlite:///{tmp_path / 'report.db'}")
    store.save_world(load_world(two_streets(tmp_path)))
    store.save_cases(month())
    try:
        report = build_report(store, "2026-11", "小河街道")
    finally:
        store.close()
    rows = {r["step"]: (r["met"], r["denominator"], r["rate"]) for r in report.standards}
    assert rows["1 分钟接警"] == (3, 5, 0.6)
    assert rows["5 分钟启动处置"] == (3, 5, 0.6)
    assert rows["现场处结"] == (4, 5, 0.8)
    html = render_html(report)
    assert "响应标准达标率" in html
    assert "1 分钟响应率" in html
    assert "60.0%" in html
    write_xlsx(report, tmp_path / "r.xlsx")
    sheet = load_workbook(tmp_path / "r.xlsx")["响应标准 Standards"]
    values = [[c.value for c in row] for row in sheet.iter_rows()]
    assert ["“135”应急处置圈", "现场处结", "现场处结率", 4, 5, 0.8] in values


# ------------------------------------------------------------------ both databases
@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.integration)])
def any_store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    """An empty database of this test's own, on SQLite and on PostgreSQL."""
    if request.param == "sqlite":
        s = Store.open(f"sqlite:///{tmp_path / 'any.db'}")
        yield s
        s.close()
        return
    url = request.getfixturevalue("pg_fresh_url")
    s = Store.open(url)
    yield s
    s.close()


def test_the_standards_query_is_the_same_on_both_databases(
    any_store: Store, tmp_path: Path
) -> None:
    """The world's standards survive a save and load (absent stays absent, so 135
    applies), and the query finds the cases opened or closed in the period, of the
    standards' severities, in the caller's scope."""
    world = load_world(two_streets(tmp_path))
    any_store.save_world(world)
    stored = any_store.load_world()
    assert stored is not None
    assert stored.standards is None
    assert standards_for(stored.standards) == DEFAULT_STANDARDS
    any_store.save_cases(month())
    everyone, critical = Scope(None), {Severity.CRITICAL}
    found = standard_cases(any_store, everyone, None, critical, NOV, DEC)
    # xo was opened in October and closed in November; xh is high; xf is critical
    expected = ["d1", "d2", "d3", "x1", "x2", "x3", "x4", "x5", "xf", "xo"]
    assert sorted(c.id for c in found) == expected
    counted = attainment(T135, found, NOV, DEC, NOW)["total"]["steps"]
    assert counts(counted["take_call"]) == (5, 7, 1)
    daguan = Scope(frozenset(below(world, [DAGUAN])))
    assert sorted(c.id for c in standard_cases(any_store, daguan, None, critical, NOV, DEC)) == [
        "d1",
        "d2",
        "d3",
    ]
    anything = standard_cases(any_store, everyone, None, None, NOV, DEC)
    assert "xh" in {c.id for c in anything}
    configured = load_world(world_with(tmp_path, []))
    any_store.save_world(configured)
    again = any_store.load_world()
    assert again is not None
    assert again.standards == ()  # none, not the built-in ones


def test_a_standard_covers_its_severities_and_scenarios_only(tmp_path: Path) -> None:
    path = world_with(
        tmp_path,
        [
            {
                "id": "gas",
                "name": "燃气 3 分钟受理",
                "scenarios": ["gas.*"],
                "steps": [{"id": "a", "name": "受理", "mark": "accepted", "within": "3m"}],
            }
        ],
    )
    (gas,) = standards_for(load_world(path).standards)
    fire = case("f", "G0001", NOV, [(0, A.DISPATCH), (100, A.ACCEPT)])
    leak = case("g", "G0001", NOV, [(0, A.DISPATCH), (100, A.ACCEPT)], severity=Severity.LOW)
    leak.scenario = "gas.leak"
    assert not gas.covers(fire)  # fire.smoke
    assert gas.covers(leak)  # any severity: the standard names none
    counted = attainment(gas, [fire, leak], NOV, DEC, NOW)["total"]
    assert counted["cases"] == 1
    assert counts(counted["steps"]["a"]) == (1, 1, 0)  # 100 s ≤ 3 min
    assert not T135.covers(leak)  # 135: critical only
