"""日提醒 · the daily reminder: each handler and dispatcher hears, once a morning, what of
theirs is overdue or due today.

The street chapters of the seeds describe the rhythm "日提醒、周通报、月考核" (seed
``000``; issue 19 item 3); what a reminder holds and who gets one is ours:

* **a handler** — the open cases their party leads or co-handles (inside their own
  areas, when their account names some): how many are overdue, with the three most
  overdue by number, and how many fall due before midnight; and the party's 督办
  tasks past their deadline (:mod:`cityeye.tasks`);
* **a dispatcher** — the open cases in their areas: overdue, due today, and waiting
  to be dispatched (the desk's 待派遣 tab);
* **a 包联干部** (a handler or dispatcher responsible for key enterprises, issue 21) —
  also how many of their enterprises' visits are overdue (:mod:`cityeye.enterprises`);
* nobody with nothing to hear gets a message (a reminder that says "none" every day
  teaches people to ignore it);
* **each party with a group robot** gets the party's own digest there, beside its
  handlers' personal ones.

The counts are the desk's own queries (:mod:`cityeye.store.case_queries`, bounded by
the same :class:`~cityeye.domain.users.Scope`), so the reminder and the desk a person
opens after it agree. The notices go through the outbox like every case notice: the
desk, SMS when a gateway is configured, the party robots; keyed by the day, so a
second run of the day tells nobody twice.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from cityeye.api.cases import OPEN_STATES, TABS
from cityeye.cases.outbox import Notice, NoticeKind
from cityeye.domain import Severity, World
from cityeye.domain.users import Scope, UserRole, below, scope_of
from cityeye.enterprises.visits import overdue_by_staff
from cityeye.store.case_queries import CaseFilter, count_cases, find_cases
from cityeye.store.repo import Store
from cityeye.store.tasks import tasks_of
from cityeye.store.users import list_users
from cityeye.tasks.supervision import overdue as overdue_tasks

#: How many of the most overdue cases a reminder names.
WORST = 3
#: The cases waiting for a dispatcher: the desk's 待派遣 tab.
TO_DISPATCH = next(tab["states"] for tab in TABS if tab["key"] == "to_dispatch")
#: Where a reminder opens the desk: its 超期 tab.
DESK_OVERDUE = "/desk#tab=overdue"
#: Where a reminder of overdue visits alone opens: the 包联干部's visits page.
VISITS = "/visits"


@dataclass(frozen=True, slots=True)
class Digest:
    """What one person (or one party's robot) hears this morning."""

    overdue: int = 0
    due_today: int = 0
    to_dispatch: int = 0
    tasks_overdue: int = 0
    worst: tuple[str, ...] = ()  # the most overdue cases' numbers
    visits_overdue: int = 0  # the person's key enterprises whose visit is overdue

    @property
    def empty(self) -> bool:
        return not (
            self.overdue
            or self.due_today
            or self.to_dispatch
            or self.tasks_overdue
            or self.visits_overdue
        )

    @property
    def only_visits(self) -> bool:
        """Nothing but overdue visits: the reminder opens the visits page, not the desk."""
        return bool(self.visits_overdue) and replace(self, visits_overdue=0).empty

    def text(self, whose: str = "您") -> str:
        """The reminder's words: what is due, most pressing first."""
        parts = []
        if self.overdue:
            worst = f"（最久：{'、'.join(self.worst)}）" if self.worst else ""
            parts.append(f"超期工单 {self.overdue} 件{worst}")
        if self.due_today:
            parts.append(f"今日到期 {self.due_today} 件")
        if self.to_dispatch:
            parts.append(f"待派遣 {self.to_dispatch} 件")
        if self.tasks_overdue:
            parts.append(f"超期督办任务 {self.tasks_overdue} 项")
        if self.visits_overdue:
            parts.append(f"逾期未走访企业 {self.visits_overdue} 家")
        return f"{whose}今日待办：{'，'.join(parts)}。请及时处置。"


def day_bounds(day: date, timezone: str) -> tuple[datetime, datetime]:
    """``[start, end)`` of a local day."""
    zone = ZoneInfo(timezone)
    start = datetime.combine(day, time(0), zone)
    return start, datetime.combine(day + timedelta(days=1), time(0), zone)


def digest_of(
    store: Store,
    world: World,
    scope: Scope,
    now: datetime,
    day_end: datetime,
    *,
    party: str | None = None,
    areas: frozenset[str] | None = None,
    dispatching: bool = False,
    tasks_overdue: int = 0,
) -> Digest:
    """The counts of one scope: ``party`` (a handler's: the cases it takes part in),
    ``areas`` (inside these only), ``dispatching`` (count the dispatch queue too)."""
    base = CaseFilter(states=OPEN_STATES, party=party, areas=areas)
    wheres = {
        "overdue": _with(base, overdue_at=now),
        "due_today": _with(base, due_since=now, due_before=day_end),
    }
    if dispatching:
        wheres["to_dispatch"] = _with(base, states=TO_DISPATCH)
    counts = count_cases(store, scope, wheres)
    worst: tuple[str, ...] = ()
    if counts["overdue"]:
        found, _ = find_cases(store, scope, _with(base, overdue_at=now, order="due"), limit=WORST)
        worst = tuple(case.id for case in found)
    return Digest(
        counts["overdue"],
        counts["due_today"],
        counts.get("to_dispatch", 0),
        tasks_overdue,
        worst,
    )


def _with(base: CaseFilter, **changes: Any) -> CaseFilter:
    return replace(base, **changes)


def reminders(
    store: Store, world: World, now: datetime, day: date, robots: frozenset[str] = frozenset()
) -> list[Notice]:
    """The day's reminder notices: one per handler and dispatcher with something due,
    one per party of ``robots`` (those with a group robot configured); ``now``: the
    moment the counts are taken."""
    _, day_end = day_bounds(day, world.timezone)
    ref = f"reminder@{day.isoformat()}"
    title = f"每日提醒 {day.month}月{day.day}日"
    late_tasks: dict[str, int] = {}
    for task in overdue_tasks(tasks_of(store, day.year), now):
        for unit in set(task.party_ids):
            late_tasks[unit] = late_tasks.get(unit, 0) + 1
    late_visits = overdue_by_staff(store, now)
    out: list[Notice] = []
    for user in list_users(store):
        if not user.active or user.role not in (UserRole.HANDLER, UserRole.DISPATCHER):
            continue
        scope = scope_of(user, world)
        own = below(world, user.areas) if user.areas else None
        if user.role == UserRole.HANDLER:
            if user.party_id is None:
                continue
            digest = digest_of(
                store,
                world,
                scope,
                now,
                day_end,
                party=user.party_id,
                areas=own,
                tasks_overdue=late_tasks.get(user.party_id, 0),
            )
        else:
            digest = digest_of(store, world, scope, now, day_end, dispatching=True)
        digest = replace(digest, visits_overdue=late_visits.get(user.id, 0))
        if digest.empty:
            continue
        area = user.areas[0] if user.areas else None
        severe = bool(digest.overdue)
        url = VISITS if digest.only_visits else DESK_OVERDUE
        out.append(
            _notice(ref, now, title, digest.text(), area, user=user.id, severe=severe, url=url)
        )
    for party_id in sorted(robots):
        party = world.parties.get(party_id)
        if party is None:
            continue
        digest = digest_of(
            store,
            world,
            Scope(None),
            now,
            day_end,
            party=party_id,
            tasks_overdue=late_tasks.get(party_id, 0),
        )
        if digest.empty:
            continue
        out.append(
            _notice(
                ref,
                now,
                f"{title} · {party.name}",
                digest.text("本单位"),
                None,
                party=party_id,
                severe=bool(digest.overdue),
            )
        )
    return out


def _notice(
    ref: str,
    now: datetime,
    title: str,
    text: str,
    area: str | None,
    *,
    user: str | None = None,
    party: str | None = None,
    severe: bool,
    url: str = DESK_OVERDUE,
) -> Notice:
    return Notice(
        None,
        NoticeKind.REMINDER,
        ref,
        now,
        title,
        text,
        Severity.HIGH if severe else Severity.MEDIUM,
        area,
        url,
        party=party,
        user=user,
        robot_only=party is not None,
    )
