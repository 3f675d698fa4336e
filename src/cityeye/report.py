"""The monthly report (一表通): every figure derived from the stored cases, no manual entry.

``cityeye report --month 2026-10 --area 小河街道 --format html|xlsx`` takes the district's
cases from the database, keeps those in the area (rolled up: a street's report counts
its communities' and grids' cases), and computes the KPIs exactly as the cockpit does
(:mod:`cityeye.cases.kpi`), the daily trend, the per-scenario counts, the figures per
sub-area and the worst overdue cases.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from jinja2 import Environment, FileSystemLoader, select_autoescape

from cityeye.cases.kpi import breakdown, by_area_level, by_day, due_at, kpis
from cityeye.domain import Area, AreaLevel, FieldError, World
from cityeye.store import Store

TEMPLATES = Path(__file__).resolve().parent / "web" / "templates"
_CHILD = {
    AreaLevel.DISTRICT: AreaLevel.STREET,
    AreaLevel.STREET: AreaLevel.COMMUNITY,
    AreaLevel.COMMUNITY: AreaLevel.GRID,
}


@dataclass(slots=True)
class MonthlyReport:
    area: Area
    month: str
    start: datetime
    end: datetime
    kpis: dict[str, Any]
    trend: list[dict[str, Any]]
    scenarios: list[dict[str, Any]]
    children: list[dict[str, Any]]
    overdue: list[dict[str, Any]]
    names: dict[str, str]


def find_area(world: World, text: str) -> Area:
    """An area by code or by name (``小河街道`` or ``330105007``)."""
    if text in world.areas:
        return world.areas[text]
    named = [a for a in world.areas.values() if a.name == text]
    if len(named) == 1:
        return named[0]
    near = sorted(a.name for a in world.areas.values() if text in a.name)[:5]
    hint = f"; did you mean {', '.join(near)}?" if near else ""
    raise FieldError("--area", f"no single area named or coded {text!r}{hint}")


def month_bounds(month: str, timezone: str) -> tuple[datetime, datetime]:
    try:
        first = datetime.strptime(month, "%Y-%m").replace(tzinfo=ZoneInfo(timezone))
    except ValueError:
        raise FieldError("--month", f"{month!r} is not a month like 2026-10") from None
    following = (first.replace(day=28) + timedelta(days=4)).replace(day=1)
    return first, following


def build_report(store: Store, month: str, area_text: str) -> MonthlyReport:
    world = store.load_world()
    if world is None:
        raise FieldError("--db", "no world loaded in this database")
    area = find_area(world, area_text)
    start, end = month_bounds(month, world.timezone)

    cases = [c for c in store.load_cases() if world.within(c.area, area.code) and c.opened_at < end]
    alerts = [
        a
        for a in store.alerts(limit=1_000_000)
        if start <= a.opened_at < end and world.within(a.area, area.code)
    ]
    figures = kpis(cases, world.parties, start, end, alerts=len(alerts))
    daily = breakdown(cases, world.parties, start, end, by_day(world.timezone))
    trend = [{"day": day, **vals} for day, vals in daily.items() if start.date().isoformat() <= day]
    per_scenario = breakdown(
        [c for c in cases if start <= c.opened_at],
        world.parties,
        start,
        end,
        lambda c: c.scenario,
    )
    scenarios = sorted(
        ({"scenario": s, **v} for s, v in per_scenario.items()), key=lambda r: -r["cases"]
    )
    children: list[dict[str, Any]] = []
    if area.level in _CHILD:
        per_child = breakdown(
            cases, world.parties, start, end, by_area_level(world, _CHILD[area.level])
        )
        children = [
            {"code": code, "name": world.areas[code].name, **vals}
            for code, vals in per_child.items()
            if code in world.areas
        ]
    overdue = sorted(
        (
            {
                "id": c.id,
                "scenario": c.scenario,
                "area": world.areas[c.area].name if c.area in world.areas else c.area,
                "state": c.state.value,
                "due": due_at(c).isoformat(),
                "overdue_h": round(((c.closed_at or end) - due_at(c)).total_seconds() / 3600, 1),
            }
            for c in cases
            if (not c.state.terminal and due_at(c) < end)  # still open past its due time
            or (c.closed_at is not None and c.closed_at > due_at(c) and start <= c.closed_at < end)
        ),
        key=lambda r: -r["overdue_h"],
    )[:10]
    return MonthlyReport(
        area,
        month,
        start,
        end,
        figures,
        trend,
        scenarios,
        children,
        overdue,
        store.scenario_names(),
    )


def render_html(report: MonthlyReport) -> str:
    env = Environment(loader=FileSystemLoader(TEMPLATES), autoescape=select_autoescape())
    peak = max((d["cases"] for d in report.trend), default=0) or 1
    bars = [
        {
            "day": d["day"][5:],
            "cases": d["cases"],
            "closed": d["closed"],
            "h": round(100 * d["cases"] / peak, 1),
            "hc": round(100 * d["closed"] / peak, 1),
        }
        for d in report.trend
    ]
    return env.get_template("report.html").render(r=report, bars=bars)


def write_xlsx(report: MonthlyReport, path: Path) -> None:
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    sheet.title = "指标 KPIs"
    k = report.kpis
    sheet.append(["区域 area", report.area.name, "月份 month", report.month])
    sheet.append([])
    for label, key in (
        ("处置率 handling rate", "handling_rate"),
        ("按期办结率 on-time rate", "on_time_rate"),
        ("共治率 co-governance rate", "co_governance_rate"),
        ("满意率 satisfaction", "satisfaction"),
        ("误报率 false-alarm rate", "false_alarm_rate"),
        ("结案 closed", "closed"),
        ("到期 due", "due"),
        ("误报撤销 dismissed", "dismissed"),
        ("自动消警 self-resolved", "self_resolved"),
    ):
        sheet.append([label, k.get(key)])
    trend = book.create_sheet("趋势 Trend")
    trend.append(["日期 day", "工单 cases", "结案 closed", "处置率 handling rate"])
    for d in report.trend:
        trend.append([d["day"], d["cases"], d["closed"], d["handling_rate"]])
    scen = book.create_sheet("场景 Scenarios")
    scen.append(["场景 scenario", "名称 name", "工单 cases", "结案 closed", "按期 on time"])
    for s in report.scenarios:
        scen.append(
            [
                s["scenario"],
                report.names.get(s["scenario"], ""),
                s["cases"],
                s["closed"],
                s["on_time_rate"],
            ]
        )
    sub = book.create_sheet("下级 Areas")
    sub.append(["代码 code", "名称 name", "工单 cases", "处置率", "按期办结率", "共治率"])
    for c in report.children:
        sub.append(
            [
                c["code"],
                c["name"],
                c["cases"],
                c["handling_rate"],
                c["on_time_rate"],
                c["co_governance_rate"],
            ]
        )
    late = book.create_sheet("超期 Overdue")
    late.append(["工单 case", "场景 scenario", "区域 area", "状态 state", "期限 due", "超期(小时)"])
    for o in report.overdue:
        late.append([o["id"], o["scenario"], o["area"], o["state"], o["due"], o["overdue_h"]])
    book.save(path)
