"""The cockpit's KPI counters: kept incrementally with every case change, they give the
same figures as counting the cases themselves (kpis()), for any days, any area."""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from datetime import date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from cityeye.cases import Action, Actor, CaseBook, Role
from cityeye.cases.aggregate import bin_value, periods, time_bin
from cityeye.cases.kpi import COUNTS, kpis
from cityeye.domain import Alert, Area, AreaLevel, Case, Party, PartyKind, Severity, World
from cityeye.store import Store
from cityeye.store import tables as t

CST = ZoneInfo("Asia/Shanghai")
DAY0 = date(2026, 10, 30)
START = datetime.combine(DAY0, time(8), CST)
AREAS = {
    "D": Area("D", "拱墅区", AreaLevel.DISTRICT),
    "S1": Area("S1", "小河街道", AreaLevel.STREET, "D"),
    "S2": Area("S2", "上塘街道", AreaLevel.STREET, "D"),
    "C1": Area("C1", "长征桥社区", AreaLevel.COMMUNITY, "S1"),
    "C2": Area("C2", "蔡马社区", AreaLevel.COMMUNITY, "S2"),
    "G1": Area("G1", "第1网格", AreaLevel.GRID, "C1"),
    "G2": Area("G2", "第2网格", AreaLevel.GRID, "C2"),
}
PARTIES = [
    Party("GW1", "网格员甲", PartyKind.GRID_WORKER, ("G1",)),
    Party("GW2", "网格员乙", PartyKind.GRID_WORKER, ("G2",)),
    Party("PM1", "物业甲", PartyKind.PROPERTY, ("C1", "C2")),
    Party("ST", "街道", PartyKind.GOVERNMENT, ("D",)),
]
WORLD = World(AREAS["D"], "Asia/Shanghai", AREAS, {p.id: p for p in PARTIES})
ROUTES = {"fire.smoke": PartyKind.GRID_WORKER, "elevator.ebike": PartyKind.PROPERTY}
D = Actor("d", Role.DISPATCHER)


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    s = Store.open(f"sqlite:///{tmp_path / 'k.db'}", durable=False)
    s.save_world(WORLD)
    yield s
    s.close()


def day_bounds(first: date, last: date) -> tuple[datetime, datetime]:
    return (
        datetime.combine(first, time(0), CST),
        datetime.combine(last + timedelta(days=1), time(0), CST),
    )


def same_counts(store: Store, cases: list[Case], first: date, last: date, **where: str) -> None:
    """The stored counters and a count over the cases agree on every counter."""
    dim, value = where.get("dim", "all"), where.get("value", "")
    stored = store.kpi_summary(dim, value, first, last)
    selected = [c for c in cases if dim == "all" or WORLD.within(c.area, value)]
    exact = kpis(selected, WORLD.parties, *day_bounds(first, last))
    for name in (*COUNTS, "handling_rate", "on_time_rate", "co_governance_rate", "satisfaction"):
        assert stored[name] == exact[name], (name, first, last, where)
    for stage, figures in exact["times"].items():
        assert stored["times"][stage]["n"] == figures["n"]
        for q in ("median_s", "p90_s"):
            if figures[q] is not None:
                assert stored["times"][stage][q] == pytest.approx(figures[q], rel=0.045, abs=1)


def closed_loop(book: CaseBook, case: Case, start: datetime, minutes: float) -> None:
    handler = Actor(case.lead or "GW1", Role.HANDLER)
    book.act(case, Action.ACCEPT, handler, start + timedelta(minutes=1))
    book.act(case, Action.ARRIVE, handler, start + timedelta(minutes=2))
    book.act(case, Action.HANDLE, handler, start + timedelta(minutes=minutes), "已处置")
    book.act(
        case, Action.VERIFY, Actor("C1", Role.VERIFIER), start + timedelta(minutes=minutes + 1)
    )
    book.act(case, Action.CLOSE, D, start + timedelta(minutes=minutes + 2))


def test_counters_follow_each_change_and_match_a_recount(store: Store) -> None:
    book = CaseBook(WORLD, ROUTES)
    fire = book.on_alert(
        "opened", Alert("a1", "fire.smoke", "B1", Severity.HIGH, START, area="G1"), START
    )
    lift = book.on_alert(
        "opened", Alert("a2", "elevator.ebike", "E1", Severity.MEDIUM, START, area="G2"), START
    )
    assert fire is not None
    assert lift is not None
    store.save_cases(book.cases.values())
    before = store.kpi_summary("all", "", DAY0, DAY0)
    assert (before["cases"], before["closed"], before["due"]) == (2, 0, 1)  # fire due 10:00
    closed_loop(book, fire, START, 30)  # handled in time, same day
    closed_loop(book, lift, START + timedelta(days=1), 60)  # next day, after 24 h: late
    lift.rating = 5
    store.save_cases(book.cases.values())
    cases = list(book.cases.values())
    for first, last in ((DAY0, DAY0), (DAY0 + timedelta(days=1),) * 2, (DAY0, DAY0 + timedelta(3))):
        same_counts(store, cases, first, last)
        same_counts(store, cases, first, last, dim="street", value="S2")
    assert store.kpi_summary("all", "", DAY0, DAY0 + timedelta(days=1))["on_time_rate"] == 0.5
    by_street = store.kpi_breakdown("street", DAY0, DAY0 + timedelta(days=1))
    assert (by_street["S1"]["closed"], by_street["S2"]["co_governed"]) == (1, 1)
    assert list(store.kpi_breakdown("community", DAY0, DAY0, within="S1")) == ["C1"]
    assert store.kpi_breakdown("party", DAY0, DAY0)["PM1"]["cases"] == 1
    trend = store.kpi_trend("all", "", DAY0, DAY0 + timedelta(days=1))
    assert [v["closed"] for v in trend.values()] == [1, 1]
    incremental = counter_rows(store)
    store.rebuild_kpis()
    assert counter_rows(store) == incremental


