"""Simulated residents' suggestions (社情民意) for the demo district: a month of them.

The seeds give the scale — Xiaohe Street's platform received about 2,000 suggestions a
month — and the shape the grouping must cope with: most of a month's suggestions are
about a few standing problems of each community (a car park with too few spaces, a
lamp that stays dark, a property company that does not clean), each raised many times
in different words, plus a long tail of one-offs. So each community here gets a few
*hotspots*, each raised over and over in varied phrasing, and the rest is drawn from
every category at random.

Deterministic for (world, seed). Each suggestion carries the category it was written
for (``intended``), which the demo never shows but tests use to measure the classifier.
"""

from __future__ import annotations

import random
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta

from cityeye.domain import AreaLevel, World

#: Suggestions a month in the busiest street (the seeds' figure for Xiaohe), and in
#: every other street of the demo (kept small so `make demo` starts quickly).
BUSY_STREET_PER_MONTH = 2000
OTHER_STREET_PER_MONTH = 120
BUSY_STREET = "小河街道"
#: The share of a community's suggestions that are about one of its hotspots.
HOTSPOT_SHARE = 0.6
#: Channels: residents on the portal, volunteers door to door (民情快递), workers.
CHANNELS = (("portal", 0.62), ("volunteer", 0.23), ("worker", 0.15))

#: category → what residents write; "{b}" is a building, "{p}" a place in the community.
PHRASES: dict[str, tuple[str, ...]] = {
    "parking": (
        "{p}停车位太少，晚上回来根本找不到车位",
        "小区里乱停车，车都停到消防通道上了，{p}堵得走不了",
        "建议{p}增加一些停车位，或者划出临时停车区",
        "外来车辆随便进小区停车，{p}业主自己都停不下",
        "{b}楼下天天有车压着绿化带停，希望管一管",
    ),
    "environment": (
        "{p}的垃圾桶满了没人清，味道很大",
        "{b}楼道里堆满杂物，很久没人打扫",
        "垃圾分类点{p}经常有人乱扔，建议加强督导",
        "{p}污水井冒水，路面很脏",
        "小区河道{p}有漂浮垃圾，希望定期打捞",
    ),
    "property": (
        "物业服务太差，{b}的报修一个星期都没人来",
        "物业费收了，{p}的保洁和保安都不见人",
        "希望物业公开物业费的收支情况",
        "{b}电梯坏了好几天，物业一直说在等配件",
        "物业对{p}的问题不闻不问，业主意见很大",
    ),
    "safety": (
        "{b}楼道里有人给电瓶车充电，电线拖到家里，很危险",
        "{p}消防栓没有水，灭火器也过期了",
        "{b}外墙瓷砖松动，怕掉下来砸到人",
        "{p}晚上没有监控，经常有陌生人进出",
        "{b}楼顶有人私搭乱建，存在安全隐患",
    ),
    "facilities": (
        "{p}的路灯坏了，晚上黑乎乎的不敢走",
        "{b}门口的路面坑坑洼洼，老人容易摔倒",
        "{p}的健身器材坏了，一直没人修",
        "希望{b}加装电梯，老人上下楼太难了",
        "{p}的井盖松动，踩上去会响",
    ),
    "noise": (
        "{p}晚上广场舞音乐太响，十点了还在跳",
        "{b}楼上装修一大早就开始打钻",
        "{p}附近的工地夜里还在施工，吵得睡不着",
        "{p}的店铺音响外放，声音很大",
    ),
    "greening": (
        "{p}的树太高了挡住了阳光，建议修剪",
        "{b}楼下的草坪被人种了菜，希望恢复绿化",
        "{p}的绿化带好久没人养护，杂草丛生",
    ),
    "elderly": (
        "{b}有独居老人，希望社区经常去看看",
        "建议社区食堂给{p}的老人送餐",
        "{p}老年活动室开放时间太短",
    ),
    "traffic": (
        "{p}出口的红绿灯时间太短，过马路来不及",
        "{p}公交站离小区太远，希望增设站点",
        "上下学时间{p}门口堵车严重",
    ),
    "community": (
        "希望社区多组织一些亲子活动",
        "社区办事大厅周末也能开放就好了",
        "建议社区开设老年人智能手机培训课",
    ),
}
#: Word choices that vary the same complaint (a resident rarely writes it the same way).
_OPENERS = ("", "", "你好，", "反映一下：", "建议：", "麻烦关注一下，", "再次反映，")
_CLOSERS = ("", "", "谢谢！", "希望尽快解决。", "已经说了好几次了。", "请社区协调一下。")
_PLACES = ("东门", "西门", "南门", "北门", "中心花园", "地下车库入口", "菜场旁边", "幼儿园门口")


@dataclass(frozen=True, slots=True)
class SimSuggestion:
    id: str
    at: datetime
    channel: str
    area: str  # the community
    text: str
    intended: str  # the category it was written for


def _rng(seed: int, *parts: str) -> random.Random:
    return random.Random(zlib.crc32("/".join((str(seed), *parts)).encode()))


def _weighted(rng: random.Random, pairs: tuple[tuple[str, float], ...]) -> str:
    return rng.choices([p for p, _ in pairs], weights=[w for _, w in pairs])[0]


def _fill(rng: random.Random, phrase: str, building: int, place: str) -> str:
    body = phrase.format(b=f"{building}幢", p=place)
    return f"{rng.choice(_OPENERS)}{body}{rng.choice(_CLOSERS)}"


def simulate_suggestions(
    world: World, start: datetime, *, days: int = 30, seed: int = 2021
) -> Iterator[SimSuggestion]:
    """A month (``days``) of suggestions from ``start`` (aware), in time order."""
    streets = {a.code: a for a in world.at_level(AreaLevel.STREET)}
    out: list[SimSuggestion] = []
    for street in sorted(streets.values(), key=lambda a: a.code):
        communities = sorted(
            (a for a in world.at_level(AreaLevel.COMMUNITY) if a.parent == street.code),
            key=lambda a: a.code,
        )
        if not communities:
            continue
        per_month = BUSY_STREET_PER_MONTH if street.name == BUSY_STREET else OTHER_STREET_PER_MONTH
        total = round(per_month * days / 30)
        for community in communities:
            rng = _rng(seed, community.code)
            # the community's standing problems: a category, a phrase, a place, a building
            hotspots = []
            for _ in range(rng.randint(2, 4)):
                category = rng.choice(
                    ("parking", "parking", "environment", "property", "safety", "facilities")
                )
                hotspots.append(
                    (
                        category,
                        rng.choice(PHRASES[category]),
                        rng.randint(1, 30),
                        rng.choice(_PLACES),
                    )
                )
            count = max(1, round(total / len(communities) * rng.uniform(0.6, 1.4)))
            for n in range(count):
                if rng.random() < HOTSPOT_SHARE:
                    category, phrase, building, place = rng.choice(hotspots)
                else:
                    category = rng.choice(sorted(PHRASES))
                    phrase = rng.choice(PHRASES[category])
                    building, place = rng.randint(1, 30), rng.choice(_PLACES)
                at = start + timedelta(seconds=rng.uniform(0, days * 86400))
                out.append(
                    SimSuggestion(
                        id=f"S-{community.code}-{n + 1:04d}",
                        at=at,
                        channel=_weighted(rng, CHANNELS),
                        area=community.code,
                        text=_fill(rng, phrase, building, place),
                        intended=category,
                    )
                )
    out.sort(key=lambda s: (s.at, s.id))
    yield from out
