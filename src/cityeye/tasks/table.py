"""督办表 on paper: a district's task-supervision table read from xlsx, CSV or the text
layout of a document, and written back in the same layout.

The table a district office circulates (seed 003, 2020年区《政府工作报告》主要目标任务
进展情况) has five columns — 项目名称 / 项目内容 / 牵头单位 / 责任单位 / 目前进展情况 —
and its 项目名称 is a merged cell spanning the rows of a numbered section
(``（一）经济社会发展主要预期目标``): a row with an empty 项目名称 belongs to the section
above it. A section heading printed again at the top of a page (seed 003 prints
（二十） and （二十一） twice) is the same section, not a new one.

The text layout is what a document's table becomes when its text is extracted: each
cell starts on a line that begins with a tab, a line without a tab continues the cell
above it (a cell wrapped over two lines), blank lines separate nothing. So every five
cells after the header make one row, and every cell keeps the line it started on, for
the import's "file:line" reports.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from cityeye.documents.grid import GridError, csv_rows, decode, xlsx_rows
from cityeye.errors import Problem, ProblemsError

#: The table's columns, in the order the district's table has them.
COLUMNS = ("项目名称", "项目内容", "牵头单位", "责任单位", "目前进展情况")
#: Our own optional columns (not in seed 003): a task's target and deadline, read from
#: a spreadsheet when it has them and written after the five when a task has one.
EXTRA_COLUMNS = ("目标", "截止日期")

_SECTION = re.compile(r"^[（(]\s*([一二三四五六七八九十百零〇]+)\s*[)）]\s*(.*)$", re.S)
#: The unit suffixes that end a whole unit's name (ours, read off seed 003's units):
#: a wrapped unit cell whose piece ends so is two units, else one name broken in two.
_UNIT_ENDS = ("局", "办", "街道", "会", "部", "委", "院", "中心", "指挥部", "分局", "大队", "所")


class TaskTableError(ProblemsError):
    """A file that is no task table (no header, an unknown format): nothing is read."""


@dataclass(frozen=True, slots=True)
class Section:
    """A numbered section (项目名称): ``number`` as printed (``（一）``, may be empty)."""

    number: str
    title: str

    @property
    def label(self) -> str:
        return f"{self.number}{self.title}"


@dataclass(slots=True)
class Row:
    """One row of the table as read: its cells' text, and where it is (``file:line``
    or ``sheet:row``) for the import's report."""

    where: str
    section: Section | None
    content: str
    lead: list[str]
    units: list[str]
    progress: str
    target: str = ""
    deadline: str = ""
    #: Where each column's cell is, when it is not ``where`` (a text layout's cells
    #: each start on a line of their own).
    cells: dict[str, str] = field(default_factory=dict)

    def at(self, column: str) -> str:
        """Where ``column``'s cell of this row is (``file:line``)."""
        return self.cells.get(column, self.where)


@dataclass(slots=True)
class TaskTable:
    """What a file holds: its title (the line above the header), the sections in the
    order they first appear, and every row (also those the import will skip)."""

    title: str
    sections: list[Section] = field(default_factory=list)
    rows: list[Row] = field(default_factory=list)

    def section(self, number: str, title: str) -> Section:
        """The section so numbered and titled, the one already seen if printed again."""
        for known in self.sections:
            if known.number == number and (known.title == title or not title):
                return known
        made = Section(number, title)
        self.sections.append(made)
        return made


def split_section(text: str) -> tuple[str, str]:
    """``（一）经济社会发展`` → ``("（一）", "经济社会发展")``; no number → ``("", text)``."""
    text = text.strip()
    match = _SECTION.match(text)
    if match is None:
        return "", _joined(text)
    return f"（{match.group(1)}）", _joined(match.group(2))


def _joined(text: str) -> str:
    """A wrapped title's lines as one line (提高城市 / 承载能力 → 提高城市承载能力)."""
    return "".join(part.strip() for part in text.splitlines())


def split_units(text: str) -> list[str]:
    """A unit cell's units: separated by 、，, ; or by a line break after a whole
    unit's name (区委人才办 / 区科技局 are two), while a name wrapped mid-way (生态环境 /
    拱墅分局, 区科技工业区 / 管委会) is one."""
    names: list[str] = []
    for line in text.splitlines():
        for i, piece in enumerate(re.split(r"[、，,;；]", line.strip())):
            piece = piece.strip()
            if not piece:
                continue
            if i == 0 and names and not names[-1].endswith(_UNIT_ENDS):
                names[-1] += piece  # the rest of a name that wrapped
            else:
                names.append(piece)
    return names


