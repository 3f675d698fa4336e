"""Alerts and their change log (the live stream reads it).

Part of :class:`cityeye.store.Store` (one module per data type; issue 16)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Connection, delete, func, insert, select

from cityeye.cases.aggregate import (
    Key,
    alert_counts,
)
from cityeye.domain import (
    Alert,
    Severity,
)
from cityeye.store import tables as t
from cityeye.store.base import CHUNK, Repo, insert_stmt
from cityeye.store.outbox import ALERT_BELL


def alert_from_row(r: Any) -> Alert:
    """An ``alerts`` row as the domain's Alert."""
    return Alert(
        r["id"],
        r["scenario"],
        r["key"],
        Severity(r["severity"]),
        r["opened_at"],
        r["resolved_at"],
        r["count"],
        list(r["event_ids"]),
        r["area_code"],
    )


class AlertRepo(Repo):
    """Alerts and their change log (the live stream reads it)."""

    def save_alerts(self, alerts: Iterable[Alert]) -> None:
        """Insert or replace many alerts in one transaction; an alert seen for the first
        time is added to the KPI counters (the false-alarm rate's denominator)."""
        alerts = list(alerts)
        world = self._kpi_world()
        with self.engine.begin() as conn:
            stored = self._alert_marks(conn, [a.id for a in alerts])
            counts: Counter[Key] = Counter()
            changed = []
            for alert in alerts:
                mark = (alert.severity.value, alert.opened_at, alert.resolved_at, alert.count)
                if alert.id not in stored:
                    counts.update(alert_counts(alert, world))
                elif stored[alert.id] == mark:
                    continue  # a re-feed after a restart: nothing new to store or stream
                stored[alert.id] = mark
                self._upsert_alert(conn, alert)
                changed.append(alert)
            self._add_counts(conn, counts)
            if changed:
                now = datetime.now(UTC)
                conn.execute(
                    insert(t.alert_changes), [{"alert_id": a.id, "at": now} for a in changed]
                )
                # the stream reads the last minutes; a day is plenty to keep
                conn.execute(
                    delete(t.alert_changes).where(t.alert_changes.c.at < now - timedelta(days=1))
                )
        if changed:
            ALERT_BELL.ring()  # after the commit: an alert stream in this process reads now

    @staticmethod
    def _alert_marks(
        conn: Connection, ids: Sequence[str]
    ) -> dict[str, tuple[str, datetime, datetime | None, int]]:
        """What tells a stored alert's version: severity, opening, resolution and
        count (an alert only ever changes in these — its opening when the clock
        corrects one decided on arrival — and its events grow with its count)."""
        a = t.alerts.c
        marks: dict[str, tuple[str, datetime, datetime | None, int]] = {}
        for start in range(0, len(ids), CHUNK):
            rows = conn.execute(
                select(a.id, a.severity, a.opened_at, a.resolved_at, a.count).where(
                    a.id.in_(ids[start : start + CHUNK])
                )
            )
            marks.update({r.id: (r.severity, r.opened_at, r.resolved_at, r.count) for r in rows})
        return marks

    def alert_changes_after(self, seq: int, limit: int = 500) -> list[tuple[int, Alert]]:
        """Alerts stored after change ``seq``, in order, each as it is now (an alert
        changed twice since comes once, at its last change)."""
        ch, a = t.alert_changes.c, t.alerts.c
        with self.engine.connect() as conn:
            rows = (
                conn.execute(
                    select(ch.seq, t.alerts)
                    .join(t.alerts, a.id == ch.alert_id)
                    .where(ch.seq > seq)
                    .order_by(ch.seq)
                    .limit(limit)
                )
                .mappings()
                .all()
            )
        latest = {r["id"]: (int(r["seq"]), alert_from_row(r)) for r in rows}
        return sorted(latest.values(), key=lambda pair: pair[0])

    def last_alert_change(self) -> int:
        with self.engine.connect() as conn:
            found = conn.execute(select(func.max(t.alert_changes.c.seq))).scalar_one()
        return int(found or 0)

    def alert_counts(self) -> dict[str, dict[str, int]]:
        """Per scenario: all alerts and those still open."""
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(
                    t.alerts.c.scenario,
                    func.count(),
                    func.count(t.alerts.c.id).filter(t.alerts.c.resolved_at.is_(None)),
                ).group_by(t.alerts.c.scenario)
            ).all()
        return {s: {"total": int(n), "open": int(o)} for s, n, o in sorted(rows)}

    def alerts(self, *, open_only: bool = False, limit: int | None = 1000) -> list[Alert]:
        """Newest first (all of them with ``limit=None``)."""
        query = select(t.alerts).order_by(t.alerts.c.opened_at.desc(), t.alerts.c.id).limit(limit)
        if open_only:
            query = query.where(t.alerts.c.resolved_at.is_(None))
        with self.engine.connect() as conn:
            rows = conn.execute(query).mappings().all()
        return [alert_from_row(r) for r in rows]

    # ----------------------------------------------------------------- alerts
    def save_alert(self, alert: Alert) -> None:
        """Insert or replace an alert (its count and events grow while it is open)."""
        with self.engine.begin() as conn:
            self._upsert_alert(conn, alert)

    @staticmethod
    def _upsert_alert(conn: Connection, alert: Alert) -> None:
        values = {
            "id": alert.id,
            "scenario": alert.scenario,
            "key": alert.key,
            "severity": alert.severity.value,
            "opened_at": alert.opened_at,
            "resolved_at": alert.resolved_at,
            "count": alert.count,
            "event_ids": list(alert.event_ids),
            "area_code": alert.area,
        }
        stmt = insert_stmt(conn, t.alerts).values(values)
        stmt = stmt.on_conflict_do_update(
            index_elements=["id"], set_={k: v for k, v in values.items() if k != "id"}
        )
        conn.execute(stmt)

    def get_alert(self, alert_id: str) -> Alert | None:
        with self.engine.connect() as conn:
            r = conn.execute(select(t.alerts).where(t.alerts.c.id == alert_id)).mappings().first()
        return None if r is None else alert_from_row(r)
