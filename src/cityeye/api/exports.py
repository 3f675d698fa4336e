"""Exports: a case list or a KPI table as the xlsx or PDF a meeting is run on.

``GET /api/v1/cases/export`` takes exactly the filters of ``GET /api/v1/cases`` (and the
same area scope); ``GET /api/v1/kpis/breakdown/export`` those of the cockpit's table.
Each file says what it holds in Chinese: the title line names the filters (the area,
the states and the scenario by name, the period, the search text), the notes when it
was made in the district's local time and by whom; times are local, states and
scenarios by their Chinese names (the monthly report's names, :mod:`cityeye.report`).
Tables go through :mod:`cityeye.documents`, so a PDF embeds its font like the report.

The rows are capped (:data:`EXPORT_ROWS`): beyond that the file says it was cut short
and how many cases matched.
"""

from __future__ import annotations

import io
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any, Literal
from urllib.parse import quote

from fastapi import Query, Response

from cityeye.cases.kpi import due_at
from cityeye.documents import Sheet, local_time, write_pdf, write_xlsx
from cityeye.domain import AreaLevel, Case, CaseState, Severity, World
from cityeye.domain.scenario import Module
from cityeye.domain.users import User
from cityeye.report import KPI_ROWS

ExportFormat = Literal["xlsx", "pdf"]
#: The most rows one export holds (our choice, measured): a workbook of 50,000 cases
#: takes about 6 s of CPU and 1.8 MB; a PDF of 5,000 rows is already some 260
#: landscape pages (10,000 rows: 527 pages, 7.6 s), and nobody reads further on paper.
EXPORT_ROWS: dict[str, int] = {"xlsx": 50_000, "pdf": 5_000}
FORMAT = Query(alias="format", description="xlsx (Excel) or pdf")
MEDIA = {
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "pdf": "application/pdf",
    "html": "text/html; charset=utf-8",
}
CASE_HEADER = [
    "工单编号",
    "标题",
    "场景",
    "区域",
    "状态",
    "严重程度",
    "牵头处置主体",
    "立案时间",
    "办结期限",
    "结束时间",
    "超期（小时）",
]
SORTS = {"opened": "最新立案在前", "due": "期限最近在前"}


def file_response(sheet: Sheet, fmt: ExportFormat, stem: str) -> Response:
    """The sheet as a download named ``stem.fmt``."""
    buffer = io.BytesIO()
    (write_xlsx if fmt == "xlsx" else write_pdf)(sheet, buffer)
    return download(buffer.getvalue(), fmt, stem)


def download(data: bytes, fmt: str, stem: str) -> Response:
    """``data`` as a file named ``stem.fmt`` (the Chinese name for browsers that read
    ``filename*``, an ASCII one for the rest); HTML opens in the browser, the others
    are saved."""
    how = "inline" if fmt == "html" else "attachment"
    disposition = (
        f"{how}; filename=\"cityeye-export.{fmt}\"; filename*=UTF-8''{quote(f'{stem}.{fmt}')}"
    )
    return Response(
        data,
        media_type=MEDIA[fmt],
        headers={"Content-Disposition": disposition, "Cache-Control": "no-store"},
    )


def made_note(user: User, now: datetime, timezone: str, shown: int, total: int) -> list[str]:
    """When, by whom, how many; and whether the rows were cut short."""
    notes = [
        f"导出时间：{local_time(now, timezone)}（当地时间 {timezone}）；"
        f"导出人：{user.display_name}；共 {total:,} 条"
    ]
    if shown < total:
        notes.append(
            f"只列出前 {shown:,} 条（共 {total:,} 条，超出单个文件的上限）："
            "请缩小筛选条件后分批导出。"
        )
    return notes


def _period(label: str, first: object, last: object) -> str | None:
    if first is None and last is None:
        return None
    return f"{label}：{first or '不限'} 至 {last or '不限'}"


