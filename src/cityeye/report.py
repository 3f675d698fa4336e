"""The monthly report (一表通) and the weekly bulletin (周通报): every figure derived from
the stored cases, no manual entry.

``cityeye report --month 2026-10 --area 小河街道 --format html|xlsx|pdf`` (or ``--week
2026-W44`` for the week's bulletin) takes the district's
cases from the database, keeps those in the area (rolled up: a street's report counts
its communities' and grids' cases), and computes the KPIs exactly as the cockpit does
(:mod:`cityeye.cases.kpi`), the daily trend, the per-scenario counts, the figures per
sub-area, how often the response standards were met (:mod:`cityeye.cases.standards`),
the worst overdue cases and the period's 督办 / 催办 (who, when, what, and where the case
stands now) — the seeds' "日提醒周通报月考核机制" (seed 000:455) names a week's bulletin
beside the month's report; the same figures serve both.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from jinja2 import Environment, FileSystemLoader, select_autoescape

from cityeye.assessment.rules import Rules, default_rules
from cityeye.assessment.scoring import STATUS_NAMES, board, period_of
from cityeye.assessment.source import KpiSource, module_scenarios
from cityeye.cases.kpi import breakdown, by_area_level, by_day, due_at, kpis
from cityeye.cases.lifecycle import Note, actor_name
from cityeye.cases.standards import attainment, standards_for
from cityeye.documents import Pdf, cell_text, local_time, xlsx_rows
from cityeye.domain import Area, AreaLevel, Case, FieldError, World
from cityeye.domain.detections import LIFT_TALLIES, TallyBy, tally, totals
from cityeye.domain.users import below
from cityeye.scenarios import load_catalogue
from cityeye.store import Store
from cityeye.store.users import display_names

TEMPLATES = Path(__file__).resolve().parent / "web" / "templates"
_CHILD = {
    AreaLevel.DISTRICT: AreaLevel.STREET,
    AreaLevel.STREET: AreaLevel.COMMUNITY,
    AreaLevel.COMMUNITY: AreaLevel.GRID,
}


#: The KPI lines of every format, in order.
KPI_ROWS = (
    ("处置率 handling rate", "handling_rate"),
    ("按期办结率 on-time rate", "on_time_rate"),
    ("共治率 co-governance rate", "co_governance_rate"),
    ("满意率 satisfaction", "satisfaction"),
    ("误报率 false-alarm rate", "false_alarm_rate"),
    ("新增工单 cases opened", "cases"),
    ("结案 closed", "closed"),
    ("到期 due", "due"),
    ("误报撤销 dismissed", "dismissed"),
    ("自动消警 self-resolved", "self_resolved"),
)


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
    #: One row per step of each response standard (see :func:`standards_rows`).
    standards: list[dict[str, Any]]
    #: ``month`` or ``week``: a monthly report or a weekly bulletin (``month`` then
    #: holds the week, ``2026-W44``).
    kind: str = "month"
    #: The 督办 and 催办 made in the period (see :func:`supervised_rows`).
    supervised: list[dict[str, Any]] = field(default_factory=list)
    #: The contest's round the period ends in, and the area among its siblings on that
    #: round's board (see :func:`ranking_rows`); empty where the area is not ranked.
    ranking_round: str = ""
    ranking: list[dict[str, Any]] = field(default_factory=list)
    #: The lifts' counts, not dispatched (see :func:`lift_rows`).
    lifts: list[dict[str, Any]] = field(default_factory=list)

    @property
    def title(self) -> str:
        what = "周通报 · Weekly bulletin" if self.kind == "week" else "月度报告 · Monthly report"
        return f"{self.area.name} {self.month} {what}"


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


WEEK = re.compile(r"(\d{4})-W(\d{2})")


def week_bounds(week: str, timezone: str) -> tuple[datetime, datetime]:
    """An ISO week (``2026-W44``: Monday to Sunday, local days) as ``[start, end)``."""
    m = WEEK.fullmatch(week)
    try:
        if m is None:
            raise ValueError(week)
        monday = date.fromisocalendar(int(m.group(1)), int(m.group(2)), 1)
    except ValueError:
        raise FieldError("--week", f"{week!r} is not an ISO week like 2026-W44") from None
    first = datetime(monday.year, monday.month, monday.day, tzinfo=ZoneInfo(timezone))
    return first, first + timedelta(days=7)


def period_bounds(period: str, timezone: str) -> tuple[datetime, datetime, str]:
    """``[start, end)`` and the kind of ``period``: a month (``2026-10``) or an ISO week
    (``2026-W44``)."""
    if "W" in period:
        return (*week_bounds(period, timezone), "week")
    return (*month_bounds(period, timezone), "month")


def build_report(
    store: Store, month: str, area_text: str, rules: Rules | None = None
) -> MonthlyReport:
    """The report of ``month`` (``2026-10``), or the bulletin of a week (``2026-W44``),
    for the area named or coded ``area_text`` and everything below it; ``rules``: the
    contest whose board ranks the area (the packaged one by default)."""
    world = store.load_world()
    if world is None:
        raise FieldError("--db", "no world loaded in this database")
    area = find_area(world, area_text)
    start, end, kind = period_bounds(month, world.timezone)

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
                # what a reader of the report reads: the state's name, the district's time
                "state": c.state.zh,
                "due": local_time(due_at(c), world.timezone),
                "overdue_h": round(((c.closed_at or end) - due_at(c)).total_seconds() / 3600, 1),
            }
            for c in cases
            if (not c.state.terminal and due_at(c) < end)  # still open past its due time
            or (c.closed_at is not None and c.closed_at > due_at(c) and start <= c.closed_at < end)
        ),
        key=lambda r: -float(r["overdue_h"] or 0),
    )[:10]
    names = store.scenario_names()
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
        names,
        standards_rows(world, cases, start, end),
        kind,
        supervised_rows(store, world, cases, names, start, end),
        *ranking_rows(store, world, area, start, end, rules or default_rules()),
        lift_rows(store, world, area, start, end),
    )


def lift_rows(
    store: Store, world: World, area: Area, start: datetime, end: datetime
) -> list[dict[str, Any]]:
    """The lifts' three counts in the area over ``[start, end)``, in the seed's words
    (阻止电动车上楼 N 次, 劝阻不文明乘梯 N 次, 电梯故障预警 N 次; seed 000:120, 128):
    counted from the stored events, as nobody is sent to them."""
    rows = store.detection_rows([t.kind for t in LIFT_TALLIES], start, end)
    groups = tally(world, rows, TallyBy.COMMUNITY, set(below(world, [area.code])))
    counted = totals(groups)
    return [{"name": t.zh, "name_en": t.en, "n": counted[t.kind]} for t in LIFT_TALLIES]


def lift_table(report: MonthlyReport) -> list[list[Any]]:
    """The lifts' counts, header first, as every format shows it."""
    return [
        ["项目 item", "次数 times"],
        *([f"{r['name']} · {r['name_en']}", r["n"]] for r in report.lifts),
    ]


