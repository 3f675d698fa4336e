"""``cityeye assessment``: check a contest rules file, and print a board for any round
from a database (the same figures as ``GET /api/v1/assessment/board``: reproducible
from the KPI counters, so a month can be looked at again a year on)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import orjson
import typer

from cityeye.assessment.rules import AssessmentError, Rules, default_rules, load_rules
from cityeye.cli.common import (
    DbOption,
    NotifyOption,
    err,
    notify_or_exit,
    out,
    print_problems,
    progress_bar,
)
from cityeye.store import DEFAULT_URL
from cityeye.store.db import missing_sqlite_file

if TYPE_CHECKING:
    from cityeye.domain import World
    from cityeye.notifiers import NotifyConfig
    from cityeye.routine.jobs import Due
    from cityeye.store import Store

assessment_app = typer.Typer(help="数字治理赛 Contest: rules files and ranking boards.")

#: ``cityeye serve --assessment FILE`` and the commands here.
AssessmentOption = Annotated[
    Path | None,
    typer.Option(
        "--assessment",
        envvar="CITYEYE_ASSESSMENT",
        exists=True,
        dir_okay=False,
        metavar="FILE",
        help="YAML: the contest's rules (数字治理赛考核细则: KPIs, weights, targets, "
        "deductions, period, who is ranked); default the packaged rules "
        "(docs/assessment.md).",
    ),
]


def rules_or_exit(path: Path | None) -> Rules:
    """The rules of ``path`` (every problem printed with its line, exit 1), else the
    packaged ones."""
    if path is None:
        return default_rules()
    try:
        return load_rules(path)
    except AssessmentError as exc:
        print_problems(exc)
        found = len(exc.problems)
        err.print(f"[red]✗ {found} problem(s) in the assessment file / 考核细则有误[/red]")
        raise typer.Exit(1) from None


@assessment_app.command("validate")
def validate(file: Annotated[Path, typer.Argument(exists=True, dir_okay=False)]) -> None:
    """Check a rules file and report every problem with its line and path."""
    rules = rules_or_exit(file)
    kpis = ", ".join(f"{t.kpi} {t.weight:g}" for t in rules.kpis)
    out.print(f"[green]✓[/green] {file}: {rules.name}, per {rules.period}; {kpis}")


@assessment_app.command("board")
def show_board(
    period: Annotated[str, typer.Option(help="2026-10, 2026-Q4 or 2026.")],
    db: DbOption = DEFAULT_URL,
    level: Annotated[str, typer.Option(help="street, community or party.")] = "street",
    area: Annotated[str | None, typer.Option(help="Rank the units inside this area.")] = None,
    rules_file: AssessmentOption = None,
    as_json: Annotated[bool, typer.Option("--json", help="The API's JSON.")] = False,
) -> None:
    """Print the board of one round: rank, score, status and each term's points."""
    from cityeye.api.presenters import board_json
    from cityeye.assessment.scoring import board, parse_period
    from cityeye.assessment.source import KpiSource, module_scenarios
    from cityeye.domain import FieldError, World
    from cityeye.scenarios import load_catalogue
    from cityeye.store import Store

    rules = rules_or_exit(rules_file)
    store = Store.open(db)
    try:
        world = store.load_world() or World.empty()
        try:
            source = KpiSource(store, world, module_scenarios(load_catalogue()))
            found = board(rules, source, world, level, parse_period(period), area)
        except FieldError as exc:
            raise typer.BadParameter(exc.reason, param_hint=f"--{exc.field}") from None
    finally:
        store.close()
    shown = board_json(found, world, None)
    if as_json:
        out.print_json(orjson.dumps(shown).decode())
        return
    out.print(f"{rules.name} {found.period.label} · {shown['area_name']}")
    for row in shown["rows"]:
        terms = "  ".join(f"{t['kpi']} {t['points']:g}/{t['weight']:g}" for t in row["terms"])
        off = sum(i["points"] for i in row["deductions"])
        place = row["rank"] if row["rank"] is not None else "-"
        out.print(
            f"{place:>3} {row['name']}  {row['score']:g}  [{row['status']}]  {terms}  ({off:g})",
            markup=False,
        )


