"""小河网驿 in the database: the enterprise registry, its history and its visits.

Functions over a :class:`~cityeye.store.Store` (as :mod:`cityeye.store.tasks`): the
store stays one object while this data type keeps its queries here. The rules (who
may, what is due) are :mod:`cityeye.enterprises`'."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, func, insert, select, update

from cityeye.domain import Alert
from cityeye.domain.enterprises import (
    Change,
    Contact,
    Enterprise,
    EnterpriseSize,
    RiskLevel,
    Visit,
    WarningOutcome,
)
from cityeye.store import tables as t
from cityeye.store.alerts import alert_from_row
from cityeye.store.repo import Store

#: The scenarios whose alerts are about an enterprise (issue 21 item 4).
WARNING_PREFIX = "enterprise."


def _enterprise(r: Any) -> Enterprise:
    return Enterprise(
        id=r.id,
        credit_code=r.credit_code,
        name=r.name,
        area=r.area_code,
        sector=r.sector,
        size=EnterpriseSize(r.size) if r.size else None,
        address=r.address,
        lat=r.lat,
        lon=r.lon,
        contacts=tuple(
            Contact(c.get("name", ""), c.get("phone", ""), c.get("role", "")) for c in r.contacts
        ),
        staff_id=r.staff_id,
        tags=tuple(r.tags),
        risk=RiskLevel(r.risk),
        subject_id=r.subject_id,
        created_at=r.created_at,
        updated_at=r.updated_at,
    )


def contacts_json(contacts: Sequence[Contact]) -> list[dict[str, str]]:
    return [{"name": c.name, "phone": c.phone, "role": c.role} for c in contacts]


def _row(e: Enterprise) -> dict[str, Any]:
    return {
        "id": e.id,
        "credit_code": e.credit_code,
        "name": e.name,
        "sector": e.sector,
        "size": e.size.value if e.size else None,
        "address": e.address,
        "area_code": e.area,
        "lat": e.lat,
        "lon": e.lon,
        "contacts": contacts_json(e.contacts),
        "staff_id": e.staff_id,
        "tags": list(e.tags),
        "risk": e.risk.value,
        "subject_id": e.subject_id,
        "created_at": e.created_at,
        "updated_at": e.updated_at,
    }


def enterprises(store: Store, areas: Collection[str] | None = None) -> list[Enterprise]:
    """The registry (within ``areas`` when given), by name."""
    query = select(t.enterprises).order_by(t.enterprises.c.name, t.enterprises.c.id)
    if areas is not None:
        query = query.where(t.enterprises.c.area_code.in_(sorted(areas)))
    with store.engine.connect() as conn:
        return [_enterprise(r) for r in conn.execute(query)]


def get_enterprise(store: Store, enterprise_id: str) -> Enterprise | None:
    with store.engine.connect() as conn:
        r = conn.execute(select(t.enterprises).where(t.enterprises.c.id == enterprise_id)).first()
    return None if r is None else _enterprise(r)


def by_credit_code(store: Store, code: str) -> Enterprise | None:
    with store.engine.connect() as conn:
        r = conn.execute(select(t.enterprises).where(t.enterprises.c.credit_code == code)).first()
    return None if r is None else _enterprise(r)


def _change_row(change: Change) -> dict[str, Any]:
    return {
        "enterprise_id": change.enterprise_id,
        "at": change.at,
        "actor": change.actor,
        "fields": {k: [before, after] for k, (before, after) in change.fields.items()},
    }


def save_enterprise(store: Store, enterprise: Enterprise, change: Change) -> None:
    """Insert or update the enterprise and record ``change`` in the same transaction,
    so the history never misses a change nor tells of one that did not happen."""
    with store.engine.begin() as conn:
        _save(conn, enterprise)
        conn.execute(insert(t.enterprise_changes).values(_change_row(change)))


def _save(conn: Connection, enterprise: Enterprise) -> None:
    row = _row(enterprise)
    c = t.enterprises.c
    found = conn.execute(select(c.id).where(c.id == enterprise.id)).first()
    if found is None:
        conn.execute(insert(t.enterprises).values(row))
    else:
        del row["created_at"]
        conn.execute(update(t.enterprises).where(c.id == enterprise.id).values(row))


def save_many(store: Store, pairs: Sequence[tuple[Enterprise, Change]]) -> None:
    """An import's enterprises and their changes, all or none."""
    with store.engine.begin() as conn:
        for enterprise, change in pairs:
            _save(conn, enterprise)
            conn.execute(insert(t.enterprise_changes).values(_change_row(change)))


