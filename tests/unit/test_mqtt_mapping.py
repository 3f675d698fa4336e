"""MQTT topic → event mapping: topic filters and templates, the value and cityeye
formats, the Frigate adapter, and map files whose errors name the field."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import orjson
import pytest
from typer.testing import CliRunner

from cityeye.cli import app
from cityeye.domain import FieldError
from cityeye.errors import ProblemsError
from cityeye.ingest.decode import MAX_EVENT_BYTES
from cityeye.ingest.mqtt import parse_mqtt_url
from cityeye.ingest.mqtt_map import (
    DEFAULT_TOPIC,
    MqttMap,
    MqttMapError,
    default_map,
    load_mqtt_map,
    map_message,
    message_id,
    parse_mqtt_map,
    render,
    topic_filter_problem,
    topic_matches,
)
from cityeye.live.pipeline import LivePipeline
from cityeye.store import Store
from cityeye.world import load_world

REPO = Path(__file__).resolve().parents[2]
FIXTURES = REPO / "tests" / "fixtures"
ARRIVAL = datetime(2026, 10, 1, 2, 0, tzinfo=UTC)
FRIGATE_ID = "1607123955.475377-mxklsc"
START = 1790820000.25  # 2026-09-30T23:20:00.25Z


def mapping(*rules: dict[str, Any]) -> MqttMap:
    return parse_mqtt_map({"rules": list(rules)})


def problems(data: object) -> dict[str, str]:
    with pytest.raises(MqttMapError) as caught:
        parse_mqtt_map(data, "m.yaml")
    return {p.field: p.reason for p in caught.value.problems}


# ---------------------------------------------------------------------- topics
@pytest.mark.parametrize(
    ("topic_filter", "topic", "match"),
    [
        ("cityeye/events/#", "cityeye/events/x/y", True),
        ("cityeye/events/#", "cityeye/events", True),  # '#' includes the parent
        ("cityeye/events/#", "cityeye/eventsx", False),
        ("sensors/+/door", "sensors/d7/door", True),
        ("sensors/+/door", "sensors/d7/x/door", False),
        ("sensors/+/door", "sensors/d7", False),
        ("a/b", "a/b", True),
        ("a/b", "a/b/c", False),
        ("#", "$SYS/broker/uptime", False),
        ("+/broker", "$SYS/broker", False),
    ],
)
def test_topic_matching(topic_filter: str, topic: str, match: bool) -> None:
    assert topic_matches(topic_filter, topic) is match


@pytest.mark.parametrize("bad", ["a/#/b", "a/b#", "a+/b", "a/+x"])
def test_bad_topic_filters_say_why(bad: str) -> None:
    assert topic_filter_problem(bad)


def test_templates_take_topic_levels_and_names() -> None:
    levels = ["sensors", "d7", "door"]
    assert render("{1}", levels) == "d7"
    assert render("gw-{0}-{1}", levels) == "gw-sensors-d7"
    assert render("{camera}:{1}", levels, {"camera": "front"}) == "front:d7"
    with pytest.raises(FieldError, match="no level 5"):
        render("{5}", levels)


# ---------------------------------------------------------------------- value format
def test_a_bare_value_becomes_an_event_of_the_rules_kind() -> None:
    rules = mapping(
        {"topic": "sensors/+/door", "format": "value", "kind": "door.open", "device": "{1}"}
    )
    event = map_message(rules, "sensors/D1/door", b" 1\n", ARRIVAL).event
    assert event is not None
    assert (event.kind, event.device_id, event.source, event.ts) == (
        "door.open",
        "D1",
        "mqtt",
        ARRIVAL,
    )
    assert event.attrs == {"value": 1}
    assert event.id.startswith("mqtt:sensors/D1/door:")
    # the same payload a minute later is another opening, not a duplicate
    later = map_message(rules, "sensors/D1/door", b"1", ARRIVAL + timedelta(minutes=1)).event
    assert later is not None
    assert later.id != event.id


def test_value_format_attr_words_and_refusals() -> None:
    rules = mapping(
        {"topic": "w/+/level", "format": "value", "kind": "water.level", "attr": "cm"},
        {"topic": "p/+", "format": "value", "kind": "power.state", "source": "gw-{1}"},
    )
    level = map_message(rules, "w/R1/level", b"132.5", ARRIVAL).event
    assert level is not None
    assert level.attrs == {"cm": 132.5}
    assert level.device_id is None
    word = map_message(rules, "p/7", b"on", ARRIVAL).event
    assert word is not None
    assert (word.attrs, word.source) == ({"value": "on"}, "gw-7")
    for payload in (b"", b'{"cm": 1}', b"[1]", b"\xff\xfe", b"null"):
        with pytest.raises(FieldError) as caught:
            map_message(rules, "w/R1/level", payload, ARRIVAL)
        assert caught.value.field == "(payload)"


# ---------------------------------------------------------------------- cityeye format
def full_event(**extra: object) -> dict[str, object]:
    return {
        "id": "e1",
        "kind": "smoke.alarm",
        "ts": "2026-10-01T10:00:00+08:00",
        "source": "gw",
        "device_id": "D2",
    } | extra


def test_default_topic_carries_full_events_and_bad_ones_name_the_field() -> None:
    rules = default_map()
    assert rules.topics() == [DEFAULT_TOPIC]
    event = map_message(rules, "cityeye/events/x", orjson.dumps(full_event()), ARRIVAL).event
    assert event is not None
    assert (event.id, event.kind, event.device_id) == ("e1", "smoke.alarm", "D2")
    with pytest.raises(FieldError) as caught:
        map_message(rules, "cityeye/events/x", b"{not json", ARRIVAL)
    assert caught.value.field == "(json)"
    with pytest.raises(FieldError) as caught:
        map_message(rules, "cityeye/events/x", orjson.dumps(full_event(ts=None)), ARRIVAL)
    assert caught.value.field == "ts"
    with pytest.raises(FieldError) as caught:
        map_message(rules, "cityeye/events/x", b" " * (MAX_EVENT_BYTES + 1), ARRIVAL)
    assert caught.value.field == "(event)"


def test_topic_fills_in_only_what_the_payload_lacks() -> None:
    rules = mapping(
        {
            "topic": "gw/+/+/smoke",
            "kind": "smoke.alarm",
            "device": "{2}",
            "source": "{1}",
            "ts_from": "arrival",
        }
    )
    bare = orjson.dumps({"attrs": {"level": 3}})
    event = map_message(rules, "gw/north/D2/smoke", bare, ARRIVAL).event
    assert event is not None
    assert (event.kind, event.device_id, event.source, event.ts) == (
        "smoke.alarm",
        "D2",
        "north",
        ARRIVAL,
    )
    assert event.attrs == {"level": 3}
    own = orjson.dumps({"device_id": "D9", "kind": "smoke.test", "ts": "2026-10-01T09:00:00Z"})
    mine = map_message(rules, "gw/north/D2/smoke", own, ARRIVAL).event
    assert mine is not None
    assert (mine.kind, mine.device_id) == ("smoke.test", "D9")
    assert mine.ts == datetime(2026, 10, 1, 9, tzinfo=UTC)
    # a payload with its own time but no id gets a stable id: a redelivery is a duplicate
    again = map_message(rules, "gw/north/D2/smoke", own, ARRIVAL + timedelta(hours=1)).event
    assert again is not None
    assert again.id == mine.id == message_id("gw/north/D2/smoke", own)


def test_an_unmatched_topic_is_read_as_a_full_event() -> None:
    rules = default_map(["plant/#"], mapping({"topic": "x/+", "format": "value", "kind": "a.b"}))
    assert rules.topics() == ["x/+", "plant/#"]
    event = map_message(rules, "plant/7", orjson.dumps(full_event()), ARRIVAL).event
    assert event is not None
    assert event.id == "e1"


# ---------------------------------------------------------------------- frigate
def frigate(kind: str = "new", before: dict[str, Any] | None = None, **after: Any) -> bytes:
    obj: dict[str, Any] = {
        "id": FRIGATE_ID,
        "camera": "front_door",
        "label": "person",
        "sub_label": None,
        "top_score": 0.95,
        "score": 0.9,
        "current_zones": ["zone1"],
        "entered_zones": ["zone1"],
        "start_time": START,
        "end_time": None,
        "has_snapshot": True,
        "has_clip": True,
        "false_positive": False,
    } | after
    return orjson.dumps({"type": kind, "before": before or {}, "after": obj})


FRIGATE_RULE: dict[str, Any] = {
    "topic": "frigate/events",
    "format": "frigate",
    "snapshot_base": "http://nvr.local:5000/",
}


def test_frigate_new_is_a_camera_detection() -> None:
    event = map_message(mapping(FRIGATE_RULE), "frigate/events", frigate(), ARRIVAL).event
    assert event is not None
    assert (event.id, event.kind, event.source, event.device_id) == (
        FRIGATE_ID,
        "camera.detection",
        "frigate",
        "front_door",
    )
    assert event.ts == datetime.fromtimestamp(START, UTC)
    assert event.attrs == {
        "label": "person",
        "score": 0.95,
        "zone": "zone1",
        "camera": "front_door",
        "snapshot_url": f"http://nvr.local:5000/api/events/{FRIGATE_ID}/snapshot.jpg",
    }


def test_frigate_snapshot_plate_sub_label_and_empty_zones() -> None:
    rules = mapping({"topic": "frigate/events", "format": "frigate"})
    event = map_message(
        rules,
        "frigate/events",
        frigate(
            label="car",
            current_zones=[],
            sub_label=["Alice", 0.8],
            recognized_license_plate="浙A12345",
        ),
        ARRIVAL,
    ).event
    assert event is not None
    assert event.attrs == {
        "label": "car",
        "score": 0.95,
        "zone": None,
        "camera": "front_door",
        "plate": "浙A12345",
        "sub_label": "Alice",
    }  # no snapshot_url without snapshot_base


def test_frigate_updates_count_only_when_label_zone_or_score_changes() -> None:
    rules = mapping(FRIGATE_RULE | {"min_score": 0.7})
    was = {"label": "person", "top_score": 0.95, "current_zones": ["zone1"]}
    same = map_message(rules, "frigate/events", frigate("update", was), ARRIVAL)
    assert same.event is None
    assert same.dropped is not None
    entered = map_message(
        rules,
        "frigate/events",
        frigate("update", was, current_zones=["fire_lane", "zone1"], frame_time=START + 30),
        ARRIVAL,
    ).event
    assert entered is not None
    assert entered.id == f"{FRIGATE_ID}:person:fire_lane"
    assert entered.attrs["zone"] == "fire_lane"
    assert entered.ts == datetime.fromtimestamp(START + 30, UTC)
    # left every zone: not a new detection
    left = map_message(rules, "frigate/events", frigate("update", was, current_zones=[]), ARRIVAL)
    assert left.event is None
    # the new was too weak; the update that crosses min_score is the detection
    weak = {"label": "person", "top_score": 0.5, "current_zones": ["zone1"]}
    crossed = map_message(rules, "frigate/events", frigate("update", weak), ARRIVAL).event
    assert crossed is not None
    assert crossed.id == f"{FRIGATE_ID}:person:zone1"


def test_frigate_end_clears_unless_turned_off() -> None:
    end = frigate("end", end_time=START + 90)
    cleared = map_message(mapping(FRIGATE_RULE), "frigate/events", end, ARRIVAL).event
    assert cleared is not None
    assert (cleared.id, cleared.kind) == (f"{FRIGATE_ID}:end", "camera.cleared")
    assert cleared.ts == datetime.fromtimestamp(START + 90, UTC)
    off = mapping(FRIGATE_RULE | {"cleared": False})
    assert map_message(off, "frigate/events", end, ARRIVAL).event is None


def test_frigate_min_score_false_positives_and_labels() -> None:
    rules = mapping(
        FRIGATE_RULE
        | {"min_score": 0.8, "labels": {"car": "illegal_parking"}, "device": "cam-{camera}"}
    )
    weak = map_message(rules, "frigate/events", frigate(top_score=0.6), ARRIVAL)
    assert (weak.event, weak.dropped) == (None, "score 0.6 below min_score 0.8")
    fp = map_message(rules, "frigate/events", frigate(false_positive=True), ARRIVAL)
    assert fp.event is None
    car = map_message(rules, "frigate/events", frigate(label="car"), ARRIVAL).event
    assert car is not None
    assert car.attrs["label"] == "illegal_parking"
    assert car.attrs["frigate_label"] == "car"
    assert car.device_id == "cam-front_door"
    only = mapping(FRIGATE_RULE | {"labels": {"car": "illegal_parking"}, "labels_only": True})
    assert map_message(only, "frigate/events", frigate(), ARRIVAL).event is None
    assert map_message(only, "frigate/events", frigate(label="car"), ARRIVAL).event is not None


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        (b"[]", "(event)"),
        (orjson.dumps({"type": "gone", "after": {}}), "type"),
        (orjson.dumps({"type": "new"}), "after"),
        (orjson.dumps({"type": "new", "after": {"id": "x", "label": "person"}}), "after.camera"),
        (frigate(top_score="high"), "after.top_score"),
        (frigate(current_zones="zone1"), "after.current_zones"),
        (frigate(start_time=None), "after.start_time"),
        (frigate(start_time=1.0), "ts"),  # 1970: a device clock fault
        (b"\xff not json", "(json)"),
    ],
)
def test_bad_frigate_messages_name_the_field(payload: bytes, field: str) -> None:
    with pytest.raises(FieldError) as caught:
        map_message(mapping(FRIGATE_RULE), "frigate/events", payload, ARRIVAL)
    assert caught.value.field == field


# ---------------------------------------------------------------------- map files
def test_bad_map_files_name_the_field() -> None:
    assert problems({"rules": [{"topic": "a/#", "lables": {}}]}) == {
        "rules[0].lables": "is not a rule field"
    }
    assert "rules[0].format" in problems({"rules": [{"topic": "a", "format": "json"}]})
    assert set(problems({"rules": [{"topic": "a/+", "format": "value"}]})) == {"rules[0].kind"}
    assert problems({"rules": [{"topic": "a", "min_score": 0.5}]}) == {
        "rules[0].min_score": "applies only to format frigate"
    }
    assert "rules[0].min_score" in problems(
        {"rules": [{"topic": "f", "format": "frigate", "min_score": 2}]}
    )
    assert set(problems({"rules": [{"topic": "a/#/b"}]})) == {"rules[0].topic"}
    assert set(problems({"rules": [{"topic": "s/+", "device": "{2}"}]})) == {"rules[0].device"}
    assert set(problems({"rules": [{"topic": "s/+", "device": "{x}"}]})) == {"rules[0].device"}
    assert set(problems({"rules": [{"topic": "s/+", "kind": "Door Open"}]})) == {"rules[0].kind"}
    frigate_kind = {"topic": "f", "format": "frigate", "kind": "camera.detection"}
    assert set(problems({"rules": [{"topic": "ok"}, frigate_kind]})) == {"rules[1].kind"}
    assert set(problems({"rules": [{"topic": "f", "format": "frigate", "snapshot_base": "nvr"}]}))
    assert set(problems({"rule": []})) == {"rules", "rule"}
    assert set(problems(None)) == {"(file)"}
    assert set(problems({"rules": ["a/#"]})) == {"rules[0]"}
    # every rule is checked, not only up to the first problem
    assert set(
        problems(
            {
                "rules": [
                    {"topic": "a/+", "format": "value"},
                    {"topic": "f", "format": "frigate", "min_scor": 0.5},
                    {"topic": "ok", "labels": {"car": "x"}},
                ]
            }
        )
    ) == {"rules[0].kind", "rules[1].min_scor", "rules[2].labels"}


def test_map_file_yaml_and_the_documented_example(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("rules: [topic: a\n", encoding="utf-8")
    with pytest.raises(MqttMapError) as caught:
        load_mqtt_map(bad)
    assert caught.value.problems[0].field == "(document)"  # as for every YAML file
    assert caught.value.problems[0].line == 2
    example = load_mqtt_map(REPO / "docs" / "examples" / "mqtt-map.yaml")
    assert {r.format for r in example.rules} == {"cityeye", "value", "frigate"}
    assert DEFAULT_TOPIC in example.topics()


MAP_WITH_MISTAKES = """\
# a map with three mistakes
rules:
  - topic: cityeye/events/#
  - topic: sensors/+/door
    format: value
  - topic: frigate/events
    format: frigate
    min_scor: 0.7
