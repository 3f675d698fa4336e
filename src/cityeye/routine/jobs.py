"""日提醒、周通报、月考核: the routine's three jobs, when each is due, and running them
once per period.

=========== ============= ================================================ ============
job         period        what it does                                     due (ours)
=========== ============= ================================================ ============
reminder    2026-12-02    each handler's and dispatcher's cases due today  every day
                          or overdue, on the desk, SMS and party robots    08:30
                          (:mod:`cityeye.routine.reminders`)
bulletin    2026-W48      tells each leader and dispatcher their area's    Monday
                          周通报 of the week before is out, with its link   09:00
result      2026-11       publishes the round's 考核结果, frozen            day 1 of a
                          (:mod:`cityeye.routine.results`), and tells      round, 09:00
                          leaders and dispatchers their unit's place
=========== ============= ================================================ ============

The times are the rules file's ``schedule:`` (:class:`~cityeye.assessment.rules.Schedule`).
:func:`due` says which period of each job is the latest whose moment has passed;
:func:`run` claims a job's period in ``routine_runs`` (:mod:`cityeye.store.routine`),
so it runs once however many processes ask — the scheduler thread of ``cityeye
serve`` (:class:`Routine`) and ``cityeye assess`` from cron alike. Only the latest
period is caught up after a stop: a server down for a week sends today's reminder,
not seven stale ones.
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from enum import StrEnum
from typing import Any
from zoneinfo import ZoneInfo

from cityeye.assessment.rules import WEEKDAYS, Rules
from cityeye.assessment.scoring import Period, parse_period, period_of
from cityeye.cases.outbox import Notice, NoticeKind
from cityeye.domain import Event, FieldError, Severity, World
from cityeye.domain.users import User, UserRole
from cityeye.live.clock import Clock
from cityeye.result_report import period_names
from cityeye.routine.maintenance import run_maintenance
from cityeye.routine.reminders import reminders
from cityeye.routine.results import publish_round
from cityeye.store.outbox import tell
from cityeye.store.repo import Store
from cityeye.store.results import get_result
from cityeye.store.routine import claim_run, finish_run, release_run
from cityeye.store.users import list_users

log = logging.getLogger("cityeye.routine")

#: The live pipeline's ``ingest`` (the maintenance job sends its events through it).
Ingest = Callable[[Sequence[Event]], object]
#: A claimed run unfinished this long is taken to have died and may run again.
STALE = timedelta(minutes=30)


class Job(StrEnum):
    REMINDER = "reminder"
    BULLETIN = "bulletin"
    RESULT = "result"
    MAINTENANCE = "maintenance"


@dataclass(frozen=True, slots=True)
class Due:
    """One job's period: ``period`` its label, ``first``..``last`` its local days."""

    job: Job
    period: str
    first: date
    last: date


@dataclass(slots=True)
class Outcome:
    """What asking for one job's period came to."""

    due: Due
    ran: bool  # False: done already, or another process is running it
    summary: dict[str, Any] = field(default_factory=dict)

    def line(self) -> str:
        what = ", ".join(f"{k} {v}" for k, v in self.summary.items())
        if self.summary.get("skipped"):
            return f"{self.due.job.value} {self.due.period}: {self.summary['skipped']}"
        state = (what or "done") if self.ran else "already done / 已完成"
        return f"{self.due.job.value} {self.due.period}: {state}"


# ------------------------------------------------------------------ when
def week_of(day: date) -> Due:
    """The ISO week holding ``day``, as a bulletin's period."""
    year, week, weekday = day.isocalendar()
    monday = day - timedelta(days=weekday - 1)
    return Due(Job.BULLETIN, f"{year}-W{week:02d}", monday, monday + timedelta(days=6))


def round_due(period: Period) -> Due:
    return Due(Job.RESULT, period.label, period.first, period.last)


def due(rules: Rules, now: datetime, timezone: str) -> list[Due]:
    """The latest period of each scheduled job whose moment has passed at ``now``."""
    local = now.astimezone(ZoneInfo(timezone))
    today, clock = local.date(), local.time()
    plan = rules.schedule
    out: list[Due] = []
    if plan.maintenance is not None and clock >= plan.maintenance:
        out.append(Due(Job.MAINTENANCE, today.isoformat(), today, today))
    if plan.reminder is not None and clock >= plan.reminder:
        out.append(Due(Job.REMINDER, today.isoformat(), today, today))
    if plan.bulletin is not None:
        back = (today.weekday() - WEEKDAYS.index(plan.bulletin_day)) % 7
        moment = today - timedelta(days=back)
        if back == 0 and clock < plan.bulletin:
            moment -= timedelta(days=7)
        monday = moment - timedelta(days=moment.weekday())
        out.append(week_of(monday - timedelta(days=1)))  # the full week before
    if plan.result is not None:
        current = period_of(rules.period, today)
        ended = current.previous()
        if today == current.first and clock < plan.result:
            ended = ended.previous()
        out.append(round_due(ended))
    return out


