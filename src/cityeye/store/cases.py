"""Cases with their handlers and timelines.

Part of :class:`cityeye.store.Store` (one module per data type; issue 16)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, delete, select, update

from cityeye.cases.aggregate import (
    Key,
    case_counts,
    difference,
)
from cityeye.cases.lifecycle import Note
from cityeye.cases.outbox import Notice, notices
from cityeye.cases.sla import DEFAULT_SLA, Stage
from cityeye.domain import (
    Case,
    CaseOrigin,
    CaseState,
    HandlerRole,
    Severity,
    TimelineEntry,
)
from cityeye.store import tables as t
from cityeye.store.base import CHUNK, Repo
from cityeye.store.outbox import BELL, add_notices


class CaseRepo(Repo):
    """Cases with their handlers and timelines."""

    # ----------------------------------------------------------------- cases
    def save_cases(
        self,
        cases: Iterable[Case],
        *,
        alert_ids: Mapping[str, str] | None = None,
        sla: Mapping[Severity, Mapping[Stage, int]] = DEFAULT_SLA,
    ) -> None:
        """Insert new cases and bring stored ones up to date — row, handlers, the
        timeline lines not stored yet — and add the difference each makes to the KPI
        counters, all in one transaction. A case's timeline only ever grows: one that
        would drop stored lines is refused with ``ValueError``.

        The notifications the change makes (dispatched, critical, …; see
        :mod:`cityeye.cases.outbox`) are written to the outbox in the same
        transaction."""
        cases = list(cases)
        alert_ids = alert_ids or {}
        world = self._kpi_world()
        with self.engine.begin() as conn:
            known = self._existing(conn, t.cases.c.id, [c.id for c in cases])
            old = {c.id: c for c in self._load_cases(conn, sorted(known))} if known else {}
            counts: Counter[Key] = Counter()
            new_rows, handlers, lines = [], [], []
            told: list[Notice] = []
            for case in cases:
                before = old.get(case.id)
                stored = len(before.timeline) if before else 0
                if before is not None and case.timeline[:stored] != before.timeline:
                    raise ValueError(f"case {case.id}: the stored timeline cannot be rewritten")
                area = world.areas.get(case.area) if case.area else None
                told += notices(
                    case,
                    stored,
                    before.severity if before else None,
                    area.name if area else None,
                    self._actor_names(conn, case.timeline[stored:]),
                )
                row = self._case_row(case)
                if before is None:
                    row["alert_id"] = alert_ids.get(case.id)
                    new_rows.append(row)
                    counts.update(case_counts(case, world, sla))
                else:
                    conn.execute(update(t.cases).where(t.cases.c.id == case.id).values(**row))
                    conn.execute(
                        delete(t.case_handlers).where(t.case_handlers.c.case_id == case.id)
                    )
                    delta = difference(
                        case_counts(case, world, sla), case_counts(before, world, sla)
                    )
                    counts.update(delta)
                handlers += self._handler_rows(case)
                lines += [self._timeline_row(case.id, e) for e in case.timeline[stored:]]
            self._insert_rows(conn, t.cases, new_rows)
            self._insert_rows(conn, t.case_handlers, handlers)
            self._insert_rows(conn, t.case_timeline, lines)
            self._add_counts(conn, counts)
            rung = add_notices(conn, told, world, self.channels, datetime.now(UTC))
        if rung:
            BELL.ring()  # after the commit: a desk's stream in this process reads them now

    @staticmethod
    def _actor_names(conn: Connection, lines: Sequence[TimelineEntry]) -> dict[str, str]:
        """The display names of the people whose 督办 or 催办 is among ``lines`` (the
        notice names the leader); no query when there is none, as nearly always."""
        from cityeye.store.users import names_on  # users imports the Store this is part of

        return names_on(conn, {e.actor for e in lines if e.action in (Note.SUPERVISE, Note.URGE)})

    @staticmethod
    def _case_row(case: Case) -> dict[str, Any]:
        return {
            "id": case.id,
            "origin": case.origin.value,
            "state": case.state.value,
            "severity": case.severity.value,
            "title": case.title,
            "scenario": case.scenario,
            "key": case.key,
            "area_code": case.area,
            "lead_party": case.lead,
            "reporter": case.reporter,
            "opened_at": case.opened_at,
            "closed_at": case.closed_at,
            "rating": case.rating,
            "due_at": case.due_at,
            "version": case.version,
        }

    @staticmethod
    def _handler_rows(case: Case) -> list[dict[str, Any]]:
        handlers = [(case.lead, HandlerRole.LEAD)] if case.lead else []
        handlers += [(p, HandlerRole.CO) for p in dict.fromkeys(case.co_handlers) if p != case.lead]
        return [
            {"case_id": case.id, "party_id": p, "role": role.value, "assigned_at": case.opened_at}
            for p, role in handlers
        ]

    def get_case(self, case_id: str) -> Case | None:
        found = self.load_cases([case_id])
        return found[0] if found else None

    def load_cases(self, ids: Sequence[str] | None = None) -> list[Case]:
        """Cases with their handlers and timelines (all, or those ``ids``), in id
        order; three queries per chunk of ids whatever the number of cases."""
        with self.engine.connect() as conn:
            if ids is None:
                return self._load_cases(conn, None)
            out: list[Case] = []
            for start in range(0, len(ids), CHUNK):
                out += self._load_cases(conn, ids[start : start + CHUNK])
            return sorted(out, key=lambda c: c.id)

    def _load_cases(self, conn: Connection, ids: Sequence[str] | None) -> list[Case]:
        cases_q = select(t.cases).order_by(t.cases.c.id)
        handlers_q = select(t.case_handlers).order_by(
            t.case_handlers.c.assigned_at, t.case_handlers.c.party_id
        )
        timeline_q = select(t.case_timeline).order_by(t.case_timeline.c.seq)
        if ids is not None:
            cases_q = cases_q.where(t.cases.c.id.in_(ids))
            handlers_q = handlers_q.where(t.case_handlers.c.case_id.in_(ids))
            timeline_q = timeline_q.where(t.case_timeline.c.case_id.in_(ids))
        co: dict[str, list[str]] = {}
        timelines: dict[str, list[TimelineEntry]] = {}
        rows = conn.execute(cases_q).mappings().all()
        for h in conn.execute(handlers_q).mappings():
            if h["role"] == HandlerRole.CO.value:
                co.setdefault(h["case_id"], []).append(h["party_id"])
        for e in conn.execute(timeline_q).mappings():
            timelines.setdefault(e["case_id"], []).append(
                TimelineEntry(
                    e["at"],
                    e["actor"],
                    e["action"],
                    CaseState(e["from_state"]) if e["from_state"] else None,
                    CaseState(e["to_state"]) if e["to_state"] else None,
                    e["note"],
                    tuple(e["attachments"]),
                )
            )
        return [
            Case(
                id=r["id"],
                origin=CaseOrigin(r["origin"]),
                state=CaseState(r["state"]),
                severity=Severity(r["severity"]),
                opened_at=r["opened_at"],
                title=r["title"],
                scenario=r["scenario"],
                key=r["key"],
                area=r["area_code"],
                lead=r["lead_party"],
                co_handlers=co.get(r["id"], []),
                reporter=r["reporter"],
                closed_at=r["closed_at"],
                rating=r["rating"],
                due_at=r["due_at"],
                timeline=timelines.get(r["id"], []),
            )
            for r in rows
        ]

    # ----------------------------------------------------------------- helpers
    @staticmethod
    def _timeline_row(case_id: str, entry: TimelineEntry) -> dict[str, Any]:
        return {
            "case_id": case_id,
            "at": entry.at,
            "actor": entry.actor,
            "action": entry.action,
            "from_state": entry.from_state.value if entry.from_state else None,
            "to_state": entry.to_state.value if entry.to_state else None,
            "note": entry.note,
            "attachments": list(entry.attachments),
        }