extra: 1
"""


def test_map_file_problems_name_their_lines(tmp_path: Path) -> None:
    """A map file's problems say where, as a world file's do (one ProblemsError)."""
    path = tmp_path / "map.yaml"
    path.write_text(MAP_WITH_MISTAKES, encoding="utf-8")
    with pytest.raises(ProblemsError) as caught:
        load_mqtt_map(path)
    assert isinstance(caught.value, MqttMapError)
    assert [(p.line, p.field) for p in caught.value.problems] == [
        (4, "rules[1].kind"),
        (8, "rules[2].min_scor"),
        (9, "extra"),
    ]
    assert caught.value.lines()[0] == (
        f"{path}:4: rules[1].kind: is required for format value (e.g. door.open)"
    )
    # a key written twice is refused with its line, as in every other YAML file
    path.write_text("rules:\n  - topic: a\n    topic: b\n", encoding="utf-8")
    with pytest.raises(MqttMapError) as caught:
        load_mqtt_map(path)
    assert caught.value.lines() == [f"{path}:3: rules[0].topic: appears twice in the same mapping"]


def test_serve_prints_the_map_files_problems_with_their_lines(tmp_path: Path) -> None:
    path = tmp_path / "map.yaml"
    path.write_text(MAP_WITH_MISTAKES, encoding="utf-8")
    result = CliRunner().invoke(
        app, ["serve", "--mqtt", "mqtt://127.0.0.1:1", "--mqtt-map", str(path)]
    )
    assert result.exit_code == 1
    assert f"{path}:8: rules[2].min_scor: is not a rule field" in result.output
    assert f"{path}:9: extra: is not a section; expected only rules:" in result.output
    assert "3 problem(s) in the MQTT map" in result.output


def test_mqtt_urls() -> None:
    url = parse_mqtt_url("mqtt://cam%40gw:s3cret@broker.local?client_id=cityeye-1")
    assert (url.host, url.port, url.tls, url.username, url.password, url.client_id) == (
        "broker.local",
        1883,
        False,
        "cam@gw",
        "s3cret",
        "cityeye-1",
    )
    assert "s3cret" not in str(url)
    assert parse_mqtt_url("mqtts://b:9000").port == 9000
    assert parse_mqtt_url("mqtts://b").port == 8883
    for bad in ("http://b", "mqtt://", "mqtt://b?qos=2", "mqtt://b:99999"):
        with pytest.raises(ValueError, match="mqtt"):
            parse_mqtt_url(bad)


# ---------------------------------------------------------------------- pipeline
def test_ingest_raw_dead_letters_keep_the_exact_bytes_and_the_ref(tmp_path: Path) -> None:
    store = Store.open(f"sqlite:///{tmp_path / 'c.db'}")
    store.save_world(load_world(FIXTURES / "world_small.yaml"))
    pipeline = LivePipeline(store)
    bad = b'{"id": "x", "kind": "door.open", \xff'
    results = pipeline.ingest_raw([orjson.dumps(full_event()), bad], "http", ref="req-7")
    assert [r.status for r in results] == ["accepted", "rejected"]
    [letter] = store.dead_letters()
    assert (letter.ref, letter.payload, letter.field) == ("req-7 item 1", bad, "(json)")
    store.close()
