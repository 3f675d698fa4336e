"""Where the contest's figures come from: the KPI counters, and — for a term about one
module (城市管理场景的处置率) — the cases themselves.

The counters keep scenarios district-wide only, not per street, so a module's rates
per street or community are counted from the cases that may count in the round
(:func:`cityeye.store.case_queries.cases_active`) with the KPIs' own definitions
(:func:`cityeye.cases.kpi.breakdown`): the same figures the counters would give."""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Mapping
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from cityeye.cases.kpi import breakdown, by_area_level
from cityeye.domain import AreaLevel, Case, World
from cityeye.domain.users import Scope, below
from cityeye.scenarios import LoadedScenario
from cityeye.store import Store
from cityeye.store.case_queries import cases_active


def module_scenarios(scenarios: Iterable[LoadedScenario]) -> dict[str, frozenset[str]]:
    """Each module's scenario ids (from the scenarios running, or the catalogue)."""
    out: dict[str, set[str]] = {}
    for s in scenarios:
        out.setdefault(s.module.value, set()).add(s.id)
    return {module: frozenset(ids) for module, ids in out.items()}


class KpiSource:
    """The store's counters, and a module's figures counted from its cases."""

    def __init__(self, store: Store, world: World, modules: Mapping[str, Collection[str]]) -> None:
        self.store, self.world, self.modules = store, world, modules

    def kpi_breakdown(
        self, dim: str, first: date, last: date, *, within: str | None = None, times: bool = False
    ) -> dict[str, dict[str, Any]]:
        return self.store.kpi_breakdown(dim, first, last, within=within, times=times)

    def module_breakdown(
        self, module: str, level: str, first: date, last: date, within: str | None
    ) -> dict[str, dict[str, Any]]:
        """The KPIs of ``module``'s cases per unit of ``level`` over ``first..last``."""
        world = self.world
        tz = ZoneInfo(world.timezone)
        start = datetime.combine(first, time(0), tz)
        end = datetime.combine(last + timedelta(days=1), time(0), tz)
        areas = below(world, [within or world.district.code])
        scenarios = self.modules.get(module, frozenset())
        cases = [
            c
            for c in cases_active(self.store, Scope(None), areas, start, end)
            if (c.scenario or c.origin.value) in scenarios
        ]
        group: Callable[[Case], str | None] = (
            (lambda c: c.lead) if level == "party" else by_area_level(world, AreaLevel(level))
        )
        return breakdown(cases, world.parties, start, end, group)
