"""People's reports: residents' 随手拍 in the app and 12345 hotline tickets.

The one channel of free text and of positions inside grids (so the one that needs
geometry), and the one whose texts the benches reuse for their own traffic
(bench/soak.py): the categories, the templates and the writer live here together.
"""

from __future__ import annotations

import random
from datetime import datetime
from typing import Any

from cityeye.demo.district import ROADS
from cityeye.demo.simulator.clock import HOUR
from cityeye.demo.simulator.sources import SOURCE_APP, SOURCE_HOTLINE
from cityeye.demo.simulator.stream import Stream
from cityeye.domain import AreaLevel

#: Report categories for ``report.citizen`` / ``report.hotline`` (attrs.category).
CATEGORIES: tuple[str, ...] = ("garbage", "road", "noise", "parking", "water", "greening", "other")

_TEMPLATES: dict[str, tuple[str, ...]] = {
    "garbage": (
        "{place}垃圾分类点的垃圾桶已经满出来了，旁边堆了好几袋，味道很大，请尽快清运。",
        "{place}楼道口有人乱扔装修垃圾，已经堆了两三天了。",
        "{place}厨余垃圾桶没有盖子，招苍蝇，希望物业处理一下。",
    ),
    "road": (
        "{road}靠近{place}路段的人行道砖松动翘起，老人走路容易绊倒。",
        "{road}有一处路面坑洼，下雨积水，电动车经过很危险。",
        "{place}门口的路灯坏了好几天，晚上很黑。",
    ),
    "noise": (
        "{place}附近工地晚上十点以后还在施工，噪音太大影响休息。",
        "{place}楼下广场舞音响声音太大，希望协调一下时间和音量。",
        "{road}沿街商铺用大喇叭循环叫卖，吵得很。",
    ),
    "parking": (
        "{place}小区消防通道被私家车长期占用，请处理。",
        "{road}人行道上乱停电动车和共享单车，行人没法走。",
        "{place}孝心车位被外来车辆长期占用，家属探望老人没地方停。",
    ),
    "water": (
        "{place}二次供水水压太低，高层早上基本没有水。",
        "{road}雨水井堵塞，一下雨路面就积水。",
        "{place}地下管道漏水，路面一直湿的。",
    ),
    "greening": (
        "{place}绿化带里的树枝太长挡住了窗户，请安排修剪。",
        "{road}行道树倒伏压在非机动车道上。",
        "{place}公共绿地被人私自圈起来种菜。",
    ),
    "other": (
        "{place}楼道里有人给电动车飞线充电，有安全隐患。",
        "{place}有流浪狗在小区里出没，担心伤人。",
        "想建议{place}在红茶议事会上讨论一下加装电梯的事。",
    ),
}


def report_text(rng: random.Random, category: str, place: str) -> str:
    """A resident's words for a ``category`` report near ``place`` (a community's name)."""
    template = rng.choice(_TEMPLATES.get(category, _TEMPLATES["other"]))
    return template.format(place=place, road=rng.choice(ROADS))


def reports(sim: Stream) -> None:
    """Residents' 随手拍 (app) and the 12345 hotline: ~2,000 suggestions a month in
    the seeds, so ~60 app reports and ~40 hotline tickets a day, mostly by day."""
    grids = sim.world.at_level(AreaLevel.GRID)
    if not grids:
        return
    from shapely.geometry import Point, shape  # only reports need geometry

    rng = sim.rng("reports")
    weights = (22, 15, 15, 18, 10, 8, 12)
    for source, per_day in ((SOURCE_APP, 60), (SOURCE_HOTLINE, 40)):
        for day in sim.days(sim.start):
            stamp = datetime.fromtimestamp(day + 12 * HOUR, sim.tz).strftime("%Y%m%d")
            for _ in range(per_day):
                h = rng.gauss(14, 4.5)
                if not 0 <= h < 24:
                    h = rng.uniform(7, 22)
                t = day + round(h * HOUR)
                grid = rng.choice(grids)
                category = rng.choices(CATEGORIES, weights)[0]
                community = sim.world.areas.get(grid.parent or "")
                place = community.name if community else grid.name
                attrs: dict[str, Any] = {
                    "category": category,
                    "text": report_text(rng, category, place),
                }
                if source == SOURCE_HOTLINE:
                    attrs["caller"] = rng.choice("王李张刘陈杨黄赵周吴徐孙沈钱") + rng.choice(
                        ("先生", "女士", "大伯", "阿姨")
                    )
                else:
                    attrs["photos"] = rng.randint(0, 3)
                lat = lon = None
                area: str | None = grid.code
                if rng.random() < 0.35 and grid.boundary:
                    geom = shape(grid.boundary)
                    w, s, e, n = geom.bounds
                    for _ in range(5):
                        y = round(s + (n - s) * rng.uniform(0.2, 0.8), 6)
                        x = round(w + (e - w) * rng.uniform(0.2, 0.8), 6)
                        if geom.contains(Point(x, y)):
                            lat, lon, area = y, x, None
                            break
                sim.emit(
                    t,
                    "report.hotline" if source == SOURCE_HOTLINE else "report.citizen",
                    attrs,
                    source=source,
                    base=f"{source.upper()}-{stamp}",
                    area=area,
                    lat=lat,
                    lon=lon,
                )
