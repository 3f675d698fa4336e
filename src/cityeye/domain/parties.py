"""Parties: who can act on a case (处置主体).

共治率 (co-governance rate) counts closed cases in which a *non-government* party took
part, so each kind says which side it is on. Residents' committees (社区居委会) and grid
workers are counted on the government side: in Chinese practice they are staffed and
tasked by the street office, and counting them as "social" would inflate the KPI the
seeds publish.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from cityeye.domain.labels import Labelled


class PartyKind(Labelled):
    GOVERNMENT = "government", "政府部门", "Government department"
    GRID_WORKER = "grid_worker", "网格员", "Grid worker"
    COMMUNITY = "community", "社区", "Community"
    PROPERTY = "property", "物业公司", "Property company"
    OWNERS_COMMITTEE = "owners_committee", "业委会", "Owners' committee"
    VOLUNTEER = "volunteer", "志愿者团队", "Volunteer team"
    ENTERPRISE = "enterprise", "企业", "Enterprise"
    SOCIAL_ORG = "social_org", "社会组织", "Social organisation"

    @property
    def non_government(self) -> bool:
        """Whether this kind's participation makes a case co-governed (共治)."""
        return self in _NON_GOVERNMENT


_NON_GOVERNMENT = frozenset(
    {
        PartyKind.PROPERTY,
        PartyKind.OWNERS_COMMITTEE,
        PartyKind.VOLUNTEER,
        PartyKind.ENTERPRISE,
        PartyKind.SOCIAL_ORG,
    }
)


@dataclass(frozen=True, slots=True)
class Party:
    """A unit, team or person that can be assigned cases in the areas it serves."""

    id: str
    name: str
    kind: PartyKind
    areas: tuple[str, ...] = ()
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def non_government(self) -> bool:
        return self.kind.non_government
