"""Detections that are counted, not dispatched: the lift's own tallies.

The seeds report what the lifts' IoT boxes did as counts — "系统阻止电动车上楼39373次，
劝阻不文明乘梯107794次，电梯故障预警3291次" (seed 000, lines 120 and 128) — not as cases:
the lift refuses to close on an e-bike and the platform counts it. :data:`LIFT_TALLIES`
names those three counts in the seeds' words; :func:`tally` groups stored events of
those kinds per lift, building or community, which is how a street reads them.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from enum import StrEnum

from cityeye.domain.areas import AreaLevel
from cityeye.domain.kinds import DEVICE_KINDS
from cityeye.domain.world import World


@dataclass(frozen=True, slots=True)
class Tally:
    """One counted kind of event, with what a report calls it."""

    kind: str
    zh: str
    en: str


#: The lift's three counts, in the seed's words (000:120, 000:128).
LIFT_TALLIES: tuple[Tally, ...] = (
    Tally("elevator.ebike_detected", "阻止电动车上楼", "e-bikes blocked from going upstairs"),
    Tally("elevator.incivility_detected", "劝阻不文明乘梯", "uncivil lift use discouraged"),
    Tally("elevator.fault", "电梯故障预警", "lift fault warnings"),
)


class TallyBy(StrEnum):
    """What the counts are grouped by."""

    DEVICE = "device"
    BUILDING = "building"
    COMMUNITY = "community"


@dataclass(slots=True)
class TallyGroup:
    """The counts of one lift, building or community (``id`` ``""``: not known)."""

    id: str
    name: str
    counts: dict[str, int] = field(default_factory=dict)

    @property
    def total(self) -> int:
        return sum(self.counts.values())


#: (device id, area code, kind, count) as the store counts stored events.
Row = tuple[str | None, str | None, str, int]


def _group_of(
    world: World, by: TallyBy, device_id: str | None, area: str | None
) -> tuple[str, str]:
    """(id, name people read) of the group a row falls in."""
    device = world.devices.get(device_id) if device_id else None
    if by == TallyBy.COMMUNITY:
        community = world.enclosing(area, AreaLevel.COMMUNITY) if area else None
        return (community.code, community.name) if community else ("", "未知社区")
    building_id = device.building if device is not None else None
    building = world.buildings.get(building_id) if building_id else None
    building_name = (building.name if building else None) or building_id or "未登记楼宇"
    if by == TallyBy.BUILDING:
        return building_id or "", building_name
    if device_id is None:
        return "", "未知设备"
    kind = DEVICE_KINDS.get(device.kind) if device is not None else None
    return device_id, f"{building_name} · {kind.zh if kind else '电梯'} {device_id}"


def tally(
    world: World,
    rows: Iterable[Row],
    by: TallyBy,
    areas: set[str] | None = None,
    kinds: tuple[Tally, ...] = LIFT_TALLIES,
) -> list[TallyGroup]:
    """The counts per group, most first (then by id); ``areas``: only rows whose area
    is one of these (``None``: all, rows without an area included)."""
    wanted = {t.kind for t in kinds}
    groups: dict[str, TallyGroup] = {}
    for device_id, area, kind, n in rows:
        if kind not in wanted or (areas is not None and area not in areas):
            continue
        gid, name = _group_of(world, by, device_id, area)
        group = groups.setdefault(gid, TallyGroup(gid, name, dict.fromkeys(sorted(wanted), 0)))
        group.counts[kind] += n
    return sorted(groups.values(), key=lambda g: (-g.total, g.id))


def totals(groups: Iterable[TallyGroup], kinds: tuple[Tally, ...] = LIFT_TALLIES) -> dict[str, int]:
    """Each kind's count over all groups."""
    out = {t.kind: 0 for t in kinds}
    for group in groups:
        for kind, n in group.counts.items():
            out[kind] = out.get(kind, 0) + n
    return out
