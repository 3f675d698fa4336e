"""Scenario files: YAML in, validated specs out, every problem with file, line and field.

A file holds one module's scenarios::

    module: emergency
    scenarios:
      - id: fire.smoke
        name: {zh: 智慧消安·烟感报警, en: Smoke alarm}
        seed: {ref: "000:287", says: 智慧消安管控平台}
        reads: [smoke.alarm, temperature.reading]
        key: building
        trigger: {type: threshold, when: {kind: smoke.alarm}}
        severity: high
        upgrade:
          - severity: critical
            trigger: {type: cooccurrence, first: {kind: smoke.alarm}, second: {kind: smoke.alarm},
                      distinct: device_id, window: 120s}
        resolve: {type: case}
        route: grid_worker

The built-in catalogue (``catalogue/*.yaml``) is read the same way as a user's folder,
so an integrator's scenario is a first-class citizen and can be backtested with
``cityeye replay --scenarios DIR``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from itertools import pairwise
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from cityeye.domain import FieldError, KeyBy, Module, PartyKind, ScenarioSpec, Severity
from cityeye.domain.dates import DEFAULT_TIMEZONE
from cityeye.errors import ProblemsError
from cityeye.scenarios.conditions import WorldValues, compile_condition, getter
from cityeye.scenarios.scoring import ScoreModel
from cityeye.scenarios.triggers import TRIGGER_TYPES, AnyOfConfig, AnyTrigger, ScoreConfig
from cityeye.sourcefile import (
    Duration,
    Problem,
    SourceDoc,
    SourceError,
    format_path,
    parse_duration,
    read_source,
)

CATALOGUE = Path(__file__).with_name("catalogue")
ID_PATTERN = r"^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)+$"


class Names(BaseModel):
    model_config = ConfigDict(extra="forbid")
    zh: str = Field(min_length=1, max_length=100)
    en: str = Field(min_length=1, max_length=100)


class Description(BaseModel):
    model_config = ConfigDict(extra="forbid")
    zh: str = Field(min_length=1, max_length=2000)
    en: str = Field(min_length=1, max_length=2000)


class SeverityMap(BaseModel):
    """Severity read from the event, e.g. a resident's report category."""

    model_config = ConfigDict(extra="forbid")
    by: str
    map: dict[str, Severity]
    default: Severity


def _severity(value: Any) -> Any:
    """One clear error for ``severity`` (a level, or a mapping read from the event)."""
    if isinstance(value, str):
        try:
            return Severity(value)
        except ValueError:
            levels = ", ".join(s.value for s in Severity)
            raise ValueError(
                f"must be one of {levels}, or {{by, map, default}} (got {value!r})"
            ) from None
    if isinstance(value, dict):
        return SeverityMap.model_validate(value)
    return value


class Upgrade(BaseModel):
    """Raise the open alert's severity when ``trigger`` fires. ``scope: alert`` counts
    only what the alert itself holds (its memory starts when the alert opens);
    ``scope: key`` (default) also remembers what came just before, so a hot reading
    a minute *before* the smoke alarm still verifies it."""

    model_config = ConfigDict(extra="forbid")
    severity: Severity
    trigger: AnyTrigger
    scope: Literal["key", "alert"] = "key"


#: The stages a scenario's own deadlines may name, in the order a case passes them
#: (the names of :class:`cityeye.cases.sla.Stage`: 响应, 到场, 处置).
SLA_STAGES = ("accept", "arrive", "handle")


def _sla(value: Any) -> Any:
    """``sla:`` is a tag (the old form, ``sla: emergency``, read by people only) or the
    scenario's own deadlines per stage (``{arrive: 30m}``): known stages, positive
    durations, a later stage never due before an earlier one."""
    if value is None or isinstance(value, str):
        return value
    if not isinstance(value, dict):
        raise ValueError(
            f"is a tag, or deadlines per stage such as {{arrive: 30m}} (got {value!r})"
        )
    if not value:
        raise ValueError("give at least one stage: accept, arrive or handle")
    limits: dict[str, float] = {}
    for stage in value:
        if stage not in SLA_STAGES:
            raise ValueError(f"{stage!r} is not a stage; use accept, arrive or handle")
    for stage in SLA_STAGES:
        if stage in value:
            seconds = parse_duration(value[stage])
            if seconds <= 0:
                raise ValueError(f"{stage}: a deadline must be longer than 0 s")
            limits[stage] = float(seconds)
    for (a, sa), (b, sb) in pairwise(limits.items()):
        if sb < sa:
            raise ValueError(
                f"{b} ({sb:g} s) is due before {a} ({sa:g} s); a later stage cannot be due earlier"
            )
    return limits


