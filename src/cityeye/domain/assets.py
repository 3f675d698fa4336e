"""What the platform watches: devices, subjects (tracked people or households,
enterprises), venues and buildings, each tagged so scenarios can select them
(``elderly_alone``, ``sales_venue``, ``sensitive``, ``filial`` ...)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True, slots=True)
class Device:
    """A sensor or camera. Events that name it inherit its area, subject, building
    and venue, so a device need not repeat what the world already knows."""

    id: str
    kind: str
    area: str | None = None
    subject: str | None = None
    building: str | None = None
    venue: str | None = None
    tags: tuple[str, ...] = ()
    lat: float | None = None
    lon: float | None = None
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Subject:
    """A tracked entity: an elderly person living alone, a household, an enterprise."""

    id: str
    area: str | None = None
    tags: tuple[str, ...] = ()
    name: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)
    #: Where the subject is expected to be (a circle ``{lat, lon, radius_m}`` or a
    #: GeoJSON Polygon), for a wearable's positions (``{fence: outside}``); private,
    #: like everything about a subject.
    fence: dict[str, Any] | None = None


@dataclass(frozen=True, slots=True)
class Venue:
    """A place with rules of its own: a sales venue, an internet café, a restaurant."""

    id: str
    area: str | None = None
    tags: tuple[str, ...] = ()
    name: str | None = None
    lat: float | None = None
    lon: float | None = None
    extra: dict[str, Any] = field(default_factory=dict)
    #: Its street address (大关路 12 号), for people; optional.
    address: str | None = None
    #: Its floor area in m² (the square, the street's walkable area), optional: a
    #: crowd scenario reads density from it (``venue.area_m2``; 0.5 persons/m² is
    #: 湖滨's warning value, seed 001).
    area_m2: float | None = None


@dataclass(frozen=True, slots=True)
class Building:
    """A building or a place residents know by name: a 小区's 幢, a school, a market.
    Devices name it (``Device.building``); the portal names the nearest one to a pin
    (``cityeye.world.places``). Public: a building says nothing about who lives in it."""

    id: str
    area: str | None = None
    name: str | None = None
    address: str | None = None
    tags: tuple[str, ...] = ()
    lat: float | None = None
    lon: float | None = None
    extra: dict[str, Any] = field(default_factory=dict)
