"""Places, not coordinates: where a point is in words people use, and places by name.

The portal's resident drops a pin; "30.32140, 120.16290" means nothing to them or to
the dispatcher who reads the report. :class:`Places` answers, for a point, the grid,
community and street it falls in and the nearest named building or venue (a 小区's
幢, a school, a market, a shop) — "长征桥社区 · 长征桥新村3幢" — and finds buildings,
venues and areas by a part of their name or address, so a resident can type "长征桥"
and move the pin there.

Only public places are in the index: the world's buildings and venues (their names
and addresses; never their tags, which say what a venue is watched for) and its areas.
Subjects (people, households) and devices are never in it. A building or venue tagged
``private`` is left out too.

Built once per world, pure Python: points are bucketed in cells as big as the search
radius, so a lookup reads at most nine cells, however large the district.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass

from shapely.geometry import shape
from shapely.geometry.base import BaseGeometry

from cityeye.domain import Area, AreaLevel, Locator, World
from cityeye.domain.labels import Labelled
from cityeye.world.geo import GridLocator

#: How near a building or venue must be to name a point: about a residential compound
#: across (our choice). Further away a name would mislead more than it helps, and the
#: point is named by its grid instead.
NEAR_M = 200.0
#: Items tagged so never appear in places (a world file's way to keep one out).
PRIVATE_TAG = "private"
#: The most results a search answers.
MAX_RESULTS = 20

_EARTH_M = 6_371_008.8
_M_PER_DEG_LAT = math.pi * _EARTH_M / 180


class PlaceKind(Labelled):
    """What a place is (the names the portal shows beside a search result)."""

    BUILDING = "building", "楼宇", "Building"
    VENUE = "venue", "场所", "Venue"
    STREET = "street", "街道", "Street"
    COMMUNITY = "community", "社区", "Community"
    GRID = "grid", "网格", "Grid"


#: Among equally good matches: streets and communities first (the broadest answer),
#: then buildings and venues, then grids (the office's division, not a place people
#: name; "长征桥" should list 长征桥新村 before 长征桥社区第7网格).
_KIND_ORDER = {
    PlaceKind.STREET: 0,
    PlaceKind.COMMUNITY: 1,
    PlaceKind.BUILDING: 2,
    PlaceKind.VENUE: 3,
    PlaceKind.GRID: 4,
}


@dataclass(frozen=True, slots=True)
class Place:
    """A named public place. ``area``: the area it lies in (an area's own code for an
    area); ``lat``/``lon``: its point (an area's is a point inside it), if known."""

    kind: PlaceKind
    id: str
    name: str
    area: str | None = None
    address: str | None = None
    lat: float | None = None
    lon: float | None = None


@dataclass(frozen=True, slots=True)
class Nearby:
    place: Place
    distance_m: float


@dataclass(frozen=True, slots=True)
class Whereabouts:
    """Where a point is: its grid, community and street (``None`` outside every grid)
    and the nearest named building or venue within :data:`NEAR_M`."""

    lat: float
    lon: float
    grid: Area | None
    community: Area | None
    street: Area | None
    nearest: Nearby | None

    @property
    def inside(self) -> bool:
        """Whether the point is in the district (in one of its grids)."""
        return self.grid is not None

    @property
    def label(self) -> str | None:
        """ "长征桥社区 · 长征桥新村3幢": the community and the nearest place; with none
        near, the street and the grid; ``None`` outside the district."""
        if self.grid is None:
            return None
        broad = self.community or self.street
        if self.nearest is not None:
            parts = [broad.name if broad else None, self.nearest.place.name]
        else:
            parts = [self.street.name if self.street else None, self.grid.name]
        return " · ".join(p for p in parts if p)


def distance_m(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance in metres (haversine)."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    h = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * _EARTH_M * math.asin(min(1.0, math.sqrt(h)))


# ------------------------------------------------------------------------- text
_SPACE = re.compile(r"[\s·・,，、/\\-]+")
#: What people write for one and the same thing: 3号楼, 3栋, 3幢.
_SAME = (("号楼", "幢"), ("栋", "幢"))
_DIGITS = re.compile(r"(\d+)")


def fold(text: str) -> str:
    """Text as search compares it: full-width folded (３ → 3), case-folded, without
    spaces or separators, 号楼 and 栋 read as 幢."""
    out = _SPACE.sub("", unicodedata.normalize("NFKC", text).casefold())
    for variant, canonical in _SAME:
        out = out.replace(variant, canonical)
    return out


#: A building's number within its compound: 3幢, 12栋, 5号楼 (folded: 3幢).
_NUMBERED = re.compile(r"\d+幢$")


def _compound(place: Place) -> str:
    """The folded compound a numbered building belongs to (长征桥新村3幢 → 长征桥新村)."""
    if place.kind != PlaceKind.BUILDING:
        return ""
    name = fold(place.name)
    stem = _NUMBERED.sub("", name)
    return stem if stem != name else ""


def _natural(name: str) -> tuple[object, ...]:
    """Sort key that puts 2幢 before 10幢."""
    return tuple(int(p) if p.isdigit() else p for p in _DIGITS.split(name))


@dataclass(frozen=True, slots=True)
class _Entry:
    place: Place
    name: str  # folded
    address: str  # folded, "" if none
    order: tuple[object, ...]  # among equally good matches
    compound: str  # folded, a building's name without its 幢 ("" if it has none)


class Places:
    """The index of a world's public places (see the module's docstring). ``locate``:
    the point → grid lookup to use (the live pipeline's), else one is built."""

    def __init__(self, world: World, locate: Locator | None = None, near_m: float = NEAR_M) -> None:
        self.world = world
        self.near_m = near_m
        self._locate: Locator = locate if locate is not None else GridLocator(world)
        places = [*self._areas(world), *self._points(world)]
        self._entries = [
            _Entry(
                p,
                fold(p.name),
                fold(p.address) if p.address else "",
                (_KIND_ORDER[p.kind], len(p.name), _natural(p.name), p.id),
                _compound(p),
            )
            for p in places
        ]
        # buckets of near_m × near_m (at the district's latitude): a point's neighbours
        # within near_m are in its cell or the eight around it
        located = [p for p in places if p.kind in (PlaceKind.BUILDING, PlaceKind.VENUE)]
        lats = [p.lat for p in located if p.lat is not None]
        mid = (min(lats) + max(lats)) / 2 if lats else 0.0
        self._cell_lat = near_m / _M_PER_DEG_LAT
        self._cell_lon = near_m / (_M_PER_DEG_LAT * max(math.cos(math.radians(mid)), 0.01))
        self._cells: dict[tuple[int, int], list[tuple[float, float, Place]]] = {}
        for p in located:
            if p.lat is not None and p.lon is not None:
                self._cells.setdefault(self._cell(p.lat, p.lon), []).append((p.lat, p.lon, p))

    def __len__(self) -> int:
        return len(self._entries)

    @staticmethod
    def _areas(world: World) -> Iterable[Place]:
        kinds = {
            AreaLevel.STREET: PlaceKind.STREET,
            AreaLevel.COMMUNITY: PlaceKind.COMMUNITY,
            AreaLevel.GRID: PlaceKind.GRID,
        }
        # an area's point is the middle of its largest grid: inside one grid, not on
        # the line between two (the middle of a community of 2 × 2 grids is the corner
        # of four), and found for an area with no boundary of its own
        grids = {
            a.code: shape(a.boundary)
            for a in world.areas.values()
            if a.level == AreaLevel.GRID and a.boundary is not None
        }
        largest: dict[str, tuple[float, str]] = {}
        for code, geom in grids.items():
            for above in world.ancestors(code):
                key = (-geom.area, code)
                if above.code not in largest or key < largest[above.code]:
                    largest[above.code] = key
        for area in world.areas.values():
            kind = kinds.get(area.level)
            if kind is None:
                continue
            lat = lon = None
            inside: BaseGeometry | None = None
            if area.code in largest:
                inside = grids[largest[area.code][1]]
            elif area.boundary is not None:
                inside = shape(area.boundary)
            if inside is not None:
                point = inside.representative_point()
                lat, lon = round(point.y, 6), round(point.x, 6)
            yield Place(kind, area.code, area.name, area.code, None, lat, lon)

    @staticmethod
    def _points(world: World) -> Iterable[Place]:
        for b in world.buildings.values():
            if b.name and PRIVATE_TAG not in b.tags:
                yield Place(PlaceKind.BUILDING, b.id, b.name, b.area, b.address, b.lat, b.lon)
        for v in world.venues.values():
            if v.name and PRIVATE_TAG not in v.tags:
                yield Place(PlaceKind.VENUE, v.id, v.name, v.area, v.address, v.lat, v.lon)

    def _cell(self, lat: float, lon: float) -> tuple[int, int]:
        return math.floor(lat / self._cell_lat), math.floor(lon / self._cell_lon)

    # ---------------------------------------------------------------- reverse
    def nearest(self, lat: float, lon: float) -> Nearby | None:
        """The nearest building or venue within ``near_m`` (ties: by kind, then id)."""
        row, col = self._cell(lat, lon)
        best: tuple[float, int, str] | None = None
        found: Place | None = None
        for dr in (-1, 0, 1):
            for dc in (-1, 0, 1):
                for p_lat, p_lon, p in self._cells.get((row + dr, col + dc), ()):
                    d = distance_m(lat, lon, p_lat, p_lon)
                    key = (d, _KIND_ORDER[p.kind], p.id)
                    if d <= self.near_m and (best is None or key < best):
                        best, found = key, p
        if found is None or best is None:
            return None
        return Nearby(found, best[0])

    def reverse(self, lat: float, lon: float) -> Whereabouts:
        """Where (lat, lon) is: its grid, community, street and the nearest named
        place. Outside every grid it is outside the district: no areas, no place."""
        code = self._locate(lat, lon)
        if code is None:
            return Whereabouts(lat, lon, None, None, None, None)
        world = self.world
        return Whereabouts(
            lat,
            lon,
            world.areas.get(code),
            world.enclosing(code, AreaLevel.COMMUNITY),
            world.enclosing(code, AreaLevel.STREET),
            self.nearest(lat, lon),
        )

    # ----------------------------------------------------------------- search
    def search(self, text: str, limit: int = 8) -> list[Place]:
        """Places whose name or address holds ``text`` (see :func:`fold`), best first:
        the exact name, then names that begin with it, then names that hold it, then
        addresses that hold it, then those where every word of it is found somewhere
        (``长征桥 3幢``); among equals streets and communities first, then buildings
        and venues, then grids, and the shorter name first. The 幢 of one compound
        come once (its first), unless the text names the compound whole: "长征桥"
        lists 长征桥新村 and 长征桥公寓, "长征桥新村" lists 长征桥新村's 幢."""
        query = fold(text)
        if not query:
            return []
        words = [w for w in (fold(part) for part in text.split()) if w]
        ranked: list[tuple[int, tuple[object, ...], _Entry]] = []
        for e in self._entries:
            if e.name == query:
                rank = 0
            elif e.name.startswith(query):
                rank = 1
            elif query in e.name:
                rank = 2
            elif e.address and query in e.address:
                rank = 3
            elif len(words) > 1 and all(w in e.name or w in e.address for w in words):
                rank = 4
            else:
                continue
            ranked.append((rank, e.order, e))
        wanted = max(0, min(limit, MAX_RESULTS))
        out: list[Place] = []
        seen: set[str] = set()
        for _, _, hit in sorted(ranked, key=lambda r: r[:2]):
            if len(out) == wanted:
                break
            if hit.compound and hit.compound not in query:
                if hit.compound in seen:
                    continue
                seen.add(hit.compound)
            out.append(hit.place)
        return out
