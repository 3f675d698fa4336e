"""Pure domain model of cityeye: no I/O, no framework, only the ideas and their rules.

Everything else (storage, ingest, engine, web) is an adapter around these types.
"""

from cityeye.domain.alerts import Alert, Severity
from cityeye.domain.areas import Area, AreaLevel
from cityeye.domain.assets import Building, Device, Subject, Venue
from cityeye.domain.cases import Case, CaseOrigin, CaseState, HandlerRole, TimelineEntry
from cityeye.domain.errors import FieldError
from cityeye.domain.events import Event, parse_event, parse_ts
from cityeye.domain.kinds import (
    DEVICE_KINDS,
    EVENT_KINDS,
    PEOPLE_KINDS,
    REPORT_CATEGORIES,
    REPORT_KINDS,
    SIGNS_OF_LIFE,
    ReportCategory,
    is_known_kind,
)
from cityeye.domain.parties import Party, PartyKind
from cityeye.domain.routing import RoutingRule
from cityeye.domain.scenario import KeyBy, Module, ScenarioSpec, TriggerType
from cityeye.domain.world import Locator, World

__all__ = [
    "DEVICE_KINDS",
    "EVENT_KINDS",
    "PEOPLE_KINDS",
    "REPORT_CATEGORIES",
    "REPORT_KINDS",
    "SIGNS_OF_LIFE",
    "Alert",
    "Area",
    "AreaLevel",
    "Building",
    "Case",
    "CaseOrigin",
    "CaseState",
    "Device",
    "Event",
    "FieldError",
    "HandlerRole",
    "KeyBy",
    "Locator",
    "Module",
    "Party",
    "PartyKind",
    "ReportCategory",
    "RoutingRule",
    "ScenarioSpec",
    "Severity",
    "Subject",
    "TimelineEntry",
    "TriggerType",
    "Venue",
    "World",
    "is_known_kind",
    "parse_event",
    "parse_ts",
]