def asked(job: Job, period: str, rules: Rules) -> Due:
    """One job's period as a person names it (``cityeye assess --period``);
    :class:`FieldError` naming ``period`` when it is not that job's kind."""
    try:
        if job in (Job.REMINDER, Job.MAINTENANCE):
            if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", period):
                raise ValueError(period)  # fromisoformat also takes 2026-W44
            day = date.fromisoformat(period)
            return Due(job, day.isoformat(), day, day)
        if job == Job.BULLETIN:
            if not re.fullmatch(r"\d{4}-W\d{2}", period):
                raise ValueError(period)
            year, _, week = period.partition("-W")
            return week_of(date.fromisocalendar(int(year), int(week), 1))
    except ValueError:
        daily = job in (Job.REMINDER, Job.MAINTENANCE)
        kind = "a day such as 2026-12-02" if daily else "an ISO week like 2026-W48"
        raise FieldError("period", f"{period!r} is not {kind}") from None
    found = parse_period(period)
    if found.kind != rules.period:
        raise FieldError(
            "period", f"{period!r} is a {found.kind}; the contest's round is a {rules.period}"
        )
    return round_due(found)


# ------------------------------------------------------------------ what
def run(
    store: Store,
    world: World,
    rules: Rules,
    wanted: Due,
    now: datetime,
    ingest: Ingest | None = None,
) -> Outcome:
    """Run ``wanted`` unless it is done or under way elsewhere (:func:`claim_run`).
    ``ingest``: the live pipeline's, which the maintenance job sends its events into
    (without one — ``cityeye assess`` — that job is left to ``cityeye serve``)."""
    if wanted.job == Job.MAINTENANCE and ingest is None:
        return Outcome(wanted, ran=False, summary={"skipped": "runs inside cityeye serve"})
    if not claim_run(store, wanted.job.value, wanted.period, now, STALE):
        return Outcome(wanted, ran=False)
    try:
        if wanted.job == Job.MAINTENANCE:
            assert ingest is not None
            summary: dict[str, Any] = {"devices": len(run_maintenance(store, world, ingest, now))}
        elif wanted.job == Job.REMINDER:
            summary = _remind(store, world, wanted, now)
        elif wanted.job == Job.BULLETIN:
            summary = _bulletin(store, world, wanted, now)
        else:
            summary = _result(store, world, rules, wanted, now)
    except BaseException:
        release_run(store, wanted.job.value, wanted.period)  # the next ask tries again
        raise
    finish_run(store, wanted.job.value, wanted.period, now, summary)
    log.debug("routine: %s %s: %s", wanted.job.value, wanted.period, summary)  # serve says it
    return Outcome(wanted, ran=True, summary=summary)


def _remind(store: Store, world: World, wanted: Due, now: datetime) -> dict[str, Any]:
    notices = reminders(store, world, now, wanted.first, store.channels.webhook_parties)
    rows = tell(store, notices, world, now)
    people = sum(1 for n in notices if n.user is not None)
    return {"people": people, "robots": len(notices) - people, "rows": rows}


def _readers(store: Store) -> list[User]:
    """Who hears of a bulletin or a result: active leaders and dispatchers."""
    return [
        u
        for u in list_users(store)
        if u.active and u.role in (UserRole.LEADER, UserRole.DISPATCHER)
    ]


def _home(user: User, world: World) -> str:
    """The area a person's bulletin is about: their post's first area, else the
    district's."""
    for code in user.areas:
        if code in world.areas:
            return code
    return world.district.code


def bulletin_url(period: str, area: str) -> str:
    return f"/api/v1/reports/{period}?area={area}&format=pdf"


def bulletin_areas(store: Store, world: World) -> list[str]:
    """The areas whose 周通报 somebody reads: each leader's and dispatcher's home."""
    return sorted({_home(user, world) for user in _readers(store)})


