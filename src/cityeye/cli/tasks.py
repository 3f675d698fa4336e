"""``cityeye tasks``: the district's task-supervision table (督办表) — import, what is
overdue, each unit's figures, and the table exported in its own layout."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from cityeye.cli.common import DbOption, err, out, print_problems
from cityeye.domain import World
from cityeye.errors import ConflictError
from cityeye.store import DEFAULT_URL, Store

tasks_app = typer.Typer(help="督办 Task supervision: the district's table of the year's tasks.")

YearOption = Annotated[
    int | None,
    typer.Option(
        help="The table's year (default: the year its title starts with, else this year)."
    ),
]


def _world(store: Store) -> World:
    world = store.load_world()
    if world is None:
        err.print("[yellow]no world loaded: no unit matches a party 未加载辖区[/yellow]")
        return World.empty()
    return world


def _year(store: Store, year: int | None) -> int:
    from cityeye.store import tasks as db

    if year is not None:
        return year
    known = db.years(store)
    if not known:
        err.print("[red]no task table imported 尚未导入督办表[/red]")
        raise typer.Exit(2)
    return known[0]


@tasks_app.command("import")
def tasks_import(
    file: Annotated[
        Path,
        typer.Argument(exists=True, dir_okay=False, help="The table: .xlsx, .csv or text (.txt)."),
    ],
    db: DbOption = DEFAULT_URL,
    year: YearOption = None,
    replace: Annotated[
        bool, typer.Option(help="Replace the year's table (and its progress reports).")
    ] = False,
) -> None:
    """督办表导入: every row becomes a task of the year, its units matched to the world's
    parties (docs/tasks.md says the rule); a unit no party matches is reported with its
    row (file:line), the row still imported. Exit 0: every row in, every unit known;
    1: rows skipped or units unknown (the rest kept); 2: nothing imported."""
    from cityeye.tasks.supervision import import_table
    from cityeye.tasks.table import TaskTableError, read_table

    try:
        table = read_table(file)
    except TaskTableError as exc:
        print_problems(exc)
        err.print("[red]✗ nothing imported / 未导入[/red]")
        raise typer.Exit(2) from None
    if year is None:
        found = re.match(r"\s*(\d{4})年", table.title)
        year = int(found.group(1)) if found else datetime.now(UTC).year
    store = Store.open(db)
    try:
        result = import_table(
            store, _world(store), table, year=year, now=datetime.now(UTC), replace=replace
        )
    except ConflictError as exc:
        err.print(f"[red]✗ {exc}[/red]", markup=True, highlight=False)
        raise typer.Exit(2) from None
    finally:
        store.close()
    for notice in result.notices:
        err.print(notice.render(), markup=False, highlight=False)
    out.print(f"{year}: {result.summary()}", markup=False, highlight=False)
    raise typer.Exit(1 if result.skipped or result.with_unknown else 0)


@tasks_app.command("overdue")
def tasks_overdue(db: DbOption = DEFAULT_URL, year: YearOption = None) -> None:
    """超期督办: the tasks past their deadline without a report of completion, oldest
    deadline first. Exit 0 when none, 1 when some (for a cron job's mail)."""
    from cityeye.store import tasks as db_tasks
    from cityeye.tasks.supervision import due_day, overdue

    store = Store.open(db)
    try:
        chosen = _year(store, year)
        late = overdue(db_tasks.tasks_of(store, chosen), datetime.now(UTC))
        timezone = _world(store).timezone
    finally:
        store.close()
    table = Table("编号 id", "截止 due", "项目内容 task", "责任单位 units", "目前进展 progress")
    for task in late:
        day = due_day(task, timezone)
        due = day.isoformat() if day is not None else ""
        table.add_row(task.id, due, task.content, "、".join(task.units), task.progress)
    out.print(table)
    out.print(f"{len(late)} overdue 超期", highlight=False)
    raise typer.Exit(1 if late else 0)


@tasks_app.command("stats")
def tasks_stats(db: DbOption = DEFAULT_URL, year: YearOption = None) -> None:
    """各单位完成情况: each unit's tasks (as lead or responsible), done, overdue, open."""
    from cityeye.store import tasks as db_tasks
    from cityeye.tasks.supervision import stats_by_unit

    store = Store.open(db)
    try:
        chosen = _year(store, year)
        rows = stats_by_unit(db_tasks.tasks_of(store, chosen), _world(store), datetime.now(UTC))
    finally:
        store.close()
    table = Table("单位 unit", "任务 tasks", "完成 done", "超期 overdue", "完成率 rate")
    for row in rows:
        rate = f"{row.rate:.1%}" if row.rate is not None else "—"
        table.add_row(row.unit, str(row.tasks), str(row.done), str(row.overdue), rate)
    out.print(table)


@tasks_app.command("export")
def tasks_export(
    output: Annotated[Path, typer.Argument(dir_okay=False, help="The file: .xlsx, .pdf or .txt.")],
    db: DbOption = DEFAULT_URL,
    year: YearOption = None,
) -> None:
    """督办表导出: the table in its own layout (sections, the five columns in their
    order) with the current progress, as .xlsx, .pdf or the text layout (.txt)."""
    from cityeye.documents.tables import write_pdf, write_xlsx
    from cityeye.store import tasks as db_tasks
    from cityeye.tasks.supervision import export_sheet, export_text

    store = Store.open(db)
    try:
        chosen = _year(store, year)
        tasks = db_tasks.tasks_of(store, chosen)
        title = db_tasks.title(store, chosen) or f"{chosen}年督办事项进展情况"
        timezone = _world(store).timezone
    finally:
        store.close()
    if output.suffix.lower() in (".xlsx", ".pdf"):
        write = write_xlsx if output.suffix.lower() == ".xlsx" else write_pdf
        write(export_sheet(title, tasks, timezone), output)
    elif output.suffix.lower() == ".txt":
        output.write_text(export_text(title, tasks, timezone), encoding="utf-8")
    else:
        err.print(f"[red]{output.name}: .xlsx, .pdf or .txt, please[/red]")
        raise typer.Exit(2)
    out.print(f"{len(tasks)} tasks → {output}", highlight=False)
