"""The ``cityeye`` command.

Each sub-command is a thin shell over a library function, so that everything the CLI
does is also callable (and tested) from Python. Long work shows a progress bar on
stderr; results go to stdout or files, so pipes stay clean.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console
from rich.progress import BarColumn, DownloadColumn, Progress, TimeRemainingColumn
from rich.table import Table

from cityeye.domain import AreaLevel, World, parse_ts
from cityeye.domain.errors import FieldError
from cityeye.errors import ProblemsError
from cityeye.store import DEFAULT_URL, Store
from cityeye.world import WorldError, dump_world_file, load_world

if TYPE_CHECKING:
    from cityeye.ingest.mqtt import MqttUrl
    from cityeye.ingest.mqtt_map import MqttMap
    from cityeye.ingest.mqtt_nats import NatsMqttUrl
    from cityeye.live.pipeline import Pipeline
    from cityeye.notifiers import NotifyConfig
    from cityeye.scenarios import LoadedScenario

app = typer.Typer(
    help="城市眼·云共治 cityeye — urban co-governance: "
    "events → early warnings → closed-loop cases.",
    no_args_is_help=True,
    add_completion=False,
)
world_app = typer.Typer(help="世界文件 World files: validate, load, generate the demo district.")
db_app = typer.Typer(help="数据库 Database: migrations.")
scenarios_app = typer.Typer(help="场景 Scenarios: validate and list the catalogue.")
app.add_typer(world_app, name="world")
app.add_typer(scenarios_app, name="scenarios")
app.add_typer(db_app, name="db")
import_app = typer.Typer(help="导入 Import: records from other systems, as events.")
app.add_typer(import_app, name="import")
token_app = typer.Typer(help="接入令牌 Ingest tokens: per device or integration, hashed at rest.")
app.add_typer(token_app, name="token")
user_app = typer.Typer(help="用户 Users: people who sign in, with a role and the areas they see.")
app.add_typer(user_app, name="user")
participation_app = typer.Typer(help="社情民意与红茶议事会 Participation: the demo's month.")
app.add_typer(participation_app, name="participation")

BusOption = Annotated[
    str | None,
    typer.Option(
        "--bus",
        envvar="CITYEYE_BUS",
        metavar="URL",
        help="NATS JetStream (nats://host:4222): store events, then publish them for "
        "`cityeye worker` processes instead of analysing them here (docs/scale-out.md).",
    ),
]
PartitionsOption = Annotated[
    int,
    typer.Option(
        envvar="CITYEYE_PARTITIONS",
        min=1,
        max=256,
        help="With --bus: how many worker partitions (the same number everywhere).",
    ),
]

WithBuiltinOption = Annotated[
    bool, typer.Option(help="With --scenarios: run the built-in catalogue too.")
]
LatenessOption = Annotated[
    str, typer.Option(help="How late an event may arrive and still count (10m, 90s).")
]

NotifyOption = Annotated[
    Path | None,
    typer.Option(
        "--notify",
        envvar="CITYEYE_NOTIFY",
        exists=True,
        dir_okay=False,
        metavar="FILE",
        help="YAML: per-party group robots (钉钉/浙政钉, 企业微信, JSON) and an HTTP SMS "
        "gateway for case notifications; the desk is told without it "
        "(docs/notifications.md).",
    ),
]

err = Console(stderr=True, soft_wrap=True)
out = Console(soft_wrap=True)

DbOption = Annotated[
    str,
    typer.Option(
        "--db",
        envvar="CITYEYE_DB",
        help="Database URL: sqlite:///FILE (default) or postgresql://user@host/db.",
    ),
]


def _progress() -> Progress:
    return Progress(
        "[progress.description]{task.description}",
        BarColumn(),
        DownloadColumn(),
        TimeRemainingColumn(),
        console=err,
        transient=False,
    )


def _print_problems(exc: ProblemsError) -> None:
    """A file's problems, one ``file:line: field: reason`` a line (every file's the
    same way: world, scenarios, notify file, MQTT map, hotline mapping and export)."""
    for line in exc.lines():
        err.print(line, markup=False, highlight=False)


def _own_process(*, gc_thresholds: bool = True) -> None:
    """The process-wide settings of a command that runs the engine (the library never
    changes them itself; cityeye.runtime says why): ``gc_thresholds``, collect young
    objects far less often; and the engine's bulk arming of registered keys runs with
    the collector paused and what it made frozen afterwards."""
    from cityeye.runtime import bulk_allocation, tune_gc
    from cityeye.scenarios import set_bulk_hook

    if gc_thresholds:
        tune_gc()
    set_bulk_hook(bulk_allocation)


def _world_or_exit(path: Path) -> World:
    try:
        return load_world(path)
    except WorldError as exc:
        _print_problems(exc)
        err.print(f"[red]✗ {len(exc.problems)} problem(s) in {path} / 世界文件有误[/red]")
        raise typer.Exit(1) from None


def _summary(world: World) -> str:
    levels = {level: len(world.at_level(level)) for level in AreaLevel}
    return (
        f"{world.district.name}: {levels[AreaLevel.STREET]} streets 街道, "
        f"{levels[AreaLevel.COMMUNITY]} communities 社区, {levels[AreaLevel.GRID]} grids 网格, "
        f"{len(world.parties)} parties 主体, {len(world.devices)} devices 设备, "
        f"{len(world.subjects)} subjects 对象, {len(world.venues)} venues 场所"
    )


@world_app.command("validate")
def world_validate(file: Annotated[Path, typer.Argument(exists=True, dir_okay=False)]) -> None:
    """Check a world file and report every problem with its line and path."""
    world = _world_or_exit(file)
    out.print(f"[green]✓[/green] {file}: {_summary(world)}")


@world_app.command("load")
def world_load(
    file: Annotated[Path, typer.Argument(exists=True, dir_okay=False)],
    db: DbOption = DEFAULT_URL,
) -> None:
    """Validate a world file and store it (replacing the stored world). The KPI counters
    are recounted, since areas may have moved (a grid to another community)."""
    world = _world_or_exit(file)
    store = Store.open(db)
    try:
        store.save_world(world)
        with out.status("recounting KPI counters 重算指标计数…"):
            rows = store.rebuild_kpis()
    finally:
        store.close()
    out.print(f"[green]✓[/green] loaded into {db}: {_summary(world)}; {rows} KPI counter rows")


@world_app.command("demo")
def world_demo(
    out_file: Annotated[Path, typer.Option("--out", help="Where to write the YAML.")] = Path(
        "world.yaml"
    ),
    seed: Annotated[int, typer.Option(help="Random seed; same seed, same district.")] = 2021,
) -> None:
    """Generate the demo district (拱墅区, from the seed documents' facts)."""
    from cityeye.demo.district import build_demo_world

    out_file.parent.mkdir(parents=True, exist_ok=True)
    out_file.write_text(dump_world_file(build_demo_world(seed)), encoding="utf-8")
    world = _world_or_exit(out_file)
    out.print(f"[green]✓[/green] wrote {out_file}: {_summary(world)}")


@app.command()
def simulate(
    world_file: Annotated[Path, typer.Option("--world", exists=True, dir_okay=False)],
    hours: Annotated[float, typer.Option(min=0.1, max=24 * 62)] = 24.0,
    seed: Annotated[int, typer.Option()] = 2021,
    start: Annotated[
        str, typer.Option(help="Event time of the start, ISO-8601 with offset.")
    ] = "2026-10-01T00:00:00+08:00",
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
) -> None:
    """Write a realistic event stream (JSON lines) for every normative scenario."""
    from cityeye.demo.simulator import simulate as run_simulation
    from cityeye.demo.simulator import write_jsonl

    try:
        start_ts: datetime = parse_ts(start, "--start")
    except FieldError as exc:
        raise typer.BadParameter(exc.reason, param_hint="--start") from None
    world = _world_or_exit(world_file)
    events: Iterable[dict[str, Any]] = run_simulation(world, start=start_ts, hours=hours, seed=seed)
    if responders:
        from cityeye.demo.responders import with_responses

        _own_process(gc_thresholds=False)  # the responders run the engine
        events = with_responses(events, world, seed=seed)
    if out_file is None:
        count = write_jsonl(events, sys.stdout.buffer)
        sys.stdout.buffer.flush()
    else:
        with out_file.open("wb") as stream:
            count = write_jsonl(events, stream)
    err.print(f"✓ simulated {count} events over {hours:g} h (seed {seed})")


ScenarioDirs = Annotated[
    list[Path] | None,
    typer.Option(
        "--scenarios",
        exists=True,
        help="A scenario file or folder (repeatable); replaces the built-in catalogue "
        "unless --with-builtin is given.",
    ),
]


def _scenarios_or_exit(paths: list[Path] | None, with_builtin: bool) -> list[LoadedScenario]:
    from cityeye.scenarios import ScenarioError, load_catalogue

    try:
        return load_catalogue(*(paths or []), builtin=with_builtin or not paths)
    except ScenarioError as exc:
        _print_problems(exc)
        err.print(f"[red]✗ {len(exc.problems)} problem(s) in the scenarios / 场景有误[/red]")
        raise typer.Exit(1) from None


@scenarios_app.command("validate")
def scenarios_validate(
    paths: Annotated[list[Path], typer.Argument(exists=True, help="Files or folders.")],
) -> None:
    """Check scenario files; report every problem with file, line and field."""
    loaded = _scenarios_or_exit(paths, with_builtin=False)
    out.print(f"[green]✓[/green] {len(loaded)} scenarios valid / 场景校验通过")


@scenarios_app.command("list")
def scenarios_list(
    paths: ScenarioDirs = None,
    with_builtin: Annotated[bool, typer.Option(help="Also list the built-in catalogue.")] = False,
) -> None:
    """Show the catalogue (built-in, or the given folders) as a table."""
    loaded = _scenarios_or_exit(paths, with_builtin)
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


@app.command()
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

    _own_process(gc_thresholds=False)
    store = Store.open(db)
    report = run_check(
        store, _scenarios_or_exit(scenario_paths, with_builtin), _lateness_or_exit(lateness)
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


@app.command()
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

    _own_process()
    lateness_s = _lateness_or_exit(lateness)
    scenarios = _scenarios_or_exit(scenario_paths, with_builtin)
    world = _world_or_exit(world_file) if world_file else None
    size = events.stat().st_size
    with _progress() as bar:
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


@app.command()
def report(
    month: Annotated[str, typer.Option(help="The month, e.g. 2026-10.")],
    area: Annotated[str, typer.Option(help="Area name or code, e.g. 小河街道.")],
    db: DbOption = DEFAULT_URL,
    fmt: Annotated[str, typer.Option("--format", help="html, xlsx or pdf.")] = "html",
    out_file: Annotated[Path | None, typer.Option("--out", help="Output file.")] = None,
) -> None:
    """The monthly report (一表通): KPIs, trend, scenarios, sub-areas, worst overdue cases,
    all derived from the stored cases."""
    from cityeye.report import build_report, render_html, write_pdf, write_xlsx

    if fmt not in ("html", "xlsx", "pdf"):
        raise typer.BadParameter(f"{fmt!r}: give html, xlsx or pdf", param_hint="--format")
    store = Store.open(db)
    try:
        data = build_report(store, month, area)
    except FieldError as exc:
        err.print(f"[red]✗ {exc.field}: {exc.reason}[/red]")
        raise typer.Exit(1) from None
    finally:
        store.close()
    target = out_file or Path(f"report-{data.area.code}-{month}.{fmt}")
    if fmt == "html":
        target.write_text(render_html(data), encoding="utf-8")
    elif fmt == "pdf":
        write_pdf(data, target)
    else:
        write_xlsx(data, target)
    k = data.kpis
    out.print(
        f"[green]✓[/green] {data.area.name} {month}: {k['cases']} cases, {k['closed']} closed "
        f"→ {target}"
    )


def _lateness_or_exit(value: str) -> float:
    from cityeye.sourcefile import parse_duration

    try:
        return float(parse_duration(value))
    except ValueError as exc:
        raise typer.BadParameter(str(exc), param_hint="--lateness") from None


def _intake(
    store: Store,
    scenarios: list[LoadedScenario],
    bus: str | None,
    partitions: int,
    lateness_s: float = 600,
) -> Pipeline:
    """:func:`cityeye.serve.intake`, a bus that cannot be used exiting 2."""
    from cityeye.live.bus import BusError
    from cityeye.serve import intake

    try:
        return intake(store, scenarios, bus, partitions, lateness_s)
    except BusError as exc:
        err.print(f"[red]✗ {exc}[/red]", highlight=False)
        raise typer.Exit(2) from None


def _say(line: str) -> None:
    err.print(line, markup=False, highlight=False)


def _notify_or_exit(path: Path | None, store: Store) -> NotifyConfig:
    """The ``--notify`` file checked against the loaded world (every problem printed,
    exit 1), and its channels set on ``store`` before any case is saved."""
    from cityeye.notifiers import NotifyConfig, NotifyError, load_notify

    if path is None:
        return NotifyConfig()
    try:
        config = load_notify(path, store.load_world())
    except NotifyError as exc:
        _print_problems(exc)
        err.print(f"[red]✗ {len(exc.problems)} problem(s) in the notify file / 通知配置有误[/red]")
        raise typer.Exit(1) from None
    store.channels = config.channels
    return config


def _mqtt_or_exit(
    url: str | None, topics: list[str] | None, map_path: Path | None
) -> tuple[MqttUrl | NatsMqttUrl, MqttMap] | None:
    """Check the MQTT options before anything starts: (url, map) or None. A
    ``nats-mqtt://`` URL takes MQTT through NATS's JetStream (mqtt_nats), any other
    is an MQTT broker cityeye's own client subscribes to (ingest.mqtt)."""
    if url is None:
        if topics or map_path:
            raise typer.BadParameter("needs --mqtt URL", param_hint="--mqtt-topic/--mqtt-map")
        return None
    from cityeye.ingest.mqtt import parse_mqtt_url
    from cityeye.ingest.mqtt_map import MqttMapError, default_map, load_mqtt_map
    from cityeye.ingest.mqtt_nats import SCHEMES, parse_nats_mqtt_url, subjects_for

    via_nats = url.split("://", 1)[0] in SCHEMES
    parsed: MqttUrl | NatsMqttUrl
    try:
        parsed = parse_nats_mqtt_url(url) if via_nats else parse_mqtt_url(url)
    except ValueError as exc:
        raise typer.BadParameter(str(exc), param_hint="--mqtt") from None
    try:
        mapping = default_map(topics or (), load_mqtt_map(map_path) if map_path else None)
    except MqttMapError as exc:
        _print_problems(exc)
        err.print(f"[red]✗ {len(exc.problems)} problem(s) in the MQTT map / MQTT 映射有误[/red]")
        raise typer.Exit(1) from None
    if via_nats:
        for topic in mapping.topics():
            try:
                subjects_for([topic])
            except ValueError as exc:
                raise typer.BadParameter(f"{topic!r}: {exc}", param_hint="--mqtt-topic") from None
    return parsed, mapping


@app.command()
def serve(
    db: DbOption = DEFAULT_URL,
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=1, max=65535)] = 8000,
    scenario_paths: ScenarioDirs = None,
    with_builtin: WithBuiltinOption = False,
    clock: Annotated[
        str,
        typer.Option(
            help="wall: event time follows the wall clock (production); events: only "
            "arriving events move it (a replayed day, a demo)."
        ),
    ] = "wall",
    mqtt: Annotated[
        str | None,
        typer.Option(
            metavar="URL",
            help="Also take events from this MQTT broker (QoS 1, persistent session): "
            "mqtt://host:1883 or mqtts://host:8883; user:password@host and "
            "?client_id=ID as needed. nats-mqtt://host:4222: devices publish to NATS's "
            "MQTT listener and cityeye reads the QoS 1 messages from JetStream in batches "
            "(much faster; docs/ingest.md).",
        ),
    ] = None,
    mqtt_topic: Annotated[
        list[str] | None,
        typer.Option(
            metavar="FILTER",
            help="With --mqtt: a topic filter carrying cityeye JSON events (repeatable; "
            "default cityeye/events/# unless --mqtt-map names topics).",
        ),
    ] = None,
    mqtt_map: Annotated[
        Path | None,
        typer.Option(
            exists=True,
            dir_okay=False,
            metavar="FILE",
            help="With --mqtt: YAML rules mapping topics to kind/device, bare values and "
            "Frigate (docs/ingest.md).",
        ),
    ] = None,
    open_ingest: Annotated[
        bool,
        typer.Option(
            help="Take POST /api/v1/events without a token (demo, closed lab network). "
            "Off by default: devices send with `cityeye token add` tokens."
        ),
    ] = False,
    bus: BusOption = None,
    partitions: PartitionsOption = 1,
    analysis: Annotated[
        str,
        typer.Option(
            envvar="CITYEYE_ANALYSIS",
            help="process: the engine runs in a second process fed from the events "
            "table, so ingest and analysis use a core each (docs/scale-out.md); "
            "thread: in this process beside the API; auto (default): process, or "
            "thread with --bus (workers analyse) or --replay (the replay's own clock).",
        ),
    ] = "auto",
    lateness: LatenessOption = "10m",
    forwarded_allow_ips: Annotated[
        str | None,
        typer.Option(
            metavar="IPS",
            help="The reverse proxies whose X-Forwarded-For/-Proto is believed "
            "(comma-separated addresses or networks, or *); default none, not even "
            "127.0.0.1. The portal's per-address limits count the client the proxy "
            "names, not the proxy.",
        ),
    ] = None,
    timeout_headers: Annotated[
        float,
        typer.Option(min=0.1, help="Seconds a client has to send a request's line and headers."),
    ] = 10.0,
    timeout_body: Annotated[
        float,
        typer.Option(min=0.1, help="Seconds a client has, after its headers, to send the body."),
    ] = 60.0,
    timeout_keep_alive: Annotated[
        int, typer.Option(min=1, help="Seconds an idle kept-alive connection stays open.")
    ] = 5,
    replay: Annotated[
        Path | None,
        typer.Option(
            exists=True,
            dir_okay=False,
            metavar="EVENTS.jsonl",
            help="Demo: feed this recorded (simulated) day into the live engine as it "
            "happens, on a simulated clock that also drives the API's 'now' (docs/demo.md).",
        ),
    ] = None,
    speed: Annotated[
        float,
        typer.Option(
            min=0, max=1_000_000, help="With --replay: simulated seconds per real second."
        ),
    ] = 60.0,
    replay_from: Annotated[
        str | None,
        typer.Option(
            metavar="HH:MM|ISO",
            help="With --replay: where the simulated clock starts, a time of the file's "
            "last day (07:30) or ISO-8601 with offset; default that day's midnight. "
            "Earlier events are fed at once.",
        ),
    ] = None,
    notify: NotifyOption = None,
) -> None:
    """Start the web server: status page, API, and the scenario engine running live
    on events posted to /api/v1/events (and, with --mqtt, published over MQTT); with
    --bus the engine runs in `cityeye worker` processes instead."""
    if clock not in ("wall", "events"):
        raise typer.BadParameter("use wall or events", param_hint="--clock")
    if replay is not None and (bus is not None or clock != "wall"):
        raise typer.BadParameter(
            "--replay runs the engine here on its own clock: not with --bus or --clock events",
            param_hint="--replay",
        )
    if analysis not in ("auto", "thread", "process"):
        raise typer.BadParameter("use auto, thread or process", param_hint="--analysis")
    if analysis == "auto":  # issue 15: two processes use two cores (bench/RESULTS.md)
        analysis = "thread" if bus is not None or replay is not None else "process"
    if analysis == "process" and (bus is not None or replay is not None):
        raise typer.BadParameter(
            "--analysis process: not with --bus (workers analyse) or --replay",
            param_hint="--analysis",
        )
    mqtt_setup = _mqtt_or_exit(mqtt, mqtt_topic, mqtt_map)
    from cityeye import serve as live
    from cityeye.live.pipeline import LivePipeline

    _own_process()
    store = Store.open(db)
    notify_config = _notify_or_exit(notify, store)
    scenarios = _scenarios_or_exit(scenario_paths, with_builtin)
    if analysis == "process":
        _lateness_or_exit(lateness)
        scenario_args = [f"--scenarios={p}" for p in scenario_paths or []]
        if with_builtin:
            scenario_args.append("--with-builtin")
        if notify is not None:
            scenario_args.append(f"--notify={notify}")
        pipeline = live.split_intake(
            store,
            scenarios,
            db=db,
            scenario_args=scenario_args,
            lateness=lateness,
            clock=clock,
        )
    else:
        pipeline = _intake(store, scenarios, bus, partitions, _lateness_or_exit(lateness))
    if isinstance(pipeline, LivePipeline) and pipeline.restored_events:
        err.print(f"engine restored; {pipeline.restored_events} stored events fed again")
    from cityeye.live.bus import shown  # a database password stays out of the log too

    if analysis == "process":
        where = "live, analysed in a process of their own"
    elif bus is None:
        where = "live"
    else:
        where = f"in workers over {shown(bus)} ({partitions} partitions)"
    err.print(
        f"cityeye serving {shown(db)} on http://{host}:{port}/ with {len(scenarios)} "
        f"scenarios {where} (Ctrl+C to stop)"
    )
    playback = None
    if replay is not None:
        assert isinstance(pipeline, LivePipeline)
        try:
            playback = live.replay_feeder(pipeline, replay, speed, replay_from, _say)
        except ValueError as exc:
            hint = "--replay" if replay_from is None else "--replay-from"
            raise typer.BadParameter(str(exc), param_hint=hint) from None
    if notify is not None:
        hooks, sms = len(notify_config.webhooks), "on" if notify_config.sms else "off"
        err.print(f"notify: {hooks} party webhook(s), SMS {sms} ({notify})")
    live.serve(
        store,
        pipeline,
        db=db,
        http=live.Http(
            host=host,
            port=port,
            forwarded_allow_ips=forwarded_allow_ips,
            header_timeout_s=timeout_headers,
            body_timeout_s=timeout_body,
            keep_alive_s=timeout_keep_alive,
        ),
        say=_say,
        wall_clock=clock == "wall",
        open_ingest=open_ingest,
        replay=playback,
        mqtt=mqtt_setup,
        notify=notify_config,
    )


