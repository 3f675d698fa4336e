"""Issue 14, finding 1, replayed: what a stolen or misused ingest credential tried.

A token bound to one door sensor in 上塘 dismissed a case in another street, raised a
critical SOS for another street's resident, and a source-bound token rated a closed
case 1★ without the follow key. Each attack is sent here as it was sent then, over
HTTP (and MQTT, which has no cityeye token at all), and must be refused by name while
the honest events of the same batch go on.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import orjson
import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from cityeye.api.app import create_app
from cityeye.api.tokens import issue
from cityeye.cli import app
from cityeye.domain import Event
from cityeye.ingest.mqtt import MqttIngest, _Received
from cityeye.live.pipeline import LivePipeline
from cityeye.store import DeadLetter, Store
from cityeye.world import load_world

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
NOW = datetime.now(UTC).replace(microsecond=0)


def event(i: int, kind: str, **fields: Any) -> dict[str, Any]:
    return {"id": f"atk-{i}", "kind": kind, "ts": NOW.isoformat(), "source": "gw"} | fields


@pytest.fixture
def store(tmp_path: Path) -> Store:
    s = Store.open(f"sqlite:///{tmp_path / 'attack.db'}")
    s.save_world(load_world(FIXTURES / "world_small.yaml"))
    return s


@pytest.fixture
def pipeline(store: Store) -> LivePipeline:
    return LivePipeline(store, lateness_s=0)


def post(client: TestClient, secret: str, *items: dict[str, Any]) -> list[dict[str, Any]]:
    r = client.post(
        "/api/v1/events",
        content=orjson.dumps(list(items)),
        headers={"authorization": f"Bearer {secret}"},
    )
    assert r.status_code == 200, r.text
    results: list[dict[str, Any]] = r.json()["results"]
    return results


def open_case(pipeline: LivePipeline) -> str:
    """A resident's report in 小河社区 (G0003), made a case as the portal would."""
    report = Event(
        id="r1",
        kind="report.citizen",
        ts=NOW - timedelta(minutes=5),
        source="portal",
        area="G0003",
        attrs={"category": "garbage", "text": "垃圾堆积"},
    )
    pipeline.ingest([report])
    pipeline.tick(NOW)
    [case] = pipeline.store.load_cases()
    return case.id


def test_finding_01_a_door_sensor_token_cannot_dismiss_a_case(
    store: Store, pipeline: LivePipeline
) -> None:
    case_id = open_case(pipeline)
    before = store.get_case(case_id)
    assert before is not None
    stolen = issue(store, label="上塘 门磁", device_id="D1")
    client = TestClient(create_app(store, pipeline))
    forged = event(
        1,
        "case.action",
        device_id="D1",
        attrs={
            "case": case_id,
            "action": "dismiss",
            "role": "dispatcher",
            "note": "误报",
            "immediate": True,
        },
    )
    honest = event(2, "door.open", device_id="D1")
    refused, accepted = post(client, stolen.secret, forged, honest)
    assert (refused["status"], refused["field"]) == ("rejected", "kind")
    assert "/api/v1/cases/" in refused["reason"]
    assert accepted["status"] == "accepted"  # the rest of the batch goes on
    after = store.get_case(case_id)
    assert after is not None
    assert (after.state, len(after.timeline)) == (before.state, len(before.timeline))
    assert [d.field for d in store.dead_letters()] == ["kind"]  # kept, with its reason


def test_finding_01_a_door_sensor_token_cannot_raise_an_sos_elsewhere(
    store: Store, pipeline: LivePipeline
) -> None:
    stolen = issue(store, label="上塘 门磁", device_id="D1")
    client = TestClient(create_app(store, pipeline))
    results = post(
        client,
        stolen.secret,
        event(1, "button.sos", device_id="D1", area="G0003", subject="E1"),
        event(2, "door.open", device_id="D1", area="G0003"),
        event(3, "door.open", device_id="D1", subject="E1"),
        event(4, "door.open", device_id="D1", attrs={"building": "B2"}),
        event(5, "door.open", device_id="D1", attrs={"venue": "V2"}),
        event(6, "door.open", device_id="D1", area="G0001", subject="S1"),  # the truth
    )
    assert [(r["status"], r.get("field")) for r in results] == [
        ("rejected", "kind"),
        ("rejected", "area"),
        ("rejected", "subject"),
        ("rejected", "attrs.building"),
        ("rejected", "attrs.venue"),
        ("accepted", None),
    ]
    assert "door_sensor" in results[0]["reason"]
    assert "button.sos" in results[0]["reason"]
    assert "G0001" in results[1]["reason"]
    assert not any(a.scenario == "elderly.sos" for a in store.alerts())