def ranking_rows(
    store: Store, world: World, area: Area, start: datetime, end: datetime, rules: Rules
) -> tuple[str, list[dict[str, Any]]]:
    """The contest's board (:mod:`cityeye.assessment`) of the round ``[start, end)`` falls
    in — a week's bulletin shows its month so far — among ``area``'s siblings: each one's
    rank, score, status and rank the round before, ``area`` marked. A street's report
    ranks the streets, a community's the communities of its street; other levels, or a
    level the rules do not rank, get none."""
    level = area.level.value
    if area.level not in (AreaLevel.STREET, AreaLevel.COMMUNITY) or level not in rules.ranks:
        return "", []
    # the round holding the period's middle: a month is its own; a week is the month its
    # Thursday is in (as ISO numbers weeks), not the one its Sunday may spill into
    middle = (start + (end - start) / 2).astimezone(ZoneInfo(world.timezone)).date()
    source = KpiSource(store, world, module_scenarios(load_catalogue()))
    found = board(rules, source, world, level, period_of(rules.period, middle), area.parent)
    rows = [
        {
            "rank": s.rank,
            "name": s.name,
            "score": s.score,
            "status": STATUS_NAMES[s.status],
            "before": s.previous.rank if s.previous is not None else None,
            "mine": s.unit == area.code,
        }
        for s in found.rows
    ]
    return f"{rules.name} {found.period.label}", rows


