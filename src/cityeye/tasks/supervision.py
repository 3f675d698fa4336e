"""督办: a year's task table imported, its units matched to the world's parties, the
units' progress reports, what is overdue, each unit's figures, and the table written
back in its own layout with the current progress.

Units are matched to parties by name (our rule, docs/tasks.md): first exactly; then by
a normalised name — full-width forms folded (NFKC), spaces dropped, a leading 杭州市
/ 拱墅区 read as 区, a trailing 办事处 dropped (上塘街道 is 上塘街道办事处), and a name
in brackets read as another name of the same unit (区行政审批办（区审管办）, 区委统战部
（区民宗局）) — when exactly one party has that name. A unit starting with 各 or 相关,
or naming 成员单位 (各街道, 相关建设指挥部, 区食安委各成员单位) is a group, not one unit:
it is kept as written and matches no party. Anything else that matches no party is
reported with its row, and the row is still imported.
"""

from __future__ import annotations

import dataclasses
import re
import unicodedata
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from cityeye.documents.tables import Sheet
from cityeye.domain import World
from cityeye.domain.tasks import Task, TaskReport, completion_of, says_done
from cityeye.domain.users import User, UserRole
from cityeye.errors import ConflictError, FieldError, NotFoundError, RefusedError
from cityeye.store import Store
from cityeye.store import tasks as db
from cityeye.tasks.table import COLUMNS, EXTRA_COLUMNS, TaskTable, text_layout

# ------------------------------------------------------------------ matching units

_BRACKETS = re.compile(r"\(([^()]*)\)")
_PREFIXES = ("杭州市拱墅区", "杭州市", "拱墅区")


def _keys(name: str) -> set[str]:
    """The normalised names ``name`` answers to (see the module's docstring)."""
    text = re.sub(r"\s+", "", unicodedata.normalize("NFKC", name))
    names = {_BRACKETS.sub("", text), *_BRACKETS.findall(text)}
    keys: set[str] = set()
    for one in filter(None, names):
        for prefix in _PREFIXES:
            if one.startswith(prefix):
                one = "区" + one[len(prefix) :]
                break
        keys.add(one.removesuffix("办事处"))
    return keys


def is_group(unit: str) -> bool:
    """各街道, 相关街道, 区食安委各成员单位: several units named together."""
    return unit.startswith(("各", "相关")) or "成员单位" in unit


@dataclass(frozen=True, slots=True)
class UnitMatch:
    """How a unit's name was matched: ``how`` is ``exact``, ``normalised``, ``group``,
    ``unknown`` or ``ambiguous`` (``candidates``: the parties it could be)."""

    unit: str
    party_id: str | None
    how: str
    candidates: tuple[str, ...] = ()


class UnitMatcher:
    """The world's parties by name and by normalised name."""

    def __init__(self, world: World) -> None:
        self.exact: dict[str, list[str]] = defaultdict(list)
        self.normal: dict[str, list[str]] = defaultdict(list)
        for party in world.parties.values():
            self.exact[party.name].append(party.id)
            for key in _keys(party.name):
                if party.id not in self.normal[key]:
                    self.normal[key].append(party.id)

    def match(self, unit: str) -> UnitMatch:
        exact = self.exact.get(unit, [])
        if len(exact) == 1:
            return UnitMatch(unit, exact[0], "exact")
        if is_group(unit):
            return UnitMatch(unit, None, "group")
        found = sorted({p for key in _keys(unit) for p in self.normal.get(key, ())})
        if len(found) == 1:
            return UnitMatch(unit, found[0], "normalised")
        if found or exact:
            return UnitMatch(unit, None, "ambiguous", tuple(found or exact))
        return UnitMatch(unit, None, "unknown")


# ------------------------------------------------------------------------ import


@dataclass(frozen=True, slots=True)
class Notice:
    """Something about one row: ``where`` (``file:line``), the column and what."""

    where: str
    column: str
    message: str

    def render(self) -> str:
        return f"{self.where}: {self.column}: {self.message}"


@dataclass(slots=True)
class ImportResult:
    """Every row of the file accounted for: ``imported`` (of which ``with_unknown``
    name a unit no party matched) and ``skipped`` (each with its reason, in
    ``notices``)."""

    year: int
    rows: int = 0
    imported: int = 0
    with_unknown: int = 0
    skipped: int = 0
    sections: int = 0
    notices: list[Notice] = field(default_factory=list)
    matched: dict[str, str] = field(default_factory=dict)

    def summary(self) -> str:
        return (
            f"{self.rows} rows 行: {self.imported} imported 已导入 "
            f"({self.with_unknown} with unknown units 含未识别单位), "
            f"{self.skipped} skipped 跳过; {self.sections} sections 部分"
        )


