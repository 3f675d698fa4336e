"""The district's world (areas, parties, devices, …) in the database.

Part of :class:`cityeye.store.Store` (one module per data type; issue 16)."""

from __future__ import annotations

from fractions import Fraction
from typing import Any

from sqlalchemy import delete, select

from cityeye.domain import (
    Area,
    AreaLevel,
    Building,
    Device,
    Party,
    PartyKind,
    RoutingRule,
    Subject,
    Venue,
    World,
)
from cityeye.domain.dates import DEFAULT_TIMEZONE
from cityeye.domain.elections import Household, Unit
from cityeye.store import tables as t
from cityeye.store.base import Repo

#: Where a venue's floor area (:attr:`Venue.area_m2`) is kept in its ``extra`` column.
AREA_M2 = "area_m2"
#: Where a subject's fence is kept in its row's ``extra`` JSON.
FENCE_KEY = "fence"


def _subject(row: Any) -> Subject:
    """A subject row back as the world had it: its fence out of ``extra``."""
    extra = dict(row["extra"] or {})
    fence = extra.pop(FENCE_KEY, None)
    return Subject(row["id"], row["area_code"], tuple(row["tags"]), row["name"], extra, fence)


class WorldRepo(Repo):
    """The district's world (areas, parties, devices, …) in the database."""

    # ----------------------------------------------------------------- world
    def save_world(self, world: World) -> None:
        """Replace the stored world with ``world`` in one transaction.

        Events, alerts and cases are kept: they reference areas and parties by code,
        and history must survive a re-organised district.
        """
        with self.engine.begin() as conn:
            for table in (
                t.routing_rules,
                t.party_areas,
                t.parties,
                t.devices,
                t.subjects,
                t.venues,
                t.buildings,
            ):
                conn.execute(delete(table))
            # children first: areas reference their parent
            ordered = sorted(world.areas.values(), key=lambda a: -a.level.rank)
            for area in ordered:
                conn.execute(delete(t.areas).where(t.areas.c.code == area.code))
            conn.execute(delete(t.areas))
            by_rank = sorted(world.areas.values(), key=lambda a: (a.level.rank, a.code))
            self._insert_rows(
                conn,
                t.areas,
                [
                    {
                        "code": a.code,
                        "name": a.name,
                        "level": a.level.value,
                        "parent_code": a.parent,
                        "boundary": a.boundary,
                        "extra": a.extra,
                    }
                    for a in by_rank
                ],
            )
            self._insert_rows(
                conn,
                t.parties,
                [
                    {
                        "id": p.id,
                        "name": p.name,
                        "kind": p.kind.value,
                        "non_government": p.non_government,
                        "extra": p.extra,
                    }
                    for p in world.parties.values()
                ],
            )
            self._insert_rows(
                conn,
                t.party_areas,
                [
                    {"party_id": p.id, "area_code": code}
                    for p in world.parties.values()
                    for code in dict.fromkeys(p.areas)
                ],
            )
            self._insert_rows(
                conn,
                t.subjects,
                [
                    {
                        "id": s.id,
                        "area_code": s.area,
                        "name": s.name,
                        "tags": list(s.tags),
                        # the fence rides in the JSON column (a world file's subject
                        # cannot carry an extra field of that name: it is declared)
                        "extra": s.extra | ({FENCE_KEY: s.fence} if s.fence else {}),
                    }
                    for s in world.subjects.values()
                ],
            )
            self._insert_rows(
                conn,
                t.venues,
                [
                    {
                        "id": v.id,
                        "area_code": v.area,
                        "name": v.name,
                        "tags": list(v.tags),
                        "lat": v.lat,
                        "lon": v.lon,
                        # the floor area rides in extra: no column (and no migration)
                        # for one optional number only a crowd scenario reads
                        "extra": v.extra | ({AREA_M2: v.area_m2} if v.area_m2 else {}),
                        "address": v.address,
                    }
                    for v in world.venues.values()
                ],
            )
            self._insert_rows(
                conn,
                t.buildings,
                [
                    {
                        "id": b.id,
                        "area_code": b.area,
                        "name": b.name,
                        "address": b.address,
                        "tags": list(b.tags),
                        "lat": b.lat,
                        "lon": b.lon,
                        "extra": b.extra,
                    }
                    for b in world.buildings.values()
                ],
            )
            self._insert_rows(
                conn,
                t.devices,
                [
                    {
                        "id": d.id,
                        "kind": d.kind,
                        "area_code": d.area,
                        "subject_id": d.subject,
                        "building": d.building,
                        "venue_id": d.venue,
                        "tags": list(d.tags),
                        "lat": d.lat,
                        "lon": d.lon,
                        "extra": d.extra,
                    }
                    for d in world.devices.values()
                ],
            )
            self._insert_rows(
                conn,
                t.routing_rules,
                [
                    {
                        "position": i,
                        "scenarios": list(r.scenarios),
                        "kind": r.kind.value if r.kind else None,
                        "party_id": r.party,
                        "area_code": r.area,
                        "co_handlers": [k.value for k in r.co_handlers],
                    }
                    for i, r in enumerate(world.routing)
                ],
            )
            self._set_meta(conn, "timezone", world.timezone)
            self._set_meta(conn, "sla", world.sla)
            self._set_meta(conn, "standards", world.standards)
            # owner households in one JSON value (read whole, with the world; areas
            # as exact fractions "179/2"): no table, since only elections read them
            self._set_meta(
                conn,
                "households",
                {
                    h.id: [[u.building, u.room, str(u.area_m2)] for u in h.units]
                    for h in world.households.values()
                },
            )
        self._world = world

    def load_world(self) -> World | None:
        """The stored world, or ``None`` before one was loaded."""
        with self.engine.connect() as conn:
            rows = conn.execute(select(t.areas)).mappings().all()
            root = next((r for r in rows if r["level"] == AreaLevel.DISTRICT.value), None)
            if root is None:
                return None
            area_map = {
                r["code"]: Area(
                    r["code"],
                    r["name"],
                    AreaLevel(r["level"]),
                    r["parent_code"],
                    r["boundary"],
                    r["extra"],
                )
                for r in rows
            }
            served: dict[str, list[str]] = {}
            for row in conn.execute(
                select(t.party_areas).order_by(t.party_areas.c.party_id, t.party_areas.c.area_code)
            ):
                served.setdefault(row.party_id, []).append(row.area_code)
            parties = {
                r["id"]: Party(
                    r["id"],
                    r["name"],
                    PartyKind(r["kind"]),
                    tuple(served.get(r["id"], ())),
                    r["extra"],
                )
                for r in conn.execute(select(t.parties)).mappings()
            }
            subjects = {r["id"]: _subject(r) for r in conn.execute(select(t.subjects)).mappings()}
            venues = {
                r["id"]: Venue(
                    r["id"],
                    r["area_code"],
                    tuple(r["tags"]),
                    r["name"],
                    r["lat"],
                    r["lon"],
                    {k: v for k, v in r["extra"].items() if k != AREA_M2},
                    r["address"],
                    r["extra"].get(AREA_M2),
                )
                for r in conn.execute(select(t.venues)).mappings()
            }
            buildings = {
                r["id"]: Building(
                    r["id"],
                    r["area_code"],
                    r["name"],
                    r["address"],
                    tuple(r["tags"]),
                    r["lat"],
                    r["lon"],
                    r["extra"],
                )
                for r in conn.execute(select(t.buildings)).mappings()
            }
            devices = {
                r["id"]: Device(
                    r["id"],
                    r["kind"],
                    r["area_code"],
                    r["subject_id"],
                    r["building"],
                    r["venue_id"],
                    tuple(r["tags"]),
                    r["lat"],
                    r["lon"],
                    r["extra"],
                )
                for r in conn.execute(select(t.devices)).mappings()
            }
            routing = tuple(
                RoutingRule(
                    tuple(r["scenarios"]),
                    PartyKind(r["kind"]) if r["kind"] else None,
                    r["party_id"],
                    r["area_code"],
                    tuple(PartyKind(k) for k in r["co_handlers"]),
                )
                for r in conn.execute(
                    select(t.routing_rules).order_by(t.routing_rules.c.position)
                ).mappings()
            )
            timezone = self._get_meta(conn, "timezone") or DEFAULT_TIMEZONE
            sla = self._get_meta(conn, "sla") or {}
            standards = self._get_meta(conn, "standards")  # None: the built-in ones
            households = self._get_meta(conn, "households") or {}
        return World(
            district=area_map[root["code"]],
            timezone=str(timezone),
            areas=area_map,
            parties=parties,
            devices=devices,
            subjects=subjects,
            venues=venues,
            routing=routing,
            sla=sla,
            buildings=buildings,
            standards=None if standards is None else tuple(standards),
            households={
                hid: Household(hid, tuple(Unit(b, room, Fraction(a)) for b, room, a in units))
                for hid, units in households.items()
            },
        )
