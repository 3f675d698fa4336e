"""A snapshot written by an older engine still loads: a service restarted on new code
resumes where the old one stopped, with the same alerts.

``tests/fixtures/engine_snapshot_v2/`` holds a snapshot (version 2) written by the
engine of commit d3b7c12, the last with the old field names of a key's memory, after
feeding part of a stream through scenarios that use every trigger type in every role;
beside it the whole stream (in arrival order) and what that engine did with the rest
after the snapshot: every alert change it told and the alerts it ended with. The
fixture is history: regenerating it with a newer engine would test nothing.
"""

from __future__ import annotations

import json
import pickle
import random
import sys
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from cityeye.domain import Device, Event, Subject
from cityeye.ingest import decode_event
from cityeye.scenarios import AlertChange, Engine, LoadedScenario, load_scenarios
from kit import T0, small_world

FIXTURE = Path(__file__).resolve().parent.parent / "fixtures" / "engine_snapshot_v2"
LATENESS_S = 600
WORLD = small_world(
    devices=[
        *(Device(f"GL{i}", "level_gauge", "G1") for i in range(2)),
        *(Device(f"AG{i}", "access_gate", "G1") for i in range(2)),
        *(Device(f"SD{i}", "smoke_detector", "G1", building=f"B{i % 2}") for i in range(3)),
        *(Device(f"PM{i}", "power_meter", "G1") for i in range(2)),
        Device("PK0", "parking_sensor", "G1"),
        *(Device(f"DS{i}", "door_sensor", "G1", subject=f"S{i}") for i in range(2)),
    ],
    subjects=[
        *(Subject(f"S{i}", "G1", ("elderly_alone",)) for i in range(3)),
        Subject("ENT0", "G1", ("enterprise",)),
    ],
)


def scenarios() -> list[LoadedScenario]:
    result = load_scenarios([FIXTURE / "scenarios.yaml"])
    assert not result.problems
    return result.scenarios


def engine(changes: list[AlertChange] | None = None) -> Engine:
    return Engine(
        scenarios(),
        WORLD,
        lateness_s=LATENESS_S,
        early=True,
        on_alert=None if changes is None else changes.append,
    )


