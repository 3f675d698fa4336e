"""Point → grid lookup (which 网格 a reported location falls in).

An STRtree over grid boundaries answers a lookup in logarithmic time, so a resident's
map pin or a camera's coordinates find their grid quickly even with thousands of grids.
"""

from __future__ import annotations

from shapely import STRtree
from shapely.geometry import Point, shape
from shapely.geometry.base import BaseGeometry

from cityeye.domain import AreaLevel, World

#: How far (degrees, about 0.1 m) a point may lie outside every grid and still be
#: given the nearest one.
SNAP_DEG = 1e-6


class GridLocator:
    """Finds the grid containing a point. Points on a shared border go to the grid
    with the smallest code, so the answer is deterministic."""

    def __init__(self, world: World) -> None:
        self._codes: list[str] = []
        self._geoms: list[BaseGeometry] = []
        for area in sorted(world.areas.values(), key=lambda a: a.code):
            if area.level == AreaLevel.GRID and area.boundary is not None:
                self._codes.append(area.code)
                self._geoms.append(shape(area.boundary))
        self._tree = STRtree(self._geoms) if self._geoms else None

    def __len__(self) -> int:
        return len(self._codes)

    def __call__(self, lat: float, lon: float) -> str | None:
        if self._tree is None:
            return None
        point = Point(lon, lat)  # GeoJSON order is (lon, lat)
        hits = self._tree.query(point, predicate="intersects")
        if len(hits) == 0:
            # boundaries rounded to 1e-6° can leave hairline gaps (≤ 0.1 m) between
            # neighbours: a point in one still belongs to the grid next to it
            hits = self._tree.query(point, predicate="dwithin", distance=SNAP_DEG)
            if len(hits) == 0:
                return None
        return self._codes[int(min(hits))]
