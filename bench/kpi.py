"""Benchmark of the cockpit's KPI queries over 10 M events and 1 M cases on SQLite
(issue 4), against recounting the cases (the peer a cockpit without counters has).

    .venv/bin/python bench/kpi.py [--cases N] [--events N] [--reps R] [--quick] [--rebuild]

One run:

1. builds ``bench/work/kpi-<cases>-<events>.db`` (reused when it exists; ``--rebuild``
   makes it anew): the demo district, ``--events`` synthetic device events stored with
   ``Store.add_events`` and ``--cases`` cases over one month (October 2026) stored with
   ``Store.save_cases`` in batches — the same path the replay and the live service
   take, so the counters are built incrementally, not by a bulk rebuild;
2. times the cockpit's queries (``Store.kpi_summary`` / ``kpi_breakdown`` /
   ``kpi_trend``) on a fresh, durable connection: median, p95 and max of ``--reps``
   runs after one warm-up each;
3. times the peers on the same database in the same run: (a) loading the month's
   cases and counting them with ``kpis()`` (what the monthly report does), (b) one
   SQL statement over the ``cases`` table for the handling rate alone;
4. prints the table and the ratios, and writes ``bench/results/kpi-<date>.json``.

The target is < 200 ms per cockpit query.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import statistics
import sys
import time
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeRemainingColumn
from sqlalchemy import text

from cityeye.cases.kpi import kpis
from cityeye.cases.sla import DEFAULT_SLA, handle_limit
from cityeye.demo import build_demo_world
from cityeye.domain import (
    AreaLevel,
    Case,
    CaseOrigin,
    CaseState,
    Event,
    Severity,
    TimelineEntry,
)
from cityeye.scenarios import load_catalogue
from cityeye.sourcefile import SourceDoc
from cityeye.store import Store
from cityeye.store.types import sqlite_time
from cityeye.world import build_world

HERE = Path(__file__).parent
TZ = ZoneInfo("Asia/Shanghai")
MONTH_START = datetime(2026, 10, 1, tzinfo=TZ)
FIRST, LAST = date(2026, 10, 1), date(2026, 10, 31)


def progress() -> Progress:
    return Progress(
        "[progress.description]{task.description}",
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
    )


def build(path: Path, n_cases: int, n_events: int, seed: int) -> dict[str, float]:
    """The database: world, events, cases (counters kept as they are saved)."""
    rng = random.Random(seed)
    world = build_world(SourceDoc(data=build_demo_world(2021)))
    store = Store.open(f"sqlite:///{path}", durable=False)
    timings: dict[str, float] = {}
    try:
        store.save_world(world)
        devices = sorted(world.devices.values(), key=lambda d: d.id)
        seconds = 31 * 86400
        started = time.perf_counter()
        with progress() as bar:
            task = bar.add_task("events 事件", total=n_events)
            for first in range(0, n_events, 20_000):
                batch = []
                for i in range(first, min(first + 20_000, n_events)):
                    device = devices[i % len(devices)]
                    ts = MONTH_START + timedelta(seconds=i * seconds / n_events)
                    batch.append(Event(f"e{i}", f"{device.kind}.reading", ts, "bench", device.id))
                store.add_events(
                    batch, datetime.now(UTC), areas=[world.devices[e.device_id].area for e in batch]
                )
                bar.advance(task, len(batch))
        timings["events_s"] = time.perf_counter() - started

        grids = [a.code for a in world.at_level(AreaLevel.GRID)]
        scenarios = [s.id for s in load_catalogue()]
        serving = {
            g: [p for p in world.parties.values() if any(world.within(g, a) for a in p.areas)]
            for g in grids
        }
        started = time.perf_counter()
        with progress() as bar:
            task = bar.add_task("cases 工单", total=n_cases)
            for first in range(0, n_cases, 10_000):
                batch = [
                    synthetic_case(i, rng, grids, scenarios, serving, seconds)
                    for i in range(first, min(first + 10_000, n_cases))
                ]
                store.save_cases(batch)
                bar.advance(task, len(batch))
        timings["cases_s"] = time.perf_counter() - started
        with store.engine.begin() as conn:
            timings["counter_rows"] = conn.execute(
                text("SELECT count(*) FROM kpi_counts")
            ).scalar_one()
            conn.execute(text("ANALYZE"))
    finally:
        store.close()
    return timings


def synthetic_case(
    i: int,
    rng: random.Random,
    grids: list[str],
    scenarios: list[str],
    serving: dict[str, list[Any]],
    seconds: int,
) -> Case:
    """One case of the month with a plausible history: most closed (some late, some
    with a social party), some dismissed, some self-resolved, some still open."""
    grid = rng.choice(grids)
    severity = rng.choices(list(Severity), weights=(5, 20, 50, 25))[0]
    opened = MONTH_START + timedelta(seconds=rng.uniform(0, seconds))
    case = Case(
        id=f"C{i:07d}",
        origin=CaseOrigin.ALERT,
        state=CaseState.REPORTED,
        severity=severity,
        opened_at=opened,
        scenario=rng.choice(scenarios),
        key=f"k{i}",
        area=grid,
        due_at=opened + timedelta(seconds=handle_limit(DEFAULT_SLA, severity)),
    )
    line = [TimelineEntry(opened, "system", "open", None, CaseState.REPORTED, "")]
    fate = rng.random()
    # (chance so far, final state, action, actor, note, longest minutes to it)
    ended_early = (
        (0.05, CaseState.DISMISSED, "dismiss", "d", "误报", 60),
        (0.08, CaseState.SELF_RESOLVED, "self_resolve", "system", "", 30),
    )
    early = next((e for e in ended_early if fate < e[0]), None)
    if early is not None:
        _, state, action, actor, note, minutes = early
        case.state = state
        case.closed_at = opened + timedelta(minutes=rng.uniform(1, minutes))
        line.append(TimelineEntry(case.closed_at, actor, action, CaseState.REPORTED, state, note))
    else:
        parties = serving[grid]
        lead = rng.choice(parties) if parties else None
        case.lead = lead.id if lead else None
        if rng.random() < 0.3:
            social = [p for p in parties if p.kind.non_government]
            if social:
                case.co_handlers = [rng.choice(social).id]
        t = opened
        steps = [
            ("dispatch", CaseState.DISPATCHED),
            ("accept", CaseState.ACCEPTED),
            ("arrive", CaseState.IN_PROGRESS),
            ("handle", CaseState.HANDLED),
            ("verify", CaseState.VERIFIED),
            ("close", CaseState.CLOSED),
        ]
        stop = len(steps) if fate < 0.95 else rng.randrange(1, len(steps))
        state = CaseState.REPORTED
        for action, to in steps[:stop]:
            t += timedelta(seconds=rng.expovariate(1 / (handle_limit(DEFAULT_SLA, severity) / 8)))
            line.append(TimelineEntry(t, case.lead or "d", action, state, to, ""))
            state = to
        case.state = state
        if state == CaseState.CLOSED:
            case.closed_at = t
            if rng.random() < 0.4:
                case.rating = rng.choices([1, 2, 3, 4, 5], weights=(2, 3, 5, 30, 60))[0]
    case.timeline = line
    return case


def timed(fn: Callable[[], Any], reps: int) -> dict[str, float]:
    fn()  # warm-up (page cache, statement cache)
    runs = []
    for _ in range(reps):
        started = time.perf_counter()
        fn()
        runs.append((time.perf_counter() - started) * 1000)
    runs.sort()
    return {
        "median_ms": round(statistics.median(runs), 2),
        "p95_ms": round(runs[min(len(runs) - 1, int(0.95 * len(runs)))], 2),
        "max_ms": round(runs[-1], 2),
    }


def measure(path: Path, reps: int) -> dict[str, Any]:
    store = Store.open(f"sqlite:///{path}")  # durable, as the cockpit runs
    world = store.load_world()
    assert world is not None
    street = world.at_level(AreaLevel.STREET)[0].code
    queries: dict[str, Callable[[], Any]] = {
        "district month summary 区月度指标": lambda: store.kpi_summary("all", "", FIRST, LAST),
        "streets month 各街道": lambda: store.kpi_breakdown("street", FIRST, LAST),
        "communities of a street 社区穿透": lambda: store.kpi_breakdown(
            "community", FIRST, LAST, within=street
        ),
        "grids of a street 网格穿透": lambda: store.kpi_breakdown(
            "grid", FIRST, LAST, within=street
        ),
        "all 540 grids month 全部网格": lambda: store.kpi_breakdown("grid", FIRST, LAST),
        "scenarios month 各场景": lambda: store.kpi_breakdown("scenario", FIRST, LAST),
        "scenarios month with times 含用时": lambda: store.kpi_breakdown(
            "scenario", FIRST, LAST, times=True
        ),
        "parties month 各主体": lambda: store.kpi_breakdown("party", FIRST, LAST),
        "district 31-day trend 日趋势": lambda: store.kpi_trend("all", "", FIRST, LAST),
        "street 10 loose days 任意区间": lambda: store.kpi_summary(
            "street", street, date(2026, 10, 11), date(2026, 10, 20)
        ),
    }
    results = {name: timed(fn, reps) for name, fn in queries.items()}
    summary = store.kpi_summary("all", "", FIRST, LAST)

    def by_recount() -> dict[str, Any]:
        cases = store.load_cases()
        start, end = MONTH_START, datetime(2026, 11, 1, tzinfo=TZ)
        return kpis(cases, world.parties, start, end)

    started = time.perf_counter()
    recount = by_recount()
    recount_ms = (time.perf_counter() - started) * 1000
    for name in ("closed", "due", "on_time", "co_governed", "handling_rate", "satisfaction"):
        assert recount[name] == summary[name], (name, recount[name], summary[name])
    start_s = sqlite_time(MONTH_START)
    end_s = sqlite_time(datetime(2026, 11, 1, tzinfo=TZ))
    sql = text(
        "SELECT sum(state='closed' AND closed_at >= :s AND closed_at < :e),"
        " sum(CASE WHEN state='closed'"
        " THEN min(closed_at, due_at) >= :s AND min(closed_at, due_at) < :e"
        " WHEN state IN ('dismissed','self_resolved') THEN 0 ELSE due_at >= :s AND due_at < :e END)"
        " FROM cases"
    )

    def by_sql() -> tuple[int, int]:
        with store.engine.connect() as conn:
            closed, due = conn.execute(sql, {"s": start_s, "e": end_s}).one()
        return int(closed), int(due)

    assert by_sql() == (summary["closed"], summary["due"]), (
        by_sql(),
        summary["closed"],
        summary["due"],
    )
    sql_run = timed(by_sql, max(3, reps // 10))
    store.close()
    return {
        "queries": results,
        "peers": {
            "recount (load_cases + kpis), all KPIs": round(recount_ms, 1),
            "one SQL over cases, handling rate only": sql_run["median_ms"],
        },
        "summary": {
            k: summary[k]
            for k in (
                "cases",
                "closed",
                "due",
                "handling_rate",
                "on_time_rate",
                "co_governance_rate",
                "satisfaction",
            )
        },
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--cases", type=int, default=1_000_000)
    parser.add_argument("--events", type=int, default=10_000_000)
    parser.add_argument("--reps", type=int, default=30)
    parser.add_argument("--seed", type=int, default=4)
    parser.add_argument("--quick", action="store_true", help="100k cases, 1M events")
    parser.add_argument("--rebuild", action="store_true")
    args = parser.parse_args()
    if args.quick:
        args.cases, args.events = 100_000, 1_000_000
    work = HERE / "work"
    work.mkdir(exist_ok=True)
    path = work / f"kpi-{args.cases}-{args.events}.db"
    build_info: dict[str, float] = {}
    if args.rebuild or not path.exists():
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
        build_info = build(path, args.cases, args.events, args.seed)
    result = measure(path, args.reps)
    worst = max(q["p95_ms"] for q in result["queries"].values())
    fastest_peer = min(result["peers"].values())
    out = {
        "date": date.today().isoformat(),
        "machine": f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
        f"Python {sys.version.split()[0]}",
        "cases": args.cases,
        "events": args.events,
        "db_mb": round(path.stat().st_size / 2**20),
        "build": build_info,
        **result,
        "worst_p95_ms": worst,
        "target_ms": 200,
        "met": worst < 200,
        "ratio_fastest_peer_to_district_summary": round(
            fastest_peer / result["queries"]["district month summary 区月度指标"]["median_ms"], 1
        ),
    }
    print(f"\n{args.cases:,} cases, {args.events:,} events, SQLite {out['db_mb']} MB")
    print(f"{'query':<40} {'median':>9} {'p95':>9} {'max':>9}  (ms)")
    for name, q in result["queries"].items():
        print(f"{name:<40} {q['median_ms']:>9} {q['p95_ms']:>9} {q['max_ms']:>9}")
    for name, ms in result["peers"].items():
        print(f"peer: {name:<50} {ms:>10} ms")
    print(
        f"worst p95 {worst} ms (target < 200 ms: {'met' if out['met'] else 'NOT met'}); "
        f"fastest peer / district summary = {out['ratio_fastest_peer_to_district_summary']}x"
    )
    suffix = "-quick" if args.quick else ""
    (HERE / "results" / f"kpi-{out['date']}{suffix}.json").write_text(
        json.dumps(out, ensure_ascii=False, indent=2) + "\n", encoding="utf-8"
    )


if __name__ == "__main__":
    main()
