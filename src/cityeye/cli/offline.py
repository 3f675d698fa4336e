"""The commands that work on files and a database, no server: ``cityeye simulate``
(an event stream), ``replay`` (a backtest), ``check`` (the stored state against a
rebuilt engine) and ``report`` (the monthly report). Registered in
:mod:`cityeye.cli`."""

from __future__ import annotations

import sys
from collections.abc import Iterable
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any

import typer

from cityeye.cli.common import (
    DbOption,
    LatenessOption,
    ScenarioDirs,
    WithBuiltinOption,
    err,
    lateness_or_exit,
    out,
    own_process,
    progress_bar,
    scenarios_or_exit,
    world_or_exit,
)
from cityeye.domain import parse_ts
from cityeye.domain.errors import FieldError
from cityeye.store import DEFAULT_URL, Store
from cityeye.store.db import missing_sqlite_file

#: The simulator's options, shared by ``simulate`` and ``backtest``.
WorldFile = Annotated[Path, typer.Option("--world", exists=True, dir_okay=False)]
Hours = Annotated[float, typer.Option(min=0.1, max=24 * 62)]
Seed = Annotated[int, typer.Option()]
Start = Annotated[str, typer.Option(help="Event time of the start, ISO-8601 with offset.")]


def _start_ts(start: str) -> datetime:
    try:
        return parse_ts(start, "--start")
    except FieldError as exc:
        raise typer.BadParameter(exc.reason, param_hint="--start") from None


def simulate(
    world_file: WorldFile,
    hours: Hours = 24.0,
    seed: Seed = 2021,
    start: Start = "2026-10-01T00:00:00+08:00",
    out_file: Annotated[
        Path | None, typer.Option("--out", help="Write here instead of stdout.")
    ] = None,
    responders: Annotated[
        bool,
        typer.Option(
            help="Also script the handlers' case.action events (accept, handle, verify, "
            "close, false alarms, co-handling, ratings) so the closed loop runs."
        ),
    ] = True,
    nuisance: Annotated[
        bool,
        typer.Option(
            help="Add nuisance smoke alarms to the seeds' ratio, 500 per real fire "
            "(seed 000:287); see `cityeye backtest`."
        ),
    ] = False,
) -> None:
    """Write a realistic event stream (JSON lines) for every normative scenario."""
    from cityeye.demo.simulator import simulate as run_simulation
    from cityeye.demo.simulator import write_jsonl

    start_ts = _start_ts(start)
    world = world_or_exit(world_file)
    events: Iterable[dict[str, Any]] = run_simulation(
        world, start=start_ts, hours=hours, seed=seed, nuisance=nuisance
    )
    if responders:
        from cityeye.demo.responders import with_responses

        own_process(gc_thresholds=False)  # the responders run the engine
        events = with_responses(events, world, seed=seed)
    if out_file is None:
        count = write_jsonl(events, sys.stdout.buffer)
        sys.stdout.buffer.flush()
    else:
        with out_file.open("wb") as stream:
            count = write_jsonl(events, stream)
    err.print(f"✓ simulated {count} events over {hours:g} h (seed {seed})")


def check(
    db: DbOption = DEFAULT_URL,
    scenario_paths: ScenarioDirs = None,
    with_builtin: WithBuiltinOption = False,
    lateness: LatenessOption = "10m",
) -> None:
    """一致性检查 Consistency: rebuild the live service's engine and case book as a
    restart would (snapshot + the events after it) and compare them with the stored
    cases and KPI counters. Writes nothing. Exit 0: they agree; 1: differences,
    listed. Give the same --scenario and --lateness as `cityeye serve`."""
    from cityeye.consistency import check as run_check

    own_process(gc_thresholds=False)
    store = Store.open(db)
    report = run_check(
        store, scenarios_or_exit(scenario_paths, with_builtin), lateness_or_exit(lateness)
    )
    err.print(
        f"snapshot at event {report.snapshot_seq}, {report.refed} events after it fed again; "
        f"{report.cases} cases in the book"
    )
    for diff in report.differences:
        out.print(str(diff), markup=False, highlight=False)
    if report.differences:
        err.print(f"[red]✗ {len(report.differences)} differences 处不一致[/red]")
        raise typer.Exit(1)
    err.print("[green]✓ the database agrees with the engine and the book 数据一致[/green]")


