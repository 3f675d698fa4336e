"""督办 tasks in the database: a year's table, its rows and the units' reports.

Functions over a :class:`~cityeye.store.Store` (as :mod:`cityeye.store.participation`):
the store stays one object while this data type keeps its queries here."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import delete, insert, select, update

from cityeye.domain.tasks import Task, TaskReport
from cityeye.store import tables as t
from cityeye.store.repo import Store

_TITLE = "tasks.title.{year}"


def _task(r: Any) -> Task:
    return Task(
        r.id,
        r.year,
        r.seq,
        r.section_no,
        r.section_title,
        r.content,
        tuple(r.lead_units),
        tuple(r.units),
        tuple(r.party_ids),
        r.progress,
        r.completion,
        r.target,
        r.due_at,
        r.done_at,
        r.source,
        r.updated_at,
    )


def _row(task: Task) -> dict[str, Any]:
    return {
        "id": task.id,
        "year": task.year,
        "seq": task.seq,
        "section_no": task.section_no,
        "section_title": task.section_title,
        "content": task.content,
        "lead_units": list(task.lead_units),
        "units": list(task.units),
        "party_ids": list(task.party_ids),
        "progress": task.progress,
        "completion": task.completion,
        "target": task.target,
        "due_at": task.due_at,
        "done_at": task.done_at,
        "source": task.source,
        "updated_at": task.updated_at,
    }


def years(store: Store) -> list[int]:
    """The years with a table, newest first."""
    with store.engine.connect() as conn:
        found = conn.execute(select(t.tasks.c.year).distinct().order_by(t.tasks.c.year.desc()))
        return list(found.scalars())


def replace_year(store: Store, year: int, title: str, tasks: Sequence[Task]) -> None:
    """``tasks`` become the year's table (its earlier rows and their reports gone), in
    one transaction: a failed import leaves the previous table whole."""
    ids = select(t.tasks.c.id).where(t.tasks.c.year == year)
    with store.engine.begin() as conn:
        conn.execute(delete(t.task_reports).where(t.task_reports.c.task_id.in_(ids)))
        conn.execute(delete(t.tasks).where(t.tasks.c.year == year))
        store._insert_rows(conn, t.tasks, [_row(task) for task in tasks])
        store._set_meta(conn, _TITLE.format(year=year), title)


def title(store: Store, year: int) -> str | None:
    with store.engine.connect() as conn:
        value = store._get_meta(conn, _TITLE.format(year=year))
    return None if value is None else str(value)


def tasks_of(store: Store, year: int, party: str | None = None) -> list[Task]:
    """The year's tasks in the table's order; with ``party``, those it is a unit of."""
    with store.engine.connect() as conn:
        rows = conn.execute(
            select(t.tasks).where(t.tasks.c.year == year).order_by(t.tasks.c.seq)
        ).all()
    found = [_task(r) for r in rows]
    return found if party is None else [x for x in found if party in x.party_ids]


def get_task(store: Store, task_id: str) -> Task | None:
    with store.engine.connect() as conn:
        row = conn.execute(select(t.tasks).where(t.tasks.c.id == task_id)).first()
    return None if row is None else _task(row)


def set_plan(
    store: Store, task_id: str, *, target: str | None, due_at: datetime | None, at: datetime
) -> None:
    """A task's target and deadline (what district staff set after the import)."""
    with store.engine.begin() as conn:
        conn.execute(
            update(t.tasks)
            .where(t.tasks.c.id == task_id)
            .values(target=target, due_at=due_at, updated_at=at)
        )


def add_report(store: Store, report: TaskReport) -> int:
    """Keep a report and make it the task's current progress (its completion, when it
    states one; done when it says so — a later report does not undo a completion)."""
    with store.engine.begin() as conn:
        done = conn.execute(
            insert(t.task_reports).values(
                task_id=report.task_id,
                at=report.at,
                user_id=report.user_id,
                party_id=report.party_id,
                text=report.text,
                completion=report.completion,
                done=report.done,
                photos=list(report.photos),
            )
        )
        values: dict[str, Any] = {"progress": report.text, "updated_at": report.at}
        if report.completion is not None:
            values["completion"] = report.completion
        query = update(t.tasks).where(t.tasks.c.id == report.task_id)
        conn.execute(query.values(**values))
        if report.done:
            conn.execute(query.where(t.tasks.c.done_at.is_(None)).values(done_at=report.at))
        key = done.inserted_primary_key
        return int(key[0]) if key else 0


def reports_of(store: Store, task_id: str) -> list[TaskReport]:
    """A task's reports, oldest first."""
    with store.engine.connect() as conn:
        rows = conn.execute(
            select(t.task_reports)
            .where(t.task_reports.c.task_id == task_id)
            .order_by(t.task_reports.c.id)
        ).all()
    return [
        TaskReport(
            r.task_id,
            r.at,
            r.text,
            r.user_id,
            r.party_id,
            r.completion,
            r.done,
            tuple(r.photos),
            r.id,
        )
        for r in rows
    ]
