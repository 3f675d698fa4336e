"""``/api/v1/tasks``: the district's task-supervision table (督办, issue 19 item 5).

Who may do what (:mod:`cityeye.tasks.supervision`): district staff (a dispatcher whose
post is the district) and admins set a task's target and deadline; the people of a
task's units (users of one of its lead or responsible parties) read their unit's tasks
and report progress on them, nothing else; leaders and other dispatchers read. A task
the caller may not see answers 404, as if it were not there.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal
from urllib.parse import quote

from fastapi import APIRouter, HTTPException, Query, Response
from pydantic import BaseModel, Field

from cityeye.api.auth import CurrentUser
from cityeye.api.deps import Svc
from cityeye.api.exports import file_response
from cityeye.domain.dates import iso_utc
from cityeye.domain.tasks import Task, TaskReport
from cityeye.domain.users import User, UserRole
from cityeye.errors import FieldError, NotFoundError
from cityeye.store import tasks as db
from cityeye.tasks.supervision import (
    export_sheet,
    export_text,
    may_manage,
    may_read_all,
    overdue,
    parse_deadline,
    report_progress,
    stats_by_unit,
    visible,
)

router = APIRouter(prefix="/api/v1/tasks", tags=["tasks"])

Year = Annotated[int | None, Query(ge=1900, le=2999, description="default: the latest")]


def task_json(task: Task, now: dt.datetime) -> dict[str, Any]:
    return {
        "id": task.id,
        "year": task.year,
        "seq": task.seq,
        "section": {"number": task.section_no, "title": task.section_title},
        "content": task.content,
        "lead_units": list(task.lead_units),
        "units": list(task.units),
        "parties": list(task.party_ids),
        "progress": task.progress,
        "completion": task.completion,
        "target": task.target,
        "due_at": iso_utc(task.due_at),
        "done_at": iso_utc(task.done_at),
        "done": task.done,
        "overdue": task.overdue(now),
        "source": task.source,
        "updated_at": iso_utc(task.updated_at),
    }


def report_json(report: TaskReport) -> dict[str, Any]:
    return {
        "id": report.id,
        "at": iso_utc(report.at),
        "party": report.party_id,
        "text": report.text,
        "completion": report.completion,
        "done": report.done,
        "photos": list(report.photos),
    }


def _reader(user: User) -> None:
    """Residents have no business here; everyone else sees what
    :func:`~cityeye.tasks.supervision.visible` lets them."""
    if user.role == UserRole.RESIDENT:
        raise HTTPException(403, "task supervision is for staff and units")


def _year(svc: Svc, year: int | None) -> int | None:
    if year is not None:
        return year
    known = db.years(svc.store)
    return known[0] if known else None


def _tasks(svc: Svc, user: User, year: int | None) -> list[Task]:
    chosen = _year(svc, year)
    if chosen is None:
        return []
    found = db.tasks_of(svc.store, chosen)
    return [task for task in found if visible(user, task)]


def _task(svc: Svc, user: User, task_id: str) -> Task:
    task = db.get_task(svc.store, task_id)
    if task is None or not visible(user, task):
        raise NotFoundError(f"no task {task_id}")
    return task


@router.get("")
def list_tasks(user: CurrentUser, svc: Svc, year: Year = None) -> dict[str, Any]:
    """The year's tasks the caller may see, in the table's order."""
    _reader(user)
    chosen = _year(svc, year)
    now = svc.clock.now()
    return {
        "year": chosen,
        "years": db.years(svc.store),
        "title": db.title(svc.store, chosen) if chosen is not None else None,
        "tasks": [task_json(task, now) for task in _tasks(svc, user, chosen)],
    }


@router.get("/overdue")
def overdue_tasks(user: CurrentUser, svc: Svc, year: Year = None) -> dict[str, Any]:
    """超期: tasks past their deadline without a report of completion (of those the
    caller may see), oldest deadline first."""
    _reader(user)
    now = svc.clock.now()
    late = overdue(_tasks(svc, user, year), now)
    return {"year": _year(svc, year), "tasks": [task_json(task, now) for task in late]}


@router.get("/stats")
def task_stats(
    user: CurrentUser, svc: Svc, by: Literal["unit"] = "unit", year: Year = None
) -> dict[str, Any]:
    """各单位完成情况: per unit, its tasks (as lead or responsible), done, overdue,
    open and the share done. Staff and leaders only (a unit sees its own list)."""
    _reader(user)
    if not may_read_all(user):
        raise HTTPException(403, "the units' figures are for district staff and leaders")
    rows = stats_by_unit(_tasks(svc, user, year), svc.world, svc.clock.now())
    return {
        "year": _year(svc, year),
        "by": by,
        "rows": [
            {
                "unit": row.unit,
                "party": row.party_id,
                "tasks": row.tasks,
                "done": row.done,
                "overdue": row.overdue,
                "open": row.open,
                "rate": row.rate,
            }
            for row in rows
        ],
    }


@router.get("/export")
def export_tasks(
    user: CurrentUser,
    svc: Svc,
    fmt: Annotated[
        Literal["xlsx", "pdf", "txt"], Query(alias="format", description="xlsx, pdf or txt")
    ] = "xlsx",
    year: Year = None,
) -> Response:
    """督办表: the table in its own layout (sections, 项目名称 / 项目内容 / 牵头单位 /
    责任单位 / 目前进展情况) with the current progress, as xlsx, PDF or the text layout."""
    _reader(user)
    if not may_read_all(user):
        raise HTTPException(403, "the whole table is for district staff and leaders")
    chosen = _year(svc, year)
    if chosen is None:
        raise NotFoundError("no task table imported")
    tasks = db.tasks_of(svc.store, chosen)
    title = db.title(svc.store, chosen) or f"{chosen}年督办事项进展情况"
    stem = f"督办表-{chosen}"
    if fmt == "txt":
        disposition = (
            f"attachment; filename=\"cityeye-tasks.txt\"; filename*=UTF-8''{quote(stem)}.txt"
        )
        return Response(
            export_text(title, tasks, svc.world.timezone).encode("utf-8"),
            media_type="text/plain; charset=utf-8",
            headers={"Content-Disposition": disposition, "Cache-Control": "no-store"},
        )
    return file_response(export_sheet(title, tasks, svc.world.timezone), fmt, stem)


@router.get("/{task_id}")
def get_task(task_id: str, user: CurrentUser, svc: Svc) -> dict[str, Any]:
    """One task with its progress reports, oldest first."""
    _reader(user)
    task = _task(svc, user, task_id)
    out = task_json(task, svc.clock.now())
    out["reports"] = [report_json(r) for r in db.reports_of(svc.store, task.id)]
    return out


class Plan(BaseModel):
    """A task's target (目标) and deadline (截止日期, the district's date: the task is
    due by the end of that day). ``null`` clears one."""

    target: str | None = Field(default=None, max_length=2000)
    due: str | None = Field(default=None, max_length=20, examples=["2020-12-31"])


@router.patch("/{task_id}")
def plan_task(task_id: str, body: Plan, user: CurrentUser, svc: Svc) -> dict[str, Any]:
    """Set a task's target and deadline (district staff and admins)."""
    _reader(user)
    task = _task(svc, user, task_id)
    if not may_manage(user, svc.world):
        raise HTTPException(403, "only district staff set targets and deadlines")
    try:
        due_at = parse_deadline(body.due or "", svc.world.timezone)
    except FieldError as exc:
        raise FieldError("due", exc.reason) from None
    now = svc.clock.now()
    db.set_plan(
        svc.store, task.id, target=(body.target or "").strip() or None, due_at=due_at, at=now
    )
    return task_json(_task(svc, user, task_id), now)


class ProgressReport(BaseModel):
    """What a unit did: ``text`` (its completion read from it: "完成率132%"), ``done``
    when the task is complete, ``photos``: references from ``POST /api/v1/attachments``."""

    text: str = Field(min_length=1, max_length=4000)
    done: bool = False
    photos: list[str] = Field(default_factory=list, max_length=9)


@router.post("/{task_id}/reports", status_code=201)
def add_report(task_id: str, body: ProgressReport, user: CurrentUser, svc: Svc) -> dict[str, Any]:
    """A unit's progress report on one of its tasks (the people of its units only)."""
    _reader(user)
    _task(svc, user, task_id)  # a task the caller may not see is not there (404) first
    svc.files.check(body.photos)
    report = report_progress(
        svc.store,
        user,
        task_id,
        text=body.text,
        done=body.done,
        photos=body.photos,
        at=svc.clock.now(),
    )
    return report_json(report)