class CaseResolve(BaseModel):
    """Only a handled case (or a dismissal) closes the alert."""

    model_config = ConfigDict(extra="forbid")
    type: Literal["case"]


ResolveSpec = Annotated[AnyTrigger | CaseResolve, Field(discriminator="type")]


#: ``004:49`` or ``000:372-376``: a seed file's number (``shared/seeds/004_….txt``) and
#: the line, or first and last lines, where it names the scenario.
SEED_REF = re.compile(r"(\d{3}):(\d+)(?:-(\d+))?")
#: ``seed: addition``: the seeds do not name this scenario; cityeye added it.
ADDITION = "addition"


class Citation(BaseModel):
    """Where a seed names what a scenario watches: ``ref`` the seed file and line(s),
    ``says`` the seed's own words for it, verbatim from those lines (the lines joined
    as they are, so words broken over a line end still match). It vouches for *what*
    the scenario watches, never for its numbers: those are cityeye's unless the cited
    words give them. tests/unit/test_catalogue_seeds.py checks every ``says`` against
    the seeds."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    ref: str
    says: str = Field(min_length=2, max_length=40)

    @field_validator("ref")
    @classmethod
    def _ref(cls, value: str) -> str:
        match = SEED_REF.fullmatch(value)
        if match is None:
            raise ValueError(
                f"must be a seed file's number and line(s), as 004:49 or 000:372-376 "
                f"(got {value!r})"
            )
        first, last = int(match[2]), int(match[3] or match[2])
        if first < 1 or (match[3] is not None and last <= first):
            raise ValueError(f"lines must count up from 1, as 000:372-376 (got {value!r})")
        return value

    @property
    def file(self) -> str:
        """The seed file's number, ``004``."""
        return self.ref.split(":")[0]

    @property
    def lines(self) -> tuple[int, int]:
        """First and last line cited (1-based, both included)."""
        match = SEED_REF.fullmatch(self.ref)
        assert match is not None  # checked on load
        return int(match[2]), int(match[3] or match[2])


Seed = Literal["addition"] | tuple[Citation, ...]


def _seed(value: Any) -> Any:
    """One clear error for ``seed``: ``addition``, one ``{ref, says}``, or a list of
    them; a citation's own problem is named with its field."""
    if value is None or value == ADDITION:
        return value
    items = value if isinstance(value, list) else [value]
    if not items or not all(isinstance(item, dict | Citation) for item in items):
        raise ValueError(
            "must be 'addition', or {ref, says} naming the seed's line and words, or a "
            f"list of them (got {value!r})"
        )
    out = []
    for index, item in enumerate(items):
        try:
            out.append(Citation.model_validate(item))
        except ValidationError as exc:
            err = exc.errors()[0]
            where = ".".join(str(part) for part in err["loc"]) or "citation"
            at = f"[{index}] " if isinstance(value, list) else ""
            msg = err["msg"].removeprefix("Value error, ")
            raise ValueError(f"{at}{where}: {msg}") from None
    return tuple(out)


