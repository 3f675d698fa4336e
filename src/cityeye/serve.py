"""``cityeye serve`` and ``cityeye worker`` put together: the command line
(:mod:`cityeye.cli.live`) checks the options and calls these with what it checked;
everything that then runs — the intake (the analysis process's command line
included), the demo's playback, the MQTT subscriber, the notification sender, the web
server, a bus worker's loop — is started and stopped here, in one place.

The composition root: it imports every layer, the web API included, so it sits at the
top beside :mod:`cityeye.cli` and not in :mod:`cityeye.live` (which the API imports;
docs/architecture.md)."""

from __future__ import annotations

import asyncio
import hashlib
import logging
import signal
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from cityeye.assessment.rules import Rules, default_rules
from cityeye.ingest.mqtt import MqttIngest, MqttUrl
from cityeye.ingest.mqtt_map import MqttMap
from cityeye.ingest.mqtt_nats import NatsMqttIngest, NatsMqttUrl
from cityeye.live.clock import ReplayClock, WallClock
from cityeye.live.pipeline import LivePipeline, Pipeline
from cityeye.live.playback import ReplayFeeder, replay_start
from cityeye.notifiers import NotifyConfig, OutboxSender
from cityeye.routine.jobs import Routine
from cityeye.scenarios import LoadedScenario
from cityeye.store import Store

Say = Callable[[str], None]


def intake(
    store: Store,
    scenarios: list[LoadedScenario],
    bus: str | None,
    partitions: int,
    lateness_s: float = 600,
) -> Pipeline:
    """Analyse here, or (``bus``) store and publish for the workers, with the stream's
    watermark judged on the same lateness as theirs. Raises
    :class:`~cityeye.live.bus.BusError` when the bus cannot be used."""
    if bus is None:
        return LivePipeline(store, scenarios=scenarios, lateness_s=lateness_s)
    from cityeye.live.bus import BusPipeline

    bus_logging()
    return BusPipeline(
        store, bus, partitions=partitions, scenarios=scenarios, lateness_s=lateness_s
    )


def split_intake(
    store: Store,
    scenarios: list[LoadedScenario],
    *,
    db: str,
    scenario_paths: list[Path],
    with_builtin: bool,
    notify: Path | None,
    lateness: str,
    clock: str,
) -> Pipeline:
    """``serve --analysis process``: store here, analyse in a process of its own
    (:mod:`cityeye.live.split`), started with the same database, scenarios and notify
    file (``serve``'s ``--scenarios``/``--with-builtin``/``--notify``), lateness and
    clock. The database URL travels in the environment, not on a command line that
    ``ps`` shows (it may hold a password)."""
    import os
    import sys

    from cityeye.live.split import SplitIntake

    scenario_args = [f"--scenarios={p}" for p in scenario_paths]
    if with_builtin:
        scenario_args.append("--with-builtin")
    if notify is not None:
        scenario_args.append(f"--notify={notify}")
    command = [
        sys.executable,
        "-m",
        "cityeye",
        "analysis-process",
        "--lateness",
        lateness,
        "--clock",
        clock,
        *scenario_args,
    ]
    return SplitIntake(store, command, scenarios=scenarios, env=os.environ | {"CITYEYE_DB": db})


def bus_logging() -> None:
    """The bus's own lines on stderr, one each, with the time: NATS away (once per
    attempt), back, a stream taken over (docs/scale-out.md)."""
    logger = logging.getLogger("cityeye.bus")
    if not logger.handlers:
        handler = logging.StreamHandler()
        handler.setFormatter(logging.Formatter("%(asctime)s cityeye.bus: %(message)s"))
        logger.addHandler(handler)
        logger.setLevel(logging.INFO)
        logger.propagate = False  # once, not again through a handler on the root


def replay_feeder(
    pipeline: LivePipeline, path: Path, speed: float, start: str | None, say: Say
) -> tuple[ReplayClock, ReplayFeeder]:
    """The simulated clock and the feeder of ``serve --replay``. The clock starts at
    ``start`` (default the file's last day's midnight), or where the engine had got to
    if this database was already replaying (a restart carries on, it does not rewind).
    ``ValueError`` when ``start`` or the file cannot be used."""
    tz = pipeline.world.timezone
    resumed = pipeline.engine.latest
    begin = replay_start(path, tz, start, resumed)
    if begin == resumed:
        say(f"replay resumes at {begin.astimezone(ZoneInfo(tz)):%Y-%m-%d %H:%M:%S}")
    clock = ReplayClock(begin, speed)
    settle = timedelta(seconds=pipeline.engine.max_lateness)
    feeder = ReplayFeeder(pipeline, path, clock, settle=settle, say=say)
    say(f"replaying {path} from {begin.astimezone(ZoneInfo(tz)):%Y-%m-%d %H:%M} at {speed:g}×")
    return clock, feeder