@app.command("analysis-process", hidden=True)
def analysis_process(
    db: DbOption = DEFAULT_URL,
    scenario_paths: ScenarioDirs = None,
    with_builtin: WithBuiltinOption = False,
    lateness: LatenessOption = "10m",
    clock: Annotated[str, typer.Option()] = "wall",
    notify: NotifyOption = None,
) -> None:
    """The analysis process of `cityeye serve --analysis process` (started by it,
    talking to it on stdin and stdout; not for use by hand). ``--notify``: the same
    file as serve's, for the channels its case notifications go out on (this process
    writes the outbox rows; `serve` sends them)."""
    import logging

    from cityeye.live.split import run_analysis

    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter("%(asctime)s cityeye analysis: %(message)s"))
    logging.getLogger("cityeye").addHandler(handler)
    logging.getLogger("cityeye").setLevel(logging.INFO)
    _own_process()
    store = Store.open(db)
    _notify_or_exit(notify, store)
    scenarios = _scenarios_or_exit(scenario_paths, with_builtin)
    run_analysis(
        store, scenarios, lateness_s=_lateness_or_exit(lateness), wall_clock=clock == "wall"
    )


@app.command()
def worker(
    bus: Annotated[
        str,
        typer.Option(
            "--bus", envvar="CITYEYE_BUS", metavar="URL", help="NATS JetStream: nats://host:4222"
        ),
    ],
    partition: Annotated[int, typer.Option(min=0, help="Which partition this worker runs.")],
    partitions: PartitionsOption = 1,
    db: DbOption = DEFAULT_URL,
    scenario_paths: ScenarioDirs = None,
    with_builtin: WithBuiltinOption = False,
    clock: Annotated[
        str, typer.Option(help="wall: the wall clock moves event time on; events: only events.")
    ] = "wall",
    lateness: LatenessOption = "10m",
    snapshot_s: Annotated[
        float,
        typer.Option(
            min=0.1,
            help="Seconds between snapshots; messages are acknowledged after each, so a "
            "restart re-reads at most this much.",
        ),
    ] = 10.0,
    snapshot_every: Annotated[
        int, typer.Option(min=1, help="…or after this many events, whichever is first.")
    ] = 20_000,
    notify: NotifyOption = None,
) -> None:
    """扩展 Scale-out worker: run the scenario engine and the case book for one partition
    of the events `cityeye serve --bus` publishes; SIGTERM or Ctrl+C stops it after a
    last snapshot, SIGKILL loses nothing (docs/scale-out.md)."""
    from cityeye.live.bus import BusError
    from cityeye.serve import work

    if clock not in ("wall", "events"):
        raise typer.BadParameter("use wall or events", param_hint="--clock")
    if partition >= partitions:
        raise typer.BadParameter(
            f"must be below --partitions {partitions}", param_hint="--partition"
        )
    _own_process(gc_thresholds=False)
    store = Store.open(db)
    _notify_or_exit(notify, store)  # the worker writes the rows; `serve` sends them
    try:
        work(
            store,
            bus,
            partition=partition,
            partitions=partitions,
            scenarios=_scenarios_or_exit(scenario_paths, with_builtin),
            say=_say,
            wall_clock=clock == "wall",
            lateness_s=_lateness_or_exit(lateness),
            snapshot_s=snapshot_s,
            snapshot_every=snapshot_every,
        )
    except BusError as exc:
        err.print(f"[red]✗ {exc}[/red]", highlight=False)
        raise typer.Exit(2) from None
    finally:
        store.close()


