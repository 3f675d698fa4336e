"""The world file's shape (a contract: other tools write these files).

Each item allows extra fields, which are kept (``extra`` on the domain objects), so a
tool can carry its own data through cityeye; unknown *top-level* keys are an error,
since a misspelt section (``device:`` for ``devices:``) would otherwise load an empty
world without a word.
"""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator

from cityeye.domain import PartyKind, Severity
from cityeye.domain.dates import DEFAULT_TIMEZONE
from cityeye.sourcefile import Duration

#: Codes and ids: letters, digits and ``_.:-``; no spaces, so they work in URLs and CSVs.
CODE_PATTERN = r"^[A-Za-z0-9_.:\-]{1,64}$"
Code = Annotated[str, StringConstraints(pattern=CODE_PATTERN)]
Name = Annotated[str, StringConstraints(min_length=1, max_length=200, strip_whitespace=True)]
Tag = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]{0,63}$")]
#: A street address as people write it (大关路 12 号).
Address = Annotated[str, StringConstraints(min_length=1, max_length=300, strip_whitespace=True)]
_CODE_RE = re.compile(CODE_PATTERN)


def coerce_code(value: Any) -> Any:
    """Area codes are often written unquoted (``330105``): accept integers as text."""
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return value


class Item(BaseModel):
    model_config = ConfigDict(extra="allow", str_strip_whitespace=True)


class DistrictModel(Item):
    code: Code
    name: Name
    timezone: str = DEFAULT_TIMEZONE
    name_en: str | None = None

    _code = field_validator("code", mode="before")(coerce_code)

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {value!r} (e.g. Asia/Shanghai)") from None
        return value


class AreaModel(Item):
    code: Code
    name: Name
    level: Literal["street", "community", "grid"]
    parent: Code
    boundary: dict[str, Any] | None = None

    _codes = field_validator("code", "parent", mode="before")(coerce_code)


class PartyModel(Item):
    id: Code
    name: Name
    kind: PartyKind
    areas: list[Code] = Field(min_length=1)

    _id = field_validator("id", mode="before")(coerce_code)

    @field_validator("areas", mode="before")
    @classmethod
    def _area_codes(cls, value: Any) -> Any:
        return [coerce_code(v) for v in value] if isinstance(value, list) else value


class Located(Item):
    lat: float | None = Field(default=None, ge=-90, le=90)
    lon: float | None = Field(default=None, ge=-180, le=180)


class DeviceModel(Located):
    id: Code
    kind: Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]{0,63}$")]
    area: Code | None = None
    subject: Code | None = None
    building: Code | None = None
    venue: Code | None = None
    tags: list[Tag] = Field(default_factory=list)

    _codes = field_validator("id", "area", "subject", "building", "venue", mode="before")(
        coerce_code
    )


class SubjectModel(Item):
    id: Code
    area: Code | None = None
    tags: list[Tag] = Field(default_factory=list)
    name: Name | None = None
    #: Where the subject is expected to be: ``{lat, lon, radius_m}`` or a GeoJSON
    #: Polygon (checked by the loader, which names what is wrong).
    fence: dict[str, Any] | None = None

    _codes = field_validator("id", "area", mode="before")(coerce_code)


class VenueModel(Located):
    id: Code
    area: Code | None = None
    tags: list[Tag] = Field(default_factory=list)
    name: Name | None = None
    address: Address | None = None
    #: Floor area in m², for crowd density (optional; must be above 0).
    area_m2: float | None = Field(default=None, gt=0, allow_inf_nan=False)

    _codes = field_validator("id", "area", mode="before")(coerce_code)


class BuildingModel(Located):
    """A named building or place (a 小区's 幢, a school, a market): what devices'
    ``building`` names, and what the portal names near a pin."""

    id: Code
    name: Name
    area: Code
    address: Address | None = None
    tags: list[Tag] = Field(default_factory=list)

    _codes = field_validator("id", "area", mode="before")(coerce_code)


Room = Annotated[str, StringConstraints(min_length=1, max_length=32, strip_whitespace=True)]


