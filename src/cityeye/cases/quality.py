"""Alarm quality (误报率): how the alarms of each scenario and each device ended, and
which devices are so noisy that they need maintenance rather than more dispatches.

Why: 智慧消安 raised "系统预警 3000 余起，有效处置真实警情 6 起" (seed 000:287). A
platform that cries wolf that often trains people to ignore it; the only honest measure
of a sensor is what the people who went to look found. So the statistics here come from
case *dispositions*, never from the sensors' own claims:

* ``false`` — dismissed as a false alarm on site (误报撤销, :attr:`CaseState.DISMISSED`);
* ``real`` — something was there and was handled (已处置 / 已核查 / 已结案);
* ``self_resolved`` — the alarm cleared itself before anyone was sent (not judged);
* ``open`` — not decided yet (not judged).

``false_share`` = false / (false + real): the share of *judged* alarms found false; it
is ``None`` when nothing was judged ("no verdict" is not "0 % false").

Each alarm counts once, for the case it opened (cases opened in the period), and for
the device whose event opened the alert behind it (for a building-keyed scenario such as
``fire.smoke``, the detector that alarmed first).

The maintenance rule (:class:`NoisyRule`) is ours, not the seeds': the seeds give 3,000+
warnings from 467 devices in a year, about 6 per device-year, so a device with 5 or more
false alarms in 30 days (about ten times that) of which at least 80 % of the judged ones
were false is treated as faulty (dust, steam, a failing sensor) and sent for maintenance.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from cityeye.domain import CaseState, FieldError, World

#: The scenario of the maintenance cases the noisy-device rule opens (keyed by device).
MAINTENANCE_SCENARIO = "device.maintenance"
#: The case states that count as "something real was there" (judged, not false).
REAL_STATES = frozenset({CaseState.HANDLED, CaseState.VERIFIED, CaseState.CLOSED})


@dataclass(frozen=True, slots=True)
class Outcome:
    """One alarm: the case it opened, its scenario, the device that raised it (``None``:
    not a device's, e.g. a resident's report) and the case's state now."""

    case_id: str
    scenario: str
    device: str | None
    state: CaseState
    area: str | None = None


def verdict(state: CaseState) -> str:
    """``false``, ``real``, ``self_resolved`` or ``open`` (see the module's docstring)."""
    if state == CaseState.DISMISSED:
        return "false"
    if state in REAL_STATES:
        return "real"
    if state == CaseState.SELF_RESOLVED:
        return "self_resolved"
    return "open"


@dataclass(slots=True)
class Tally:
    """The alarms of one scenario or one device, by verdict."""

    alarms: int = 0
    false: int = 0
    real: int = 0
    self_resolved: int = 0
    open: int = 0
    scenarios: set[str] = field(default_factory=set)

    def add(self, outcome: Outcome) -> None:
        self.alarms += 1
        name = verdict(outcome.state)
        setattr(self, name, getattr(self, name) + 1)
        self.scenarios.add(outcome.scenario)

    @property
    def judged(self) -> int:
        return self.false + self.real

    @property
    def false_share(self) -> float | None:
        return round(self.false / self.judged, 4) if self.judged else None

    def to_json(self) -> dict[str, int | float | None]:
        return {
            "alarms": self.alarms,
            "false": self.false,
            "real": self.real,
            "self_resolved": self.self_resolved,
            "open": self.open,
            "false_share": self.false_share,
        }


def by_scenario(outcomes: Iterable[Outcome]) -> dict[str, Tally]:
    """The tallies per scenario, in scenario order."""
    out: dict[str, Tally] = {}
    for outcome in outcomes:
        out.setdefault(outcome.scenario, Tally()).add(outcome)
    return dict(sorted(out.items()))


def by_device(outcomes: Iterable[Outcome]) -> dict[str, Tally]:
    """The tallies per device (alarms without a device are left out), the noisiest
    first: most false alarms, then the highest false share, then the device id."""
    out: dict[str, Tally] = {}
    for outcome in outcomes:
        if outcome.device is not None:
            out.setdefault(outcome.device, Tally()).add(outcome)
    return dict(
        sorted(out.items(), key=lambda kv: (-kv[1].false, -(kv[1].false_share or 0), kv[0]))
    )


@dataclass(frozen=True, slots=True)
class NoisyRule:
    """When a device goes for maintenance (ours; see the module's docstring): at least
    ``min_false`` false alarms and a false share of at least ``min_share`` over the last
    ``days`` days; never while a maintenance case for it is open, nor within
    ``cooldown_days`` of the last one closing (the fix gets time to show)."""

    min_false: int = 5
    min_share: float = 0.8
    days: int = 30
    cooldown_days: int = 14

    def __post_init__(self) -> None:
        if self.min_false < 1:
            raise FieldError("min_false", f"{self.min_false}: give at least 1")
        if not 0 < self.min_share <= 1:
            raise FieldError("min_share", f"{self.min_share}: give a share in (0, 1]")
        if self.days < 1:
            raise FieldError("days", f"{self.days}: give at least 1 day")
        if self.cooldown_days < 0:
            raise FieldError("cooldown_days", f"{self.cooldown_days}: give 0 or more days")

    def is_noisy(self, tally: Tally) -> bool:
        share = tally.false_share
        return tally.false >= self.min_false and share is not None and share >= self.min_share


@dataclass(frozen=True, slots=True)
class Maintenance:
    """The device's maintenance history as the rule needs it: whether a maintenance
    case is open now and when the last one ended (``None``: never)."""

    open: bool = False
    last_closed: datetime | None = None


def noisy_devices(
    tallies: dict[str, Tally],
    history: dict[str, Maintenance],
    rule: NoisyRule,
    now: datetime,
) -> list[str]:
    """The devices to send for maintenance now: noisy by ``rule`` over its window (the
    caller tallies the last ``rule.days`` days), with no maintenance case open and none
    closed within the cool-down. A device that recovered (fewer false alarms, or a lower
    share, in the window) is not flagged again."""
    cooldown = timedelta(days=rule.cooldown_days)
    out = []
    for device, tally in tallies.items():
        if not rule.is_noisy(tally):
            continue
        past = history.get(device, Maintenance())
        if past.open:
            continue
        if past.last_closed is not None and now - past.last_closed < cooldown:
            continue
        out.append(device)
    return sorted(out)


def device_owner(world: World, device_id: str) -> str | None:
    """The party that owns or maintains a device: ``owner:`` on the device in the world
    file (checked there to name a party); ``None`` when it names none, and then the
    maintenance case goes where its scenario routes (the property company)."""
    device = world.devices.get(device_id)
    owner = device.extra.get("owner") if device is not None else None
    return str(owner) if owner is not None and str(owner) in world.parties else None
