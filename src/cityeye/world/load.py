"""Validate a world file and build the domain :class:`~cityeye.domain.World`.

Validation never stops at the first problem: every item of every section is checked on
its own (shape first, then cross-references among the items that are well formed), and
each problem carries its path in the file and its line, so one run of ``cityeye world
validate`` lists everything a person has to fix.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError
from shapely.geometry import Point, shape
from shapely.geometry.base import BaseGeometry
from shapely.validation import explain_validity

from cityeye.domain import (
    Area,
    AreaLevel,
    Building,
    Device,
    FieldError,
    Party,
    RoutingRule,
    Subject,
    Venue,
    World,
)
from cityeye.domain.elections import Household, Unit, area_of
from cityeye.errors import ProblemsError
from cityeye.sourcefile import DataPath, Problem, SourceDoc, SourceError, read_source
from cityeye.world.schema import (
    AreaModel,
    BuildingModel,
    DeviceModel,
    DistrictModel,
    HouseholdModel,
    PartyModel,
    RoutingModel,
    SlaSection,
    StandardModel,
    SubjectModel,
    VenueModel,
    WorldFile,
)

M = TypeVar("M", bound=BaseModel)


class _Sla(BaseModel):
    sla: SlaSection


_SECTIONS: dict[str, type[BaseModel]] = {
    "areas": AreaModel,
    "parties": PartyModel,
    "devices": DeviceModel,
    "subjects": SubjectModel,
    "venues": VenueModel,
    "buildings": BuildingModel,
    "routing": RoutingModel,
    "standards": StandardModel,
    "households": HouseholdModel,
}
_PARENT_LEVEL = {"street": "district", "community": "street", "grid": "community"}


class WorldError(ProblemsError):
    """The world file has problems; ``problems`` lists every one (a
    :class:`~cityeye.errors.ProblemsError`)."""


@dataclass(slots=True)
class _Checker:
    doc: SourceDoc
    problems: list[Problem] = field(default_factory=list)

    def add(self, path: DataPath, message: str) -> None:
        self.problems.append(self.doc.problem(path, message))

    def model(self, cls: type[M], data: Any, path: DataPath) -> M | None:
        try:
            return cls.model_validate(data)
        except ValidationError as exc:
            for err in exc.errors():
                loc = tuple(err["loc"])
                message = err["msg"]
                if err["type"] in ("literal_error", "enum"):
                    message += f" (got {err['input']!r})"
                if err["type"] == "extra_forbidden":
                    message = f"unknown section; expected one of: district, {', '.join(_SECTIONS)}"
                elif err["type"] == "string_pattern_mismatch":
                    message = "must be letters, digits or _ . : - (no spaces), at most 64 long"
                    if (loc and loc[0] == "tags") or (len(loc) > 1 and loc[-2] == "tags"):
                        message = "tags are lower-case words such as elderly_alone"
                self.add((*path, *loc), message)
            return None

    def items(self, section: str, cls: type[M]) -> list[tuple[int, M]]:
        raw = self.doc.data.get(section, [])
        if raw is None:
            return []
        if not isinstance(raw, list):
            self.add((section,), "must be a list")
            return []
        out: list[tuple[int, M]] = []
        for index, item in enumerate(raw):
            model = self.model(cls, item, (section, index))
            if model is not None:
                out.append((index, model))
        return out

    def unique(self, section: str, items: Iterable[tuple[int, Any]], attr: str) -> None:
        first: dict[str, int] = {}
        for index, item in items:
            value = getattr(item, attr)
            if value in first:
                self.add(
                    (section, index, attr),
                    f"{value!r} is already used by {section}[{first[value]}]",
                )
            else:
                first[value] = index


def _extra(model: BaseModel) -> dict[str, Any]:
    return dict(model.model_extra or {})


def _boundary_problem(boundary: dict[str, Any]) -> str | None:
    if boundary.get("type") not in ("Polygon", "MultiPolygon"):
        return f"must be a GeoJSON Polygon or MultiPolygon, got type {boundary.get('type')!r}"
    try:
        geom = shape(boundary)
    except Exception as exc:  # shapely raises several types for malformed coordinates
        return f"is not valid GeoJSON ({exc})"
    if geom.is_empty:
        return "is empty"
    if not geom.is_valid:
        return f"is not a valid polygon: {explain_validity(geom)}"
    return None


#: The largest circular fence (metres): a fence is a neighbourhood, not a city.
MAX_FENCE_RADIUS_M = 50_000


def _fence_problem(fence: dict[str, Any]) -> tuple[tuple[str, ...], str] | None:
    """What is wrong with a subject's ``fence`` (the place inside it, the reason), if
    anything: a circle ``{lat, lon, radius_m}`` or a GeoJSON Polygon."""
    if "type" in fence:
        if fence["type"] != "Polygon":
            return (), f"a polygon fence is a GeoJSON Polygon, got type {fence['type']!r}"
        problem = _boundary_problem(fence)
        return ((), problem) if problem else None
    unknown = sorted(set(fence) - {"lat", "lon", "radius_m"})
    if unknown:
        return (unknown[0],), "unknown field; a circle is {lat, lon, radius_m}"
    limits = {"lat": (-90, 90), "lon": (-180, 180), "radius_m": (0, MAX_FENCE_RADIUS_M)}
    for name, (low, high) in limits.items():
        value = fence.get(name)
        if value is None:
            return (name,), "is required (a circle is {lat, lon, radius_m})"
        if not isinstance(value, int | float) or isinstance(value, bool):
            return (name,), f"must be a number, got {value!r}"
        if name == "radius_m" and not 0 < value <= high:
            return (name,), f"must be more than 0 and at most {high} metres, got {value}"
        if not low <= value <= high:
            return (name,), f"must be from {low} to {high}, got {value}"
    return None


def build_world(doc: SourceDoc) -> World:
    """Check a parsed world file and build the :class:`World`, or raise
    :class:`WorldError` with every problem found."""
    check = _Checker(doc)
    check.problems.extend(doc.problems)
    if not isinstance(doc.data, dict):
        check.add((), "must be a mapping with district, areas, parties, devices, ...")
        check.problems.sort(key=lambda p: (p.line or 0, p.path))
        raise WorldError(doc.source, check.problems)
    unknown = sorted(set(doc.data) - set(WorldFile.model_fields))
    for key in unknown:
        check.add((key,), f"unknown section; expected one of: district, {', '.join(_SECTIONS)}")
    district = check.model(DistrictModel, doc.data.get("district"), ("district",))
    areas = check.items("areas", AreaModel)
    parties = check.items("parties", PartyModel)
    devices = check.items("devices", DeviceModel)
    subjects = check.items("subjects", SubjectModel)
    venues = check.items("venues", VenueModel)
    buildings = check.items("buildings", BuildingModel)
    routing = check.items("routing", RoutingModel)
    standards = check.items("standards", StandardModel)
    _check_standards(check, standards)
    households = check.items("households", HouseholdModel)
    sla_raw = doc.data.get("sla")
    sla = check.model(_Sla, {"sla": sla_raw}, ()) if sla_raw is not None else None

    check.unique("areas", areas, "code")
    check.unique("parties", parties, "id")
    check.unique("devices", devices, "id")
    check.unique("subjects", subjects, "id")
    check.unique("venues", venues, "id")
    check.unique("buildings", buildings, "id")
    check.unique("households", households, "id")

    level_of: dict[str, str] = {a.code: a.level for _, a in areas}
    shapes: dict[str, BaseGeometry] = {}  # the valid boundaries, to place buildings in
    if district is not None:
        if district.code in level_of:
            for index, a in areas:
                if a.code == district.code:
                    check.add(("areas", index, "code"), "is the district's own code")
        level_of[district.code] = "district"
    for index, a in areas:
        parent_level = level_of.get(a.parent)
        if parent_level is None:
            check.add(("areas", index, "parent"), f"unknown area {a.parent!r}")
        elif parent_level != _PARENT_LEVEL[a.level]:
            check.add(
                ("areas", index, "parent"),
                f"a {a.level}'s parent must be a {_PARENT_LEVEL[a.level]}, "
                f"but {a.parent!r} is a {parent_level}",
            )
        if a.boundary is not None:
            problem = _boundary_problem(a.boundary)
            if problem:
                check.add(("areas", index, "boundary"), problem)
            else:
                shapes[a.code] = shape(a.boundary)

    def area_ref(section: str, index: int, code: str | None, name: str = "area") -> None:
        if code is not None and code not in level_of:
            check.add((section, index, name), f"unknown area {code!r}")

    for index, p in parties:
        for j, code in enumerate(p.areas):
            if code not in level_of:
                check.add(("parties", index, "areas", j), f"unknown area {code!r}")
    subject_ids = {s.id for _, s in subjects}
    venue_ids = {v.id for _, v in venues}
    # a file that lists buildings names every building its devices name (a file
    # without the section is as before: a device's building is only an id)
    building_ids = {b.id for _, b in buildings} if doc.data.get("buildings") else None
    for index, d in devices:
        area_ref("devices", index, d.area)
        if d.subject is not None and d.subject not in subject_ids:
            check.add(("devices", index, "subject"), f"unknown subject {d.subject!r}")
        if d.venue is not None and d.venue not in venue_ids:
            check.add(("devices", index, "venue"), f"unknown venue {d.venue!r}")
        if building_ids is not None and d.building is not None and d.building not in building_ids:
            check.add(("devices", index, "building"), f"unknown building {d.building!r}")
        if (d.lat is None) != (d.lon is None):
            check.add(("devices", index), "lat and lon must be given together")
    party_ids = {p.id for _, p in parties}
    for index, d in devices:
        owner = (d.model_extra or {}).get("owner")
        if owner is not None and str(owner) not in party_ids:
            check.add(("devices", index, "owner"), f"unknown party {owner!r}")
    for index, r in routing:
        area_ref("routing", index, r.area)
        if r.kind is None and r.party is None:
            check.add(("routing", index), "give kind (the nearest party of that kind) or party")
        if r.party is not None and r.party not in party_ids:
            check.add(("routing", index, "party"), f"unknown party {r.party!r}")
    for index, s in subjects:
        area_ref("subjects", index, s.area)
        wrong = _fence_problem(s.fence) if s.fence is not None else None
        if wrong is not None:
            check.add(("subjects", index, "fence", *wrong[0]), wrong[1])
    for index, v in venues:
        area_ref("venues", index, v.area)
        if (v.lat is None) != (v.lon is None):
            check.add(("venues", index), "lat and lon must be given together")
    for index, b in buildings:
        area_ref("buildings", index, b.area)
        if (b.lat is None) != (b.lon is None):
            check.add(("buildings", index), "lat and lon must be given together")
        elif (
            b.lat is not None
            and b.lon is not None
            and b.area in shapes
            and not shapes[b.area].covers(Point(b.lon, b.lat))
        ):
            check.add(
                ("buildings", index, "lat"),
                f"the point ({b.lat}, {b.lon}) lies outside its area {b.area!r}",
            )

    owned = _check_households(check, households, {b.id for _, b in buildings})

    if check.problems or district is None:
        check.problems.sort(key=lambda p: (p.line or 0, p.path))
        raise WorldError(doc.source, check.problems)

    root = Area(
        code=district.code,
        name=district.name,
        level=AreaLevel.DISTRICT,
        extra=_extra(district) | ({"name_en": district.name_en} if district.name_en else {}),
    )
    area_map = {root.code: root}
    for _, a in areas:
        area_map[a.code] = Area(
            code=a.code,
            name=a.name,
            level=AreaLevel(a.level),
            parent=a.parent,
            boundary=a.boundary,
            extra=_extra(a),
        )
    return World(
        district=root,
        timezone=district.timezone,
        areas=area_map,
        parties={p.id: Party(p.id, p.name, p.kind, tuple(p.areas), _extra(p)) for _, p in parties},
        devices={
            d.id: Device(
                d.id,
                d.kind,
                d.area,
                d.subject,
                d.building,
                d.venue,
                tuple(d.tags),
                d.lat,
                d.lon,
                _extra(d),
            )
            for _, d in devices
        },
        subjects={
            s.id: Subject(s.id, s.area, tuple(s.tags), s.name, _extra(s), s.fence)
            for _, s in subjects
        },
        venues={
            v.id: Venue(
                v.id, v.area, tuple(v.tags), v.name, v.lat, v.lon, _extra(v), v.address, v.area_m2
            )
            for _, v in venues
        },
        buildings={
            b.id: Building(b.id, b.area, b.name, b.address, tuple(b.tags), b.lat, b.lon, _extra(b))
            for _, b in buildings
        },
        sla={
            str(severity): {str(stage): int(seconds) for stage, seconds in limits.items()}
            for severity, limits in (sla.sla if sla is not None else {}).items()
        },
        routing=tuple(
            RoutingRule(tuple(r.scenarios), r.kind, r.party, r.area, tuple(r.co_handlers))
            for _, r in routing
        ),
        standards=(
            tuple(s.model_dump(exclude_none=True, mode="json") for _, s in standards)
            if doc.data.get("standards") is not None
            else None
        ),
        households={h.id: Household(h.id, owned[h.id]) for _, h in households},
    )


def _check_households(
    check: _Checker, households: list[tuple[int, HouseholdModel]], buildings: set[str]
) -> dict[str, tuple[Unit, ...]]:
    """Each unit in a declared building, with an exact area, and owned by one household
    only (a room listed twice would vote twice); the units of each household."""
    owner: dict[tuple[str, str], str] = {}
    out: dict[str, tuple[Unit, ...]] = {}
    for index, h in households:
        units: list[Unit] = []
        for j, u in enumerate(h.units):
            path = ("households", index, "units", j)
            if u.building not in buildings:
                check.add((*path, "building"), f"unknown building {u.building!r}")
            try:
                area = area_of("area_m2", u.area_m2)
            except FieldError as err:
                check.add((*path, "area_m2"), err.reason)
                continue
            first = owner.setdefault((u.building, u.room), h.id)
            if first != h.id or any(v.room == u.room and v.building == u.building for v in units):
                taken = f"{u.building} {u.room} is already owned by household {first!r}"
                check.add((*path, "room"), taken)
            units.append(Unit(u.building, u.room, area))
        out[h.id] = tuple(units)
    return out


def _check_standards(check: _Checker, standards: list[tuple[int, StandardModel]]) -> None:
    """Ids unique (standards, and steps within one); a timed mark has a ``within``, an
    outcome (``closed_on_site``) has none."""
    check.unique("standards", standards, "id")
    for index, standard in standards:
        seen: set[str] = set()
        for j, step in enumerate(standard.steps):
            path = ("standards", index, "steps", j)
            if step.id in seen:
                check.add((*path, "id"), f"{step.id!r} is already a step of this standard")
            seen.add(step.id)
            if step.mark == "closed_on_site" and step.within is not None:
                check.add((*path, "within"), "closed_on_site is an outcome: it takes no within")
            elif step.mark != "closed_on_site" and step.within is None:
                check.add((*path, "within"), f"give the time {step.mark} must come within")


def load_world(path: Path) -> World:
    """Read, validate and build a world file; raises :class:`WorldError`."""
    try:
        doc = read_source(path)
    except SourceError as exc:
        raise WorldError(exc.source, exc.problems) from None
    return build_world(doc)
