"""Scenario specs (场景): the declarative rules of 云 analysis.

A spec is data — loaded from YAML by ``cityeye.scenarios`` and stored as JSON — so an
integrator can add a scenario without code and backtest it on recorded events.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from cityeye.domain.alerts import Severity
from cityeye.domain.labels import Labelled
from cityeye.domain.parties import PartyKind

#: The scenario every resident's or hotline report goes through (keyed by event, so
#: each report is its own alert and case); the portal, Open311 and the hotline import
#: find a report's case by it.
REPORT_SCENARIO = "citizen.report"


class Module(Labelled):
    """The catalogue's modules: v3.0's four (seed 003:831), then 民生服务 and 企业服务, a
    grouping of cityeye's own for v1.0's and v2.0's scenes (docs/catalogue.md)."""

    CITY_MANAGEMENT = "city_management", "城市管理", "City management"
    PUBLIC_SECURITY = "public_security", "治安管理", "Public security"
    EMERGENCY = "emergency", "应急管理", "Emergency management"
    MARKET = "market", "市场监管", "Market supervision"
    LIVELIHOOD = "livelihood", "民生服务", "Livelihood services"
    ENTERPRISE = "enterprise", "企业服务", "Enterprise services"


class TriggerType(StrEnum):
    THRESHOLD = "threshold"
    ABSENCE = "absence"
    COUNT = "count"
    DURATION = "duration"
    COOCCURRENCE = "cooccurrence"
    BASELINE = "baseline"
    SCORE = "score"


class KeyBy(StrEnum):
    """The entity a scenario tracks (SCENARIOS.md "Key")."""

    DEVICE = "device"
    SUBJECT = "subject"
    BUILDING = "building"
    VENUE = "venue"
    ENTERPRISE = "enterprise"
    AREA = "area"
    EVENT = "event"


@dataclass(frozen=True, slots=True)
class ScenarioSpec:
    """One scenario as stored and listed. ``trigger``, ``upgrades`` and ``resolve`` hold
    the type-specific parameters as plain data; ``cityeye.scenarios`` validates them and
    compiles them for the engine."""

    id: str
    module: Module
    name_zh: str
    name_en: str
    reads: tuple[str, ...]
    key: KeyBy
    trigger: dict[str, Any]
    severity: Severity | dict[str, Any]
    route: PartyKind
    tags: tuple[str, ...] = ()
    when: dict[str, Any] | None = None
    upgrades: tuple[dict[str, Any], ...] = ()
    resolve: dict[str, Any] | None = None
    merge_window_s: float | None = None
    #: A tag, or the scenario's own deadlines (seconds per stage name).
    sla: str | dict[str, int] | None = None
    #: Severities recorded and counted but not dispatched (no case).
    record_only: tuple[Severity, ...] = ()
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def trigger_type(self) -> TriggerType:
        return TriggerType(self.trigger["type"])
