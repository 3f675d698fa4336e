"""The long-running commands: ``cityeye serve`` (the web server and the live engine),
its hidden ``analysis-process`` and the scale-out ``worker``. They check the options
and hand what they checked to :mod:`cityeye.serve`, which puts the parts together
and runs them. Registered in :mod:`cityeye.cli`."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from cityeye.cli.assessment import AssessmentOption, rules_or_exit
from cityeye.cli.common import (
    BusOption,
    DbOption,
    LatenessOption,
    NotifyOption,
    PartitionsOption,
    ScenarioDirs,
    WithBuiltinOption,
    err,
    intake_or_exit,
    lateness_or_exit,
    notify_or_exit,
    own_process,
    print_problems,
    scenarios_or_exit,
)
from cityeye.store import DEFAULT_URL, Store

if TYPE_CHECKING:
    from cityeye.ingest.mqtt import MqttUrl
    from cityeye.ingest.mqtt_map import MqttMap
    from cityeye.ingest.mqtt_nats import NatsMqttUrl


def _say(line: str) -> None:
    err.print(line, markup=False, highlight=False)


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
        print_problems(exc)
        err.print(f"[red]✗ {len(exc.problems)} problem(s) in the MQTT map / MQTT 映射有误[/red]")
        raise typer.Exit(1) from None
    if via_nats:
        for topic in mapping.topics():
            try:
                subjects_for([topic])
            except ValueError as exc:
                raise typer.BadParameter(f"{topic!r}: {exc}", param_hint="--mqtt-topic") from None
    return parsed, mapping


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
    assessment: AssessmentOption = None,
    routine: Annotated[
        bool,
        typer.Option(
            help="Run 日提醒、周通报、月考核 on the rules' schedule (docs/assessment.md); "
            "--no-routine where `cityeye assess` runs them from cron instead.",
        ),
    ] = True,
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

    own_process()
    rules = rules_or_exit(assessment)
    store = Store.open(db)
    notify_config = notify_or_exit(notify, store)
    scenarios = scenarios_or_exit(scenario_paths, with_builtin)
    if analysis == "process":
        lateness_or_exit(lateness)
        pipeline = live.split_intake(
            store,
            scenarios,
            db=db,
            scenario_paths=scenario_paths or [],
            with_builtin=with_builtin,
            notify=notify,
            lateness=lateness,
            clock=clock,
        )
    else:
        pipeline = intake_or_exit(store, scenarios, bus, partitions, lateness_or_exit(lateness))
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
        assessment=rules,
        routine=routine,
    )


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
    own_process()
    store = Store.open(db)
    notify_or_exit(notify, store)
    scenarios = scenarios_or_exit(scenario_paths, with_builtin)
    run_analysis(
        store, scenarios, lateness_s=lateness_or_exit(lateness), wall_clock=clock == "wall"
    )


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
    own_process(gc_thresholds=False)
    store = Store.open(db)
    notify_or_exit(notify, store)  # the worker writes the rows; `serve` sends them
    try:
        work(
            store,
            bus,
            partition=partition,
            partitions=partitions,
            scenarios=scenarios_or_exit(scenario_paths, with_builtin),
            say=_say,
            wall_clock=clock == "wall",
            lateness_s=lateness_or_exit(lateness),
            snapshot_s=snapshot_s,
            snapshot_every=snapshot_every,
        )
    except BusError as exc:
        err.print(f"[red]✗ {exc}[/red]", highlight=False)
        raise typer.Exit(2) from None
    finally:
        store.close()