# ---------------------------------------------------------------------- reading


def read_table(path: Path) -> TaskTable:
    """The table in ``path`` (``.xlsx``, ``.csv`` or a text layout); raises
    :class:`TaskTableError` when it has no header row naming the five columns."""
    name = path.name
    suffix = path.suffix.lower()
    if suffix == ".xlsx":
        return _from_grid(name, xlsx_rows(path))
    data = path.read_bytes()
    text = _decode(data, name)
    if suffix == ".csv":
        return _from_grid(name, csv_rows(text))
    return parse_text(text, name)


def _decode(data: bytes, name: str) -> str:
    try:
        return decode(data, name)
    except GridError as exc:
        raise TaskTableError(name, exc.problems) from None


def parse_text(text: str, name: str = "(text)") -> TaskTable:
    """The text layout (see the module's docstring) of a table."""
    cells: list[tuple[int, list[str]]] = []
    title = ""
    for number, line in enumerate(text.splitlines(), start=1):
        if line.startswith("\t"):
            cells.append((number, [line[1:]]))
        elif line.strip():
            if cells:
                cells[-1][1].append(line)
            elif not title:
                title = line.strip()
    texts = ["\n".join(parts).strip() for _, parts in cells]
    width = len(COLUMNS)
    if [t.strip() for t in texts[:width]] != list(COLUMNS):
        found = " / ".join(texts[:width]) or "nothing"
        raise TaskTableError(
            name,
            [Problem("header", f"expected the cells {' / '.join(COLUMNS)} first; found {found}")],
        )
    table = TaskTable(title)
    section: Section | None = None
    body = list(zip([n for n, _ in cells], texts, strict=True))[width:]
    for start in range(0, len(body), width):
        group = body[start : start + width]
        where = f"{name}:{group[0][0]}"
        values = [t for _, t in group] + [""] * (width - len(group))
        if values[0].strip():
            section = table.section(*split_section(values[0]))
        row = _row(where, section, values)
        row.cells = {c: f"{name}:{n}" for c, (n, _) in zip(COLUMNS, group, strict=False)}
        table.rows.append(row)
    return table


def _row(where: str, section: Section | None, values: Sequence[str]) -> Row:
    content, lead, units, progress = (v.strip() for v in values[1:5])
    target, deadline = (v.strip() for v in (*values[5:7], "", "")[:2])
    return Row(
        where,
        section,
        _joined(content) if "\n" in content else content,
        split_units(lead),
        split_units(units),
        " ".join(progress.split("\n")),
        target,
        deadline,
    )


def _from_grid(name: str, rows: Iterator[tuple[int, list[str]]]) -> TaskTable:
    """A spreadsheet's rows: a title line or two, a header row naming the columns
    (in any order; 目标 and 截止日期 optional), then the rows."""
    title = ""
    index: dict[str, int] | None = None
    table = TaskTable("")
    section: Section | None = None
    for number, cells in rows:
        cells = [c.strip() for c in cells]
        if index is None:
            names = [re.sub(r"\s+", "", c) for c in cells]  # a header cell wrapped: 项目\n名称
            if all(c in names for c in COLUMNS):
                index = {c: names.index(c) for c in (*COLUMNS, *EXTRA_COLUMNS) if c in names}
                table.title = title
            elif not title and any(cells):
                title = next(c for c in cells if c)
            continue
        if not any(cells):
            continue
        values = [
            cells[index[c]] if c in index and index[c] < len(cells) else ""
            for c in (*COLUMNS, *EXTRA_COLUMNS)
        ]
        if values[0]:
            section = table.section(*split_section(values[0]))
        # a sheet's row number is the one its program shows; a CSV's is its line
        table.rows.append(_row(f"{name}:{number}", section, values))
    if index is None:
        raise TaskTableError(
            name, [Problem("header", f"no row names the columns {' / '.join(COLUMNS)}")]
        )
    return table


# ---------------------------------------------------------------------- writing


def text_layout(title: str, rows: Sequence[Sequence[str]]) -> str:
    """The text layout :func:`parse_text` reads: ``rows`` are the five cells of each
    row, the 项目名称 given on a section's first row only (as the merged cell prints)."""
    lines = ["", title, *(f"\t{c}" for c in COLUMNS), ""]
    for row in rows:
        first, *rest = (" ".join(str(c).split("\n")) for c in row[: len(COLUMNS)])
        number, heading = split_section(first) if first else ("", "")
        lines += [f"\t{number}", "", heading] if number else [f"\t{heading}"]
        lines += [f"\t{c}" for c in rest]
        lines.append("")
    return "\n".join(lines) + "\n"