@db_app.command("upgrade")
def db_upgrade(db: DbOption = DEFAULT_URL) -> None:
    """Create or migrate the database schema to the newest version."""
    Store.open(db).close()
    out.print(f"[green]✓[/green] {db} is at the newest schema")


@app.command("kinds")
def kinds() -> None:
    """List the documented event kinds (unknown kinds are still accepted)."""
    from cityeye.domain import EVENT_KINDS

    table = Table("kind", "中文", "English", "attrs")
    for info in EVENT_KINDS.values():
        table.add_row(info.kind, info.zh, info.en, ", ".join(info.attrs))
    out.print(table)


@token_app.command("add")
def token_add(
    label: Annotated[str, typer.Option(help="Who holds it: '3号楼烟感网关', 'Open311 app'.")],
    device: Annotated[
        str | None, typer.Option(help="Only events of this device may be sent with it.")
    ] = None,
    source: Annotated[
        str | None, typer.Option(help="Only events of this source may be sent with it.")
    ] = None,
    area: Annotated[
        str | None,
        typer.Option(help="Only events in this area (a street, a community) or below it."),
    ] = None,
    db: DbOption = DEFAULT_URL,
) -> None:
    """Make an ingest token. The secret is printed once and never stored. No ingest
    token may send a person's case move (docs/security.md)."""
    from cityeye.api.tokens import issue

    store = Store.open(db)
    world = store.load_world()
    if device is not None and world is not None and device not in world.devices:
        err.print(f"[red]✗ --device {device}: no such device in the loaded world[/red]")
        raise typer.Exit(2)
    if area is not None and (world is None or area not in world.areas):
        err.print(f"[red]✗ --area {area}: no such area in the loaded world[/red]")
        raise typer.Exit(2)
    issued = issue(store, label=label, device_id=device, source=source, area=area)
    err.print(f"token {issued.token.id} for {label} — keep the secret; it is not shown again:")
    out.print(issued.secret, markup=False, highlight=False)