def counter_rows(store: Store) -> dict[tuple[str, str, str, str], int]:
    c = t.kpi_counts.c
    with store.engine.connect() as conn:
        rows = conn.execute(select(c.dim, c.value, c.period, c.metric, c.n)).all()
    return {(d, v, p, m): n for d, v, p, m, n in rows if n}


def test_alerts_are_counted_once_for_the_false_alarm_rate(store: Store) -> None:
    alert = Alert("a1", "fire.smoke", "B1", Severity.HIGH, START, area="G1")
    store.save_alerts([alert])
    alert.count = 3
    store.save_alerts([alert])  # grows in place: still one alert
    book = CaseBook(WORLD, ROUTES)
    case = book.on_alert("opened", alert, START)
    assert case is not None
    book.act(case, Action.DISMISS, D, START + timedelta(minutes=3), "误报")
    store.save_cases([case])
    figures = store.kpi_summary("street", "S1", DAY0, DAY0)
    assert (figures["alerts"], figures["dismissed"], figures["false_alarm_rate"]) == (1, 1, 1.0)


def test_bad_dimension_and_range_are_named(store: Store) -> None:
    with pytest.raises(ValueError, match="dim: 'planet' is not one of"):
        store.kpi_summary("planet", "", DAY0, DAY0)
    with pytest.raises(ValueError, match="last: 2026-10-29 is before 2026-10-30"):
        store.kpi_summary("all", "", DAY0, DAY0 - timedelta(days=1))


def test_periods_use_whole_months_and_loose_days() -> None:
    assert periods(date(2026, 10, 30), date(2026, 12, 2)) == [
        "2026-10-30",
        "2026-10-31",
        "2026-11",
        "2026-12-01",
        "2026-12-02",
    ]
    assert periods(date(2026, 2, 1), date(2026, 2, 28)) == ["2026-02"]
    assert periods(date(2026, 2, 2), date(2026, 2, 2)) == ["2026-02-02"]


@given(st.floats(min_value=0, max_value=90 * 86400))
def test_a_duration_is_read_back_within_half_a_bin(seconds: float) -> None:
    assert bin_value(time_bin(seconds)) == pytest.approx(seconds, rel=0.045, abs=1)


# (severity, grid, minutes after START it opens, what happens, minutes it takes, rating)
Script = tuple[Severity, str | None, int, str, int, int | None]
SCRIPTS = st.lists(
    st.tuples(
        st.sampled_from(list(Severity)),
        st.sampled_from(["G1", "G2", "C1", None]),
        st.integers(0, 3 * 24 * 60),
        st.sampled_from(["open", "dismiss", "close", "resolve"]),
        st.integers(3, 4 * 24 * 60),  # handled after arrival (closed_loop arrives at +2)
        st.sampled_from([None, 1, 3, 4, 5]),
    ),
    max_size=25,
)


@settings(max_examples=30, deadline=None)
@given(SCRIPTS)
def test_incremental_counters_equal_kpis_for_any_history(scripts: list[Script]) -> None:
    """Random histories, saved after every step: the counters always equal a recount."""
    with tempfile.TemporaryDirectory() as folder:
        store = Store.open(f"sqlite:///{folder}/k.db", durable=False)
        store.save_world(WORLD)
        try:
            check_history(store, scripts)
        finally:
            store.close()


def check_history(store: Store, scripts: list[Script]) -> None:
    book = CaseBook(WORLD, ROUTES, auto_dispatch=True)
    for n, (severity, area, opens, outcome, takes, rating) in enumerate(scripts):
        at = START + timedelta(minutes=opens)
        scenario = "fire.smoke" if n % 2 else "elevator.ebike"
        alert = Alert(f"a{n}", scenario, f"K{n}", severity, at, area=area)
        case = book.on_alert("opened", alert, at)
        assert case is not None
        store.save_cases([case])
        if outcome == "dismiss":
            book.act(case, Action.DISMISS, D, at + timedelta(minutes=takes), "误报")
        elif outcome == "resolve" and case.lead is None:
            alert.resolved_at = at + timedelta(minutes=takes)
            book.on_alert("resolved", alert, alert.resolved_at)
        elif outcome == "close" and case.lead is not None:
            closed_loop(book, case, at, takes)
            case.rating = rating
        store.save_cases([case])
    store.save_cases(book.cases.values())  # escalations touched others meanwhile
    cases = list(book.cases.values())
    for first, last in ((DAY0, DAY0), (DAY0, DAY0 + timedelta(days=7)), (date(2026, 11, 1),) * 2):
        same_counts(store, cases, first, last)
        same_counts(store, cases, first, last, dim="community", value="C1")
