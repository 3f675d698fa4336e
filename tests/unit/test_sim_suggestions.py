"""The demo's month of residents' suggestions: the seeds' scale and shape."""

from __future__ import annotations

from collections import Counter
from datetime import datetime, timedelta, timezone
from functools import cache

from cityeye.demo.district import build_demo_world
from cityeye.demo.suggestions import BUSY_STREET, PHRASES, simulate_suggestions
from cityeye.domain import World
from cityeye.sourcefile import SourceDoc
from cityeye.world import build_world

START = datetime(2026, 9, 1, tzinfo=timezone(timedelta(hours=8)))


@cache
def gongshu() -> World:
    return build_world(SourceDoc(data=build_demo_world(2021)))


def test_a_busy_street_gets_the_seeds_two_thousand_a_month() -> None:
    world = gongshu()
    month = list(simulate_suggestions(world, START, days=30, seed=7))
    street = {a.code: a.parent for a in world.areas.values()}
    names = {a.code: a.name for a in world.areas.values()}
    per_street = Counter(names[street[s.area]] for s in month)
    assert 1800 <= per_street[BUSY_STREET] <= 2200
    assert all(START <= s.at < START + timedelta(days=30) for s in month)
    assert [s.at for s in month] == sorted(s.at for s in month)
    assert len({s.id for s in month}) == len(month)
    assert set(Counter(s.channel for s in month)) == {"portal", "volunteer", "worker"}
    assert set(Counter(s.intended for s in month)) <= set(PHRASES)


def test_each_community_raises_a_few_problems_over_and_over() -> None:
    """What grouping must cope with: the same standing problem in many wordings."""
    month = list(simulate_suggestions(gongshu(), START, days=30, seed=7))
    busiest = Counter(s.area for s in month).most_common(1)[0][0]
    theirs = [s for s in month if s.area == busiest]
    # the same complaint (its words without the greeting and the closing) many times
    cores = Counter(s.text.split("，", 1)[-1][:12] for s in theirs)
    assert cores.most_common(1)[0][1] >= len(theirs) // 10
    assert len({s.text for s in theirs}) > len(theirs) // 4  # but not word for word


def test_the_same_seed_gives_the_same_month() -> None:
    a = list(simulate_suggestions(gongshu(), START, days=3, seed=1))
    b = list(simulate_suggestions(gongshu(), START, days=3, seed=1))
    c = list(simulate_suggestions(gongshu(), START, days=3, seed=2))
    assert a == b
    assert a != c
