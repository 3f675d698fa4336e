"""What the command modules share: the two consoles (results on stdout, everything
else on stderr, so pipes stay clean), the options several commands take, the progress
bar, and the checks that print what is wrong and exit (a world file, the scenarios,
``--lateness``, a bus that cannot be used)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, DownloadColumn, Progress, TimeRemainingColumn

from cityeye.domain import World
from cityeye.errors import ProblemsError
from cityeye.store import Store
from cityeye.world import WorldError, load_world

if TYPE_CHECKING:
    from cityeye.live.pipeline import Pipeline
    from cityeye.notifiers import NotifyConfig
    from cityeye.scenarios import LoadedScenario

err = Console(stderr=True, soft_wrap=True)
out = Console(soft_wrap=True)

# the options several commands take
DbOption = Annotated[
    str,
    typer.Option(
        "--db",
        envvar="CITYEYE_DB",
        help="Database URL: sqlite:///FILE (default) or postgresql://user@host/db.",
    ),
]
ScenarioDirs = Annotated[
    list[Path] | None,
    typer.Option(
        "--scenarios",
        exists=True,
        help="A scenario file or folder (repeatable); replaces the built-in catalogue "
        "unless --with-builtin is given.",
    ),
]
WithBuiltinOption = Annotated[
    bool, typer.Option(help="With --scenarios: run the built-in catalogue too.")
]
LatenessOption = Annotated[
    str, typer.Option(help="How late an event may arrive and still count (10m, 90s).")
]
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


def progress_bar() -> Progress:
    return Progress(
        "[progress.description]{task.description}",
        BarColumn(),
        DownloadColumn(),
        TimeRemainingColumn(),
        console=err,
        transient=False,
    )


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


def notify_or_exit(path: Path | None, store: Store) -> NotifyConfig:
    """The ``--notify`` file checked against the loaded world (every problem printed,
    exit 1), and its channels set on ``store`` before any case is saved."""
    from cityeye.notifiers import NotifyConfig, NotifyError, load_notify

    if path is None:
        return NotifyConfig()
    try:
        config = load_notify(path, store.load_world())
    except NotifyError as exc:
        print_problems(exc)
        err.print(f"[red]✗ {len(exc.problems)} problem(s) in the notify file / 通知配置有误[/red]")
        raise typer.Exit(1) from None
    store.channels = config.channels
    return config


def print_problems(exc: ProblemsError) -> None:
    """A file's problems, one ``file:line: field: reason`` a line (every file's the
    same way: world, scenarios, notify file, MQTT map, hotline mapping and export)."""
    for line in exc.lines():
        err.print(line, markup=False, highlight=False)


def own_process(*, gc_thresholds: bool = True) -> None:
    """The process-wide settings of a command that runs the engine (the library never
    changes them itself; cityeye.runtime says why): ``gc_thresholds``, collect young
    objects far less often; and the engine's bulk arming of registered keys runs with
    the collector paused and what it made frozen afterwards."""
    from cityeye.runtime import bulk_allocation, tune_gc
    from cityeye.scenarios import set_bulk_hook

    if gc_thresholds:
        tune_gc()
    set_bulk_hook(bulk_allocation)


def world_or_exit(path: Path) -> World:
    try:
        return load_world(path)
    except WorldError as exc:
        print_problems(exc)
        err.print(f"[red]✗ {len(exc.problems)} problem(s) in {path} / 世界文件有误[/red]")
        raise typer.Exit(1) from None


def scenarios_or_exit(paths: list[Path] | None, with_builtin: bool) -> list[LoadedScenario]:
    from cityeye.scenarios import ScenarioError, load_catalogue

    try:
        return load_catalogue(*(paths or []), builtin=with_builtin or not paths)
    except ScenarioError as exc:
        print_problems(exc)
        err.print(f"[red]✗ {len(exc.problems)} problem(s) in the scenarios / 场景有误[/red]")
        raise typer.Exit(1) from None


def lateness_or_exit(value: str) -> float:
    from cityeye.sourcefile import parse_duration

    try:
        return float(parse_duration(value))
    except ValueError as exc:
        raise typer.BadParameter(str(exc), param_hint="--lateness") from None


def intake_or_exit(
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
