"""The demo district's named buildings: the world file's ``buildings:`` section.

The demo's devices have always named a building (``B-<grid>-<n>``, placed by
:mod:`.district` inside its grid); this gives each of them a name and an address a
resident would use, and adds the places people find their way by, so the portal can say
"长征桥社区 · 长征桥新村3幢" instead of coordinates (issue 17):

* **小区 and their 幢.** The buildings of a grid make one residential compound. A
  community's first grids take its estates as :mod:`.district` chose them (the estates
  the seeds name, with their seed line in ``estate_source``, else the name it made up);
  further grids get a made-up compound named after the community (``generated: true``).
  Building *n* of a compound is its "*n*幢"; the address is a road of the demo's list
  (the district's real roads, already used for its venues and cameras), a house number
  drawn here, and the 幢.
* **Places of every community** (all ``generated: true``): its 党群服务中心, and, by
  chance, a primary school, a kindergarten, a 农贸市场 or a 卫生服务站 named after it.

Everything is drawn from a random stream of its own (``random.Random(f"{seed}/buildings")``),
so adding this section changes nothing else in the demo world, nor what ``cityeye
simulate`` makes of it. House numbers, which compound is where and every place name
other than the seeds' estates are made up; the seeds give no buildings.
"""

from __future__ import annotations

import random
from collections.abc import Mapping, Sequence
from typing import Any, Protocol

from shapely import contains_xy
from shapely.geometry import Polygon

#: Compound names made up for a community's further grids: its name's stem and one of
#: these (our choice of the usual endings in Hangzhou).
COMPOUND_SUFFIXES = ("新村", "苑", "小区", "花园", "公寓", "家园", "东苑", "西苑", "北苑", "南苑")
#: A community's places beyond its compounds: (name pattern, tag, chance). ``{c}`` is the
#: community's name, ``{s}`` its stem (长征桥 for 长征桥社区). Our choice.
COMMUNITY_PLACES: tuple[tuple[str, str, float], ...] = (
    ("{c}党群服务中心", "community_centre", 1.0),
    ("{s}小学", "school", 0.3),
    ("{s}幼儿园", "kindergarten", 0.35),
    ("{s}农贸市场", "market", 0.3),
    ("{c}卫生服务站", "clinic", 0.4),
)


class _Point(Protocol):
    @property
    def code(self) -> str: ...
    @property
    def lat(self) -> float: ...
    @property
    def lon(self) -> float: ...


class _Grid(Protocol):
    @property
    def code(self) -> str: ...
    @property
    def community(self) -> str: ...
    @property
    def buildings(self) -> Sequence[_Point]: ...
    def inner(self, margin: float) -> Polygon: ...


class _Community(Protocol):
    @property
    def code(self) -> str: ...
    @property
    def name(self) -> str: ...
    @property
    def estates(self) -> Sequence[str]: ...


class District(Protocol):
    """What :mod:`.district`'s builder knows that this needs."""

    @property
    def facts(self) -> dict[str, Any]: ...
    @property
    def community_by_code(self) -> Mapping[str, _Community]: ...
    def all_grids(self) -> list[Any]: ...


def _inside(inner: Polygon, rng: random.Random) -> tuple[float, float]:
    """A random (lat, lon) in ``inner`` (a grid's shape less a margin, so the point is
    never on a border and lies in its grid), drawn from this module's own stream."""
    west, south, east, north = inner.bounds
    for _ in range(1000):
        lat, lon = round(rng.uniform(south, north), 6), round(rng.uniform(west, east), 6)
        if contains_xy(inner, lon, lat):
            return lat, lon
    point = inner.representative_point()  # pragma: no cover - vanishingly unlikely
    return round(point.y, 6), round(point.x, 6)


def demo_buildings(district: District, roads: Sequence[str], seed: int) -> list[dict[str, Any]]:
    """The ``buildings:`` section for the district :mod:`.district` built: every
    building its devices name, named, and each community's places. Same seed, same list;
    nothing else's random stream is touched."""
    rng = random.Random(f"{seed}/buildings")
    sources = {
        str(p["name"]): str(p["source"])
        for p in district.facts.get("property_companies") or []
        if str(p.get("type", "")).startswith("estate")
    }
    grids: list[_Grid] = district.all_grids()
    by_community: dict[str, list[_Grid]] = {}
    for grid in grids:
        by_community.setdefault(grid.community, []).append(grid)
    # a made-up compound never takes a name in use anywhere in the district
    taken = {e for c in by_community for e in district.community_by_code[c].estates}
    out: list[dict[str, Any]] = []
    for code, community_grids in by_community.items():
        community = district.community_by_code[code]
        stem = community.name.removesuffix("社区")
        suffixes = [s for s in COMPOUND_SUFFIXES if stem + s not in taken]
        rng.shuffle(suffixes)
        for index, grid in enumerate(community_grids):
            extra: dict[str, Any]
            if index < len(community.estates):
                compound = community.estates[index]
                extra = (
                    {"estate_source": sources[compound]}
                    if compound in sources
                    else {"generated": True}
                )
            else:
                compound = stem + suffixes.pop() if suffixes else f"{stem}{index + 1}区"
                taken.add(compound)
                extra = {"generated": True}
            road = rng.choice(roads)
            number = rng.randint(1, 399)
            for n, b in enumerate(grid.buildings, start=1):
                out.append(
                    {
                        "id": b.code,
                        "name": f"{compound}{n}幢",
                        "area": grid.code,
                        "address": f"{road}{number}号{compound}{n}幢",
                        "lat": b.lat,
                        "lon": b.lon,
                        "tags": ["residential"],
                        "compound": compound,
                        **extra,
                    }
                )
        for k, (pattern, tag, chance) in enumerate(COMMUNITY_PLACES, start=1):
            if rng.random() >= chance:
                continue
            grid = rng.choice(community_grids)
            lat, lon = _inside(grid.inner(0.2), rng)
            out.append(
                {
                    "id": f"B-{code}-P{k}",
                    "name": pattern.format(c=community.name, s=stem),
                    "area": grid.code,
                    "address": f"{rng.choice(roads)}{rng.randint(1, 399)}号",
                    "lat": lat,
                    "lon": lon,
                    "tags": [tag],
                    "generated": True,
                }
            )
    return out