def stream(seed: int = 16) -> list[Event]:
    """Four days of every kind the scenarios read, in arrival order: shuffled within
    the lateness, and a few events far later than that."""
    rng = random.Random(seed)
    out: list[tuple[float, Event]] = []

    def add(minute: float, kind: str, **fields: Any) -> None:
        attrs = fields.pop("attrs", {})
        event = Event(
            id=f"e{len(out)}",
            kind=kind,
            ts=T0 + timedelta(minutes=round(minute, 2)),
            source="compat",
            attrs=attrs,
            **fields,
        )
        delay = rng.uniform(0, LATENESS_S - 1)
        if rng.random() < 0.03:
            delay = rng.uniform(LATENESS_S + 60, 4 * LATENESS_S)
        out.append((event.ts.timestamp() + delay, event))

    days = 4 * 24 * 60
    for _ in range(900):
        minute = rng.uniform(0, days)
        pick = rng.randrange(9)
        if pick == 0:
            burst = rng.randrange(1, 5)
            for j in range(burst):
                level = rng.choice([rng.randrange(0, 90), rng.randrange(90, 101)])
                add(
                    minute + j * 2,
                    "gauge.level",
                    device_id=f"GL{rng.randrange(2)}",
                    attrs={"level": level},
                )
        elif pick == 1:
            for j in range(rng.randrange(1, 7)):
                add(minute + j * 1.5, "gate.denied", device_id=f"AG{rng.randrange(2)}")
        elif pick == 2:
            add(minute, "smoke.alarm", device_id=f"SD{rng.randrange(3)}")
            if rng.random() < 0.5:
                add(minute + rng.uniform(0, 4), "smoke.alarm", device_id=f"SD{rng.randrange(3)}")
        elif pick == 3:
            device = f"SD{rng.randrange(3)}"
            for j in range(rng.randrange(1, 5)):
                add(
                    minute + j * 4,
                    "smoke.level",
                    device_id=device,
                    attrs={"level": rng.randrange(0, 20)},
                )
        elif pick == 4:
            device = f"PM{rng.randrange(2)}"
            for j in range(rng.randrange(1, 6)):
                add(
                    minute + j * 2,
                    "meter.reading",
                    device_id=device,
                    attrs={
                        "current_a": rng.randrange(10, 40),
                        "rated_a": 20,
                        "leakage_ma": rng.choice([5, 5, 5, rng.randrange(0, 40)]),
                    },
                )
        elif pick == 5:
            plate = rng.choice(["P1", "P2"])
            add(minute, "parking.occupied", device_id="PK0", attrs={"plate": plate})
            if rng.random() < 0.6:
                add(
                    minute + rng.uniform(1, 40),
                    "parking.freed",
                    device_id="PK0",
                    attrs={"plate": plate},
                )
        elif pick == 6:
            add(minute, "door.open", device_id=f"DS{rng.randrange(2)}")
        elif pick == 7:
            day = int(minute // (24 * 60))
            metric = rng.choice(["output", "power"])
            value = rng.choice([100.0, 110.0, 90.0, 30.0, 20.0])
            add(
                day * 24 * 60 + 600 + rng.uniform(0, 60),
                "enterprise.metric",
                subject="ENT0",
                attrs={"metric": metric, "value": value},
            )
        else:
            add(minute, "citizen.report", area="G1", attrs={"text": "路灯坏了"})
    return [event for _, event in sorted(out, key=lambda x: (x[0], x[1].id))]


def _changes(changes: list[AlertChange]) -> list[list[Any]]:
    return [[c.kind, c.alert.id, c.event_id, c.at.isoformat()] for c in changes]


def _alerts(e: Engine) -> list[dict[str, Any]]:
    return sorted((a.to_json() for a in e.alerts), key=lambda a: str(a["id"]))


def _events() -> list[Event]:
    lines = (FIXTURE / "events.jsonl").read_bytes().splitlines()
    return [decode_event(line) for line in lines]


def test_a_version_2_snapshot_resumes_with_the_alerts_the_old_engine_gave() -> None:
    events = _events()
    recorded = json.loads((FIXTURE / "after.json").read_text())
    changes: list[AlertChange] = []
    restored = engine(changes)
    restored.restore((FIXTURE / "snapshot.pickle").read_bytes())
    for event in events[recorded["cut"] :]:
        restored.feed(event)
    restored.finish()
    assert _changes(changes) == recorded["changes"]
    assert _alerts(restored) == recorded["alerts"]
    assert restored.counts == recorded["counts"]


def test_the_recorded_alerts_are_those_of_an_uninterrupted_run() -> None:
    """The fixture is the truth of this engine too, not only of the old one."""
    whole = engine()
    for event in _events():
        whole.feed(event)
    whole.finish()
    assert _alerts(whole) == json.loads((FIXTURE / "after.json").read_text())["alerts"]


def test_a_snapshot_of_another_version_or_no_snapshot_at_all_is_refused() -> None:
    """Refused with ValueError, which a restarting service answers by replaying the
    stored events (cityeye.live.pipeline.resume) instead of failing to start."""
    e = engine()
    for event in _events()[:100]:
        e.feed(event)
    data = pickle.loads(e.snapshot())
    with pytest.raises(ValueError, match="version 1 is not one this engine reads"):
        engine().restore(pickle.dumps(data | {"version": 1}))
    with pytest.raises(ValueError, match="cannot be read"):
        engine().restore(b"not a snapshot")


def test_a_new_snapshot_is_version_3_and_resumes() -> None:
    events = _events()
    e = engine()
    for event in events[: len(events) // 2]:
        e.feed(event)
    restored = engine()
    restored.restore(e.snapshot())
    assert pickle.loads(e.snapshot())["version"] == 3
    for event in events[len(events) // 2 :]:
        restored.feed(event)
    restored.finish()
    assert _alerts(restored) == json.loads((FIXTURE / "after.json").read_text())["alerts"]


def _write() -> None:  # pragma: no cover - run once, by the engine the fixture records
    """Write the fixture with the engine imported (see the module docstring)."""
    events = stream()
    e = engine()
    cut = 0
    # past half way, where a key shows an alert decided on arrival that the in-order
    # pass has not reached: the snapshot then carries that memory too
    while cut < len(events) and not (
        cut >= len(events) // 2
        and any(s.early is not None and s.early.alert is not None for s in e.states.values())
    ):
        e.feed(events[cut])
        cut += 1
    data = e.snapshot()
    kinds = {type(s.early).__name__ for s in e.states.values() if s.early is not None}
    print(f"{len(e.states)} keys, early {kinds}, {e.stats()}", file=sys.stderr)
    changes: list[AlertChange] = []
    e.on_alert = changes.append
    for event in events[cut:]:
        e.feed(event)
    e.finish()
    FIXTURE.joinpath("events.jsonl").write_bytes(
        b"".join(json.dumps(ev.to_json(), ensure_ascii=False).encode() + b"\n" for ev in events)
    )
    FIXTURE.joinpath("snapshot.pickle").write_bytes(data)
    after = {"cut": cut, "changes": _changes(changes), "alerts": _alerts(e), "counts": e.counts}
    FIXTURE.joinpath("after.json").write_text(json.dumps(after, indent=1, ensure_ascii=False))


if __name__ == "__main__":  # pragma: no cover
    _write()
