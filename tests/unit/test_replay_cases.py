"""Replay with scripted case actions: the closed loop backtested, cases.jsonl written,
and KPIs that a test recomputes from cases.jsonl on its own."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

import orjson

from cityeye.backtest import run_replay
from cityeye.world import load_world

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"


def line(i: int, kind: str, hhmm: str, **fields: Any) -> bytes:
    attrs = fields.pop("attrs", {})
    return orjson.dumps(
        {
            "id": f"e{i}",
            "kind": kind,
            "ts": f"2026-10-01T{hhmm}:00+08:00",
            "source": "gw",
            "attrs": attrs,
        }
        | fields
    )


def action(i: int, hhmm: str, **attrs: Any) -> bytes:
    return line(i, "case.action", hhmm, attrs={"scenario": "fire.smoke", "key": "B2"} | attrs)


def test_scripted_closed_loop(tmp_path: Path) -> None:
    events = [
        line(1, "smoke.alarm", "08:00", device_id="D2"),  # no grid worker for G0002: waits
        action(2, "08:01", action="dispatch", party="P-GW1", actor="dispatcher-1"),
        action(3, "08:02", action="accept", party="P-GW1"),
        action(4, "08:03", action="co_handle", party="P-PM1"),
        action(5, "08:06", action="arrive", party="P-GW1"),
        action(
            6, "08:20", action="handle", party="P-GW1", note="厨房油烟，已处理", photos=["a.jpg"]
        ),
        action(7, "08:30", action="verify", role="verifier", party="P-C1"),
        action(8, "08:31", action="close"),
        action(9, "08:32", action="close"),  # illegal: already closed
        action(10, "08:33", action="teleport"),  # not an action
        line(11, "crowd.count", "09:00", device_id="D3", attrs={"count": 30, "elderly_ratio": 0.8}),
        line(12, "door.open", "10:00", device_id="D1"),  # moves the clock on
    ]
    path = tmp_path / "events.jsonl"
    path.write_bytes(b"\n".join(events) + b"\n")
    run_replay(path, tmp_path / "out", load_world(FIXTURES / "world_small.yaml"))

    cases = [orjson.loads(x) for x in (tmp_path / "out" / "cases.jsonl").read_bytes().splitlines()]
    smoke, crowd = cases
    assert smoke["final_state"] == "closed"
    assert [s["to"] for s in smoke["states"]] == [
        "reported",
        "dispatched",
        "accepted",
        "in_progress",
        "handled",
        "verified",
        "closed",
    ]
    assert (smoke["lead"], smoke["co_handlers"]) == ("P-GW1", ["P-PM1"])
    assert crowd["lead"] == "P-CG"  # health products → government → the district bureau
    assert crowd["final_state"] == "escalated"  # nobody accepted within 10 minutes
    assert crowd["escalations"][0]["stage"] == "accept"

    alerts = [
        orjson.loads(x) for x in (tmp_path / "out" / "alerts.jsonl").read_bytes().splitlines()
    ]
    [smoke_alert] = [a for a in alerts if a["scenario"] == "fire.smoke"]
    assert smoke_alert["resolved_at"] == "2026-10-01T08:20:00+08:00"  # the handled case

    metrics = orjson.loads((tmp_path / "out" / "metrics.json").read_bytes())
    assert [e["id"] for e in metrics["cases"]["rejected_actions"]] == ["e9", "e10"]
    assert "allowed from closed: reopen" in metrics["cases"]["rejected_actions"][0]["reason"]
    kpi = metrics["cases"]["kpis"]

    # recompute independently from cases.jsonl
    closed = [c for c in cases if c["final_state"] == "closed"]
    assert kpi["closed"] == len(closed) == 1
    non_gov = {"P-PM1"}
    co_gov = [c for c in closed if non_gov & {c["lead"], *c["co_handlers"]}]
    assert kpi["co_governance_rate"] == len(co_gov) / len(closed) == 1.0
    opened = datetime.fromisoformat(smoke["states"][0]["at"])
    closed_at = datetime.fromisoformat(smoke["closed_at"])
    assert kpi["times"]["close"]["median_s"] == (closed_at - opened).total_seconds() == 31 * 60
    assert kpi["on_time_rate"] == 1.0  # high: handled within 2 h
    assert kpi["false_alarm_rate"] == 0.0