def ranking_table(report: MonthlyReport) -> list[list[Any]]:
    """The ranking, header first, as every format shows it (the area itself starred)."""
    return [
        ["名次 rank", "单位 unit", "得分 score", "状态 status", "上期名次 before"],
        *(
            [
                r["rank"] if r["rank"] is not None else "—",
                ("★ " if r["mine"] else "") + r["name"],
                r["score"],
                r["status"],
                r["before"] if r["before"] is not None else "—",
            ]
            for r in report.ranking
        ),
    ]


def supervised_rows(
    store: Store,
    world: World,
    cases: list[Case],
    names: dict[str, str],
    start: datetime,
    end: datetime,
) -> list[dict[str, Any]]:
    """Each 督办 and 催办 made in ``[start, end)`` on the area's cases, newest first: which
    case, who (by name), when (district time), what they asked, and where the case
    stands now — what a bulletin lists so the units see what they were pressed on."""
    notes = (Note.SUPERVISE, Note.URGE)
    made = [(c, e) for c in cases for e in c.timeline if e.action in notes and start <= e.at < end]
    people = display_names(store, {e.actor for _, e in made})
    return [
        {
            "id": c.id,
            "what": Note(e.action).zh,
            "scenario": names.get(c.scenario or "", c.scenario or c.title),
            "area": world.areas[c.area].name if c.area in world.areas else c.area,
            "by": actor_name(e.actor, world, people),
            "at": local_time(e.at, world.timezone),
            "note": e.note,
            "state": c.state.zh,
        }
        for c, e in sorted(made, key=lambda ce: ce[1].at, reverse=True)
    ]


def supervised_table(report: MonthlyReport) -> list[list[Any]]:
    """The 督办 / 催办 table, header first, as every format shows it."""
    return [
        [
            "类别 kind",
            "工单 case",
            "场景 scenario",
            "区域 area",
            "领导 by",
            "时间 at",
            "要求 note",
            "现状 state",
        ],
        *(
            [r["what"], r["id"], r["scenario"], r["area"], r["by"], r["at"], r["note"], r["state"]]
            for r in report.supervised
        ),
    ]


def standards_rows(
    world: World, cases: list[Case], start: datetime, end: datetime
) -> list[dict[str, Any]]:
    """Each step of each response standard with its met / counted / pending cases and
    rate in ``[start, end)``, as the attainment API counts them. A case whose step has
    not come yet is judged as of the data's own latest moment (its newest timeline
    line), not the wall clock, so the same database gives the same report, a replayed
    demo's included."""
    asof = max((e.at for c in cases for e in c.timeline), default=end)
    rows = []
    for standard in standards_for(world.standards):
        counted = attainment(standard, cases, start, end, asof)["total"]["steps"]
        for step in standard.steps:
            rows.append(
                {"standard": standard.name_zh, "step": step.name_zh, "rate_name": step.rate_zh}
                | counted[step.id]
            )
    return rows


def standards_table(report: MonthlyReport) -> list[list[Any]]:
    """The response standards' table, header first, as every format shows it."""
    return [
        ["标准 standard", "环节 step", "指标 measure", "达标 met", "应计 counted", "达标率 rate"],
        *(
            [r["standard"], r["step"], r["rate_name"], r["met"], r["denominator"], r["rate"]]
            for r in report.standards
        ),
    ]


def render_html(report: MonthlyReport) -> str:
    env = Environment(loader=FileSystemLoader(TEMPLATES), autoescape=select_autoescape())
    env.filters["hours"] = hours
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