UsernameArg = Annotated[str, typer.Argument(help="The login name.")]
PasswordStdinOption = Annotated[
    bool, typer.Option(help="Read the password from stdin (scripts) instead of asking.")
]


@user_app.command("add")
def user_add(
    username: Annotated[str, typer.Argument(help="The login name.")],
    role: Annotated[str, typer.Option(help="admin, dispatcher, handler, leader or resident.")],
    party: Annotated[
        str | None, typer.Option(help="A handler's party (its areas bound what they see).")
    ] = None,
    area: Annotated[
        list[str] | None,
        typer.Option(help="A dispatcher's or leader's post: an area code (repeatable)."),
    ] = None,
    name: Annotated[str | None, typer.Option(help="The name shown, e.g. 张网格员.")] = None,
    password_stdin: PasswordStdinOption = False,
    db: DbOption = DEFAULT_URL,
) -> None:
    """Add a user; the password is asked for (twice) or read from stdin, and stored
    only as an argon2 hash."""
    from cityeye.accounts import create_user

    password = _new_password(password_stdin)
    store = Store.open(db)
    world = store.load_world() or World.empty()
    user = _account(
        lambda: create_user(
            store,
            world,
            username=username,
            password=password,
            role=role,
            display_name=name,
            party_id=party,
            areas=tuple(area or ()),
        )
    )
    err.print(f"user {user.username} ({user.role.label}) added")