def replay(
    events: Annotated[Path, typer.Argument(exists=True, dir_okay=False)],
    out_dir: Annotated[Path, typer.Option("--out", help="Output folder.")],
    world_file: Annotated[Path | None, typer.Option("--world", exists=True, dir_okay=False)] = None,
    scenario_paths: ScenarioDirs = None,
    with_builtin: WithBuiltinOption = False,
    lateness: LatenessOption = "10m",
) -> None:
    """Replay recorded events on event time: validate, de-duplicate, store, run the
    scenarios (backtest: what would these rules have raised?), measure.

    Writes OUT/alerts.jsonl, OUT/metrics.json and a fresh OUT/cityeye.db. Bad lines
    are reported with their line numbers and skipped; the replay always goes on.
    """
    from cityeye.backtest import run_replay

    own_process()
    lateness_s = lateness_or_exit(lateness)
    scenarios = scenarios_or_exit(scenario_paths, with_builtin)
    world = world_or_exit(world_file) if world_file else None
    size = events.stat().st_size
    with progress_bar() as bar:
        task = bar.add_task("replay 回放", total=size)
        result = run_replay(
            events,
            out_dir,
            world,
            progress=lambda done: bar.update(task, completed=done),
            scenarios=scenarios,
            lateness_s=lateness_s,
        )
    for item in result.rejected_lines[:20]:
        err.print(f"{events}:{item['line']}: {item['field']}: {item['reason']}", markup=False)
    if result.rejected > 20:
        err.print(f"… and {result.rejected - 20} more rejected lines (see metrics.json)")
    unknown = ", ".join(f"{k} ×{n}" for k, n in sorted(result.unknown_kinds.items()))
    out.print(
        f"[green]✓[/green] {result.accepted} events accepted 已接收, "
        f"{result.duplicates} duplicates 重复, {result.rejected} rejected 拒收"
        + (f"; unknown kinds 未知类型: {unknown}" if unknown else "")
    )
    alerts = result.alert_metrics()
    out.print(
        f"[green]✓[/green] {alerts['total']} alerts 预警 ({alerts['open']} open 未消警) "
        f"from {len(scenarios)} scenarios 场景; {result.late} late events 迟到事件"
    )
    fired = {k: v for k, v in alerts["by_scenario"].items() if v}
    if fired:
        out.print("  " + ", ".join(f"{k} ×{v}" for k, v in fired.items()), highlight=False)
    cases = result.case_metrics()
    if cases["total"]:
        k = cases["kpis"]

        def pct(value: float | None) -> str:
            return "—" if value is None else f"{100 * value:.1f}%"

        states = ", ".join(f"{s} ×{n}" for s, n in cases["by_final_state"].items())
        out.print(f"[green]✓[/green] {cases['total']} cases 工单 ({states})", highlight=False)
        out.print(
            f"  处置率 handling {pct(k.get('handling_rate'))} · 按期办结率 on time "
            f"{pct(k.get('on_time_rate'))} · 共治率 co-governance "
            f"{pct(k.get('co_governance_rate'))} · 满意率 satisfaction "
            f"{pct(k.get('satisfaction'))} · 误报率 false alarms {pct(k.get('false_alarm_rate'))}",
            highlight=False,
        )
    out.print(
        f"  → {out_dir / 'alerts.jsonl'}, {out_dir / 'cases.jsonl'}, {out_dir / 'metrics.json'}"
    )


