"""``cityeye participation``: the demo's month of 社情民意 suggestions and 红茶议事会
topics, put in through the participation service."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from typing import Annotated

import typer
from rich.progress import BarColumn, Progress, TimeRemainingColumn
from rich.table import Table

from cityeye.cli.common import DbOption, err, out
from cityeye.domain import parse_ts
from cityeye.domain.errors import FieldError
from cityeye.store import DEFAULT_URL, Store

participation_app = typer.Typer(help="社情民意与红茶议事会 Participation: the demo's month.")


@participation_app.command("demo")
def participation_demo(
    db: DbOption = DEFAULT_URL,
    seed: Annotated[int, typer.Option(help="Random seed; same seed, same month.")] = 2021,
    days: Annotated[int, typer.Option(min=1, max=62, help="How many days of suggestions.")] = 30,
    start: Annotated[
        str | None,
        typer.Option(help="Event time of the month's start, ISO-8601 with offset."),
    ] = None,
    events: Annotated[
        Path | None,
        typer.Option(
            exists=True,
            dir_okay=False,
            help="Without --start: the month ends where this event file's simulated days "
            "(to be replayed) begin, so it precedes every replayed event; the file's "
            "history before the month (earlier months' enterprise indicators) is fed "
            "first. With neither, the month ends today.",
        ),
    ] = None,
) -> None:
    """社情民意演示: a month of simulated suggestions (classified, grouped, a share
    answered) and 红茶议事会 topics at every step in 小河街道 (meetings, votes of verified
    residents, one failed quorum, resolutions whose actions become cases), all through
    the participation service. Needs the demo district and `cityeye user demo`; a
    database is seeded once (a second run refuses, exit 1)."""
    from zoneinfo import ZoneInfo

    from rich.progress import MofNCompleteColumn

    from cityeye.api.app import default_files_dir
    from cityeye.attachments import AttachmentStore
    from cityeye.demo.participation import AlreadySeeded, history, month_before, seeded
    from cityeye.demo.participation import seed as seed_demo
    from cityeye.domain.participation import TopicStep
    from cityeye.live.pipeline import LivePipeline

    store = Store.open(db)
    try:
        world = store.load_world()
        if world is None:
            err.print("[red]✗ no district in this database (cityeye world load)[/red]")
            raise typer.Exit(2)
        try:
            if start is not None:
                start_ts: datetime = parse_ts(start, "--start")
            elif events is not None:
                start_ts = month_before(events, world.timezone, days)
            else:
                today = datetime.now(ZoneInfo(world.timezone)).date()
                midnight = datetime(today.year, today.month, today.day)
                start_ts = midnight.replace(tzinfo=ZoneInfo(world.timezone)) - timedelta(days)
        except FieldError as exc:
            hint = "--start" if start is not None else "--events"
            raise typer.BadParameter(exc.reason, param_hint=hint) from None
        if seeded(store) is not None:
            err.print(
                "[yellow]✗ seeded already: the demo's suggestions and topics are there; "
                "start from a fresh database to seed again / 已有演示数据[/yellow]"
            )
            raise typer.Exit(1)
        with err.status("starting the engine 启动引擎…"):
            pipeline = LivePipeline(store)
        try:
            columns = (BarColumn(), MofNCompleteColumn(), TimeRemainingColumn())
            with Progress("{task.description}", *columns, console=err) as bar:
                task = bar.add_task("suggestions 社情民意", total=None)
                summary = seed_demo(
                    pipeline,
                    AttachmentStore(default_files_dir(store)),
                    start=start_ts,
                    days=days,
                    seed=seed,
                    progress=lambda done, total: bar.update(task, completed=done, total=total),
                    earlier=history(events, start_ts) if events is not None else (),
                )
        except AlreadySeeded as exc:
            err.print(f"[yellow]✗ {exc}[/yellow]")
            raise typer.Exit(1) from None
        except FieldError as exc:
            err.print(f"[red]✗ {exc.field}: {exc.reason}[/red]")
            raise typer.Exit(2) from None
        finally:
            pipeline.close()
    finally:
        store.close()
    table = Table("", "", title="participation demo 社情民意与议事会演示")
    table.add_row("suggestions 建议", f"{summary.suggestions} ({summary.answered} answered 已答复)")
    table.add_row("groups 归并", str(summary.groups))
    for step in TopicStep:
        table.add_row(f"{step.zh} {step.en}", f"{summary.topics[step]} topics")
    table.add_row("meetings 会议", str(summary.meetings))
    table.add_row("residents 认证居民", str(summary.residents))
    table.add_row(
        "votes 投票", f"{summary.votes} ({summary.failed_quorum} failed quorum 未达法定人数)"
    )
    table.add_row("cases 决议转案件", f"{summary.cases} ({summary.completed} closed 已办结)")
    out.print(table)