class ScenarioConfig(BaseModel):
    """One scenario as written in YAML."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    id: str = Field(pattern=ID_PATTERN, max_length=64)
    name: Names
    #: Where the seeds name it (:class:`Citation`), or ``addition``; optional for a
    #: user's scenario, required of the built-in catalogue by its tests.
    seed: Annotated[Seed | None, BeforeValidator(_seed)] = None
    description: Description | None = None
    reads: list[Annotated[str, Field(pattern=ID_PATTERN)]] = Field(min_length=1)
    key: KeyBy
    tags: list[Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]*$")]] = Field(default_factory=list)
    when: dict[str, Any] | None = None
    trigger: AnyTrigger
    severity: Annotated[Severity | SeverityMap, BeforeValidator(_severity)]
    upgrade: list[Upgrade] = Field(default_factory=list)
    resolve: ResolveSpec
    merge_window: Duration | None = None
    split_by: str | None = None
    route: PartyKind
    #: A tag (``emergency``), or the scenario's own deadlines, seconds per stage from
    #: the case's clock start: they replace the severity's limits for its cases (a
    #: stage not named has none), so a trapped lift gets 30 min to arrive whatever
    #: the generic critical limits say (docs/scenarios.md "sla").
    sla: Annotated[str | dict[str, float] | None, BeforeValidator(_sla)] = None
    #: Severities recorded, stored, shown and counted but never dispatched: no case
    #: opens for an alert while its severity is one of these (the issue's
    #: ``dispatch: false`` per severity; the lift's own e-bike blocks, 000). An upgrade
    #: to a severity not listed opens the case then, its deadlines running from then.
    record_only: list[Severity] = Field(default_factory=list)
    reportable: bool = False
    timezone: str | None = None
    #: How long this scenario waits for late events (default: the engine's
    #: ``--lateness``): what it decides on the clock — absence, "held for D" — comes
    #: that much after the fact, so a short one suits a door held open.
    lateness: Duration | None = None
    #: Events stay actionable however late they come (residents' and hotline reports,
    #: an SOS): a late one still opens its alert, on arrival, keeping its own time as
    #: ``reported_at`` (SCENARIOS.md "Late events"). Needs a threshold trigger: a
    #: count or a duration over a late event has no order to be judged in.
    raise_late: bool = False
    #: A colour code's scoring model (三色预警, 一码安, e付保): what the scenario's
    #: ``{type: score, colour: …}`` triggers read (:mod:`cityeye.scenarios.scoring`).
    score: ScoreModel | None = None

    @model_validator(mode="after")
    def _score_for_score_triggers(self) -> ScenarioConfig:
        """Give the ``score:`` model to every score trigger, so each role (open, upgrade,
        resolve) scores the same way from one definition."""
        found = _score_triggers([self.trigger, *(u.trigger for u in self.upgrade), self.resolve])
        if found and self.score is None:
            raise ValueError("a score trigger needs the scenario's score: block")
        if self.score is not None and not found:
            raise ValueError("score: is given but no trigger is of type score")
        for up in self.upgrade:
            if up.scope == "alert" and _score_triggers([up.trigger]):
                raise ValueError(
                    "a score upgrade needs scope: key (a score is the key's whole history "
                    "in its window, not only what the open alert holds)"
                )
        for trigger in found:
            trigger.attach(self.score)
        return self

    @property
    def citations(self) -> tuple[Citation, ...]:
        """The seed lines that name this scenario (none for an addition, or no ``seed``)."""
        return self.seed if isinstance(self.seed, tuple) else ()

    @model_validator(mode="after")
    def _raise_late_needs_threshold(self) -> ScenarioConfig:
        if self.raise_late and self.trigger.type != "threshold":
            raise ValueError(
                f"raise_late: needs a threshold trigger, not {self.trigger.type} (a late "
                "event cannot be counted or timed against events already judged)"
            )
        return self

    def severities(self) -> set[Severity]:
        """Every severity an alert of this scenario can have."""
        base = (
            {self.severity}
            if isinstance(self.severity, Severity)
            else {*self.severity.map.values(), self.severity.default}
        )
        return base | {u.severity for u in self.upgrade}

    def own_sla(self) -> dict[str, int] | None:
        """The scenario's own deadlines (seconds per stage name), or ``None``."""
        if isinstance(self.sla, dict):
            return {stage: round(seconds) for stage, seconds in self.sla.items()}
        return None

    @field_validator("reads")
    @classmethod
    def _unique_reads(cls, value: list[str]) -> list[str]:
        if len(set(value)) != len(value):
            raise ValueError("lists a kind twice")
        return value


def _score_triggers(triggers: Iterable[Any]) -> list[ScoreConfig]:
    """The score triggers among ``triggers``, those inside ``any`` included."""
    out: list[ScoreConfig] = []
    for trigger in triggers:
        if isinstance(trigger, ScoreConfig):
            out.append(trigger)
        elif isinstance(trigger, AnyOfConfig):
            out += _score_triggers(trigger.of)
    return out


