"""Deadlines (时限) per severity and stage, on the engine's event-time clock.

:data:`DEFAULT_SLA` is **cityeye's default SLA — our choice**, not a seed's standard: a
critical case is accepted within 1 minute, reached within 5 and handled within 20, and
the other severities get looser limits. The seeds name a "1520" grid-handling mechanism
only as one of 东新街道's digital-governance mechanisms (seed 002, line 746) and never
give its numbers, so nothing here is attributed to it; the emergency standard the seeds
do define, "135" (1 分钟接警、3 分钟出动、5 分钟启动处置), is a *response standard*
measured after the fact (:mod:`cityeye.cases.standards`), not a deadline that escalates.
A world file's ``sla:`` section replaces these per severity (:func:`sla_for`).

Every limit is measured from the case's clock start — its report, or the moment a
severity upgrade restarted the clock — so a case that waits for a dispatcher is already
losing time, which is what a resident experiences.
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum

from cityeye.domain import CaseState, Severity


class Stage(StrEnum):
    ACCEPT = "accept"  # 响应
    ARRIVE = "arrive"  # 到场
    HANDLE = "handle"  # 处置


#: cityeye's default SLA (our choice; see above): seconds from the clock start, per
#: severity and stage; a missing stage has no limit.
DEFAULT_SLA: dict[Severity, dict[Stage, int]] = {
    Severity.CRITICAL: {Stage.ACCEPT: 60, Stage.ARRIVE: 5 * 60, Stage.HANDLE: 20 * 60},
    Severity.HIGH: {Stage.ACCEPT: 10 * 60, Stage.HANDLE: 2 * 3600},
    Severity.MEDIUM: {Stage.ACCEPT: 3600, Stage.HANDLE: 24 * 3600},
    Severity.LOW: {Stage.HANDLE: 72 * 3600},
}

_ORDER = (Stage.ACCEPT, Stage.ARRIVE, Stage.HANDLE)
_STATE_STAGE = {
    CaseState.REPORTED: Stage.ACCEPT,
    CaseState.DISPATCHED: Stage.ACCEPT,
    CaseState.RETURNED: Stage.ACCEPT,
    CaseState.REOPENED: Stage.ACCEPT,
    CaseState.ACCEPTED: Stage.ARRIVE,
    CaseState.IN_PROGRESS: Stage.HANDLE,
}


def stage_of(state: CaseState) -> Stage | None:
    """The stage a case in ``state`` is in (``None`` once handled)."""
    return _STATE_STAGE.get(state)


def next_limit(
    sla: dict[Severity, dict[Stage, int]], severity: Severity, stage: Stage | None
) -> tuple[Stage, int] | None:
    """The first stage from ``stage`` on that has a limit for ``severity``."""
    if stage is None:
        return None
    limits = sla.get(severity, {})
    for candidate in _ORDER[_ORDER.index(stage) :]:
        if candidate in limits:
            return candidate, limits[candidate]
    return None


def handle_limit(sla: Mapping[Severity, Mapping[Stage, int]], severity: Severity) -> int:
    """Seconds from the clock start by which a case must be handled: its severity's
    handle limit, else its last limit, else 72 h."""
    limits = sla.get(severity, {})
    return limits.get(Stage.HANDLE) or max(limits.values(), default=72 * 3600)


def sla_for(overrides: Mapping[str, Mapping[str, int]]) -> dict[Severity, dict[Stage, int]]:
    """The defaults with a world file's ``sla:`` laid over them: a severity named there
    takes exactly the limits given (so a stage can be dropped), the others keep theirs."""
    out = {severity: dict(limits) for severity, limits in DEFAULT_SLA.items()}
    for severity, limits in overrides.items():
        out[Severity(severity)] = {Stage(stage): int(s) for stage, s in limits.items()}
    return out
