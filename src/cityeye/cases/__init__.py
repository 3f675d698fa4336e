"""共治: the closed loop — case lifecycle, routing, deadlines, escalation, KPIs."""

from cityeye.cases.book import CaseBook, Escalation, Tracking
from cityeye.cases.lifecycle import (
    TRANSITIONS,
    Action,
    Actor,
    Role,
    Transition,
    TransitionError,
    allowed,
    apply,
)
from cityeye.cases.routing import escalation_target, route
from cityeye.cases.sla import DEFAULT_SLA, Stage

__all__ = [
    "DEFAULT_SLA",
    "TRANSITIONS",
    "Action",
    "Actor",
    "CaseBook",
    "Escalation",
    "Role",
    "Stage",
    "Tracking",
    "Transition",
    "TransitionError",
    "allowed",
    "apply",
    "escalation_target",
    "route",
]
