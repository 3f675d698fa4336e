"""共治: the closed loop — case lifecycle, routing, deadlines, escalation, KPIs."""

from cityeye.cases.lifecycle import (
    TRANSITIONS,
    Action,
    Actor,
    Role,
    Rule,
    TransitionError,
    allowed,
    apply,
)

__all__ = ["TRANSITIONS", "Action", "Actor", "Role", "Rule", "TransitionError", "allowed", "apply"]
