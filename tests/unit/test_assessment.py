"""数字治理赛: a month of cases with known timings, scored by rules written as data, and
every street's score, rank and terms checked against figures worked out by hand; the
board's movement since the month before; the public view without a person's name; and
the staff view bounded by the area scope (a street leader never sees another street's
communities)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from fastapi.testclient import TestClient

from cityeye.accounts import create_user
from cityeye.api.app import create_app
from cityeye.assessment import AssessmentError, board, parse_period, parse_rules
from cityeye.assessment.rules import default_rules, load_rules
from cityeye.assessment.scoring import Score, rank
from cityeye.assessment.source import KpiSource, module_scenarios
from cityeye.cases import Action, Actor, CaseBook, Role
from cityeye.domain import Alert, Area, AreaLevel, Case, Party, PartyKind, Severity, World
from cityeye.scenarios import load_catalogue
from cityeye.store import Store

CST = ZoneInfo("Asia/Shanghai")
AREAS = {
    "D": Area("D", "拱墅区", AreaLevel.DISTRICT),
    "S1": Area("S1", "小河街道", AreaLevel.STREET, "D"),
    "S2": Area("S2", "上塘街道", AreaLevel.STREET, "D"),
    "S3": Area("S3", "大关街道", AreaLevel.STREET, "D"),
    "C1": Area("C1", "长征桥社区", AreaLevel.COMMUNITY, "S1"),
    "C4": Area("C4", "小河社区", AreaLevel.COMMUNITY, "S1"),
    "C2": Area("C2", "蔡马社区", AreaLevel.COMMUNITY, "S2"),
    "C3": Area("C3", "西一社区", AreaLevel.COMMUNITY, "S3"),
    **{f"G{i}": Area(f"G{i}", f"第{i}网格", AreaLevel.GRID, f"C{i}") for i in (1, 2, 3, 4)},
}
PARTIES = [
    *(
        Party(f"GW{i}", f"网格员{n}", PartyKind.GRID_WORKER, (f"G{i}",))
        for i, n in ((1, "甲"), (2, "乙"), (3, "丙"))
    ),
    Party("PM", "绿城物业", PartyKind.PROPERTY, ("C1", "C2", "C3", "C4")),
]
WORLD = World(AREAS["D"], "Asia/Shanghai", AREAS, {p.id: p for p in PARTIES})
#: lifts go to the property company (共治), smoke and garbage to the grid worker (not 共治)
ROUTES = {
    "elevator.ebike": PartyKind.PROPERTY,
    "fire.smoke": PartyKind.GRID_WORKER,
    "garbage.overflow": PartyKind.GRID_WORKER,
}
D = Actor("d", Role.DISPATCHER)
RULES = """\
assessment:
  period: month
  ranks: [street, community]
  kpis:
    - {kpi: handling_rate, weight: 40, at_least: 90%}
    - {kpi: co_governance_rate, weight: 30, at_least: 90%}
    - {kpi: on_time_rate, weight: 20, at_least: 0.85}
    - {kpi: satisfaction, weight: 10, at_least: 90%}
  deductions:
    - {count: overdue, points: 0.5, max: 10}
    - {count: reopens, points: 1}
    - {count: supervisions, points: 2, max: 3}
