"""Colour codes as a scoring model over time (三色预警, 一码安, e付保 — seed 001).

A colour code is not a one-event trigger: a unit's colour comes from its history —
inspections, complaints, alarms, the state of its deposits. A scenario says how in a
``score:`` block, and its triggers ask for a colour (``{type: score, colour: red}``)::

    score:
      base: 100                 # a key with nothing against it
      window: 365d              # an event counts for this long (both ends inclusive)
      red_below: 60             # score < 60 → red
      green_above: 80           # score > 80 → green; 60 … 80 (both inclusive) → yellow
      terms:
        - {label: {zh: 检查不合格, en: failed inspection},
           when: {kind: inspection.result, attrs.result: fail}, points: -20}
        - {label: {zh: 每处隐患, en: per hazard found},
           when: {kind: inspection.result}, points: -5, per: attrs.hazards}
        - {label: {zh: 资金存管不足, en: deposits short},
           when: {kind: prepaid.deposit, attrs.covered: false}, points: -30, state: funds}

The score of a key at a time is ``base`` plus the points of every scored event still
within ``window`` of it. An event is scored by the *first* term whose ``when`` holds
(``points``, times the number at ``per`` when given; an event whose ``per`` is not a
number is not scored). Terms that share a ``state`` describe one condition of the key
(its deposits are covered or not): only the newest event of that state counts, so a
monthly "still short" does not subtract twice. Sums use :func:`math.fsum` and are
rounded to 6 places, so the colour at a threshold (59.99 / 60 / 80 / 80.01) does not
depend on the order points were added or on floating-point noise.

This module is the model alone — no engine, no trigger — so the engine's trigger
(:class:`cityeye.scenarios.triggers.Score`) and whoever explains a score to a person
(:func:`explain`) compute it the same way: one concept, one place.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, model_validator

from cityeye.domain import Event
from cityeye.scenarios.conditions import Predicate, WorldValues, compile_condition, getter
from cityeye.sourcefile import Duration

#: Places a score is rounded to (see the module's docstring).
PLACES = 6


class Colour(StrEnum):
    """The three colours of every code the seeds name (红/黄/绿码, 001:32972, 001:78041)."""

    RED = "red"
    YELLOW = "yellow"
    GREEN = "green"


#: Chinese names of the colours, for pages and documents.
COLOUR_ZH = {Colour.RED: "红码", Colour.YELLOW: "黄码", Colour.GREEN: "绿码"}


class TermLabel(BaseModel):
    """What a term is called where a score is explained (Chinese first)."""

    model_config = ConfigDict(extra="forbid")
    zh: str = Field(min_length=1, max_length=100)
    en: str = Field(min_length=1, max_length=100)


class ScoreTerm(BaseModel):
    """One way an event moves the score."""

    model_config = ConfigDict(extra="forbid")
    label: TermLabel
    when: dict[str, Any]
    points: float = Field(ge=-1_000_000, le=1_000_000)
    #: The points are per unit of this numeric field (``attrs.hazards``).
    per: str | None = None
    #: Terms with the same state: only the newest event among them counts.
    state: str | None = Field(default=None, pattern=r"^[a-z][a-z0-9_]*$")


class ScoreModel(BaseModel):
    """A scenario's ``score:`` block (see the module's docstring)."""

    model_config = ConfigDict(extra="forbid")
    base: float = Field(default=100, ge=-1_000_000, le=1_000_000)
    window: Duration
    red_below: float
    green_above: float
    terms: list[ScoreTerm] = Field(min_length=1, max_length=100)

    @model_validator(mode="after")
    def _bands_in_order(self) -> ScoreModel:
        if self.red_below > self.green_above:
            raise ValueError(
                f"red_below ({self.red_below:g}) must not be above green_above "
                f"({self.green_above:g}): yellow lies between them"
            )
        return self

    def colour(self, score: float) -> Colour:
        """Red under ``red_below``, green over ``green_above``, yellow between (both
        ends yellow): 一码安's "60 分以下红码, 60～80 黄码, 80 分以上绿码" (001:78041)."""
        if score < self.red_below:
            return Colour.RED
        if score > self.green_above:
            return Colour.GREEN
        return Colour.YELLOW

    def compile(self, where: str, world: WorldValues) -> CompiledScore:
        """The model with its conditions compiled; :class:`FieldError` names the place
        (``where`` is the scenario's ``score``)."""
        terms = []
        for i, term in enumerate(self.terms):
            here = f"{where}.terms[{i}]"
            when = compile_condition(term.when, f"{here}.when", world)
            per = getter(term.per, f"{here}.per") if term.per else None
            terms.append((when, per))
        return CompiledScore(self, terms)


@dataclass(frozen=True, slots=True)
class Entry:
    """One scored event: its place in the in-order pass, the term and the points."""

    t: float
    source: str
    id: str
    term: int
    points: float