class ScenarioFile(BaseModel):
    model_config = ConfigDict(extra="forbid")
    module: Module
    scenarios: list[dict[str, Any]] = Field(min_length=1)


@dataclass(slots=True)
class LoadedScenario:
    """A validated scenario and where it came from."""

    config: ScenarioConfig
    module: Module
    file: str
    line: int | None

    @property
    def id(self) -> str:
        return self.config.id

    def to_spec(self) -> ScenarioSpec:
        c = self.config
        return ScenarioSpec(
            id=c.id,
            module=self.module,
            name_zh=c.name.zh,
            name_en=c.name.en,
            reads=tuple(c.reads),
            key=c.key,
            trigger=c.trigger.model_dump(by_alias=True, exclude_none=True),
            severity=c.severity
            if isinstance(c.severity, Severity)
            else c.severity.model_dump(mode="json"),
            route=c.route,
            tags=tuple(c.tags),
            when=c.when,
            upgrades=tuple(u.model_dump(mode="json", by_alias=True) for u in c.upgrade),
            resolve=c.resolve.model_dump(by_alias=True, exclude_none=True),
            merge_window_s=c.merge_window,
            sla=c.sla if isinstance(c.sla, str) or c.sla is None else c.own_sla(),
            record_only=tuple(c.record_only),
            extra={"score": c.score.model_dump(mode="json")} if c.score is not None else {},
        )


@dataclass(slots=True)
class LoadResult:
    scenarios: list[LoadedScenario] = field(default_factory=list)
    problems: list[tuple[str, Problem]] = field(default_factory=list)

    def render_problems(self) -> list[str]:
        return [p.render(f) for f, p in self.problems]


_CHECK_WORLD = WorldValues(district="000000")


def _check_compiles(
    cfg: ScenarioConfig, path: tuple[str | int, ...], doc: SourceDoc
) -> list[Problem]:
    """Compile every condition and trigger once, so a bad field fails at validate time
    with its place, not at the first event."""
    problems: list[Problem] = []

    def attempt(where: tuple[str | int, ...], fn: Any) -> None:
        try:
            fn()
        except FieldError as exc:
            # FieldError.field is the dotted place inside the scenario
            parts: list[str | int] = list(path)
            for piece in exc.field.replace("[", ".").replace("]", "").split("."):
                parts.append(int(piece) if piece.isdigit() else piece)
            problems.append(doc.problem(tuple(parts), exc.reason))

    tz = cfg.timezone or DEFAULT_TIMEZONE
    attempt(("when",), lambda: compile_condition(cfg.when, "when", _CHECK_WORLD))
    attempt(("trigger",), lambda: cfg.trigger.build("trigger", _CHECK_WORLD, tz))
    for i, up in enumerate(cfg.upgrade):
        attempt(
            ("upgrade", i),
            lambda up=up, i=i: up.trigger.build(f"upgrade[{i}].trigger", _CHECK_WORLD, tz),
        )
    if not isinstance(cfg.resolve, CaseResolve):
        resolve = cfg.resolve
        attempt(("resolve",), lambda: resolve.build("resolve", _CHECK_WORLD, tz))
    if cfg.split_by is not None:
        split = cfg.split_by
        attempt(("split_by",), lambda: getter(split, "split_by"))
    if isinstance(cfg.severity, SeverityMap):
        by = cfg.severity.by
        attempt(("severity",), lambda: getter(by, "severity.by"))
    problems.extend(_check_record_only(cfg, path, doc))
    return problems


def _check_record_only(
    cfg: ScenarioConfig, path: tuple[str | int, ...], doc: SourceDoc
) -> list[Problem]:
    """Each severity ``record_only`` lists is one the scenario can raise, once: a typo
    or a stale level would otherwise silently change which alerts reach anyone."""
    possible = cfg.severities()
    can = ", ".join(s.value for s in sorted(possible, key=lambda s: s.rank))
    problems, seen = [], set()
    for i, level in enumerate(cfg.record_only):
        if level not in possible:
            reason = f"{level.value} is not a severity this scenario raises ({can})"
            problems.append(doc.problem((*path, "record_only", i), reason))
        elif level in seen:
            problems.append(doc.problem((*path, "record_only", i), f"{level.value} twice"))
        seen.add(level)
    return problems


