"""Routing: which party gets a case (派遣对象).

Rules live in data, not code: a scenario says which *kind* of party handles it
(``route: property``), the world file's ``routing`` rules refine that per scenario and
area (a fixed party, another kind, co-handlers; see
:class:`~cityeye.domain.RoutingRule`), and the world file says which parties serve
which areas. A case goes to a party of the chosen kind that serves the *smallest* area
enclosing the case's area — grid, then community, then street, then district — so the
grid worker of the grid comes before the street office; among equals, the one with the
fewest open cases, then the smallest id (deterministic).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from cityeye.domain import Party, PartyKind, RoutingRule, World


@dataclass(frozen=True, slots=True)
class Plan:
    """Who should handle a case: a fixed ``party`` or the nearest party of ``kind``,
    plus co-handler kinds; ``rule`` is the world-file rule it came from (``None``:
    the scenario's own route)."""

    kind: PartyKind | None
    party: str | None = None
    co_handlers: tuple[PartyKind, ...] = ()
    rule: int | None = None


def plan(world: World, scenario: str | None, area: str | None, default: PartyKind | None) -> Plan:
    """The most specific routing rule for a case of ``scenario`` in ``area``: the
    closest scenario match (exact, then pattern, then ``*``), then the rule for the
    smallest enclosing area, then the first written; without one, ``default`` (the
    scenario's ``route``). Scenario first: a rule written for lift e-bikes is meant for
    lift e-bikes everywhere, a catch-all for one community only for what nothing else
    names."""
    depth = {a.code: i for i, a in enumerate(world.ancestors(area))} if area else {}
    best: tuple[int, int, int] | None = None
    chosen: int | None = None
    for index, rule in enumerate(world.routing):
        score = rule.specificity(scenario or "")
        if score is None:
            continue
        if rule.area is None:
            reach = len(depth) + 1  # the whole district: wider than any area
        elif rule.area in depth:
            reach = depth[rule.area]
        else:
            continue
        rank = (-score, reach, index)
        if best is None or rank < best:
            best, chosen = rank, index
    if chosen is None:
        return Plan(default)
    picked: RoutingRule = world.routing[chosen]
    fixed = world.parties.get(picked.party) if picked.party else None
    kind = picked.kind or (fixed.kind if fixed else None) or default
    return Plan(kind, picked.party, picked.co_handlers, chosen)


def route(
    world: World,
    kind: PartyKind,
    area: str | None,
    open_load: Mapping[str, int] | None = None,
) -> Party | None:
    """The party of ``kind`` for a case in ``area``, or ``None`` if no party of that
    kind serves any enclosing area (a dispatcher then decides)."""
    load = open_load or {}
    codes = [a.code for a in world.ancestors(area)] if area else []
    if world.district.code not in codes:
        codes.append(world.district.code)
    for code in codes:
        candidates = [p for p in world.parties_serving(code) if p.kind == kind]
        if candidates:
            return min(candidates, key=lambda p: (load.get(p.id, 0), p.id))
    return None


def escalation_target(
    world: World, kind: PartyKind, served: tuple[str, ...], area: str | None
) -> Party | None:
    """The party one level up: a party serving the parent of the smallest area the
    current lead serves on the case's path, of the same kind if there is one, else the
    government side of that level (community office, street office, district)."""
    path = [a.code for a in world.ancestors(area)] if area else [world.district.code]
    level = next((i for i, code in enumerate(path) if code in served), None)
    above = path[(level + 1) :] if level is not None else path[1:]
    for code in above:
        parties = world.parties_serving(code)
        same = sorted((p for p in parties if p.kind == kind), key=lambda p: p.id)
        if same:
            return same[0]
        official = sorted(
            (
                p
                for p in parties
                if p.kind in (PartyKind.COMMUNITY, PartyKind.GOVERNMENT, PartyKind.GRID_WORKER)
            ),
            key=lambda p: (p.kind != PartyKind.COMMUNITY, p.id),
        )
        if official:
            return official[0]
    return None
