"""A supervised task (督办事项) and a unit's progress report on it."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime

#: Where a progress text gives a number (ours, read off seed 003's wording:
#: "开工配套项目23个，完成率115%", "已新增地下空间69.16万平方米，完成率115.3%"): a
#: 完成率 or 完成进度 followed by a percentage. Other percentages in a text (an
#: 优良率, a 同比) are not the task's completion and are left alone.
_COMPLETION = re.compile(r"完成(?:率|进度)\s*(?:为|达|达到)?\s*(\d+(?:\.\d+)?)\s*[%％]")
#: Progress texts that say the task is done (ours).
DONE_TEXTS = frozenset({"已完成", "已完工", "全部完成"})


def completion_of(text: str) -> float | None:
    """The completion a text states, as a fraction ("完成率132%" → 1.32); the first if
    it states several; ``None`` when it states none."""
    match = _COMPLETION.search(text)
    return None if match is None else round(float(match.group(1)) / 100, 6)


def says_done(text: str, completion: float | None) -> bool:
    """Whether a progress text reports the task done: it is one of :data:`DONE_TEXTS`
    or its completion is 100 % or more."""
    return text.strip().rstrip("。") in DONE_TEXTS or (completion is not None and completion >= 1)


@dataclass(frozen=True, slots=True)
class Task:
    """One row of a year's table. ``lead_units`` / ``units``: the 牵头单位 and 责任单位
    as the table names them; ``party_ids``: the world's parties among them (lead and
    responsible), who may report on the task."""

    id: str
    year: int
    seq: int
    section_no: str
    section_title: str
    content: str
    lead_units: tuple[str, ...]
    units: tuple[str, ...]
    party_ids: tuple[str, ...]
    progress: str
    completion: float | None
    target: str | None
    due_at: datetime | None
    done_at: datetime | None
    source: str
    updated_at: datetime

    @property
    def done(self) -> bool:
        return self.done_at is not None

    def overdue(self, now: datetime) -> bool:
        """Past its deadline with no report of completion."""
        return self.due_at is not None and self.done_at is None and self.due_at < now


@dataclass(frozen=True, slots=True)
class TaskReport:
    """What a unit said of a task, and when (``photos``: attachment references)."""

    task_id: str
    at: datetime
    text: str
    user_id: str | None = None
    party_id: str | None = None
    completion: float | None = None
    done: bool = False
    photos: tuple[str, ...] = field(default_factory=tuple)
    id: int | None = None