class UnitModel(BaseModel):
    """One 专有部分 an owner household owns: a room (房号) of a declared building and its
    floor area in m² (checked exactly by the loader: above 0, at most two decimals).
    No extra keys: a misspelt ``area_m2`` would otherwise count as no area."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    building: Code
    room: Room
    area_m2: int | float | str

    _codes = field_validator("building", mode="before")(coerce_code)


class HouseholdModel(Item):
    """An owner household (业主户): its id and the units it owns. One head, one vote in
    an owners' election, weighted by its units' area (docs/elections.md)."""

    id: Code
    units: list[UnitModel] = Field(min_length=1)

    _id = field_validator("id", mode="before")(coerce_code)


ScenarioPattern = Annotated[str, StringConstraints(pattern=r"^[a-z0-9_.*?\-]{1,128}$")]


class RoutingModel(BaseModel):
    """A routing rule (派遣规则). No extra keys: a misspelt ``co_handler`` would
    silently route without the co-handler."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    scenarios: list[ScenarioPattern] = Field(min_length=1)
    kind: PartyKind | None = None
    party: Code | None = None
    area: Code | None = None
    co_handlers: list[PartyKind] = Field(default_factory=list)

    _codes = field_validator("party", "area", mode="before")(coerce_code)

    @field_validator("scenarios", mode="before")
    @classmethod
    def _one_or_many(cls, value: Any) -> Any:
        return [value] if isinstance(value, str) else value


Stage = Literal["accept", "arrive", "handle"]
#: Deadlines per severity and stage (``critical: {accept: 1m, arrive: 5m, handle: 20m}``);
#: a severity given here replaces that severity's default limits as a whole.
SlaSection = dict[Severity, dict[Stage, Duration]]


Mark = Literal["dispatched", "accepted", "arrived", "handled", "closed", "closed_on_site"]
StepId = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]{0,63}$")]


class StepModel(BaseModel):
    """A step of a response standard: ``mark`` (a recorded moment of the case, see
    :mod:`cityeye.cases.standards`) within ``within`` of the opening; ``closed_on_site``
    takes no ``within``, every other mark needs one (checked by the loader)."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    id: StepId
    name: Name
    name_en: Name | None = None
    mark: Mark
    within: Duration | None = None
    rate: Name | None = None
    rate_en: Name | None = None


class StandardModel(BaseModel):
    """A response standard (响应标准): the cases it covers and its steps. No extra keys:
    a misspelt ``severity`` would silently cover every case."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    id: Code
    name: Name
    name_en: Name | None = None
    severities: list[Severity] = Field(default_factory=list)
    scenarios: list[ScenarioPattern] = Field(default_factory=list)
    source: Annotated[str, StringConstraints(max_length=500)] | None = None
    steps: list[StepModel] = Field(min_length=1)

    _id = field_validator("id", mode="before")(coerce_code)

    @field_validator("scenarios", mode="before")
    @classmethod
    def _one_or_many(cls, value: Any) -> Any:
        return [value] if isinstance(value, str) else value


class WorldFile(BaseModel):
    """The whole file. ``extra="forbid"``: a misspelt section is an error."""

    model_config = ConfigDict(extra="forbid")

    district: DistrictModel
    areas: list[AreaModel] = Field(default_factory=list)
    parties: list[PartyModel] = Field(default_factory=list)
    devices: list[DeviceModel] = Field(default_factory=list)
    subjects: list[SubjectModel] = Field(default_factory=list)
    venues: list[VenueModel] = Field(default_factory=list)
    buildings: list[BuildingModel] = Field(default_factory=list)
    routing: list[RoutingModel] = Field(default_factory=list)
    sla: SlaSection = Field(default_factory=dict)
    #: Response standards; absent: the built-in "135" (cityeye.cases.standards).
    standards: list[StandardModel] | None = None
    #: Owner households and their units (业委会选举, docs/elections.md); optional.
    households: list[HouseholdModel] = Field(default_factory=list)
