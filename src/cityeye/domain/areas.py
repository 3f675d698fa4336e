"""Areas: district → street → community → grid (区 → 街道 → 社区 → 网格).

The hierarchy is what makes cases find their handlers and what cockpits drill through
(层层穿透), so each level is ranked and a parent must be exactly one level up.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from cityeye.domain.labels import Labelled


class AreaLevel(Labelled):
    DISTRICT = "district", "区", "District"
    STREET = "street", "街道", "Street"
    COMMUNITY = "community", "社区", "Community"
    GRID = "grid", "网格", "Grid"

    @property
    def rank(self) -> int:
        """0 for the district, 3 for a grid."""
        return _RANKS[self]


_RANKS = {AreaLevel.DISTRICT: 0, AreaLevel.STREET: 1, AreaLevel.COMMUNITY: 2, AreaLevel.GRID: 3}


@dataclass(frozen=True, slots=True)
class Area:
    """One administrative area. ``boundary`` is a GeoJSON Polygon or MultiPolygon."""

    code: str
    name: str
    level: AreaLevel
    parent: str | None = None
    boundary: dict[str, Any] | None = None
    extra: dict[str, Any] = field(default_factory=dict)