_DATE = re.compile(r"(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?(?:\s.*)?")


def parse_deadline(text: str, timezone: str) -> datetime | None:
    """A 截止日期 cell (``2020-12-31``, ``2020/12/31`` or ``2020年12月31日``) as the end
    of that day in the district's time (the next midnight); ``None`` when empty;
    :class:`FieldError` when it is no date."""
    text = text.strip()
    if not text:
        return None
    match = re.fullmatch(
        r"(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?(?:\s.*)?", text
    )
    try:
        if match is None:
            raise ValueError
        day = date(int(match.group(1)), int(match.group(2)), int(match.group(3)))
    except ValueError:
        raise FieldError("截止日期", f"{text!r} is not a date (2020-12-31)") from None
    return datetime.combine(day + timedelta(days=1), time(), ZoneInfo(timezone))


def due_day(task: Task, timezone: str) -> date | None:
    """The 截止日期 a person reads: the district's day whose end is the deadline (what
    :func:`parse_deadline` read)."""
    if task.due_at is None:
        return None
    return (task.due_at.astimezone(ZoneInfo(timezone)) - timedelta(days=1)).date()


def import_table(
    store: Store,
    world: World,
    table: TaskTable,
    *,
    year: int,
    now: datetime,
    replace: bool = False,
) -> ImportResult:
    """``table`` becomes ``year``'s tasks. A year already imported is refused
    (:class:`ConflictError`) unless ``replace`` (its reports then go too)."""
    if db.tasks_of(store, year) and not replace:
        raise ConflictError(
            f"the tasks of {year} are imported already (replace them with --replace)"
        )
    matcher = UnitMatcher(world)
    result = ImportResult(year, rows=len(table.rows), sections=len(table.sections))
    tasks: list[Task] = []
    for row in table.rows:
        if not row.content:
            result.skipped += 1
            result.notices.append(Notice(row.at("项目内容"), "项目内容", "empty: row skipped"))
            continue
        if row.section is None:
            result.skipped += 1
            result.notices.append(Notice(row.where, "项目名称", "no section above: row skipped"))
            continue
        parties: list[str] = []
        unknown: set[str] = set()  # the units of this row no party matched
        for column, units in (("牵头单位", row.lead), ("责任单位", row.units)):
            for unit in units:
                found = matcher.match(unit)
                if found.party_id is not None:
                    result.matched[unit] = found.party_id
                    if found.party_id not in parties:
                        parties.append(found.party_id)
                elif found.how in ("unknown", "ambiguous") and unit not in unknown:
                    unknown.add(unit)  # reported once a row (a lead is often responsible too)
                    why = (
                        "matches no party of the world"
                        if found.how == "unknown"
                        else f"matches several parties ({', '.join(found.candidates)})"
                    )
                    result.notices.append(Notice(row.at(column), column, f"{unit}: {why}"))
        try:
            due_at = parse_deadline(row.deadline, world.timezone)
        except FieldError as exc:
            result.notices.append(Notice(row.where, exc.field, f"{exc.reason}; no deadline kept"))
            due_at = None
        completion = completion_of(row.progress)
        seq = len(tasks) + 1
        tasks.append(
            Task(
                id=f"{year}-{seq:03d}",
                year=year,
                seq=seq,
                section_no=row.section.number,
                section_title=row.section.title,
                content=row.content,
                lead_units=tuple(row.lead),
                units=tuple(row.units),
                party_ids=tuple(parties),
                progress=row.progress,
                completion=completion,
                target=row.target or None,
                due_at=due_at,
                done_at=now if says_done(row.progress, completion) else None,
                source=row.where,
                updated_at=now,
            )
        )
        result.imported += 1
        result.with_unknown += bool(unknown)
    db.replace_year(store, year, table.title, tasks)
    return result


# ------------------------------------------------------------------------ reports


def may_manage(user: User, world: World) -> bool:
    """District staff — a dispatcher whose post is the whole district — and admins set
    targets and deadlines; a street's dispatcher does not (the table is the district's)."""
    if user.role == UserRole.ADMIN:
        return True
    return user.role == UserRole.DISPATCHER and world.district.code in user.areas


