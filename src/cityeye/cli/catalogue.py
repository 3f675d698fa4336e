"""What the engine knows: ``cityeye scenarios`` (validate and list the catalogue) and
``cityeye kinds`` (the documented event kinds; a top-level command, registered in
:mod:`cityeye.cli`)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from cityeye.cli.common import ScenarioDirs, out, scenarios_or_exit

scenarios_app = typer.Typer(help="场景 Scenarios: validate and list the catalogue.")


@scenarios_app.command("validate")
def scenarios_validate(
    paths: Annotated[list[Path], typer.Argument(exists=True, help="Files or folders.")],
) -> None:
    """Check scenario files; report every problem with file, line and field."""
    loaded = scenarios_or_exit(paths, with_builtin=False)
    out.print(f"[green]✓[/green] {len(loaded)} scenarios valid / 场景校验通过")


@scenarios_app.command("list")
def scenarios_list(
    paths: ScenarioDirs = None,
    with_builtin: Annotated[bool, typer.Option(help="Also list the built-in catalogue.")] = False,
) -> None:
    """Show the catalogue (built-in, or the given folders) as a table."""
    loaded = scenarios_or_exit(paths, with_builtin)
    header = ("id", "模块 module", "名称", "name", "key", "trigger", "severity", "route")
    rows: list[tuple[str, ...]] = []
    for item in sorted(loaded, key=lambda s: (s.module.value, s.id)):
        c = item.config
        severity = c.severity if isinstance(c.severity, str) else f"by {c.severity.by}"
        rows.append(
            (
                c.id,
                item.module.zh,
                c.name.zh,
                c.name.en,
                c.key.value,
                c.trigger.type,
                str(severity),
                c.route.value,
            )
        )
    if out.is_terminal:
        table = Table(*header)
        for row in rows:
            table.add_row(*row)
        out.print(table)
    else:  # piped: one tab-separated line per scenario, easy to grep and sort
        for row in (header, *rows):
            out.print("\t".join(row), markup=False, highlight=False)
    out.print(f"{len(loaded)} scenarios 个场景")


def kinds() -> None:
    """List the documented event kinds (unknown kinds are still accepted)."""
    from cityeye.domain import EVENT_KINDS

    table = Table("kind", "中文", "English", "attrs")
    for info in EVENT_KINDS.values():
        table.add_row(info.kind, info.zh, info.en, ", ".join(info.attrs))
    out.print(table)
