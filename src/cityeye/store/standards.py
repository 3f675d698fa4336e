"""The cases a response standard is measured on (:mod:`cityeye.cases.standards`).

Apart from :mod:`cityeye.store.case_queries` (issue 19: each feature's queries in a
module of its own), but bound by the same :class:`~cityeye.domain.users.Scope`, so the
attainment endpoint cannot see a case its caller may not."""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime

from sqlalchemy import and_, or_, select

from cityeye.domain import Case, Severity
from cityeye.domain.users import Scope
from cityeye.store import tables as t
from cityeye.store.case_queries import CaseFilter, _conditions
from cityeye.store.repo import Store


def standard_cases(
    store: Store,
    scope: Scope,
    areas: Collection[str] | None,
    severities: Collection[Severity] | None,
    start: datetime,
    end: datetime,
) -> list[Case]:
    """The cases in ``scope`` and ``areas`` (``None``: all) of ``severities``
    (``None``: any) that were opened or closed in ``[start, end)``: a timed step counts
    the cases opened in the period, 现场处结 those closed in it."""
    c = t.cases.c
    where = CaseFilter(
        areas=areas, severities=None if severities is None else [s.value for s in severities]
    )
    conditions = _conditions(scope, where)
    conditions.append(
        or_(
            and_(c.opened_at >= start, c.opened_at < end),
            and_(c.closed_at >= start, c.closed_at < end),
        )
    )
    with store.engine.connect() as conn:
        ids = [r.id for r in conn.execute(select(c.id).where(*conditions).order_by(c.id))]
    return store.load_cases(ids) if ids else []
