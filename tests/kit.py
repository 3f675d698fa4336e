"""Small builders for engine tests: a world with one of everything, events by minute.

Tests read like the scenario table: ``ev("access.denied", 3, device="AG1")`` is an
access denial three minutes after T0 at door AG1.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from itertools import count
from typing import Any

import orjson

from cityeye.domain import Alert, Area, AreaLevel, Device, Event, Subject, Venue, World
from cityeye.scenarios import Engine, load_catalogue
from cityeye.store import Store

CST = timezone(timedelta(hours=8))
#: The normative scenarios of SCENARIOS.md (the table the tests hold the engine to).
NORMATIVE = frozenset(
    {
        "elderly.inactive",
        "elderly.sos",
        "elevator.ebike",
        "fire.smoke",
        "power.overload",
        "garbage.overflow",
        "garbage.dumping",
        "access.forced",
        "access.held_open",
        "health_products.gathering",
        "venue.night_crowd",
        "parking.filial_overstay",
        "enterprise.abnormal",
        "enterprise.relocation",
        "citizen.report",
    }
)
#: 2026-10-01 10:00 local time; minute offsets are added to it.
T0 = datetime(2026, 10, 1, 10, 0, tzinfo=CST)
_ids = count(1)


class SetClock:
    """The service's "now" (a :class:`cityeye.live.clock.Clock`), set by the test
    (``clock.at = …``) instead of waited for."""

    def __init__(self, now: datetime) -> None:
        self.at = now

    def now(self) -> datetime:
        return self.at


def at(minutes: float) -> datetime:
    return T0 + timedelta(minutes=minutes)


def ev(
    kind: str,
    minutes: float,
    *,
    device: str | None = None,
    subject: str | None = None,
    area: str | None = None,
    source: str = "test",
    event_id: str | None = None,
    **attrs: Any,
) -> Event:
    """An event ``minutes`` after T0 (fractions allowed: 0.5 is 30 s)."""
    return Event(
        id=event_id or f"e{next(_ids)}",
        kind=kind,
        ts=at(minutes),
        source=source,
        device_id=device,
        subject=subject,
        area=area,
        attrs=attrs,
    )


def small_world(
    devices: Sequence[Device] = (),
    subjects: Sequence[Subject] = (),
    venues: Sequence[Venue] = (),
) -> World:
    """District → street → community → grid G1, plus what the test adds."""
    areas = {
        "330105": Area("330105", "拱墅区", AreaLevel.DISTRICT),
        "S1": Area("S1", "小河街道", AreaLevel.STREET, "330105"),
        "C1": Area("C1", "长征桥社区", AreaLevel.COMMUNITY, "S1"),
        "G1": Area("G1", "第1网格", AreaLevel.GRID, "C1"),
    }
    return World(
        district=areas["330105"],
        timezone="Asia/Shanghai",
        areas=areas,
        devices={d.id: d for d in devices},
        subjects={s.id: s for s in subjects},
        venues={v.id: v for v in venues},
    )


def default_world() -> World:
    """A world with the devices, subjects and venues the normative scenarios read."""
    return small_world(
        devices=[
            Device("DS1", "door_sensor", "G1", subject="S1"),
            Device("MS1", "motion_sensor", "G1", subject="S1"),
            Device("DS2", "door_sensor", "G1", subject="S2"),
            Device("SB1", "sos_button", "G1", subject="S1"),
            Device("EL1", "elevator_monitor", "G1", building="B1"),
            Device("SD1", "smoke_detector", "G1", building="B1"),
            Device("SD2", "smoke_detector", "G1", building="B1"),
            Device("SD3", "smoke_detector", "G1", building="B2"),
            Device("TS1", "temperature_sensor", "G1", building="B1"),
            Device("PM1", "power_meter", "G1"),
            Device("BN1", "bin_sensor", "G1"),
            Device("CM1", "camera", "G1"),
            Device("AG1", "access_gate", "G1"),
            Device("CC1", "crowd_counter", "G1", venue="V1"),
            Device("CC2", "crowd_counter", "G1", venue="V2"),
            Device("PK1", "parking_sensor", "G1", tags=("filial",)),
            Device("PK2", "parking_sensor", "G1"),
        ],
        subjects=[
            Subject("S1", "G1", ("elderly_alone",)),
            Subject("S2", "G1", ("elderly_alone",)),
            Subject("S3", "G1", ()),
            Subject("ENT1", "G1", ("enterprise",)),
        ],
        venues=[Venue("V1", "G1", ("sales_venue",)), Venue("V2", "G1", ("sensitive",))],
    )


def run(
    events: Iterable[Event],
    scenarios: Iterable[str] | None = None,
    world: World | None = None,
    lateness_s: float = 600,
    finish: bool = True,
) -> list[Alert]:
    """Feed events (in the order given) through the named built-in scenarios."""
    wanted = set(scenarios) if scenarios is not None else None
    specs = [s for s in load_catalogue() if wanted is None or s.id in wanted]
    if wanted is not None:
        missing = wanted - {s.id for s in specs}
        assert not missing, f"no such scenario: {missing}"
    engine = Engine(specs, world or default_world(), lateness_s=lateness_s)
    for event in events:
        engine.feed(event)
    if finish:
        engine.finish()
    return engine.alerts


def only(alerts: list[Alert], scenario: str) -> list[Alert]:
    return [a for a in alerts if a.scenario == scenario]


def photo(kind: str = "image/png", *, colour: tuple[int, int, int] = (200, 120, 40)) -> bytes:
    """A small real image of ``kind`` (the attachment store decodes every photo)."""
    import io

    from PIL import Image

    out = io.BytesIO()
    fmt = {"image/png": "PNG", "image/jpeg": "JPEG", "image/webp": "WEBP"}[kind]
    Image.new("RGB", (16, 16), colour).save(out, format=fmt)
    return out.getvalue()


def road_report(i: int) -> Event:
    """Resident report ``r<i>`` of a road problem in grid G0001, ``i`` minutes after T0
    (source ``app``): one case each, whoever runs it."""
    return ev("report.citizen", i, area="G0001", source="app", event_id=f"r{i}", category="road")


@dataclass
class Receiver:
    """A real local HTTP server: keeps every request, answers from ``answers`` in turn
    (then 200 ``{"errcode":0}``); ``hold`` makes it wait before answering."""

    answers: list[tuple[int, bytes]] = field(default_factory=list)
    hold: threading.Event | None = None
    got: list[tuple[str, dict[str, str], bytes]] = field(default_factory=list)
    #: (epoch ms when it came, path, body) of each request, to time deliveries
    timed: list[tuple[float, str, bytes]] = field(default_factory=list)
    arrived: threading.Event = field(default_factory=threading.Event)
    url: str = ""

    def serve(self) -> ThreadingHTTPServer:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["content-length"]))
                receiver.got.append((self.path, dict(self.headers.items()), body))
                receiver.timed.append((time.time() * 1000, self.path, body))
                receiver.arrived.set()
                if receiver.hold is not None:
                    receiver.hold.wait(10)
                status, answer = (
                    receiver.answers.pop(0) if receiver.answers else (200, b'{"errcode":0}')
                )
                self.send_response(status)
                self.send_header("content-length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

            def log_message(self, *_: Any) -> None:
                pass

        server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{server.server_address[1]}"
        threading.Thread(target=server.serve_forever, daemon=True).start()
        return server


def event_json(event_id: str, kind: str = "door.open", **extra: object) -> bytes:
    """One event as an ingest channel receives it (gateway ``gw``, door ``D1``)."""
    return orjson.dumps(
        {
            "id": event_id,
            "kind": kind,
            "ts": "2026-10-01T10:00:00+08:00",
            "source": "gw",
            "device_id": "D1",
        }
        | extra
    )


def stored(store: Store) -> dict[str, Event]:
    """The events ``store`` holds, by id."""
    return {event.id: event for _, event, _ in store.events_after(0)}