def _user_path(loc: tuple[Any, ...], data: Any) -> tuple[str | int, ...]:
    """Drop the union tags pydantic puts into error locations (``resolve.count.count``
    for a count trigger's ``count`` field): a tag stands right after the field of a
    mapping whose ``type`` is that tag, and a user never wrote it."""
    out: list[str | int] = []
    for part in loc:
        if isinstance(data, dict) and data.get("type") == part and part in _UNION_TAGS:
            data = {k: v for k, v in data.items() if k != "type"} | {"type": None}
            continue
        out.append(part)
        if isinstance(data, dict):
            data = data.get(part)
        elif isinstance(data, list) and isinstance(part, int) and part < len(data):
            data = data[part]
        else:
            data = None
    return tuple(out)


def _pydantic_problems(
    exc: ValidationError, base: tuple[str | int, ...], doc: SourceDoc, data: Any
) -> list[Problem]:
    out = []
    for err in exc.errors():
        loc = _user_path(tuple(err["loc"]), data)
        msg = err["msg"].removeprefix("Value error, ")
        if err["type"] in ("literal_error", "enum", "union_tag_invalid"):
            msg += f" (got {err.get('input')!r})"
        out.append(doc.problem((*base, *loc), msg))
    return out


#: Trigger types (and ``case``) that pydantic uses as union tags.
_UNION_TAGS = frozenset({*TRIGGER_TYPES, "case"})


def load_file(path: Path, result: LoadResult, seen: dict[str, str]) -> None:
    """Validate one scenario file into ``result`` (``seen``: id → where first defined)."""
    name = str(path)
    try:
        doc = read_source(path)
    except SourceError as exc:
        result.problems.extend((name, p) for p in exc.problems)
        return
    result.problems.extend((name, p) for p in doc.problems)
    try:
        header = ScenarioFile.model_validate(doc.data)
    except ValidationError as exc:
        result.problems.extend((name, p) for p in _pydantic_problems(exc, (), doc, doc.data))
        return
    for index, raw in enumerate(header.scenarios):
        base: tuple[str | int, ...] = ("scenarios", index)
        try:
            cfg = ScenarioConfig.model_validate(raw)
        except ValidationError as exc:
            result.problems.extend((name, p) for p in _pydantic_problems(exc, base, doc, raw))
            continue
        problems = _check_compiles(cfg, base, doc)
        if cfg.id in seen:
            problems.append(
                doc.problem((*base, "id"), f"{cfg.id!r} is already defined in {seen[cfg.id]}")
            )
        if problems:
            result.problems.extend((name, p) for p in problems)
            continue
        line = doc.line_of(base)
        seen[cfg.id] = f"{name}:{line}"
        result.scenarios.append(LoadedScenario(cfg, header.module, name, line))


def load_scenarios(paths: Iterable[Path]) -> LoadResult:
    """Load scenario files and folders (``*.yaml``/``*.yml``/``*.json``, sorted)."""
    result = LoadResult()
    seen: dict[str, str] = {}
    for path in paths:
        files = (
            sorted(p for p in path.iterdir() if p.suffix in (".yaml", ".yml", ".json"))
            if path.is_dir()
            else [path]
        )
        if path.is_dir() and not files:
            result.problems.append(
                (str(path), Problem(format_path(()), "no scenario files (*.yaml) in this folder"))
            )
        for file in files:
            load_file(file, result, seen)
    return result


class ScenarioError(ProblemsError):
    """Scenario files with problems (a :class:`~cityeye.errors.ProblemsError` whose
    problems each name their file); ``result`` is what the load found."""

    def __init__(self, result: LoadResult) -> None:
        super().__init__("scenarios", [replace(p, file=f) for f, p in result.problems])
        self.result = result


def load_catalogue(*extra: Path, builtin: bool = True) -> list[LoadedScenario]:
    """The built-in catalogue plus any user folders; raises :class:`ScenarioError`."""
    paths = ([CATALOGUE] if builtin else []) + list(extra)
    result = load_scenarios(paths)
    if result.problems:
        raise ScenarioError(result)
    return result.scenarios
