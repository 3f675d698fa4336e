"""Chronically noisy devices are sent for maintenance (issue 20, alarm quality 1): the
rule (ours: ≥ 5 false alarms in 30 days, ≥ 80 % of the judged ones false) opens one
maintenance case per device, to the device's owner, never two at once nor again
within the cool-down, and not for a device whose false alarms stopped."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import orjson
import pytest

from cityeye.cases.quality import NoisyRule, Tally, noisy_devices
from cityeye.domain import CaseState, FieldError
from cityeye.errors import ProblemsError
from cityeye.live.pipeline import LivePipeline
from cityeye.routine.maintenance import maintenance_events, run_maintenance
from cityeye.store import Store
from cityeye.world import load_world

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
TZ = ZoneInfo("Asia/Shanghai")
DAY0 = datetime(2026, 10, 1, tzinfo=TZ)
_n = iter(range(1, 10_000))


def line(kind: str, at: datetime, **fields: Any) -> bytes:
    attrs = fields.pop("attrs", {})
    event = {"id": f"m{next(_n)}", "kind": kind, "ts": at.isoformat(), "source": "gw"}
    return orjson.dumps(event | {"attrs": attrs} | fields)


def alarm(device: str, building: str, at: datetime, real: bool) -> list[bytes]:
    """A smoke alarm, and the grid worker who went to look: false, or a real fire."""

    def act(minutes: int, action: str, **attrs: Any) -> bytes:
        base = {"scenario": "fire.smoke", "key": building, "action": action}
        return line("case.action", at + timedelta(minutes=minutes), attrs=base | attrs)

    steps = [
        line("smoke.alarm", at, device_id=device),
        act(1, "dispatch", party="P-GW1", actor="dispatcher-1"),
        act(2, "accept", party="P-GW1"),
    ]
    if real:
        return [
            *steps,
            act(3, "arrive", party="P-GW1"),
            act(5, "handle", party="P-GW1", note="已处置", photos=["a.jpg"]),
            act(6, "verify", role="verifier", party="P-C1"),
            act(7, "close"),
        ]
    return [*steps, act(4, "dismiss", role="handler", note="现场核实为误报")]


@pytest.fixture
def district(tmp_path: Path) -> Iterator[tuple[Store, LivePipeline]]:
    """D2 (长征桥, owned by 长征桥社区居委会) alarms falsely six times; D5 (小河, no
    owner) five false alarms and three real fires — mostly false, but not 80 %."""
    text = (FIXTURES / "world_small.yaml").read_text(encoding="utf-8")
    text = text.replace(
        "  - {id: D2, kind: smoke_detector, area: G0002, building: B2}\n",
        "  - {id: D2, kind: smoke_detector, area: G0002, building: B2, owner: P-C1}\n"
        "  - {id: D5, kind: smoke_detector, area: G0003, building: B5}\n",
    )
    (tmp_path / "world.yaml").write_text(text, encoding="utf-8")
    world = load_world(tmp_path / "world.yaml")
    store = Store.open(f"sqlite:///{tmp_path / 'm.db'}")
    store.save_world(world)
    pipeline = LivePipeline(store, lateness_s=0)
    lines: list[bytes] = []
    for i in range(6):
        lines += alarm("D2", "B2", DAY0 + timedelta(hours=8 + i), real=False)
    for i in range(8):
        lines += alarm("D5", "B5", DAY0 + timedelta(hours=8 + i, minutes=30), real=i >= 5)
    pipeline.ingest_raw(lines, "test")
    yield store, pipeline
    store.close()


def maintenance_cases(store: Store) -> list[Any]:
    return [c for c in store.load_cases() if c.scenario == "device.maintenance"]


def test_a_noisy_device_gets_one_maintenance_case_to_its_owner(
    district: tuple[Store, LivePipeline],
) -> None:
    store, pipeline = district
    world = store.load_world()
    assert world is not None
    now = DAY0 + timedelta(hours=20)
    assert run_maintenance(store, world, pipeline.ingest, now) == ["D2"]  # D5: 5 of 8
    [case] = maintenance_cases(store)
    assert (case.key, case.lead, case.state) == ("D2", "P-C1", CaseState.DISPATCHED)
    assert "设备检修" in case.title
    # asked again (tomorrow, another process): the open case is enough
    assert run_maintenance(store, world, pipeline.ingest, now + timedelta(days=1)) == []
    assert len(maintenance_cases(store)) == 1


def test_after_the_repair_a_cool_down_then_only_if_still_noisy(
    district: tuple[Store, LivePipeline],
) -> None:
    store, pipeline = district
    world = store.load_world()
    assert world is not None
    now = DAY0 + timedelta(hours=20)
    run_maintenance(store, world, pipeline.ingest, now)
    done = now + timedelta(hours=2)

    def act(minutes: int, action: str, **attrs: Any) -> bytes:
        base = {"scenario": "device.maintenance", "key": "D2", "action": action}
        return line("case.action", done + timedelta(minutes=minutes), attrs=base | attrs)

    pipeline.ingest_raw(
        [
            act(0, "accept", party="P-C1"),
            act(1, "handle", party="P-C1", note="已更换探测器", photos=["b.jpg"]),
            act(2, "verify", role="verifier", party="P-C1"),
            act(3, "close"),
        ],
        "test",
    )
    [case] = maintenance_cases(store)
    assert case.state == CaseState.CLOSED
    # within the 14-day cool-down: not again, though the month's figures still say noisy
    assert maintenance_events(store, world, done + timedelta(days=10)) == []
    # after it, with the false alarms still in the 30-day window: sent again
    [again] = maintenance_events(store, world, done + timedelta(days=15))
    assert again.device_id == "D2"
    assert again.attrs["false_alarms"] == 6
    # a device that recovered — no false alarm in the last 30 days — is left alone
    assert maintenance_events(store, world, DAY0 + timedelta(days=31)) == []


def test_the_rule_by_itself() -> None:
    rule = NoisyRule(min_false=5, min_share=0.8, days=30, cooldown_days=14)
    noisy, mixed, few = Tally(false=5), Tally(false=5, real=2), Tally(false=4)
    assert rule.is_noisy(noisy)
    assert not rule.is_noisy(mixed)  # 5 of 7 judged: 71 % false
    assert not rule.is_noisy(few)
    now = DAY0
    assert noisy_devices({"A": noisy, "B": mixed, "C": few}, {}, rule, now) == ["A"]
    with pytest.raises(FieldError, match="min_share"):
        NoisyRule(min_share=1.5)


def test_an_owner_that_is_no_party_is_refused_naming_the_field(tmp_path: Path) -> None:
    text = (FIXTURES / "world_small.yaml").read_text(encoding="utf-8")
    text = text.replace("building: B2}", "building: B2, owner: P-NOBODY}")
    (tmp_path / "world.yaml").write_text(text, encoding="utf-8")
    with pytest.raises(ProblemsError, match="owner") as refused:
        load_world(tmp_path / "world.yaml")
    assert "P-NOBODY" in str(refused.value)