def assess(
    db: DbOption = DEFAULT_URL,
    job: Annotated[
        list[str] | None,
        typer.Option(
            metavar="JOB",
            help="reminder (日提醒), bulletin (周通报), result (月考核) or maintenance "
            "(设备检修: inside `cityeye serve` only); repeatable; default: every job whose "
            "time in the rules' schedule has come.",
        ),
    ] = None,
    period: Annotated[
        str | None,
        typer.Option(
            help="With one --job: run it for this period whatever the schedule says "
            "(2026-12-02, 2026-W48, 2026-11).",
        ),
    ] = None,
    at: Annotated[
        str | None,
        typer.Option(metavar="ISO", help="Take this moment as now (ISO 8601 with offset)."),
    ] = None,
    out_dir: Annotated[
        Path | None,
        typer.Option(
            "--out",
            file_okay=False,
            metavar="DIR",
            help="Also write the documents: each area's 周通报 and the round's 考核结果, "
            "as PDF and xlsx (files already there are kept).",
        ),
    ] = None,
    rules_file: AssessmentOption = None,
    notify: NotifyOption = None,
) -> None:
    """日提醒、周通报、月考核: run the routine's jobs that are due (for cron; `cityeye
    serve` runs them itself). Each job runs once per period however often this is
    run; with --notify, the webhook and SMS notifications are sent before it ends."""
    from cityeye.domain import FieldError
    from cityeye.routine.jobs import Job, asked, due, run
    from cityeye.store import Store

    jobs = []
    for name in job or []:
        try:
            jobs.append(Job(name))
        except ValueError:
            raise typer.BadParameter(
                f"{name!r}: give reminder, bulletin, result or maintenance", param_hint="--job"
            ) from None
    if period is not None and len(jobs) != 1:
        raise typer.BadParameter("give exactly one --job with --period", param_hint="--period")
    try:
        now = datetime.fromisoformat(at) if at is not None else datetime.now(UTC)
    except ValueError:
        raise typer.BadParameter(f"{at!r} is not ISO 8601", param_hint="--at") from None
    if now.tzinfo is None:
        raise typer.BadParameter("give the offset, e.g. +08:00", param_hint="--at")
    rules = rules_or_exit(rules_file)
    missing = missing_sqlite_file(db)
    if missing is not None:
        err.print(f"[red]✗ --db: no database at {missing}[/red]")
        raise typer.Exit(1)
    store = Store.open(db)
    try:
        config = notify_or_exit(notify, store)
        world = store.load_world()
        if world is None:
            err.print("[red]✗ --db: no world loaded in this database (cityeye world load)[/red]")
            raise typer.Exit(1)
        try:
            wanted = (
                [asked(jobs[0], period, rules)]
                if period is not None
                else [d for d in due(rules, now, world.timezone) if not jobs or d.job in jobs]
            )
        except FieldError as exc:
            raise typer.BadParameter(exc.reason, param_hint=f"--{exc.field}") from None
        failed = False
        for item in wanted:
            try:
                outcome = run(store, world, rules, item, now)
            except FieldError as exc:  # a round not over yet; the other jobs go on
                err.print(f"[red]✗ {item.job.value} {item.period}: {exc}[/red]", highlight=False)
                failed = True
                continue
            out.print(outcome.line(), markup=False, highlight=False)
            if out_dir is not None:
                _documents(store, world, item, out_dir)
        if notify is not None:
            _send(store, config)
    finally:
        store.close()
    if failed:
        raise typer.Exit(1)


def _documents(store: Store, world: World, item: Due, out_dir: Path) -> None:
    """Write the documents of a bulletin or result (those not there yet), with a
    progress bar: a district's streets' bulletins take a while."""
    from cityeye.report import build_report, write_pdf, write_xlsx
    from cityeye.result_report import write_result
    from cityeye.routine.jobs import Job, bulletin_areas
    from cityeye.store.results import get_result

    out_dir.mkdir(parents=True, exist_ok=True)
    if item.job == Job.BULLETIN:
        areas = bulletin_areas(store, world)
        with progress_bar() as bar:
            task = bar.add_task(f"周通报 {item.period}", total=len(areas))
            for code in areas:
                name = world.areas[code].name if code in world.areas else code
                base = out_dir / f"周通报-{item.period}-{name}"
                if not (base.with_suffix(".pdf").exists() and base.with_suffix(".xlsx").exists()):
                    report = build_report(store, item.period, code)
                    write_pdf(report, base.with_suffix(".pdf"))
                    write_xlsx(report, base.with_suffix(".xlsx"))
                bar.advance(task)
        out.print(f"  {len(areas)} bulletin(s) in {out_dir}", markup=False)
    elif item.job == Job.RESULT:
        written = 0
        for level in ("street", "community", "party"):
            board = get_result(store, item.period, level)
            if board is None:
                continue
            for fmt in ("pdf", "xlsx"):
                path = out_dir / f"考核结果-{item.period}-{level}.{fmt}"
                if not path.exists():
                    write_result(board, fmt, path)
                    written += 1
        out.print(f"  {written} result file(s) in {out_dir}", markup=False)


def _send(store: Store, config: NotifyConfig) -> None:
    """Send the webhook and SMS rows due now, once each (cron has no sender running);
    a row that fails stays in the outbox for its retries by `cityeye serve` or the
    next run."""
    from cityeye.notifiers import OutboxSender

    sender = OutboxSender(store, config)
    while sender.run_once():
        pass
    out.print(f"  sent {sender.sent}, to retry {sender.retried}, failed {sender.failed}")