def backtest(
    world_file: WorldFile,
    out_dir: Annotated[Path, typer.Option("--out", help="Output folder.")],
    hours: Hours = 48.0,
    seed: Seed = 2021,
    start: Start = "2026-10-29T00:00:00+08:00",
    nuisance: Annotated[
        bool,
        typer.Option(
            help="Add nuisance smoke alarms to the seeds' ratio, 500 per real fire "
            "(seed 000:287: 3,000+ warnings, 6 real fires)."
        ),
    ] = True,
) -> None:
    """回测对真值 Backtest against the truth: simulate a stream with planted incidents,
    replay it as `cityeye replay` does, and score every scenario's alerts — precision,
    recall, time-to-alert — and the fire stream as single-sensor alarming vs the
    catalogue's verified rule. Writes OUT/truth.json beside the replay's files."""
    from cityeye.demo.truth import backtest as run_backtest

    start_ts = _start_ts(start)
    world = world_or_exit(world_file)
    own_process(gc_thresholds=False)
    result = run_backtest(world, out_dir, start=start_ts, hours=hours, seed=seed, nuisance=nuisance)

    def pct(value: float | None) -> str:
        return "—" if value is None else f"{100 * value:.1f}%"

    def secs(value: float | None) -> str:
        if value is None:
            return "—"
        if value >= 3600:
            return f"{value / 3600:.1f} h"
        return f"{value / 60:.1f} min" if value >= 60 else f"{value:.0f} s"

    run = result.run
    out.print(
        f"{run['smoke_alarms']} smoke alarms 烟感报警, {run['real_fires']} real fires 真实火情 "
        f"({hours:g} h from {start}, seed {seed})",
        highlight=False,
    )
    header = (
        "alarming 报警方式 | alarms 报警 | true 真 | precision 准确率 | recall 召回率 | "
        "missed 漏报 | time-to-alert 中位时延"
    )
    out.print(header, highlight=False, markup=False)
    for row in result.fire.values():
        j = row.to_json()
        out.print(
            f"{row.name} | {row.alarms} | {row.true} | {pct(row.precision)} | "
            f"{pct(row.recall)} | {row.missed} | {secs(j['time_to_alert_median_s'])}",
            highlight=False,
            markup=False,
        )
    ratio = result.fire_precision_ratio
    out.print(
        f"verified vs single-sensor precision 核实报警准确率倍数: "
        f"{'—' if ratio is None else f'{ratio:g}×'}; real fires missed 漏报火情: "
        f"{result.fire['verified'].missed}",
        highlight=False,
    )
    out.print(
        "scenario 场景 | alerts 预警 | true 真 | precision 准确率 | positives 真值 | "
        "found 命中 | recall 召回率 | time-to-alert 中位时延",
        markup=False,
        highlight=False,
    )
    for name, row in result.scenarios.items():
        j = row.to_json()
        out.print(
            f"{name} | {row.alarms} | {row.true} | {pct(row.precision)} | {row.positives} | "
            f"{row.found} | {pct(row.recall)} | {secs(j['time_to_alert_median_s'])}",
            highlight=False,
            markup=False,
        )
    out.print(f"  → {out_dir / 'truth.json'}", highlight=False)


def report(
    area: Annotated[str, typer.Option(help="Area name or code, e.g. 小河街道.")],
    month: Annotated[str | None, typer.Option(help="The month, e.g. 2026-10.")] = None,
    week: Annotated[
        str | None, typer.Option(help="An ISO week instead, e.g. 2026-W44: the weekly bulletin.")
    ] = None,
    db: DbOption = DEFAULT_URL,
    fmt: Annotated[str, typer.Option("--format", help="html, xlsx or pdf.")] = "html",
    out_file: Annotated[Path | None, typer.Option("--out", help="Output file.")] = None,
) -> None:
    """The monthly report (一表通) or, with --week, the weekly bulletin (周通报): KPIs,
    trend, scenarios, sub-areas, response standards, worst overdue cases, 督办 and 催办,
    all derived from the stored cases."""
    from cityeye.report import build_report, render_html, write_pdf, write_xlsx

    if fmt not in ("html", "xlsx", "pdf"):
        raise typer.BadParameter(f"{fmt!r}: give html, xlsx or pdf", param_hint="--format")
    if (month is None) == (week is None):
        raise typer.BadParameter(
            "give one of --month 2026-10 or --week 2026-W44", param_hint="--month"
        )
    period = month or week or ""
    missing = missing_sqlite_file(db)
    if missing is not None:  # a report reads a database; it never makes an empty one
        err.print(
            f"[red]✗ --db: no database at {missing} — give the one the server runs on, "
            "e.g. --db sqlite:///demo/live/cityeye.db after make demo[/red]"
        )
        raise typer.Exit(1)
    store = Store.open(db)
    try:
        data = build_report(store, period, area)
    except FieldError as exc:
        err.print(f"[red]✗ {exc.field}: {exc.reason}[/red]")
        raise typer.Exit(1) from None
    finally:
        store.close()
    target = out_file or Path(f"report-{data.area.code}-{period}.{fmt}")
    if fmt == "html":
        target.write_text(render_html(data), encoding="utf-8")
    elif fmt == "pdf":
        write_pdf(data, target)
    else:
        write_xlsx(data, target)
    k = data.kpis
    out.print(
        f"[green]✓[/green] {data.area.name} {period}: {k['cases']} cases, {k['closed']} closed "
        f"→ {target}"
    )
