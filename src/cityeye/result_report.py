"""月考核结果通报 · the document of a contest round's published result (HTML, xlsx, PDF).

It is made from the frozen board (:mod:`cityeye.store.results`: the board's JSON at
publication), never from the counters, so the document of October's result printed
today and the one printed next year say the same thing, whatever was corrected in
between. Every format shows the same tables, built once here: each unit's rank,
score, status and movement since the round before, then each unit's points term by
term (value, target, points of the weight) with its deductions and bonus, and the
rules' own caveat — that the weights and deductions are the rules' choices, not the
seeds' figures. The PDF embeds its Chinese font and the xlsx keeps numbers as numbers
(:mod:`cityeye.documents`, as the monthly report).
"""

from __future__ import annotations

import calendar
from collections.abc import Mapping, Sequence
from datetime import datetime
from pathlib import Path
from typing import IO, Any

from jinja2 import Environment, FileSystemLoader, select_autoescape

from cityeye.assessment.scoring import STATUS_NAMES
from cityeye.documents import Pdf, cell_text, local_time, xlsx_rows
from cityeye.documents.tables import Kind
from cityeye.domain import AreaLevel, FieldError
from cityeye.domain.dates import DEFAULT_TIMEZONE
from cityeye.report import TEMPLATES

FORMATS = ("html", "xlsx", "pdf")
#: Who a result ranks, in both languages (parties are not areas).
LEVEL_NAMES = {
    AreaLevel.STREET.value: (AreaLevel.STREET.zh, "streets"),
    AreaLevel.COMMUNITY.value: (AreaLevel.COMMUNITY.zh, "communities"),
    "party": ("处置主体", "parties"),
}
#: What every document says of the formula and of whose numbers the rules are.
NOTE = (
    "计分：每项指标得分 = 权重 × 达成目标的比例（达到目标得满分），加上加分，减去扣分。"
    "权重、目标与扣分标准是考核细则的取值，不是种子文献给出的数字"
    "（cityeye 默认细则中只有处置率、共治率 90% 以上的目标出自文献，其余为本项目的示例取值）。"
)
NOTE_EN = (
    "Scoring: each KPI scores its weight × the share of its target reached (full points at "
    "the target), plus bonus, minus deductions. The weights, targets and deductions are the "
    "rules' choices, not figures from the seeds (in cityeye's default rules only the 90 % "
    "targets for the handling and co-governance rates come from the sources; the rest is ours)."
)


def period_names(period: Mapping[str, Any]) -> tuple[str, str]:
    """A round in Chinese and English: ``2026年10月`` / ``October 2026``,
    ``2026年第4季度`` / ``Q4 2026``, ``2026年度`` / ``2026``."""
    label, kind = str(period["label"]), period.get("kind")
    year = label[:4]
    if kind == "month":
        month = int(label[5:7])
        return f"{year}年{month}月", f"{calendar.month_name[month]} {year}"
    if kind == "quarter":
        return f"{year}年第{label[-1]}季度", f"Q{label[-1]} {year}"
    return f"{year}年度", year


def result_title(board: Mapping[str, Any]) -> str:
    """``数字治理赛 2026年10月 考核结果 · Contest result, October 2026``."""
    zh, en = period_names(board["period"])
    return f"{board['contest']['name']} {zh} 考核结果 · Contest result, {en}"


def published_text(board: Mapping[str, Any]) -> str | None:
    """When the result was published, in the district's time (``2026-11-01 09:00``)."""
    at = board.get("published_at")
    if not at:
        return None
    when = datetime.fromisoformat(str(at))
    return local_time(when, str(board.get("timezone") or DEFAULT_TIMEZONE))


def intro_lines(board: Mapping[str, Any]) -> list[str]:
    """The lines under the title: published when, the round, who is ranked, full marks."""
    period = board["period"]
    level_zh, level_en = LEVEL_NAMES.get(board["level"], (board["level"], board["level"]))
    published = published_text(board)
    shown, units = len(board["rows"]), board.get("units", len(board["rows"]))
    lines = [
        f"发布时间 · Published：{published}" if published else "未发布 · Not published",
        f"考核周期 · Round：{period['first']} 至 {period['last']}；"
        f"排名对象 · Ranked：{board.get('area_name') or ''}各{level_zh} · {level_en}；"
        f"满分 · Full marks：{cell_text(board['contest']['full_marks'], 'points')}",
    ]
    if shown < units:
        lines.append(
            f"本文件列出你所辖的 {shown} 个单位（共 {units} 个参与排名）· {shown} of {units}"
        )
    return lines


def movement_text(row: Mapping[str, Any]) -> str:
    """The rank's move since the round before: 升 2 / 降 1 / 持平, or 上期未排名."""
    moved = row.get("movement")
    if moved is None or moved.get("rank_change") is None:
        return "上期未排名"
    change = int(moved["rank_change"])
    return "持平" if change == 0 else f"升 {change}" if change > 0 else f"降 {-change}"


def ranking_table(board: Mapping[str, Any]) -> list[list[Any]]:
    """Each unit's rank, score, status and movement, header first (every format)."""
    head = [
        "名次 rank",
        "单位 unit",
        "得分 score",
        "状态 status",
        "上期名次 before",
        "名次变化 move",
        "得分变化 score change",
    ]
    rows = []
    for r in board["rows"]:
        moved = r.get("movement") or {}
        rows.append(
            [
                r["rank"] if r["rank"] is not None else "未排名",
                r["name"],
                # nothing counted in the round: no score to compare (as on the board)
                r["score"] if r["rank"] is not None else None,
                STATUS_NAMES.get(r["status"], r["status"]),
                moved.get("rank"),
                movement_text(r),
                moved.get("score_change"),
            ]
        )
    return [head, *rows]