"""
PASSWORD = "correct horse battery"


class Month:
    """Cases opened one a day from ``first`` at 09:00, MEDIUM (handle within 24 h)."""

    def __init__(self, book: CaseBook, first: date) -> None:
        self.book, self.first, self.n = book, first, 0

    def case(self, grid: str, scenario: str) -> tuple[Case, datetime]:
        opened = datetime.combine(self.first + timedelta(days=self.n), time(9), CST)
        self.n += 1
        alert = Alert(
            f"a{grid}{self.first}{self.n}",
            scenario,
            f"K{self.n}{grid}{self.first}",
            Severity.MEDIUM,
            opened,
            area=grid,
        )
        found = self.book.on_alert("opened", alert, opened)
        assert found is not None
        return found, opened

    def closed(self, grid: str, scenario: str, rating: int | None = None) -> Case:
        """Closed two hours after the report: on time."""
        case, opened = self.case(grid, scenario)
        handler = Actor(case.lead or "", Role.HANDLER)
        self.book.act(case, Action.ACCEPT, handler, opened + timedelta(minutes=5))
        self.book.act(case, Action.ARRIVE, handler, opened + timedelta(minutes=20))
        self.book.act(case, Action.HANDLE, handler, opened + timedelta(minutes=90), "已处置")
        self.book.act(
            case, Action.VERIFY, Actor("v", Role.VERIFIER), opened + timedelta(minutes=100)
        )
        self.book.act(case, Action.CLOSE, D, opened + timedelta(minutes=120))
        case.rating = rating
        return case

    def left_open(self, grid: str, scenario: str) -> Case:
        """Accepted, then never handled: overdue a day after the report."""
        case, opened = self.case(grid, scenario)
        self.book.act(
            case, Action.ACCEPT, Actor(case.lead or "", Role.HANDLER), opened + timedelta(minutes=5)
        )
        return case


def source(store: Store) -> KpiSource:
    return KpiSource(store, WORLD, module_scenarios(load_catalogue()))


def supervise(book: CaseBook, case: Case, at: datetime) -> None:
    book.scripted({"case": case.id, "action": "supervise", "note": "限期处置"}, at)


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    s = Store.open(f"sqlite:///{tmp_path / 'a.db'}", durable=False)
    s.save_world(WORLD)
    book = CaseBook(WORLD, ROUTES, auto_dispatch=True)
    # September: 上塘 closes one lift case (rated 5), 小河 one smoke case; 大关 nothing
    sep = Month(book, date(2026, 9, 10))
    sep.closed("G2", "elevator.ebike", 5)
    sep.closed("G1", "fire.smoke")
    # October
    octo = Month(book, date(2026, 10, 1))
    # 小河 (G1): ten lift cases closed on time, nine rated 5 and one 3
    for i in range(10):
        octo.closed("G1", "elevator.ebike", 5 if i else 3)
    octo.n = 0
    # 上塘 (G2): eight lift cases closed on time, two smoke cases left open
    for _ in range(8):
        octo.closed("G2", "elevator.ebike")
    octo.left_open("G2", "fire.smoke")
    octo.left_open("G2", "fire.smoke")
    octo.n = 0
    # 大关 (G3): five lift and five smoke cases closed on time, rated 4, 4, 5, 2; one of
    # the lift cases reopened by the resident and closed again on time
    daguan = [octo.closed("G3", "elevator.ebike") for _ in range(5)]
    daguan += [octo.closed("G3", "fire.smoke") for _ in range(5)]
    for case, stars in zip(daguan, (4, 4, 5, 2), strict=False):
        case.rating = stars
    again = daguan[0]
    assert again.closed_at is not None
    reopened = again.closed_at + timedelta(minutes=30)
    book.act(again, Action.REOPEN, Actor("r", Role.REPORTER), reopened, "没修好")
    book.act(again, Action.ACCEPT, Actor("PM", Role.HANDLER), reopened + timedelta(minutes=5))
    book.act(again, Action.ARRIVE, Actor("PM", Role.HANDLER), reopened + timedelta(minutes=10))
    book.act(
        again, Action.HANDLE, Actor("PM", Role.HANDLER), reopened + timedelta(minutes=20), "修好"
    )
    book.act(again, Action.VERIFY, Actor("v", Role.VERIFIER), reopened + timedelta(minutes=25))
    book.act(again, Action.CLOSE, D, reopened + timedelta(minutes=30))
    s.save_cases(book.cases.values())
    yield s
    s.close()


def test_every_streets_score_rank_and_terms_match_the_hand_count(store: Store) -> None:
    rules = parse_rules(RULES)
    found = board(rules, source(store), WORLD, "street", parse_period("2026-10"))
    rows = {s.unit: s for s in found.rows}
    # 小河: 处置率 10/10, 共治率 10/10, 按期 10/10, 满意 9/10: 40 + 30 + 20 + 10
    expect_terms(rows["S1"], [(1.0, 40), (1.0, 30), (1.0, 20), (0.9, 10)])
    assert [i.points for i in rows["S1"].deductions] == [0, 0, 0]
    assert rows["S1"].score == 100
    # 上塘: 8 closed of 10 due (two overdue): 40 × 0.8 / 0.9 = 35.56; 共治 8/8; 按期 8/8;
    # nothing rated: full 10 (if_empty: full); overdue 2 × 0.5 = 1 off
    expect_terms(rows["S2"], [(0.8, 35.56), (1.0, 30), (1.0, 20), (None, 10)])
    assert [(i.n, i.points) for i in rows["S2"].deductions] == [(2, -1.0), (0, 0), (0, 0)]
    assert rows["S2"].score == pytest.approx(94.56)
    # 大关: 处置 10/10; 共治 5/10: 30 × 0.5 / 0.9 = 16.67; 按期 10/10; 满意 3/4:
    # 10 × 0.75 / 0.9 = 8.33; one reopened: 1 off
    expect_terms(rows["S3"], [(1.0, 40), (0.5, 16.67), (1.0, 20), (0.75, 8.33)])
    assert [(i.n, i.points) for i in rows["S3"].deductions] == [(0, 0), (1, -1.0), (0, 0)]
    assert rows["S3"].score == pytest.approx(84.0)
    assert [(s.unit, s.rank) for s in found.rows] == [("S1", 1), ("S2", 2), ("S3", 3)]
    # colours: 小河 green; 上塘's 处置率 is 10 points under 90 %: red; 大关's 共治率 red
    assert [s.status for s in found.rows] == ["green", "red", "red"]
    assert [t.status for t in rows["S2"].terms] == ["red", "green", "green", "none"]
    # September: 上塘 100 (1st), 小河 70 (共治 0: 2nd), 大关 had no case: not ranked
    assert rows["S1"].previous is not None
    assert (rows["S1"].previous.rank, rows["S1"].previous.score) == (1 + 1, 70)
    assert rows["S2"].previous is not None
    assert rows["S2"].previous.rank == 1
    assert rows["S3"].previous is None


def expect_terms(s: Score, expected: list[tuple[float | None, float]]) -> None:
    assert [(t.value, t.points) for t in s.terms] == expected, s.name


def test_supervisions_are_deducted_up_to_their_cap(tmp_path: Path) -> None:
    s = Store.open(f"sqlite:///{tmp_path / 's.db'}", durable=False)
    try:
        s.save_world(WORLD)
        book = CaseBook(WORLD, ROUTES, auto_dispatch=True)
        octo = Month(book, date(2026, 10, 1))
        case, opened = octo.case("G1", "elevator.ebike")
        for minutes in (10, 20, 30):  # three 督办: 6 points, capped at 3
            supervise(book, case, opened + timedelta(minutes=minutes))
        s.save_cases(book.cases.values())
        found = board(parse_rules(RULES), source(s), WORLD, "street", parse_period("2026-10"))
        row = next(r for r in found.rows if r.unit == "S1")
        assert [(i.count, i.n, i.points) for i in row.deductions][2] == ("supervisions", 3, -3.0)
    finally:
        s.close()


def test_communities_are_ranked_and_one_without_cases_is_not(store: Store) -> None:
    found = board(parse_rules(RULES), source(store), WORLD, "community", parse_period("2026-10"))
    assert [(s.unit, s.rank) for s in found.rows] == [("C1", 1), ("C2", 2), ("C3", 3), ("C4", None)]
    inside = board(
        parse_rules(RULES), source(store), WORLD, "community", parse_period("2026-10"), "S1"
    )
    assert [(s.unit, s.rank) for s in inside.rows] == [("C1", 1), ("C4", None)]


def test_quarter_and_year_add_up_their_months(store: Store) -> None:
    rules = parse_rules(RULES)
    q3 = {
        s.unit: s
        for s in board(rules, source(store), WORLD, "street", parse_period("2026-Q3")).rows
    }
    assert (q3["S2"].score, q3["S1"].score) == (100, 70)  # September alone
    year = {
        s.unit: s for s in board(rules, source(store), WORLD, "street", parse_period("2026")).rows
    }
    # 小河 in the year: 11 closed, 10 of them 共治: 30 × (10/11 = 0.9091 ≥ 0.9): full
    assert [t.value for t in year["S1"].terms][:2] == [1.0, 0.9091]
    assert year["S1"].score == 100


def test_equal_scores_share_a_rank() -> None:
    def s(unit: str, points: float) -> Score:
        return Score(unit, unit, points, [], [], [], "green", {})

    assert [(x.unit, x.rank) for x in rank([s("b", 90), s("a", 95), s("c", 90), s("d", 80)])] == [
        ("a", 1),
        ("b", 2),
        ("c", 2),
        ("d", 4),
    ]


def test_rules_file_problems_are_listed_with_their_lines(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        "assessment:\n"
        "  period: week\n"
        "  kpis:\n"
        "    - {kpi: handling_rate, weight: 40, at_least: 190%}\n"
        "    - {kpi: false_alarm_rate, weight: 10, at_least: 10%}\n"
        "    - {kpi: speed, weight: 5, at_least: 1}\n"
        "  deductions:\n"
        "    - {count: parking, points: 1}\n",
        "utf-8",
    )
    with pytest.raises(AssessmentError) as caught:
        load_rules(bad)
    shown = {(p.line, p.path) for p in caught.value.problems}
    assert (2, "assessment.period") in shown
    assert (4, "assessment.kpis[0].at_least") in shown
    assert (6, "assessment.kpis[2].kpi") in shown
    assert (8, "assessment.deductions[0].count") in shown
    good_shape = tmp_path / "shape.yaml"
    good_shape.write_text(
        "assessment:\n  kpis:\n    - {kpi: false_alarm_rate, weight: 10, at_least: 10%}\n", "utf-8"
    )
    with pytest.raises(AssessmentError) as caught:
        load_rules(good_shape)
    assert [(p.line, p.path) for p in caught.value.problems] == [(3, "assessment.kpis[0].at_least")]
    assert "use at_most" in caught.value.problems[0].message


def test_the_packaged_rules_cite_the_seeds_targets() -> None:
    rules = default_rules()
    targets = {t.kpi: t.target for t in rules.kpis}
    assert targets["handling_rate"] == targets["co_governance_rate"] == 0.9
    assert rules.full_marks == 100


@pytest.mark.parametrize(
    ("text", "reason"),
    [("2026-13", "no month 13"), ("26-10", "is not a month"), ("1999", "between 2000")],
)
def test_bad_periods_are_named(text: str, reason: str) -> None:
    with pytest.raises(ValueError, match=f"period: .*{reason}"):
        parse_period(text)


# ---------------------------------------------------------------------- the API
@pytest.fixture
def client(store: Store) -> Iterator[TestClient]:
    users: dict[str, dict[str, Any]] = {
        "xh_leader": {"role": "leader", "areas": ("S1",)},
        "district": {"role": "leader", "areas": ("D",)},
        "root": {"role": "admin"},
        "resident": {"role": "resident"},
    }
    for name, spec in users.items():
        create_user(
            store, WORLD, username=name, password=PASSWORD, display_name=f"王{name}", **spec
        )
    with TestClient(create_app(store, None, wall_clock=False, assessment=parse_rules(RULES))) as c:
        yield c


def get(client: TestClient, path: str, user: str | None = None, **params: str) -> Any:
    headers = {}
    if user is not None:
        r = client.post("/api/v1/auth/login", json={"username": user, "password": PASSWORD})
        assert r.status_code == 200, r.text
        client.cookies.clear()
        headers = {"Authorization": f"Bearer {r.json()['token']}"}
    return client.get(path, params=params, headers=headers)


def test_staff_board_shows_terms_movement_and_defaults_to_the_datas_month(
    client: TestClient,
) -> None:
    r = get(client, "/api/v1/assessment/board", "district", level="street")
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["period"]["label"] == "2026-10"  # the newest case's month
    assert body["previous"]["label"] == "2026-09"
    rows = {row["unit"]: row for row in body["rows"]}
    assert (rows["S1"]["rank"], rows["S1"]["score"]) == (1, 100)
    assert rows["S1"]["movement"] == {"rank": 2, "score": 70, "rank_change": 1, "score_change": 30}
    assert rows["S2"]["movement"]["rank_change"] == -1
    assert rows["S3"]["movement"] is None
    assert rows["S2"]["terms"][0] == {
        "kpi": "handling_rate",
        "module": None,
        "value": 0.8,
        "target": 0.9,
        "at_least": True,
        "weight": 40,
        "points": 35.56,
        "status": "red",
    }
    assert [k["name"] for k in body["contest"]["kpis"]] == [
        "处置率",
        "共治率",
        "按期办结率",
        "满意率",
    ]


def test_a_street_leader_sees_only_their_streets_units(client: TestClient) -> None:
    mine = get(client, "/api/v1/assessment/board", "xh_leader", level="community", period="2026-10")
    assert mine.status_code == 200, mine.text
    # ranked among the district's four communities; only 小河's two shown
    assert [(r["unit"], r["rank"]) for r in mine.json()["rows"]] == [("C1", 1), ("C4", None)]
    assert mine.json()["units"] == 4
    streets = get(client, "/api/v1/assessment/board", "xh_leader", level="street", period="2026-10")
    assert [r["unit"] for r in streets.json()["rows"]] == ["S1"]
    inside = get(client, "/api/v1/assessment/board", "xh_leader", level="community", area="S1")
    assert [r["unit"] for r in inside.json()["rows"]] == ["C1", "C4"]
    other = get(client, "/api/v1/assessment/board", "xh_leader", level="community", area="S2")
    assert other.status_code == 404
    assert "area" in other.json()["detail"]
    everything = get(
        client, "/api/v1/assessment/board", "district", level="community", period="2026-10"
    )
    assert [r["unit"] for r in everything.json()["rows"]] == ["C1", "C2", "C3", "C4"]
    assert get(client, "/api/v1/assessment/board", "resident").status_code == 403
    assert get(client, "/api/v1/assessment/board").status_code == 401


def test_trend_gives_each_units_rounds_within_the_scope(client: TestClient) -> None:
    r = get(client, "/api/v1/assessment/trend", "district", period="2026-10", rounds="3")
    assert r.status_code == 200, r.text
    body = r.json()
    assert [p["label"] for p in body["periods"]] == ["2026-08", "2026-09", "2026-10"]
    rows = {u["unit"]: u for u in body["units"]}
    assert rows["S1"]["scores"] == [None, 70, 100]
    assert rows["S1"]["ranks"] == [None, 2, 1]
    assert rows["S3"]["ranks"] == [None, None, 3]  # nothing in September: not ranked
    mine = get(client, "/api/v1/assessment/trend", "xh_leader", level="community", period="2026-10")
    assert [u["unit"] for u in mine.json()["units"]] == ["C1", "C4"]
    assert len(mine.json()["periods"]) == 6  # the default
    other = get(client, "/api/v1/assessment/trend", "xh_leader", level="community", area="S2")
    assert other.status_code == 404
    public = get(client, "/api/v1/public/trend", level="community", period="2026-Q4", rounds="2")
    assert [p["label"] for p in public.json()["periods"]] == ["2026-Q3", "2026-Q4"]
    assert get(client, "/api/v1/public/trend", level="party").status_code == 422


def test_public_board_shows_units_and_no_person(client: TestClient) -> None:
    r = get(client, "/api/v1/public/board", level="community", period="2026-10")
    assert r.status_code == 200, r.text
    assert [row["unit"] for row in r.json()["rows"]] == ["C1", "C2", "C3", "C4"]
    text = r.text
    for person in [*(p.name for p in PARTIES), "王xh_leader", "王district"]:
        assert person not in text
    parties = get(client, "/api/v1/public/board", level="party")
    assert parties.status_code == 422
    assert "level" in parties.json()["detail"]
    bad = get(client, "/api/v1/public/board", period="2026-13")
    assert bad.status_code == 422
    assert bad.json()["detail"].startswith("period:")


# ---------------------------------------------------------------------- the CLI
def test_cli_prints_a_past_rounds_board_and_refuses_a_bad_rules_file(
    store: Store, tmp_path: Path
) -> None:
    from typer.testing import CliRunner

    from cityeye.cli import app as cli

    rules = tmp_path / "rules.yaml"
    rules.write_text(RULES, "utf-8")
    db = f"sqlite:///{tmp_path / 'a.db'}"
    runner = CliRunner()
    shown = runner.invoke(
        cli, ["assessment", "board", "--db", db, "--period", "2026-10", "--assessment", str(rules)]
    )
    assert shown.exit_code == 0, shown.output
    lines = [line.split() for line in shown.output.splitlines()[1:]]
    assert [(cells[0], cells[1], cells[2]) for cells in lines] == [
        ("1", "小河街道", "100"),
        ("2", "上塘街道", "94.56"),
        ("3", "大关街道", "84"),
    ]
    bad = tmp_path / "bad.yaml"
    bad.write_text("assessment:\n  kpis:\n    - {kpi: handling_rate, weight: 0, at_least: 90%}\n")
    refused = runner.invoke(cli, ["assessment", "validate", str(bad)])
    assert refused.exit_code == 1
    assert f"{bad}:3: assessment.kpis[0].weight" in refused.output
    refused = runner.invoke(cli, ["assessment", "board", "--db", db, "--period", "2026-13"])
    assert refused.exit_code == 2
    assert "no month 13" in refused.output


def test_a_term_about_one_module_counts_that_modules_cases_only(tmp_path: Path) -> None:
    """城市管理 (garbage.overflow) only: 小河 closed one of its two, 上塘 its one, 大关 had
    none (full points: if_empty) — its lift cases are 应急管理; the other term counts
    every case: 小河 4 of 5, the others all."""
    rules = parse_rules(
        "assessment:\n"
        "  kpis:\n"
        "    - {kpi: handling_rate, weight: 40, at_least: 90%, module: city_management}\n"
        "    - {kpi: handling_rate, weight: 10, at_least: 90%}\n"
    )
    s = Store.open(f"sqlite:///{tmp_path / 'm.db'}", durable=False)
    try:
        s.save_world(WORLD)
        book = CaseBook(WORLD, ROUTES, auto_dispatch=True)
        octo = Month(book, date(2026, 10, 1))
        octo.closed("G1", "garbage.overflow")
        octo.left_open("G1", "garbage.overflow")
        for _ in range(3):
            octo.closed("G1", "elevator.ebike")
        octo.closed("G2", "garbage.overflow")
        octo.closed("G3", "elevator.ebike")
        s.save_cases(book.cases.values())
        found = board(rules, source(s), WORLD, "street", parse_period("2026-10"))
    finally:
        s.close()
    rows = {r.unit: r for r in found.rows}
    expect_terms(rows["S1"], [(0.5, 22.22), (0.8, 8.89)])  # 40 × 0.5 / 0.9; 10 × 0.8 / 0.9
    expect_terms(rows["S2"], [(1.0, 40), (1.0, 10)])
    expect_terms(rows["S3"], [(None, 40), (1.0, 10)])
    assert [(r.unit, r.score, r.rank) for r in found.rows] == [
        ("S2", 50, 1),
        ("S3", 50, 1),
        ("S1", 31.11, 3),
    ]
    assert rows["S1"].terms[0].module == "city_management"
    with pytest.raises(AssessmentError, match="already scored"):
        parse_rules(
            "assessment:\n  kpis:\n"
            "    - {kpi: handling_rate, weight: 40, at_least: 90%, module: emergency}\n"
            "    - {kpi: handling_rate, weight: 40, at_least: 90%, module: emergency}\n"
        )
