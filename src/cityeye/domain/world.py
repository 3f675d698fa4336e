"""The world: the district's areas, parties, devices, subjects, venues and buildings.

Everything a rule or a router needs to know that an event does not say itself — which
grid a device is in, which subject is an elderly person living alone, who serves a
community — is looked up here. The world is immutable data; building it from a file
(and validating that file) is ``cityeye.world``'s job.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from cityeye.domain.areas import Area, AreaLevel
from cityeye.domain.assets import Building, Device, Subject, Venue
from cityeye.domain.dates import DEFAULT_TIMEZONE
from cityeye.domain.elections import Household
from cityeye.domain.events import Event
from cityeye.domain.parties import Party
from cityeye.domain.routing import RoutingRule

#: Finds the grid code for a point (lat, lon), or ``None`` outside every grid.
Locator = Callable[[float, float], "str | None"]


@dataclass(frozen=True, slots=True)
class World:
    """A validated district. ``areas`` includes the district itself as the root."""

    district: Area
    timezone: str
    areas: dict[str, Area]
    parties: dict[str, Party] = field(default_factory=dict)
    devices: dict[str, Device] = field(default_factory=dict)
    subjects: dict[str, Subject] = field(default_factory=dict)
    venues: dict[str, Venue] = field(default_factory=dict)
    routing: tuple[RoutingRule, ...] = ()
    #: Deadline overrides, seconds per severity and stage (``{"critical": {"handle":
    #: 1800}}``); the case book lays them over its defaults.
    sla: dict[str, dict[str, int]] = field(default_factory=dict)
    #: Named buildings (optional in a world file; last, so positional callers keep working).
    buildings: dict[str, Building] = field(default_factory=dict)
    #: Response standards as the world file gives them (validated, durations in
    #: seconds); ``None``: the file has no ``standards:`` section, so the built-in ones
    #: apply (:func:`cityeye.cases.standards.standards_for`).
    standards: tuple[dict[str, Any], ...] | None = None
    #: Owner households and their units (业委会选举); empty when the file lists none.
    households: dict[str, Household] = field(default_factory=dict)

    @classmethod
    def empty(cls, timezone: str = DEFAULT_TIMEZONE) -> World:
        """A world with no areas or assets, for replaying events without a world file."""
        root = Area("000000", "(no world)", AreaLevel.DISTRICT)
        return cls(district=root, timezone=timezone, areas={root.code: root})

    def ancestors(self, code: str) -> Iterator[Area]:
        """The area itself, then each parent up to the district."""
        seen: set[str] = set()
        current: str | None = code
        while current is not None and current not in seen:
            seen.add(current)
            area = self.areas.get(current)
            if area is None:
                return
            yield area
            current = area.parent

    def children(self, code: str) -> list[Area]:
        """Direct children of an area, in code order."""
        return sorted((a for a in self.areas.values() if a.parent == code), key=lambda a: a.code)

    def at_level(self, level: AreaLevel) -> list[Area]:
        return sorted((a for a in self.areas.values() if a.level == level), key=lambda a: a.code)

    def enclosing(self, code: str, level: AreaLevel) -> Area | None:
        """The area at ``level`` that contains ``code`` (itself if it is at that level)."""
        for area in self.ancestors(code):
            if area.level == level:
                return area
        return None

    def within(self, code: str | None, ancestor: str) -> bool:
        """Whether area ``code`` is ``ancestor`` or lies inside it."""
        return code is not None and any(a.code == ancestor for a in self.ancestors(code))

    def parties_serving(self, code: str) -> list[Party]:
        """Parties whose declared areas include ``code`` exactly."""
        return [p for p in self.parties.values() if code in p.areas]

    def event_area(self, event: Event, locate: Locator | None = None) -> str | None:
        """The area an event belongs to: its own ``area``, else its device's, else the
        grid its coordinates fall in (when a locator is given)."""
        if event.area is not None:
            return event.area
        if event.device_id is not None:
            device = self.devices.get(event.device_id)
            if device is not None and device.area is not None:
                return device.area
        if locate is not None and event.lat is not None and event.lon is not None:
            return locate(event.lat, event.lon)
        return None

    def event_subject(self, event: Event) -> str | None:
        """The event's subject, else the subject of the device that sent it."""
        if event.subject is not None:
            return event.subject
        device = self.devices.get(event.device_id) if event.device_id else None
        return device.subject if device else None
