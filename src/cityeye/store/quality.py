"""The alarms' outcomes as the quality statistics read them (:mod:`cityeye.cases.quality`),
within a person's scope like every case query (:mod:`cityeye.store.case_queries`), and
the maintenance cases a device already has.

Which device raised an alarm: the case's key when the scenario is keyed by device;
otherwise (a building, a venue, a person) the device of the first event of the alert
behind the case, looked up by the events' (kind, time) index within the period.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime, timedelta

from sqlalchemy import Connection, select

from cityeye.cases.quality import MAINTENANCE_SCENARIO, Maintenance, Outcome
from cityeye.domain import EVENT_KINDS, REPORT_KINDS, CaseState, World
from cityeye.domain.scenario import REPORT_SCENARIO
from cityeye.domain.users import Scope
from cityeye.store import tables as t
from cityeye.store.case_queries import TERMINAL, CaseFilter, _conditions
from cityeye.store.repo import Store

#: How long before the period an alarm's first event may lie (an alert that stayed open
#: a while before its case was opened in the period).
EVENT_LOOKBACK = timedelta(days=2)


def alarm_outcomes(
    store: Store,
    world: World,
    scope: Scope,
    areas: Collection[str] | None,
    start: datetime,
    end: datetime,
) -> list[Outcome]:
    """The alarms whose cases opened in ``[start, end)`` in ``scope`` and ``areas``
    (``None``: all the scope allows), with their device and state. Residents' reports
    and maintenance cases are not alarms and are left out."""
    c, a = t.cases.c, t.alerts.c
    where = CaseFilter(areas=areas, opened_since=start, opened_before=end)
    query = (
        select(c.id, c.scenario, c.key, c.state, c.area_code, a.event_ids)
        .select_from(t.cases.outerjoin(t.alerts, a.id == c.alert_id))
        .where(
            *_conditions(scope, where),
            c.scenario.is_not(None),
            c.scenario.not_in([REPORT_SCENARIO, MAINTENANCE_SCENARIO]),
        )
        .order_by(c.id)
    )
    with store.engine.connect() as conn:
        rows = conn.execute(query).all()
        first: dict[str, str] = {}
        for row in rows:
            if row.key not in world.devices and row.event_ids:
                first[row.id] = str(row.event_ids[0])
        devices = _devices_of(conn, set(first.values()), start - EVENT_LOOKBACK, end)
    out = []
    for row in rows:
        device = row.key if row.key in world.devices else devices.get(first.get(row.id, ""))
        out.append(Outcome(row.id, row.scenario, device, CaseState(row.state), row.area_code))
    return out


def _devices_of(
    conn: Connection,
    event_ids: set[str],
    start: datetime,
    end: datetime,
) -> dict[str, str]:
    """The device of each of ``event_ids`` (those that name one), found through the
    (kind, ts) index: device kinds only, within ``[start, end)``."""
    if not event_ids:
        return {}
    e = t.events.c
    kinds = sorted(k for k in EVENT_KINDS if k not in REPORT_KINDS)
    found: dict[str, str] = {}
    ids = sorted(event_ids)
    for i in range(0, len(ids), 500):
        query = select(e.event_id, e.device_id).where(
            e.kind.in_(kinds),
            e.ts >= start,
            e.ts < end,
            e.event_id.in_(ids[i : i + 500]),
            e.device_id.is_not(None),
        )
        for event_id, device_id in conn.execute(query):
            found.setdefault(str(event_id), str(device_id))
    return found


def maintenance_history(store: Store, devices: Collection[str]) -> dict[str, Maintenance]:
    """For each of ``devices`` with a maintenance case: whether one is open, and when
    the last one ended."""
    if not devices:
        return {}
    c = t.cases.c
    query = select(c.key, c.state, c.closed_at).where(
        c.scenario == MAINTENANCE_SCENARIO, c.key.in_(sorted(devices))
    )
    history: dict[str, Maintenance] = {}
    with store.engine.connect() as conn:
        for key, state, closed_at in conn.execute(query):
            past = history.get(key, Maintenance())
            is_open = past.open or state not in TERMINAL
            last = past.last_closed
            if state in TERMINAL and closed_at is not None:
                last = closed_at if last is None else max(last, closed_at)
            history[key] = Maintenance(is_open, last)
    return history
