"""``cityeye import``: records from other systems become events (the 12345 hotline's
exports)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.progress import BarColumn, Progress, TimeRemainingColumn

from cityeye.cli.common import (
    BusOption,
    DbOption,
    PartitionsOption,
    ScenarioDirs,
    WithBuiltinOption,
    err,
    intake_or_exit,
    out,
    print_problems,
    scenarios_or_exit,
)
from cityeye.store import DEFAULT_URL, Store

if TYPE_CHECKING:
    from cityeye.live.pipeline import Pipeline


import_app = typer.Typer(help="导入 Import: records from other systems, as events.")


@import_app.command("hotline")
def import_hotline(
    file: Annotated[
        Path, typer.Argument(exists=True, dir_okay=False, help="The export: .csv or .xlsx.")
    ],
    mapping: Annotated[
        Path,
        typer.Option(
            exists=True, dir_okay=False, help="YAML: which column holds what (docs/ingest.md)."
        ),
    ],
    db: DbOption = DEFAULT_URL,
    errors_file: Annotated[
        Path | None,
        typer.Option("--errors", help="Write every rejected row (row, id, field, reason) here."),
    ] = None,
    scenario_paths: ScenarioDirs = None,
    with_builtin: WithBuiltinOption = False,
    bus: BusOption = None,
    partitions: PartitionsOption = 1,
) -> None:
    """12345 热线导入: every row of a hotline export becomes a report.hotline event
    (stored, de-duplicated on the ticket number, analysed like any event) or is
    reported with its row number. Exit 0: all rows in; 1: some rows rejected (the
    others are kept); 2: the mapping or the file cannot be used (nothing stored)."""
    from rich.progress import MofNCompleteColumn

    from cityeye.ingest.hotline import (
        HotlineError,
        import_sheet,
        load_mapping,
        print_summary,
        read_sheet,
        write_errors,
    )

    try:
        spec = load_mapping(mapping)
        sheet = read_sheet(file, spec)
    except HotlineError as exc:
        print_problems(exc)
        err.print("[red]✗ nothing imported / 未导入[/red]")
        raise typer.Exit(2) from None
    scenarios = scenarios_or_exit(scenario_paths, with_builtin)
    store = Store.open(db)
    pipeline: Pipeline | None = None
    try:
        with err.status("starting the engine 启动引擎…"):
            pipeline = intake_or_exit(store, scenarios, bus, partitions)
        columns = (BarColumn(), MofNCompleteColumn(), TimeRemainingColumn())
        with Progress("{task.description}", *columns, console=err) as bar:
            task = bar.add_task("12345 import 导入", total=len(sheet.rows))
            result = import_sheet(
                sheet,
                spec,
                pipeline,
                ref=str(file),
                progress=lambda done, total: bar.update(task, completed=done, total=total),
            )
    finally:
        if pipeline is not None:
            pipeline.close()
        store.close()
    if errors_file is not None:
        write_errors(result.rejected, errors_file)
    print_summary(result, out, errors_file=errors_file)
    raise typer.Exit(result.exit_code)
