"""``cityeye check``: does the database hold what the engine and case book hold?

The live service keeps its engine and case book in memory and writes what changes to
the database after each batch; a snapshot of both, with the last event fed, lets a
restart resume. A write that fails after the events were committed must not leave the
stored cases behind the book for good (issue 14, finding 9): this check rebuilds the
book exactly as a restart would — the last snapshot, then every event stored after it,
with the wall clock's moves where they happened — and compares it, without writing
anything, with the stored cases and the KPI counters. An empty report means a restart
would change nothing.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import Enum

from cityeye.analysis import Analysis
from cityeye.domain import Case, World
from cityeye.live.pipeline import resume
from cityeye.scenarios import LoadedScenario
from cityeye.store import Store

#: What is compared of a case in the book and in the database.
FIELDS = ("state", "version", "severity", "lead", "closed_at", "rating", "due_at", "area")


@dataclass(frozen=True, slots=True)
class Difference:
    """One way the database differs from the rebuilt book: ``what`` is a case id or
    ``kpi``; ``field`` what differs; ``book`` and ``stored`` the two values."""

    what: str
    field: str
    book: object
    stored: object

    def __str__(self) -> str:
        book, stored = _show(self.book), _show(self.stored)
        return f"{self.what}: {self.field} is {book} in the book, {stored} stored"


def _show(value: object) -> str:
    if isinstance(value, Enum):
        value = value.value
    if isinstance(value, datetime):
        return value.isoformat()
    return repr(value)


@dataclass(frozen=True, slots=True)
class Report:
    snapshot_seq: int  # the last event in the snapshot (0: none, rebuilt from all)
    refed: int  # events stored after it, fed again
    cases: int  # cases in the rebuilt book
    differences: list[Difference]


def rebuild(
    store: Store, scenarios: Sequence[LoadedScenario], lateness_s: float
) -> tuple[Analysis, int, int]:
    """The live service's engine and book as a restart would have them, written
    nowhere: (analysis, the snapshot's last event seq, events fed after it)."""
    world = store.load_world() or World.empty()
    # deciding on arrival as the live service does: case ids follow the order in which
    # cases open, and that order is the live one
    analysis = Analysis(scenarios, world, lateness_s=lateness_s, early=True)
    resumed = resume(store, analysis)
    return analysis, resumed.snapshot_seq, resumed.fed


def compare_cases(book: dict[str, Case], stored: dict[str, Case]) -> list[Difference]:
    out = []
    for case_id in sorted(book.keys() | stored.keys()):
        mine, theirs = book.get(case_id), stored.get(case_id)
        if theirs is None:
            assert mine is not None
            out.append(Difference(case_id, "case", mine.state.value, None))
        elif mine is None:
            out.append(Difference(case_id, "case", None, theirs.state.value))
        else:
            for name in FIELDS:
                a, b = getattr(mine, name), getattr(theirs, name)
                if a != b:
                    out.append(Difference(case_id, name, a, b))
    return out


def check(store: Store, scenarios: Sequence[LoadedScenario], lateness_s: float) -> Report:
    """Rebuild, then compare cases and KPI counters (nothing is written)."""
    analysis, seq, fed = rebuild(store, scenarios, lateness_s)
    book = analysis.book
    differences = compare_cases(book.cases, {c.id: c for c in store.load_cases()})
    counted, kept = store.recount_kpis(book.sla), store.kpi_counters()
    for key in sorted(counted.keys() | kept.keys()):
        if counted.get(key, 0) != kept.get(key, 0):
            label = "/".join(key)
            differences.append(Difference("kpi", label, counted.get(key, 0), kept.get(key, 0)))
    return Report(seq, fed, len(book.cases), differences)
