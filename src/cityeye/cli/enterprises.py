"""``cityeye enterprises``: 小河网驿's key-enterprise registry (重点企业名录) — import a
district's sheet, list the registry."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from cityeye.cli.common import DbOption, err, out, print_problems
from cityeye.domain import World
from cityeye.errors import ProblemsError
from cityeye.store import DEFAULT_URL, Store

enterprises_app = typer.Typer(help="重点企业 Key enterprises: the registry and its visits.")


def _world(store: Store) -> World:
    world = store.load_world()
    if world is None:
        err.print("[red]no world loaded: no grid to place an enterprise in 未加载辖区[/red]")
        raise typer.Exit(2)
    return world


@enterprises_app.command("import")
def enterprises_import(
    file: Annotated[
        Path, typer.Argument(exists=True, dir_okay=False, help="The sheet: .xlsx or .csv.")
    ],
    db: DbOption = DEFAULT_URL,
) -> None:
    """重点企业名录导入: one enterprise a row (统一社会信用代码 / 企业名称 / 所在网格
    required; 行业, 规模, 地址, 联系人, 联系电话, 包联干部, 标签, 风险等级, 纬度, 经度
    optional). A known credit code updates that enterprise (its changes recorded); a
    bad row is reported with its row and reason and skipped. Exit 0: every row in;
    1: rows skipped (the rest kept); 2: nothing read."""
    from cityeye.enterprises.registry import import_file

    store = Store.open(db)
    try:
        result = import_file(store, _world(store), file, now=datetime.now(UTC))
    except ProblemsError as exc:
        print_problems(exc)
        err.print("[red]✗ nothing imported / 未导入[/red]")
        raise typer.Exit(2) from None
    finally:
        store.close()
    for problem in result.problems:
        err.print(problem.render(file.name), markup=False, highlight=False)
    out.print(result.summary(), markup=False, highlight=False)
    raise typer.Exit(1 if result.skipped else 0)


@enterprises_app.command("list")
def enterprises_list(db: DbOption = DEFAULT_URL) -> None:
    """The registry by name: code, name, grid, risk (phones are not printed)."""
    from cityeye.store import enterprises as db_ent

    store = Store.open(db)
    try:
        found = db_ent.enterprises(store)
    finally:
        store.close()
    table = Table("统一社会信用代码 code", "企业名称 name", "网格 area", "风险 risk")
    for e in found:
        table.add_row(e.credit_code, e.name, e.area, e.risk.zh)
    out.print(table)
    out.print(f"{len(found)} enterprises 家", highlight=False)