@user_app.command("demo")
def user_demo(db: DbOption = DEFAULT_URL) -> None:
    """One user per role for the demo district, with fresh passwords, printed once."""
    from cityeye.demo.users import demo_users

    store = Store.open(db)
    world = store.load_world()
    if world is None:
        err.print("[red]✗ no district in this database (cityeye world load / replay)[/red]")
        raise typer.Exit(2)
    table = Table("username", "password", "role", "sees", title="demo logins 演示账号")
    for user, password in demo_users(store, world):
        sees = user.party_id or " ".join(user.areas) or ("all" if user.role == "admin" else "")
        table.add_row(user.username, password, user.role.label, sees)
    out.print(table)


def _account(do: Any, *args: Any) -> Any:
    """Run an account change; a ``FieldError`` (no such user, a short password) is
    printed and exits 2."""
    try:
        return do(*args)
    except FieldError as exc:
        err.print(f"[red]✗ {exc.field}: {exc.reason}[/red]", highlight=False)
        raise typer.Exit(2) from None


def _new_password(from_stdin: bool) -> str:
    """A new password: one line of stdin (scripts), or asked for twice, hidden."""
    if from_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    return str(typer.prompt("password 密码", hide_input=True, confirmation_prompt=True))


@user_app.command("password")
def user_password(
    username: UsernameArg,
    password_stdin: PasswordStdinOption = False,
    db: DbOption = DEFAULT_URL,
) -> None:
    """Set a new password (a reset); every session, API token and known device of the
    user is revoked with it."""
    from cityeye.accounts import change_password

    password = _new_password(password_stdin)
    revoked = _account(change_password, Store.open(db), username, password)
    err.print(f"user {username}: new password; {revoked} tokens revoked")


