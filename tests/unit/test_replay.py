"""`cityeye replay`: bad lines reported and skipped, nothing good lost, same bytes out."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson
import pytest
from typer.testing import CliRunner

from cityeye.backtest import run_replay
from cityeye.cli import app
from cityeye.store import Store
from cityeye.world import load_world

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"


def ev(i: int, kind: str = "door.open", **extra: Any) -> bytes:
    obj = {
        "id": f"e{i}",
        "kind": kind,
        "ts": f"2026-10-01T08:{i:02d}:00+08:00",
        "source": "gw",
        "device_id": "D1",
        "attrs": {},
    } | extra
    return orjson.dumps(obj)


@pytest.fixture
def events_file(tmp_path: Path) -> Path:
    lines = [
        ev(1),
        b'{"id": "e2", "kind": "door.open", "ts": ',  # malformed: line 2
        ev(3, kind="drone.sighting"),  # unknown kind: stored and counted
        ev(1),  # duplicate of line 1: line 4
        b"",  # blank line
        ev(6, ts="2026-10-01T08:06:00"),  # no offset: line 6
        ev(7, device_id=None, lat=30.315, lon=120.11),  # area from coordinates
        ev(8, device_id="D2"),
    ]
    path = tmp_path / "events.jsonl"
    path.write_bytes(b"\n".join(lines) + b"\n")
    return path


def test_replay_reports_each_problem_and_keeps_every_good_event(
    events_file: Path, tmp_path: Path
) -> None:
    world = load_world(FIXTURES / "world_small.yaml")
    result = run_replay(events_file, tmp_path / "out", world)
    metrics = orjson.loads((tmp_path / "out" / "metrics.json").read_bytes())
    assert metrics["input"] == {"lines": 8, "blank": 1}
    events = metrics["events"]
    assert (events["accepted"], events["duplicates"], events["rejected"]) == (4, 1, 2)
    assert events["by_kind"] == {"door.open": 3, "drone.sighting": 1}
    assert events["unknown_kinds"] == {"drone.sighting": 1}
    assert events["by_street"] == {"330105001": 4}
    assert [(r["line"], r["field"]) for r in metrics["rejected"]] == [(2, "(json)"), (6, "ts")]
    assert metrics["duplicates"] == [{"line": 4, "source": "gw", "id": "e1"}]
    assert result.accepted == 4

    store = Store.open(f"sqlite:///{tmp_path / 'out' / 'cityeye.db'}")
    try:
        assert store.event_count() == 4
        for event_id in ("e1", "e3", "e7", "e8"):
            assert store.get_event("gw", event_id) is not None
        assert [d.ref for d in store.dead_letters()] == ["line 2", "line 6"]
        assert store.load_world() == world
        by_area = store.event_counts_by_area(world, world.district.level)
        assert by_area == {"330105": 4}
    finally:
        store.close()


def test_replay_is_byte_for_byte_deterministic(events_file: Path, tmp_path: Path) -> None:
    world = load_world(FIXTURES / "world_small.yaml")
    run_replay(events_file, tmp_path / "a", world)
    run_replay(events_file, tmp_path / "b", world)
    assert (tmp_path / "a" / "metrics.json").read_bytes() == (
        tmp_path / "b" / "metrics.json"
    ).read_bytes()


def test_replay_over_an_old_output_starts_fresh(events_file: Path, tmp_path: Path) -> None:
    run_replay(events_file, tmp_path / "out")
    again = run_replay(events_file, tmp_path / "out")
    assert again.duplicates == 1  # only the in-file duplicate, not the previous run's


def test_cli_replay_prints_line_numbers(events_file: Path, tmp_path: Path) -> None:
    result = CliRunner().invoke(
        app,
        [
            "replay",
            str(events_file),
            "--out",
            str(tmp_path / "o"),
            "--world",
            str(FIXTURES / "world_small.yaml"),
        ],
    )
    assert result.exit_code == 0, result.output
    assert f"{events_file}:2: (json): not valid JSON" in result.output
    assert f"{events_file}:6: ts:" in result.output
    assert "4 events accepted" in result.output
    assert "1 duplicates" in result.output
    assert "2 rejected" in result.output
    assert "drone.sighting ×1" in result.output
