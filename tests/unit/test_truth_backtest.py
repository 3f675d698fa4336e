"""The backtest against the truth (issue 20, alarm quality 2–3): the simulator plants
real fires among nuisance alarms at the seeds' ratio (000:287: 3,000+ warnings, 6 real
fires), and `cityeye backtest` scores single-sensor alarming against the catalogue's
verified rule — which must be ≥ 10× as precise and miss no real fire."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import orjson
import pytest
from typer.testing import CliRunner

from cityeye.cli import app
from cityeye.demo import build_demo_world
from cityeye.demo.simulator import Plant, planted
from cityeye.demo.truth import Seen, score_fire, score_scenarios
from cityeye.domain import Device, World
from cityeye.sourcefile import SourceDoc
from cityeye.world import build_world
from kit import small_world

TZ = ZoneInfo("Asia/Shanghai")
START = datetime(2026, 10, 29, tzinfo=TZ)
SEED = 2021


@pytest.fixture(scope="module")
def world() -> World:
    return build_world(SourceDoc(data=build_demo_world(SEED)))


def t(minutes: float) -> datetime:
    return START + timedelta(minutes=minutes)


def test_nuisance_alarms_reach_the_seeds_ratio_and_spare_the_planted_fires(world: World) -> None:
    plain = planted(world, start=START, hours=24, seed=SEED)
    noisy = planted(world, start=START, hours=24, seed=SEED, nuisance=True)
    assert noisy[: len(plain)] == plain  # the other plants do not move
    extra = noisy[len(plain) :]
    fires = [p for p in plain if p.scenario == "fire.smoke" and p.role == "positive"]
    near = {p.key for p in plain if p.scenario == "fire.smoke" and p.role == "near_miss"}
    # 500 warnings per real fire, the planted patterns' own 12 alarms included
    assert len(extra) == 500 * len(fires) - 12
    assert all(p.role == "false_alarm" and p.device for p in extra)
    assert not {p.key for p in extra} & ({p.key for p in fires} | near)
    per_device: dict[str, int] = {}
    for p in extra:
        per_device[p.device] = per_device.get(p.device, 0) + 1
    assert max(per_device.values()) >= 10  # a faulty few carry most of it
    again = planted(world, start=START, hours=24, seed=SEED, nuisance=True)
    assert again == noisy  # deterministic


def test_the_fire_rows_count_alarms_hits_misses_and_the_time_to_critical() -> None:
    fire = Plant("fire.smoke", "positive", "B1", t(0), "real")
    missed = Plant("fire.smoke", "positive", "B9", t(100), "real, never verified")
    alarms = [("B1", t(0)), ("B1", t(1)), ("B2", t(5)), ("B3", t(6)), ("B9", t(100))]
    seen = [
        Seen("fire.smoke", "B1", t(0), critical_at=t(1)),
        Seen("fire.smoke", "B2", t(5)),
        Seen("fire.smoke", "B3", t(6), critical_at=t(6.5)),  # two nuisances by chance
        Seen("fire.smoke", "B9", t(100)),
    ]
    rows = score_fire(alarms, seen, [fire, missed])
    single, verified = rows["single"].to_json(), rows["verified"].to_json()
    assert (single["alarms"], single["true"], single["found"]) == (5, 3, 2)
    assert (verified["alarms"], verified["true"], verified["missed"]) == (2, 1, 1)
    assert verified["precision"] == 0.5
    assert verified["time_to_alert_median_s"] == 60.0


def test_scenario_rows_match_keys_through_venues_and_per_metric_keys() -> None:
    world = small_world(devices=[Device("GD1", "gas_detector", "G1", venue="V1")])
    plants = [
        Plant("gas.leak", "positive", "GD1", t(0), "a device's leak, keyed by venue"),
        Plant("enterprise.abnormal", "positive", "E1", t(0), "revenue"),
        Plant("elderly.inactive", "silent", "S2", t(0), "never seen"),
        Plant("elderly.inactive", "near_miss", "S1", t(0), "must not fire"),
    ]
    seen = [
        Seen("gas.leak", "V1", t(1)),
        Seen("enterprise.abnormal", "E1/revenue", t(0)),
        Seen("elderly.inactive", "S2", t(60 * 20)),
        Seen("elderly.inactive", "S1", t(60 * 20)),  # the near miss fired: a false alert
        Seen("enterprise.abnormal", "E1/revenue", t(60 * 30)),  # past the horizon
    ]
    rows = {k: v.to_json() for k, v in score_scenarios(world, seen, plants).items()}
    assert rows["gas.leak"]["recall"] == 1.0
    assert rows["gas.leak"]["time_to_alert_median_s"] == 60.0
    assert (rows["enterprise.abnormal"]["true"], rows["enterprise.abnormal"]["false"]) == (1, 1)
    assert (rows["elderly.inactive"]["precision"], rows["elderly.inactive"]["recall"]) == (0.5, 1.0)


def test_backtest_command_on_the_demo_world_meets_the_issues_target(
    world: World, tmp_path: Path
) -> None:
    runner = CliRunner()
    world_file = tmp_path / "world.yaml"
    made = runner.invoke(app, ["world", "demo", "--seed", str(SEED), "--out", str(world_file)])
    assert made.exit_code == 0, made.output
    out = tmp_path / "bt"
    args = ["backtest", "--world", str(world_file), "--out", str(out), "--hours", "24"]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    assert "single-sensor" in result.output
    truth = orjson.loads((out / "truth.json").read_bytes())
    fire = truth["fire"]
    assert truth["run"]["smoke_alarms"] == 500 * truth["run"]["real_fires"] > 0
    assert fire["verified"]["missed"] == 0
    assert fire["verified"]["precision"] >= 10 * fire["single"]["precision"]
    assert truth["fire_verified_vs_single_precision"] >= 10
    assert fire["single"]["precision"] < 0.01  # the seeds' problem, reproduced
    assert truth["scenarios"]["fire.smoke"]["recall"] == 1.0
    assert (out / "alerts.jsonl").exists()  # the replay's own files beside it