@user_app.command("disable")
def user_disable(username: UsernameArg, db: DbOption = DEFAULT_URL) -> None:
    """Disable a user: they cannot sign in, and every session and token of theirs
    stops working now (open sessions included)."""
    from cityeye.accounts import disable_user

    revoked = _account(disable_user, Store.open(db), username)
    err.print(f"user {username} disabled; {revoked} tokens revoked")


@user_app.command("enable")
def user_enable(username: UsernameArg, db: DbOption = DEFAULT_URL) -> None:
    """Let a disabled user sign in again (revoked tokens stay revoked)."""
    from cityeye.accounts import enable_user

    _account(enable_user, Store.open(db), username)
    err.print(f"user {username} enabled")


@user_app.command("revoke")
def user_revoke(username: UsernameArg, db: DbOption = DEFAULT_URL) -> None:
    """Revoke every session, API token and known device of a user, keeping the account
    (they sign in again), e.g. after a lost phone."""
    from cityeye.accounts import revoke_user

    revoked = _account(revoke_user, Store.open(db), username)
    err.print(f"user {username}: {revoked} tokens revoked")


@user_app.command("phone")
def user_phone(
    username: UsernameArg,
    phone: Annotated[
        str | None, typer.Argument(help="The mobile number; leave out to remove it.")
    ] = None,
    db: DbOption = DEFAULT_URL,
) -> None:
    """Where SMS notifications reach this user (with an SMS gateway in --notify)."""
    from cityeye.store.users import set_phone, user_with_hash

    store = Store.open(db)
    found = user_with_hash(store, username)
    if found is None:
        err.print(f"[red]✗ username: no user {username!r}[/red]", highlight=False)
        raise typer.Exit(2)
    number = phone.strip() if phone else None
    if number is not None and not re.fullmatch(r"\+?[0-9][0-9 -]{4,30}", number):
        err.print(f"[red]✗ phone: {number!r} is not a phone number[/red]", highlight=False)
        raise typer.Exit(2)
    set_phone(store, found[0].id, number)
    err.print(f"user {username}: " + (f"SMS to {number}" if number else "no SMS"))


