"""设备检修: send chronically noisy devices for maintenance (issue 20, alarm quality).

:func:`maintenance_events` looks at the last ``rule.days`` days of alarm outcomes
(:mod:`cityeye.cases.quality`: dismissed as false vs handled) and returns one
``device.maintenance_due`` event per device the rule flags — none while the device has
a maintenance case open, nor within the cool-down after the last one closed.
:func:`run_maintenance` hands them to the pipeline, where the catalogue's
``device.maintenance`` scenario opens the case (one open case per device, like every
scenario keyed by device) and the case book gives it to the device's owner
(:func:`cityeye.cases.quality.device_owner`), else the property company.

Going through the pipeline rather than writing a case directly keeps the one rule of
the store — every case comes from events, so a restart's re-feed and ``cityeye check``
rebuild it the same. The event's id is the device and the local day: asked twice the
same day (two processes, a retry), the second is a duplicate and changes nothing.

It runs as the routine's daily ``maintenance`` job (:mod:`cityeye.routine.jobs`, 07:00
by default, before the morning's reminder) inside ``cityeye serve``, which hands it the
pipeline's ``ingest``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from cityeye.cases.quality import NoisyRule, Tally, by_device, noisy_devices
from cityeye.domain import Event, World, parse_event
from cityeye.domain.users import Scope
from cityeye.store.quality import alarm_outcomes, maintenance_history
from cityeye.store.repo import Store

#: The source the maintenance events are recorded under.
SOURCE = "cityeye-quality"


def maintenance_events(
    store: Store, world: World, now: datetime, rule: NoisyRule | None = None
) -> list[Event]:
    """The ``device.maintenance_due`` events due at ``now`` (see the module)."""
    rule = rule or NoisyRule()
    outcomes = alarm_outcomes(store, world, Scope(None), None, now - timedelta(days=rule.days), now)
    tallies = by_device(outcomes)
    noisy = [d for d, tally in tallies.items() if rule.is_noisy(tally) and d in world.devices]
    history = maintenance_history(store, noisy)
    due = noisy_devices({d: tallies[d] for d in noisy}, history, rule, now)
    day = now.astimezone(ZoneInfo(world.timezone)).date().isoformat()
    return [_event(d, tallies[d], rule, now, day) for d in due]


def _event(device: str, tally: Tally, rule: NoisyRule, now: datetime, day: str) -> Event:
    raw: dict[str, Any] = {
        "id": f"maintenance-{device}-{day}",
        "kind": "device.maintenance_due",
        "ts": now.isoformat(),
        "source": SOURCE,
        "device_id": device,
        "attrs": {
            "false_alarms": tally.false,
            "false_share": tally.false_share,
            "days": rule.days,
        },
    }
    return parse_event(raw)


def run_maintenance(
    store: Store,
    world: World,
    ingest: Callable[[Sequence[Event]], object],
    now: datetime,
    rule: NoisyRule | None = None,
) -> list[str]:
    """Send the devices due for maintenance into the pipeline (``ingest``: the live
    pipeline's); returns their ids."""
    events = maintenance_events(store, world, now, rule)
    if events:
        ingest(events)
    return [str(e.device_id) for e in events]
