"""The KPI projection: counters kept with every alert and case change.

Part of :class:`cityeye.store.Store` (one module per data type; issue 16)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from datetime import date, timedelta
from typing import Any

from sqlalchemy import Connection, delete, func, select

from cityeye.cases.aggregate import (
    DIMENSIONS,
    Key,
    alert_counts,
    case_counts,
    periods,
    summarise,
)
from cityeye.cases.sla import DEFAULT_SLA, Stage
from cityeye.domain import (
    AreaLevel,
    FieldError,
    Severity,
    World,
)
from cityeye.store import tables as t
from cityeye.store.base import CHUNK, Repo, insert_stmt

_AREA_DIMS = frozenset(level.value for level in AreaLevel)


class KpiRepo(Repo):
    """The KPI projection: counters kept with every alert and case change."""

    # ----------------------------------------------------------------- KPIs
    def _kpi_world(self) -> World:
        if self._world is None:
            self._world = self.load_world() or World.empty()
        return self._world

    def _add_counts(self, conn: Connection, counts: Mapping[Key, int]) -> None:
        """Add to the counters. Rows go in key order, so writers that touch the same
        counters at once (workers of a bus) lock them in the same order: they wait
        for each other instead of deadlocking."""
        rows = [
            {"dim": d, "value": v, "period": p, "metric": m, "n": n}
            for (d, v, p, m), n in sorted(counts.items())
            if n
        ]
        if not rows:
            return
        stmt = insert_stmt(conn, t.kpi_counts)
        stmt = stmt.on_conflict_do_update(
            index_elements=["dim", "period", "value", "metric"],
            set_={"n": t.kpi_counts.c.n + stmt.excluded.n},
        )
        for start in range(0, len(rows), CHUNK):
            conn.execute(stmt, rows[start : start + CHUNK])

    def rebuild_kpis(self, sla: Mapping[Severity, Mapping[Stage, int]] = DEFAULT_SLA) -> int:
        """Recount every KPI counter from the stored cases and alerts (after the areas
        were re-organised, say). Returns the number of counter rows."""
        counts = self.recount_kpis(sla)
        with self.engine.begin() as conn:
            conn.execute(delete(t.kpi_counts))
            self._add_counts(conn, counts)
        return sum(1 for n in counts.values() if n)

    def recount_kpis(
        self, sla: Mapping[Severity, Mapping[Stage, int]] = DEFAULT_SLA
    ) -> Counter[Key]:
        """What every KPI counter should hold, counted afresh from the stored cases and
        alerts (:meth:`rebuild_kpis` writes it; ``cityeye check`` compares it)."""
        world = self._kpi_world()
        counts: Counter[Key] = Counter()
        for case in self.load_cases():
            counts.update(case_counts(case, world, sla))
        for alert in self.alerts(limit=None):
            counts.update(alert_counts(alert, world))
        return counts

    def kpi_counters(self) -> dict[Key, int]:
        """The KPI counters as stored (non-zero ones)."""
        c = t.kpi_counts.c
        with self.engine.connect() as conn:
            rows = conn.execute(select(c.dim, c.value, c.period, c.metric, c.n).where(c.n != 0))
            return {(r.dim, r.value, r.period, r.metric): int(r.n) for r in rows}

    def kpi_summary(self, dim: str, value: str, first: date, last: date) -> dict[str, Any]:
        """The KPIs of one area / scenario / party (``dim``, ``value``; ``"all"``, ``""``
        for everything) over the local days ``first..last``, from the counters."""
        rows = self._kpi_rows(dim, first, last, values=[value], by="dim")
        return summarise((metric, n) for _, metric, n in rows)

    def kpi_breakdown(
        self,
        dim: str,
        first: date,
        last: date,
        *,
        within: str | None = None,
        times: bool = False,
    ) -> dict[str, dict[str, Any]]:
        """The KPIs of every value of ``dim`` (each street, each scenario, ...) over
        ``first..last``; for an area level, ``within`` keeps the areas inside one area
        (the communities of a street: drill-down). Stage times only with ``times``:
        their histograms are nine rows in ten, and a table of 540 grids shows rates."""
        values = None
        if within is not None and dim in _AREA_DIMS:
            world = self._kpi_world()
            values = [
                a.code for a in world.at_level(AreaLevel(dim)) if world.within(a.code, within)
            ]
        grouped: dict[str, list[tuple[str, int]]] = {}
        found = self._kpi_rows(dim, first, last, values=values, by="value", times=times)
        for value, metric, n in found:
            grouped.setdefault(value, []).append((metric, n))
        return {value: summarise(rows, times=times) for value, rows in sorted(grouped.items())}

    def kpi_trend(self, dim: str, value: str, first: date, last: date) -> dict[str, dict[str, Any]]:
        """The KPIs of one value day by day (the cockpit's trend line)."""
        days = [(first + timedelta(days=i)).isoformat() for i in range((last - first).days + 1)]
        grouped: dict[str, list[tuple[str, int]]] = {}
        for period, metric, n in self._kpi_rows(dim, first, last, values=[value], days=days):
            grouped.setdefault(period, []).append((metric, n))
        return {day: summarise(grouped.get(day, [])) for day in days}

    def _kpi_rows(
        self,
        dim: str,
        first: date,
        last: date,
        *,
        values: Sequence[str] | None = None,
        by: str = "period",
        days: Sequence[str] | None = None,
        times: bool = True,
    ) -> list[tuple[str, str, int]]:
        if dim not in DIMENSIONS:
            raise FieldError("dim", f"{dim!r} is not one of {', '.join(DIMENSIONS)}")
        if last < first:
            raise FieldError("last", f"{last} is before {first}")
        c = t.kpi_counts.c
        group = {"dim": c.dim, "value": c.value, "period": c.period}[by]
        query = (
            select(group, c.metric, func.sum(c.n))
            .where(c.dim == dim, c.period.in_(days if days is not None else periods(first, last)))
            .group_by(group, c.metric)
        )
        if values is not None:
            query = query.where(c.value.in_(values))
        if not times:
            query = query.where(c.metric.not_like("t.%"))  # not the "t.<stage>.<bin>" rows
        with self.engine.connect() as conn:
            return [(str(g), str(m), int(n)) for g, m, n in conn.execute(query)]