def _bulletin(store: Store, world: World, wanted: Due, now: datetime) -> dict[str, Any]:
    days = f"{wanted.first.month}月{wanted.first.day}日—{wanted.last.month}月{wanted.last.day}日"
    week = int(wanted.period.partition("-W")[2])
    notices: list[Notice] = []
    for user in _readers(store):
        code = _home(user, world)
        name = world.areas[code].name if code in world.areas else world.district.name
        notices.append(
            Notice(
                None,
                NoticeKind.BULLETIN,
                f"bulletin@{wanted.period}:{code}",
                now,
                f"{name}第{week}周通报",
                f"{name}第{week}周（{days}）通报已生成：处置情况、排名、超期工单与督办事项，请查阅。",
                Severity.MEDIUM,
                code,
                bulletin_url(wanted.period, code),
                user=user.id,
            )
        )
    rows = tell(store, notices, world, now)
    return {"people": len(notices), "rows": rows}


def _result(store: Store, world: World, rules: Rules, wanted: Due, now: datetime) -> dict[str, Any]:
    period = parse_period(wanted.period)
    published = publish_round(store, world, rules, period, now)
    boards = [get_result(store, p.period, p.level, p.area) for p in published]
    places: dict[str, tuple[str, Any, Any, int]] = {}  # unit → (name, rank, score, of)
    for board in filter(None, boards):
        ranked = sum(1 for row in board["rows"] if row["rank"] is not None)
        for row in board["rows"]:
            places[row["unit"]] = (row["name"], row["rank"], row["score"], ranked)
    label = period_names({"label": period.label, "kind": period.kind})[0]
    notices: list[Notice] = []
    for user in _readers(store) if published else ():
        code = _home(user, world)
        unit = next((a.code for a in world.ancestors(code) if a.code in places), None)
        if unit is not None:
            name, place, score, of = places[unit]
            text = (
                f"{name}：第 {place} 名（共 {of} 个），得分 {score:g}。"
                if place is not None
                else f"{name}：本期无工单，不参与排名。"
            )
        else:
            text = "各单位得分、排名与扣分明细见晾晒台。"
        notices.append(
            Notice(
                None,
                NoticeKind.RESULT,
                f"result@{wanted.period}",
                now,
                f"{rules.name}{label}考核结果已发布",
                text,
                Severity.MEDIUM,
                code,
                f"/board?period={wanted.period}",
                user=user.id,
            )
        )
    rows = tell(store, notices, world, now)
    return {"boards": len(published), "people": len(notices), "rows": rows}


# ------------------------------------------------------------------ the scheduler
class Routine:
    """The scheduler inside ``cityeye serve``: every ``poll_s`` it asks :func:`due` on
    the service's clock (a demo's simulated one too) and runs what is not done yet.
    A failing job is logged and asked again at the next look; it never stops the
    server."""

    def __init__(
        self,
        store: Store,
        rules: Rules,
        clock: Clock,
        *,
        say: Callable[[str], None] = log.info,
        poll_s: float = 5.0,
        ingest: Ingest | None = None,
    ) -> None:
        self.store, self.rules, self.clock, self.say, self.poll_s = store, rules, clock, say, poll_s
        self.ingest = ingest
        self._done: set[tuple[Job, str]] = set()
        #: The district's time zone as last loaded: a look with nothing new due reads
        #: no more than the clock (the whole world is loaded only to run a job).
        self._timezone: str | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def _pending(self, now: datetime, timezone: str) -> list[Due]:
        return [d for d in due(self.rules, now, timezone) if (d.job, d.period) not in self._done]

    def run_once(self) -> list[Outcome]:
        now = self.clock.now()
        if self._timezone is not None and not self._pending(now, self._timezone):
            return []
        world = self.store.load_world()
        if world is None:
            return []
        self._timezone = world.timezone
        out = []
        for wanted in self._pending(now, world.timezone):
            try:
                outcome = run(self.store, world, self.rules, wanted, now, self.ingest)
            except Exception:  # tried again at the next look; the other jobs go on
                log.exception("routine: %s %s failed", wanted.job.value, wanted.period)
                continue
            if outcome.ran:
                self.say(f"routine: {outcome.line()}")
            self._done.add((wanted.job, wanted.period))
            out.append(outcome)
        return out

    def start(self) -> None:
        self._thread = threading.Thread(target=self._loop, name="cityeye-routine", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                self.run_once()
            except Exception:  # the database away: asked again at the next look
                log.exception("routine: could not look at the schedule")
            self._stop.wait(self.poll_s)


def run_all(
    store: Store, world: World, rules: Rules, wanted: Sequence[Due], now: datetime
) -> list[Outcome]:
    return [run(store, world, rules, w, now) for w in wanted]


__all__ = ["Due", "Job", "Outcome", "Routine", "asked", "due", "run", "run_all"]