def history(store: Store, enterprise_id: str) -> list[Change]:
    """An enterprise's changes, oldest first."""
    c = t.enterprise_changes.c
    with store.engine.connect() as conn:
        rows = conn.execute(
            select(t.enterprise_changes).where(c.enterprise_id == enterprise_id).order_by(c.id)
        ).all()
    return [
        Change(r.enterprise_id, r.at, r.actor, {k: (v[0], v[1]) for k, v in r.fields.items()})
        for r in rows
    ]


# ---------------------------------------------------------------------- visits
def _visit(r: Any) -> Visit:
    return Visit(
        id=r.id,
        enterprise_id=r.enterprise_id,
        at=r.at,
        visitor_id=r.visitor_id,
        people_met=r.people_met,
        situation=r.situation,
        problems=r.problems,
        photos=tuple(r.photos),
        lat=r.lat,
        lon=r.lon,
        distance_m=r.distance_m,
        alert_id=r.alert_id,
        outcome=WarningOutcome(r.outcome) if r.outcome else None,
        recorded_at=r.recorded_at,
    )


def add_visit(store: Store, visit: Visit) -> None:
    with store.engine.begin() as conn:
        conn.execute(
            insert(t.enterprise_visits).values(
                id=visit.id,
                enterprise_id=visit.enterprise_id,
                at=visit.at,
                visitor_id=visit.visitor_id,
                people_met=visit.people_met,
                situation=visit.situation,
                problems=visit.problems,
                photos=list(visit.photos),
                lat=visit.lat,
                lon=visit.lon,
                distance_m=visit.distance_m,
                alert_id=visit.alert_id,
                outcome=visit.outcome.value if visit.outcome else None,
                recorded_at=visit.recorded_at or visit.at,
            )
        )


def visits(
    store: Store,
    enterprise_ids: Collection[str] | None = None,
    *,
    since: datetime | None = None,
    until: datetime | None = None,
) -> list[Visit]:
    """Visits (of ``enterprise_ids``; between ``since`` inclusive and ``until``
    exclusive), newest first."""
    c = t.enterprise_visits.c
    query = select(t.enterprise_visits).order_by(c.at.desc(), c.id)
    if enterprise_ids is not None:
        query = query.where(c.enterprise_id.in_(sorted(enterprise_ids)))
    if since is not None:
        query = query.where(c.at >= since)
    if until is not None:
        query = query.where(c.at < until)
    with store.engine.connect() as conn:
        return [_visit(r) for r in conn.execute(query)]


def last_visits(store: Store) -> dict[str, datetime]:
    """enterprise id → the time of its latest visit."""
    c = t.enterprise_visits.c
    with store.engine.connect() as conn:
        rows = conn.execute(select(c.enterprise_id, func.max(c.at)).group_by(c.enterprise_id))
        return {r[0]: r[1] for r in rows}


def outcomes(store: Store) -> dict[str, Visit]:
    """alert id → the visit that recorded its outcome (the latest, if several did)."""
    c = t.enterprise_visits.c
    query = select(t.enterprise_visits).where(c.outcome.is_not(None)).order_by(c.at)
    with store.engine.connect() as conn:
        return {r.alert_id: _visit(r) for r in conn.execute(query) if r.alert_id}


def warnings(store: Store) -> list[Alert]:
    """Every ``enterprise.*`` alert, newest first."""
    a = t.alerts.c
    query = (
        select(t.alerts)
        .where(a.scenario.like(f"{WARNING_PREFIX}%"))
        .order_by(a.opened_at.desc(), a.id)
    )
    with store.engine.connect() as conn:
        return [alert_from_row(r) for r in conn.execute(query).mappings()]