class ScoreState:
    """What one key's score is made of: the scored events still in the window, oldest
    first, and the colour after the last change."""

    __slots__ = ("colour", "entries")

    def __init__(self) -> None:
        self.entries: list[Entry] = []
        self.colour: Colour | None = None


class CompiledScore:
    """A :class:`ScoreModel` ready to score events (shared by every key)."""

    def __init__(
        self, model: ScoreModel, terms: list[tuple[Predicate, Callable[[Event], Any] | None]]
    ) -> None:
        self.model = model
        self.terms = terms
        self.window = model.window

    def score_of(self, ev: Event, local_s: int) -> tuple[int, float] | None:
        """(term index, points) of the first term that scores ``ev``; ``None`` if none."""
        for i, (when, per) in enumerate(self.terms):
            if not when(ev, local_s):
                continue
            points = self.model.terms[i].points
            if per is None:
                return i, points
            value = per(ev)
            if type(value) not in (int, float) or not math.isfinite(value):
                return None
            return i, points * value
        return None

    def add(self, st: ScoreState, ev: Event, t: float, local_s: int) -> bool:
        """Score ``ev`` (taken in ``(ts, source, id)`` order) into ``st``, forgetting what
        the window has left behind; whether it was scored."""
        self.expire(st, t, inclusive=False)
        scored = self.score_of(ev, local_s)
        if scored is None:
            return False
        term, points = scored
        state = self.model.terms[term].state
        if state is not None:
            st.entries = [e for e in st.entries if self.model.terms[e.term].state != state]
        st.entries.append(Entry(t, ev.source, ev.id, term, points))
        return True

    def expire(self, st: ScoreState, now: float, *, inclusive: bool) -> bool:
        """Forget entries that are out of the window at ``now``: those more than
        ``window`` old, or (``inclusive``: the clock has passed ``now``) exactly that
        old too. Whether any went."""
        # ``e.t + window`` as :meth:`deadline` computes it, never ``now − window``: the
        # two roundings can differ, and a term due at a deadline must go at it
        window = self.window
        keep = [e for e in st.entries if (e.t + window > now if inclusive else e.t + window >= now)]
        if len(keep) == len(st.entries):
            return False
        st.entries = keep
        return True

    def deadline(self, st: ScoreState) -> float | None:
        """When the oldest entry leaves the window (the clock must pass it: strict)."""
        return st.entries[0].t + self.window if st.entries else None

    def total(self, st: ScoreState) -> float:
        return round(math.fsum([self.model.base, *(e.points for e in st.entries)]), PLACES)

    def colour(self, st: ScoreState) -> Colour:
        return self.model.colour(self.total(st))


@dataclass(frozen=True, slots=True)
class ScoreLine:
    """One event's contribution, as a person reads it."""

    event_id: str
    ts: datetime
    kind: str
    label_zh: str
    label_en: str
    points: float


@dataclass(frozen=True, slots=True)
class ScoreCard:
    """Why a key has its colour: the base, each event's points, the total."""

    base: float
    lines: list[ScoreLine]
    score: float
    colour: Colour
    red_below: float
    green_above: float

    def to_json(self) -> dict[str, Any]:
        return {
            "base": self.base,
            "score": self.score,
            "colour": self.colour.value,
            "colour_zh": COLOUR_ZH[self.colour],
            "red_below": self.red_below,
            "green_above": self.green_above,
            "terms": [
                {
                    "event_id": line.event_id,
                    "ts": line.ts.isoformat(),
                    "kind": line.kind,
                    "label_zh": line.label_zh,
                    "label_en": line.label_en,
                    "points": line.points,
                }
                for line in self.lines
            ],
        }


def explain(
    score: CompiledScore, events: Iterable[Event], at: datetime, local: Callable[[float], int]
) -> ScoreCard:
    """The score of one key at ``at`` from its events, term by term — what the engine's
    trigger computed, done again the same way for a person who asks why a unit is red.
    ``local`` gives an event's local seconds of the day (for ``time:`` conditions)."""
    st = ScoreState()
    by_id: dict[str, Event] = {}
    limit = at.timestamp()
    for ev in sorted(events, key=lambda e: (e.ts.timestamp(), e.source, e.id)):
        t = ev.ts.timestamp()
        if t > limit:
            break
        if score.add(st, ev, t, local(t)):
            by_id[ev.id] = ev
    score.expire(st, limit, inclusive=False)
    lines = []
    for entry in st.entries:
        ev = by_id[entry.id]
        label = score.model.terms[entry.term].label
        lines.append(ScoreLine(entry.id, ev.ts, ev.kind, label.zh, label.en, entry.points))
    total = score.total(st)
    model = score.model
    return ScoreCard(
        model.base, lines, total, model.colour(total), model.red_below, model.green_above
    )


__all__ = [
    "COLOUR_ZH",
    "Colour",
    "CompiledScore",
    "Entry",
    "ScoreCard",
    "ScoreLine",
    "ScoreModel",
    "ScoreState",
    "ScoreTerm",
    "explain",
]
