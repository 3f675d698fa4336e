"""Routing rules (派遣规则): who handles which scenarios where, kept as data.

A scenario names the *kind* of party that usually handles it (``route: property``);
a district refines that in its world file without touching code — "in 小河街道 the
lift e-bike cases go to the property company, with the community as co-handler",
"every fire case in 上塘 goes to the micro fire station". The most specific rule
wins: an exact scenario id beats a pattern (``fire.*``), which beats ``*``; among
those, a rule for a smaller area beats one for a larger area. Without a matching rule
the scenario's own ``route`` applies.
"""

from __future__ import annotations

from dataclasses import dataclass
from fnmatch import fnmatchcase

from cityeye.domain.parties import PartyKind


@dataclass(frozen=True, slots=True)
class RoutingRule:
    """One rule. ``scenarios`` are ids or shell-style patterns; ``party`` fixes the
    lead (主办) outright, else the lead is the nearest party of ``kind``; each kind in
    ``co_handlers`` adds the nearest party of that kind as co-handler (协办). ``area``
    limits the rule to cases in that area or below (``None``: the whole district)."""

    scenarios: tuple[str, ...]
    kind: PartyKind | None = None
    party: str | None = None
    area: str | None = None
    co_handlers: tuple[PartyKind, ...] = ()

    def specificity(self, scenario: str) -> int | None:
        """How closely the rule names ``scenario``: 2 exact, 1 pattern, 0 ``*``;
        ``None`` if it does not match."""
        best: int | None = None
        for pattern in self.scenarios:
            if pattern == scenario:
                return 2
            if fnmatchcase(scenario, pattern):
                score = 0 if pattern == "*" else 1
                best = score if best is None else max(best, score)
        return best