@user_app.command("list")
def user_list(db: DbOption = DEFAULT_URL) -> None:
    """Users, their roles and what bounds what they see (never passwords)."""
    from cityeye.store.users import list_users

    table = Table("username", "name", "role", "party", "areas", "disabled")
    for u in list_users(Store.open(db)):
        table.add_row(
            u.username,
            u.display_name,
            u.role.value,
            u.party_id or "",
            " ".join(u.areas),
            u.disabled_at.isoformat() if u.disabled_at else "",
        )
    out.print(table)


@token_app.command("list")
def token_list(db: DbOption = DEFAULT_URL) -> None:
    """Ingest tokens (never their secrets)."""
    table = Table("label", "device", "source", "area", "created", "last used", "revoked")
    table.add_column("id", no_wrap=True)
    for tok in Store.open(db).api_tokens():
        table.add_row(
            tok.label,
            tok.device_id or "*",
            tok.source or "*",
            tok.area or "*",
            f"{tok.created_at:%Y-%m-%d %H:%M}",
            f"{tok.last_used_at:%Y-%m-%d %H:%M}" if tok.last_used_at else "",
            f"{tok.revoked_at:%Y-%m-%d %H:%M}" if tok.revoked_at else "",
            tok.id,
        )
    out.print(table)


@token_app.command("revoke")
def token_revoke(token_id: str, db: DbOption = DEFAULT_URL) -> None:
    """Revoke a token at once (a lost or stolen device)."""
    if not Store.open(db).revoke_api_token(token_id, datetime.now(UTC)):
        err.print(f"[red]✗ no active token {token_id}[/red]")
        raise typer.Exit(1)
    err.print(f"token {token_id} revoked")


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
        _print_problems(exc)
        err.print("[red]✗ nothing imported / 未导入[/red]")
        raise typer.Exit(2) from None
    scenarios = _scenarios_or_exit(scenario_paths, with_builtin)
    store = Store.open(db)
    pipeline: Pipeline | None = None
    try:
        with err.status("starting the engine 启动引擎…"):
            pipeline = _intake(store, scenarios, bus, partitions)
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
            help="Without --start: the month ends where this event file (to be replayed) "
            "begins, so it precedes every replayed event; with neither, it ends today.",
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
    from cityeye.demo.participation import AlreadySeeded, month_before, seeded
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