@dataclass(frozen=True, slots=True)
class Http:
    """Where and how the web server listens (``cityeye serve``'s options)."""

    host: str = "127.0.0.1"
    port: int = 8000
    forwarded_allow_ips: str | None = None
    header_timeout_s: float = 10.0
    body_timeout_s: float = 60.0
    keep_alive_s: int = 5


def serve(
    store: Store,
    pipeline: Pipeline,
    *,
    db: str,
    http: Http,
    say: Say,
    wall_clock: bool = True,
    open_ingest: bool = False,
    replay: tuple[ReplayClock, ReplayFeeder] | None = None,
    mqtt: tuple[MqttUrl | NatsMqttUrl, MqttMap] | None = None,
    notify: NotifyConfig | None = None,
    assessment: Rules | None = None,
    routine: bool = True,
) -> None:
    """Run the server until it is stopped: the API and pages, the heartbeat, the MQTT
    subscriber if any, the sender of webhook and SMS notifications on its own
    thread (a slow or dead receiver delays only them, never ingest or the engine), and
    with ``routine`` the scheduler of 日提醒、周通报、月考核 on the service's clock."""
    from cityeye.api import server
    from cityeye.api.app import create_app

    clock, feeder = replay if replay is not None else (None, None)
    app = create_app(
        store,
        pipeline,
        wall_clock=wall_clock,
        open_ingest=open_ingest,
        clock=clock,
        feeder=feeder,
        assessment=assessment,
    )
    subscriber: MqttIngest | NatsMqttIngest | None = None
    if mqtt is not None:
        # stable across restarts (the broker keeps QoS 1 messages for it while down)
        # and distinct per installation
        digest = hashlib.sha1(db.encode(), usedforsecurity=False).hexdigest()
        broker, mapping = mqtt
        name = f"cityeye-{digest[:10]}"
        subscriber = (
            NatsMqttIngest(pipeline, broker, mapping=mapping, client_id=name)
            if isinstance(broker, NatsMqttUrl)
            else MqttIngest(pipeline, broker, mapping=mapping, client_id=name)
        )
        subscriber.start()
        say(f"mqtt: {broker} as {subscriber.client_id}, QoS 1: {', '.join(subscriber.topics)}")
    sender = OutboxSender(store, notify or NotifyConfig())
    sender.start()
    scheduler = None
    if routine:
        rules = assessment or default_rules()
        now = clock or WallClock()
        scheduler = Routine(store, rules, now, say=say, ingest=pipeline.ingest)
        scheduler.start()
    try:
        server.run(
            app,
            host=http.host,
            port=http.port,
            forwarded_allow_ips=http.forwarded_allow_ips,
            header_timeout_s=http.header_timeout_s,
            body_timeout_s=http.body_timeout_s,
            keep_alive_s=http.keep_alive_s,
        )
    finally:
        if subscriber is not None:
            subscriber.stop()
        if scheduler is not None:
            scheduler.stop()
        sender.stop()


def work(
    store: Store,
    bus: str,
    *,
    partition: int,
    partitions: int,
    scenarios: list[LoadedScenario],
    say: Say,
    wall_clock: bool = True,
    lateness_s: float = 600,
    snapshot_s: float = 10.0,
    snapshot_every: int = 20_000,
) -> None:
    """Run one bus worker until SIGTERM or Ctrl+C (after a last snapshot). Raises
    :class:`~cityeye.live.bus.BusError` when the bus cannot be used."""
    from cityeye.live.bus import Worker, shown

    bus_logging()
    runner = Worker(
        store,
        bus,
        partition=partition,
        partitions=partitions,
        scenarios=scenarios,
        wall_clock=wall_clock,
        lateness_s=lateness_s,
        snapshot_s=snapshot_s,
        snapshot_every=snapshot_every,
    )
    say(
        f"worker {partition} of {partitions} on {shown(bus)}; resuming after stream "
        f"message {runner.seq}"
    )

    async def main() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        stats = await runner.run(stop)
        say(
            f"worker {partition} stopped: {stats.processed} processed, "
            f"{stats.skipped} already in the snapshot, {stats.rejected} rejected"
        )

    asyncio.run(main())