def scenario_table(report: MonthlyReport, *, codes: bool = False) -> list[list[Any]]:
    """The per-scenario table, header first: scenarios by their Chinese name (issue 18:
    a reader of the report sees no internal id). ``codes`` adds the catalogue id as a
    last column, for the spreadsheet, where people filter and join on it."""
    head = ["场景 scenario", "工单 cases", "结案 closed", "按期 on time"]
    rows = [
        [report.names.get(s["scenario"], s["scenario"]), s["cases"], s["closed"], s["on_time_rate"]]
        + ([s["scenario"]] if codes else [])
        for s in report.scenarios
    ]
    return [head + (["编码 code"] if codes else []), *rows]


def write_xlsx(report: MonthlyReport, path: Path) -> None:
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    sheet.title = "指标 KPIs"
    k = report.kpis
    period = "周 week" if report.kind == "week" else "月份 month"
    sheet.append(["区域 area", report.area.name, period, report.month])
    sheet.append([])
    for label, key in KPI_ROWS:
        sheet.append([label, k.get(key)])
    trend = book.create_sheet("趋势 Trend")
    xlsx_rows(
        trend,
        ["日期 day", "工单 cases", "结案 closed", "处置率 handling rate"],
        ([d["day"], d["cases"], d["closed"], d["handling_rate"]] for d in report.trend),
    )
    head, *rows = scenario_table(report, codes=True)
    xlsx_rows(book.create_sheet("场景 Scenarios"), head, rows)
    head, *rows = children_table(report)
    xlsx_rows(book.create_sheet("下级 Areas"), head, rows)
    late = book.create_sheet("超期 Overdue")
    xlsx_rows(
        late,
        ["工单 case", "场景 scenario", "区域 area", "状态 state", "期限（当地）due", "超期(小时)"],
        (
            [
                o["id"],
                report.names.get(o["scenario"], o["scenario"]),
                o["area"],
                o["state"],
                o["due"],
                o["overdue_h"],
            ]
            for o in report.overdue
        ),
        kinds={5: "hours"},
    )
    # last, so the sheets that were there keep their places
    head, *rows = standards_table(report)
    xlsx_rows(book.create_sheet("响应标准 Standards"), head, rows)
    head, *rows = supervised_table(report)
    xlsx_rows(book.create_sheet("督办 Supervision"), head, rows)
    if report.ranking:
        head, *rows = ranking_table(report)
        xlsx_rows(book.create_sheet("排名 Ranking"), head, rows, kinds={2: "hours"})
    head, *rows = lift_table(report)
    xlsx_rows(book.create_sheet("电梯 Lifts"), head, rows)
    book.save(path)


def children_table(report: MonthlyReport) -> list[list[Any]]:
    """The sub-areas' table, header first, as every format shows it."""
    return [
        ["代码 code", "名称 name", "工单 cases", "处置率", "按期办结率", "共治率"],
        *(
            [
                c["code"],
                c["name"],
                c["cases"],
                c["handling_rate"],
                c["on_time_rate"],
                c["co_governance_rate"],
            ]
            for c in report.children
        ),
    ]


def hours(value: float) -> str:
    """Hours past due as hours ("3,208.0"), not through the table's rate formatting,
    which printed 3,208 hours as "320820.0%"."""
    return f"{value:,.1f}"