def case_filters(given: Mapping[str, Any], world: World, names: Mapping[str, str]) -> list[str]:
    """The filters of a case list in words (区域：小河街道, 状态：已派遣、已受理, …),
    each by its name, never its code."""
    parts: list[str | None] = []
    if given.get("area"):
        parts.append(f"区域：{world.areas[given['area']].name}")
    if given.get("state"):
        states = [CaseState(v.strip()).zh for v in given["state"].split(",") if v.strip()]
        parts.append("状态：" + "、".join(states))
    if given.get("overdue"):
        parts.append("仅超期")
    if given.get("severity"):
        levels = [Severity(v.strip()).zh for v in given["severity"].split(",") if v.strip()]
        parts.append("严重程度：" + "、".join(levels))
    if given.get("module"):
        parts.append(f"模块：{Module(given['module']).zh}")
    if given.get("scenario"):
        parts.append(f"场景：{names.get(given['scenario'], given['scenario'])}")
    if given.get("party"):
        parts.append(f"处置主体：{world.parties[given['party']].name}")
    parts.append(_period("立案日期", given.get("opened_first"), given.get("opened_last")))
    parts.append(_period("结束日期", given.get("closed_first"), given.get("closed_last")))
    if given.get("q") and given["q"].strip():
        parts.append(f"搜索：“{given['q'].strip()}”")
    return [p for p in parts if p]


def case_rows(
    cases: Sequence[Case], world: World, names: Mapping[str, str], now: datetime
) -> list[list[Any]]:
    """One row per case: names, not codes; local times; hours past due (open and late:
    until now; ended late: until it ended)."""
    rows = []
    for c in cases:
        area = world.areas.get(c.area) if c.area else None
        lead = world.parties.get(c.lead) if c.lead else None
        due = due_at(c)
        late_until = c.closed_at if c.state.terminal else now
        late = None
        if late_until is not None and late_until > due:
            late = round((late_until - due).total_seconds() / 3600, 1)
        rows.append(
            [
                c.id,
                c.title,
                names.get(c.scenario, c.scenario) if c.scenario else "居民上报",
                area.name if area else "—",
                c.state.zh,
                c.severity.zh,
                lead.name if lead else "—",
                local_time(c.opened_at, world.timezone),
                local_time(due, world.timezone),
                local_time(c.closed_at, world.timezone),
                late,
            ]
        )
    return rows


def case_sheet(
    cases: Sequence[Case],
    total: int,
    given: Mapping[str, Any],
    world: World,
    names: Mapping[str, str],
    user: User,
    now: datetime,
) -> Sheet:
    filters = case_filters(given, world, names)
    scope = "、".join(world.areas[a].name for a in user.areas if a in world.areas)
    title = "工单清单（" + ("；".join(filters) if filters else "全部") + "）"
    notes = made_note(user, now, world.timezone, len(cases), total)
    if scope:
        notes.append(f"可见范围：{scope}")
    notes.append(f"排序：{SORTS.get(given.get('sort') or 'opened', '')}")
    return Sheet(
        title,
        CASE_HEADER,
        case_rows(cases, world, names, now),
        notes=notes,
        kinds={10: "hours"},
        name="工单 Cases",
    )


#: What the cockpit's table groups by, in words (the area levels by their own names).
BY_NAMES = {
    **{level.value: level.zh for level in (AreaLevel.STREET, AreaLevel.COMMUNITY, AreaLevel.GRID)},
    "scenario": "场景",
    "party": "处置主体",
}


def breakdown_sheet(
    table: Mapping[str, Any],
    world: World,
    names: Mapping[str, str],
    user: User,
    now: datetime,
) -> Sheet:
    """The cockpit's table (``GET /api/v1/kpis/breakdown``'s answer) as a sheet: one
    row per street / community / grid / scenario / party, every KPI a column."""
    by = table["by"]
    area = world.areas[table["area"]].name if table.get("area") else world.district.name

    def name(row: Mapping[str, Any]) -> str:
        if by == "scenario":
            return names.get(row["value"], row["value"])
        if by == "party":
            party = world.parties.get(row["value"])
            return party.name if party else row["value"]
        return str(row["name"])

    rows = [[name(r), *(r.get(key) for _, key in KPI_ROWS)] for r in table["rows"]]
    title = f"{area} · 分{BY_NAMES[by]}指标（{table['first']} 至 {table['last']}）"
    return Sheet(
        title,
        [BY_NAMES[by], *(label.split(" ")[0] for label, _ in KPI_ROWS)],
        rows,
        notes=made_note(user, now, world.timezone, len(rows), len(rows)),
        name="指标 KPIs",
    )