#: How the ranking's columns read: scores as numbers, never a percentage.
RANKING_KINDS: dict[int, Kind] = {2: "points", 6: "points"}
#: The terms table: value and target are rates (auto), points and weight numbers.
TERMS_KINDS: dict[int, Kind] = {4: "points", 5: "points"}


def terms_table(board: Mapping[str, Any]) -> list[list[Any]]:
    """Each unit's points term by term, header first: every KPI (value, target, points
    of its weight, status), then each deduction and bonus (how many, per case, cap)."""
    contest = board["contest"]
    kpis = contest["kpis"]
    counts = {i["count"]: i for i in (*contest.get("deductions", ()), *contest.get("bonus", ()))}
    head = [
        "单位 unit",
        "项目 item",
        "数值 value",
        "目标 target",
        "得分 points",
        "权重/上限 weight / cap",
        "状态 status",
    ]
    rows: list[list[Any]] = []
    for r in board["rows"]:
        for kpi, term in zip(kpis, r["terms"], strict=False):
            target = ("≥ " if term["at_least"] else "≤ ") + cell_text(float(term["target"]))
            rows.append(
                [
                    r["name"],
                    f"{kpi['name']} {kpi['name_en']}",
                    term["value"],
                    target,
                    term["points"],
                    term["weight"],
                    STATUS_NAMES.get(term["status"], term["status"]),
                ]
            )
        for sign, items in (("扣分", r["deductions"]), ("加分", r["bonus"])):
            for item in items:
                named = counts.get(item["count"], {})
                most = item["max"]
                cap = f"，上限 {cell_text(most, 'points')}" if most is not None else ""
                rows.append(
                    [
                        r["name"],
                        f"{sign}：{named.get('name', item['count'])} {named.get('name_en', '')}",
                        item["n"],
                        f"每件 {cell_text(item['per'], 'points')} 分{cap}",
                        item["points"] or 0.0,  # never -0.0
                        item["max"],
                        "",
                    ]
                )
    return [head, *rows]


def result_html(board: Mapping[str, Any]) -> str:
    """The result as one HTML page (no script, no outside resource: it can be mailed)."""
    env = Environment(loader=FileSystemLoader(TEMPLATES), autoescape=select_autoescape())
    env.filters["cell"] = cell_text
    return env.get_template("result.html").render(
        title=result_title(board),
        intro=intro_lines(board),
        ranking=ranking_table(board),
        ranking_kinds=RANKING_KINDS,
        terms=terms_table(board),
        terms_kinds=TERMS_KINDS,
        note=NOTE,
        note_en=NOTE_EN,
    )


def _xlsx(board: Mapping[str, Any], out: Path | IO[bytes]) -> None:
    from openpyxl import Workbook
    from openpyxl.styles import Font

    book = Workbook()
    sheet = book.active
    sheet.title = "排名 Ranking"
    sheet.append([result_title(board)])
    sheet["A1"].font = Font(bold=True, size=14)
    for line in intro_lines(board):
        sheet.append([line])
    sheet.append([])
    head, *rows = ranking_table(board)
    xlsx_rows(sheet, head, rows, kinds=RANKING_KINDS)
    head, *rows = terms_table(board)
    xlsx_rows(book.create_sheet("得分明细 Points"), head, rows, kinds=TERMS_KINDS)
    notes = book.create_sheet("说明 Notes")
    notes.append([NOTE])
    notes.append([NOTE_EN])
    book.save(out)


def _pdf(board: Mapping[str, Any], out: Path | IO[bytes]) -> None:
    title, intro = result_title(board), intro_lines(board)
    tables: Sequence[tuple[list[list[Any]], dict[int, Kind]]] = (
        (ranking_table(board), RANKING_KINDS),
        (terms_table(board), TERMS_KINDS),
    )
    headings = ("排名 · Ranking", "得分明细 · Points term by term", "说明 · Notes")
    pdf = Pdf.covering(
        [
            title,
            *intro,
            *headings,
            NOTE,
            NOTE_EN,
            *(
                cell_text(v, kinds.get(i, "auto") if n else "text")
                for rows, kinds in tables
                for n, row in enumerate(rows)
                for i, v in enumerate(row)
            ),
        ]
    )
    story: list[Any] = [pdf.para(title, "title"), *(pdf.para(line) for line in intro)]
    for heading, (rows, kinds) in zip(headings, tables, strict=False):
        story += [pdf.para(heading, "heading"), pdf.table(rows, kinds)]
    story += [pdf.para(headings[2], "heading"), pdf.para(NOTE), pdf.para(NOTE_EN)]
    pdf.build(story, out, title=title)


def write_result(board: Mapping[str, Any], fmt: str, path: Path | IO[bytes]) -> None:
    """Write the result document as ``fmt`` (html, xlsx or pdf) to ``path`` (a file, or
    an open binary stream for a download); :class:`FieldError` naming ``format``
    otherwise."""
    if fmt == "html":
        data = result_html(board).encode()
        if isinstance(path, Path):
            path.write_bytes(data)
        else:
            path.write(data)
    elif fmt == "xlsx":
        _xlsx(board, path)
    elif fmt == "pdf":
        _pdf(board, path)
    else:
        raise FieldError("format", f"{fmt!r} is not one of {', '.join(FORMATS)}")