def may_read_all(user: User) -> bool:
    """Staff, admins and leaders read every task; a unit's people their unit's."""
    return user.role in (UserRole.ADMIN, UserRole.DISPATCHER, UserRole.LEADER)


def visible(user: User, task: Task) -> bool:
    return may_read_all(user) or (user.party_id is not None and user.party_id in task.party_ids)


def report_progress(
    store: Store,
    user: User,
    task_id: str,
    *,
    text: str,
    done: bool,
    photos: Sequence[str],
    at: datetime,
) -> TaskReport:
    """A unit's report on its task: only the people of one of the task's units (its
    lead or responsible parties) may report; the completion is read from the text."""
    task = db.get_task(store, task_id)
    if task is None or not visible(user, task):
        raise NotFoundError(f"no task {task_id}")
    if user.party_id is None or user.party_id not in task.party_ids:
        raise RefusedError("only the people of the task's units report its progress")
    text = text.strip()
    if not text:
        raise FieldError("text", "is empty: say what was done")
    completion = completion_of(text)
    report = TaskReport(
        task.id,
        at,
        text,
        user.id,
        user.party_id,
        completion,
        done or says_done(text, completion),
        tuple(photos),
    )
    return dataclasses.replace(report, id=db.add_report(store, report))


# ------------------------------------------------------------ overdue and figures


def overdue(tasks: Iterable[Task], now: datetime) -> list[Task]:
    """The tasks past their deadline without a report of completion, oldest deadline
    first."""
    late = [task for task in tasks if task.overdue(now)]
    return sorted(late, key=lambda task: (task.due_at or now, task.seq))


@dataclass(slots=True)
class UnitStats:
    """One unit's tasks (as lead or responsible): how many, done, overdue, open."""

    unit: str
    party_id: str | None
    tasks: int = 0
    done: int = 0
    overdue: int = 0

    @property
    def open(self) -> int:
        return self.tasks - self.done

    @property
    def rate(self) -> float | None:
        return self.done / self.tasks if self.tasks else None


def stats_by_unit(tasks: Iterable[Task], world: World, now: datetime) -> list[UnitStats]:
    """Each unit's figures: a matched unit under its party's name, any other under
    the name the table gives; most tasks first."""
    matcher = UnitMatcher(world)
    out: dict[str, UnitStats] = {}
    for task in tasks:
        seen: set[str] = set()
        for unit in (*task.lead_units, *task.units):
            found = matcher.match(unit)
            party = world.parties.get(found.party_id) if found.party_id else None
            name = party.name if party is not None else unit
            if name in seen:
                continue
            seen.add(name)
            row = out.setdefault(name, UnitStats(name, found.party_id))
            row.tasks += 1
            row.done += task.done
            row.overdue += task.overdue(now)
    return sorted(out.values(), key=lambda s: (-s.tasks, s.unit))


# ------------------------------------------------------------------------ export


def table_rows(tasks: Sequence[Task], *, extra: bool, timezone: str) -> list[list[Any]]:
    """The table's rows as the district prints them: 项目名称 on a section's first row
    only (the merged cell), units joined by 、, the current progress; with ``extra``
    also our 目标 and 截止日期."""
    rows: list[list[Any]] = []
    last: tuple[str, str] | None = None
    for task in tasks:
        section = (task.section_no, task.section_title)
        row: list[Any] = [
            f"{task.section_no}{task.section_title}" if section != last else "",
            task.content,
            "、".join(task.lead_units),
            "、".join(task.units),
            task.progress,
        ]
        if extra:
            due = due_day(task, timezone)
            row += [task.target or "", due.isoformat() if due is not None else ""]
        rows.append(row)
        last = section
    return rows


def export_sheet(title: str, tasks: Sequence[Task], timezone: str) -> Sheet:
    """The table for :func:`cityeye.documents.tables.write_xlsx`: the five columns in
    their order (then 目标 / 截止日期 when any task has one)."""
    extra = any(task.target or task.due_at for task in tasks)
    header = list(COLUMNS) + (list(EXTRA_COLUMNS) if extra else [])
    kinds: dict[int, Any] = dict.fromkeys(range(len(header)), "text")
    return Sheet(
        title,
        header,
        table_rows(tasks, extra=extra, timezone=timezone),
        kinds=kinds,
        name="督办 Tasks",
    )


def export_text(title: str, tasks: Sequence[Task], timezone: str) -> str:
    """The table in the text layout it was read from (:mod:`cityeye.tasks.table`)."""
    return text_layout(title, table_rows(tasks, extra=False, timezone=timezone))