def test_finding_01_a_source_token_cannot_rate_a_case(store: Store, pipeline: LivePipeline) -> None:
    case_id = open_case(pipeline)
    open311 = issue(store, label="Open311 app", source="open311")
    client = TestClient(create_app(store, pipeline))
    [refused] = post(
        client,
        open311.secret,
        event(
            1,
            "case.action",
            source="open311",
            attrs={"case": case_id, "action": "rate", "role": "reporter", "rating": 1},
        ),
    )
    assert (refused["status"], refused["field"]) == ("rejected", "kind")
    case = store.get_case(case_id)
    assert case is not None
    assert case.rating is None


def test_finding_01_a_gateway_token_held_to_a_street_cannot_send_for_another(
    store: Store, pipeline: LivePipeline
) -> None:
    """A community's gateway (长征桥社区) relays its own devices; an event in 小河社区,
    named or located there, is refused."""
    gateway = issue(store, label="长征桥网关", area="330105001001")
    client = TestClient(create_app(store, pipeline))
    results = post(
        client,
        gateway.secret,
        event(1, "smoke.alarm", device_id="D2"),  # G0002: inside
        event(2, "parking.occupied", device_id="D4"),  # G0003: another community
        event(3, "report.citizen", area="G0003", attrs={"category": "garbage"}),
        event(4, "report.citizen", lat=30.315, lon=120.115, attrs={"category": "garbage"}),
        event(5, "report.citizen", attrs={"category": "garbage"}),  # nowhere
    )
    assert [(r["status"], r.get("field")) for r in results] == [
        ("accepted", None),
        ("rejected", "area"),
        ("rejected", "area"),
        ("rejected", "area"),
        ("rejected", "area"),
    ]


def test_finding_01_a_device_token_for_a_device_not_in_the_world_sends_nothing(
    store: Store, pipeline: LivePipeline
) -> None:
    ghost = issue(store, label="not loaded", device_id="D99")
    client = TestClient(create_app(store, pipeline))
    [refused] = post(client, ghost.secret, event(1, "smoke.alarm", device_id="D99"))
    assert (refused["status"], refused["field"]) == ("rejected", "device_id")
    assert "world" in refused["reason"]


def test_finding_01_open_ingest_still_takes_no_case_moves(
    store: Store, pipeline: LivePipeline
) -> None:
    case_id = open_case(pipeline)
    client = TestClient(create_app(store, pipeline, open_ingest=True))
    r = client.post(
        "/api/v1/events",
        content=orjson.dumps(
            event(1, "case.action", attrs={"case": case_id, "action": "dismiss", "role": "x"})
        ),
    )
    assert r.json()["results"][0]["field"] == "kind"


def test_finding_01_mqtt_clients_cannot_send_case_moves_or_forge_devices(
    store: Store, pipeline: LivePipeline
) -> None:
    """MQTT has no cityeye token: the broker's clients are devices, held to the same
    rules (nothing is connected; the messages are mapped as the subscriber would)."""
    ingest = MqttIngest(pipeline, "mqtt://127.0.0.1:1")

    def mapped(i: int, body: dict[str, Any]) -> object:
        received = _Received("cityeye/events/x", orjson.dumps(body), i, 1, False, NOW, 0)
        return ingest._map(received)

    move = mapped(1, event(1, "case.action", attrs={"case": "C000001", "action": "close"}))
    sos = mapped(2, event(2, "button.sos", device_id="D1"))
    fine = mapped(3, event(3, "door.open", device_id="D1"))
    assert isinstance(move, DeadLetter)
    assert move.field == "kind"
    assert isinstance(sos, DeadLetter)
    assert sos.field == "kind"
    assert not isinstance(fine, DeadLetter)


def test_token_add_holds_a_token_to_an_area(store: Store, tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'attack.db'}"
    runner = CliRunner()
    made = runner.invoke(
        app, ["token", "add", "--label", "长征桥网关", "--area", "330105001001", "--db", url]
    )
    assert made.exit_code == 0, made.output
    [token] = store.api_tokens()
    assert token.area == "330105001001"
    listed = runner.invoke(app, ["token", "list", "--db", url], env={"COLUMNS": "200"})
    assert "330105001001" in listed.output
    bad = runner.invoke(app, ["token", "add", "--label", "x", "--area", "NOPE", "--db", url])
    assert bad.exit_code == 2
    assert "--area NOPE" in bad.output