def write_pdf(report: MonthlyReport, path: Path) -> None:
    """The report as a PDF (A4), with the daily trend as a bar chart.

    The Chinese font is embedded (a subset of the packaged Noto Sans SC,
    :mod:`cityeye.documents.font`), so the PDF renders on a machine with no Chinese
    font; the chart's labels use it too, so no font is left to the reader.
    ``invariant`` makes the same report the same bytes."""
    from reportlab.graphics.charts.barcharts import VerticalBarChart
    from reportlab.graphics.shapes import Drawing
    from reportlab.lib import colors
    from reportlab.lib.units import mm
    from reportlab.platypus import Spacer

    k = report.kpis
    title = report.title
    intro = (
        f"区域代码 {report.area.code}；统计期 {report.start:%Y-%m-%d} 至 "
        f"{report.end - timedelta(days=1):%Y-%m-%d}；全部数字由工单自动生成（一表通）。"
    )
    kpi_rows: list[list[Any]] = [
        ["指标 KPI", "数值 value"],
        *([label, k.get(key)] for label, key in KPI_ROWS),
    ]
    child_rows = [row[1:] for row in children_table(report)]
    overdue_rows: list[list[Any]] = [
        ["工单 case", "场景 scenario", "区域 area", "状态 state", "超期(小时) h"],
        *(
            [
                o["id"],
                report.names.get(o["scenario"], o["scenario"]),
                o["area"],
                o["state"],
                o["overdue_h"],
            ]
            for o in report.overdue
        ),
    ]
    headings = {
        "kpis": "指标 · KPIs",
        "trend": "每日趋势 · Daily trend (工单 cases / 结案 closed)",
        "none": "本期无工单 · no cases in the period",
        "children": "下级区域 · Sub-areas",
        "scenarios": "场景 · Scenarios",
        "standards": "响应标准达标率 · Response standards attained",
        "overdue": "超期最严重的工单 · Worst overdue cases",
        "supervised": "督办与催办 · Supervision and urging",
        "ranking": f"排名 · Ranking（{report.ranking_round}）",
        "no_supervised": "本期无督办、催办 · none in the period",
        "lifts": "电梯安全（计数，不派单）· Lifts (counted, not dispatched)",
    }
    tables: tuple[list[list[Any]], ...] = (
        kpi_rows,
        child_rows,
        scenario_table(report),
        standards_table(report),
        overdue_rows,
        supervised_table(report),
        ranking_table(report),
        lift_table(report),
    )
    pdf = Pdf.covering(
        [
            title,
            intro,
            *headings.values(),
            *(cell_text(v) for rows in tables for row in rows for v in row),
            *(cell_text(o["overdue_h"], "hours") for o in report.overdue),
            *(d["day"] for d in report.trend),
        ]
    )
    story: list[Any] = [
        pdf.para(title, "title"),
        pdf.para(intro),
        pdf.para(headings["kpis"], "heading"),
        pdf.table(kpi_rows),
        *(
            [
                pdf.para(headings["ranking"], "heading"),
                pdf.table(ranking_table(report), {2: "hours"}),
            ]
            if report.ranking
            else []
        ),
        pdf.para(headings["trend"], "heading"),
    ]
    if report.trend:
        # the drawing starts in the embedded font too (reportlab's default is Helvetica,
        # which a PDF names without embedding)
        chart = Drawing(170 * mm, 55 * mm, initialFontName=pdf.font)
        bars = VerticalBarChart()
        bars.x, bars.y, bars.width, bars.height = 10 * mm, 8 * mm, 155 * mm, 42 * mm
        bars.data = [[d["cases"] for d in report.trend], [d["closed"] for d in report.trend]]
        bars.categoryAxis.categoryNames = [d["day"][8:] for d in report.trend]
        for axis in (bars.categoryAxis, bars.valueAxis):
            axis.labels.fontName = pdf.font  # embedded, as the text is: no reader font
            axis.labels.fontSize = 6
        bars.valueAxis.valueMin = 0
        bars.bars[0].fillColor = colors.HexColor("#7aa6d8")
        bars.bars[1].fillColor = colors.HexColor("#2e7d32")
        chart.add(bars)
        story.append(chart)
    else:
        story.append(pdf.para(headings["none"]))
    if report.children:
        story += [pdf.para(headings["children"], "heading"), pdf.table(child_rows)]
    story += [
        pdf.para(headings["scenarios"], "heading"),
        pdf.table(scenario_table(report)),
        pdf.para(headings["lifts"], "heading"),
        pdf.table(lift_table(report)),
    ]
    if report.standards:
        story += [pdf.para(headings["standards"], "heading"), pdf.table(standards_table(report))]
    story += [
        pdf.para(headings["overdue"], "heading"),
        pdf.table(overdue_rows, {4: "hours"}),
        pdf.para(headings["supervised"], "heading"),
        pdf.table(supervised_table(report))
        if report.supervised
        else pdf.para(headings["no_supervised"]),
        Spacer(1, 4 * mm),
    ]
    pdf.build(story, path, title=f"{report.area.name} {report.month}")
