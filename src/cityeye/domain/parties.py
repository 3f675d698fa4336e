"""Parties: who can act on a case (处置主体).

共治率 (co-governance rate) counts closed cases in which a *non-government* party took
part, so each kind says which side it is on. Residents' committees (社区居委会) and grid
workers are counted on the government side: in Chinese practice they are staffed and
tasked by the street office, and counting them as "social" would inflate the KPI the
seeds publish.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any


class PartyKind(StrEnum):
    GOVERNMENT = "government"
    GRID_WORKER = "grid_worker"
    COMMUNITY = "community"
    PROPERTY = "property"
    OWNERS_COMMITTEE = "owners_committee"
    VOLUNTEER = "volunteer"
    ENTERPRISE = "enterprise"
    SOCIAL_ORG = "social_org"

    @property
    def non_government(self) -> bool:
        """Whether this kind's participation makes a case co-governed (共治)."""
        return self in _NON_GOVERNMENT

    @property
    def zh(self) -> str:
        return _ZH[self]


_NON_GOVERNMENT = frozenset(
    {
        PartyKind.PROPERTY,
        PartyKind.OWNERS_COMMITTEE,
        PartyKind.VOLUNTEER,
        PartyKind.ENTERPRISE,
        PartyKind.SOCIAL_ORG,
    }
)
_ZH = {
    PartyKind.GOVERNMENT: "政府部门",
    PartyKind.GRID_WORKER: "网格员",
    PartyKind.COMMUNITY: "社区",
    PartyKind.PROPERTY: "物业公司",
    PartyKind.OWNERS_COMMITTEE: "业委会",
    PartyKind.VOLUNTEER: "志愿者团队",
    PartyKind.ENTERPRISE: "企业",
    PartyKind.SOCIAL_ORG: "社会组织",
}


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
