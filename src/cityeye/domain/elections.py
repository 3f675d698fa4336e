"""业委会换届选举: the owners' households and what the Civil Code asks of their decisions.

The law, 《中华人民共和国民法典》第二百七十八条 (art. 278), second paragraph:

    业主共同决定事项，应当由专有部分面积占比三分之二以上的业主且人数占比三分之二以上的业主参与
    表决。决定前款第六项至第八项规定的事项，应当经参与表决专有部分面积四分之三以上的业主且参与表决
    人数四分之三以上的业主同意。决定前款其他事项，应当经参与表决专有部分面积过半数的业主且参与表决
    人数过半数的业主同意。

So a decision needs two things, each measured twice (by floor area and by head count):

* **participation** (双三分之二): owners holding ≥ 2/3 of the floor area *and* ≥ 2/3 of
  the owners took part;
* **consent** among those who took part: > 1/2 of their area *and* > 1/2 of them (双过半)
  for the first paragraph's items 1–5 and 9 — electing the owners' committee (item 3)
  among them; ≥ 3/4 of both for items 6–8 (筹集维修资金, 改建重建, 改变共有部分用途或利用
  共有部分经营).

"以上" includes the number itself (2/3 exactly is enough); "过半数" is more than half
(exactly half is not). Every ratio here is a :class:`~fractions.Fraction` and every
floor area an exact decimal turned into one, so an edge never rounds the wrong way.

One head per household: the Supreme People's Court's interpretation on 建筑物区分所有权
(法释〔2009〕7号, 第九条) counts owners by 专有部分, and one buyer of several as one;
cityeye counts an owner household (``World.households``) once, with the area of all its
units in the estate — that reading of the rule is ours.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal, InvalidOperation
from fractions import Fraction

from cityeye.domain.errors import FieldError
from cityeye.domain.labels import Labelled

#: Participation: ≥ 2/3 of the area and ≥ 2/3 of the owners (参与表决 双三分之二).
PARTICIPATION = Fraction(2, 3)


class Matter(Labelled):
    """What the owners decide, by the consent art. 278 asks for it."""

    #: 第一款第三项 选举业主委员会或者更换业主委员会成员: 双过半 of those who took part
    ELECTION = "election", "选举或更换业主委员会", "Electing the owners' committee"
    #: 第六至八项 筹集维修资金、改建重建、改变共有部分用途: ≥ 3/4 of those who took part
    MAJOR = "major", "筹集维修资金、改建重建等", "Raising repair funds, rebuilding and the like"
    #: 其他共同决定事项 (第一、二、四、五、九项): 双过半 of those who took part
    ORDINARY = "ordinary", "其他共同决定事项", "Other matters the owners decide together"


@dataclass(frozen=True, slots=True)
class Threshold:
    """A share that must be reached: ``at_least`` (以上, ≥) or more than (过半数, >)."""

    share: Fraction
    at_least: bool

    def met(self, part: Fraction, whole: Fraction) -> bool:
        """Whether ``part`` of ``whole`` reaches the share; nothing of nothing never does."""
        if whole <= 0:
            return False
        ratio = part / whole
        return ratio >= self.share if self.at_least else ratio > self.share


#: The consent each matter needs among those who took part (both by area and by head).
CONSENT: dict[Matter, Threshold] = {
    Matter.ELECTION: Threshold(Fraction(1, 2), at_least=False),
    Matter.ORDINARY: Threshold(Fraction(1, 2), at_least=False),
    Matter.MAJOR: Threshold(Fraction(3, 4), at_least=True),
}
#: The participation every matter needs (of all the eligible, both by area and by head).
TURNOUT = Threshold(PARTICIPATION, at_least=True)


def area_of(field: str, value: object) -> Fraction:
    """A floor area in m² as an exact fraction: a number above 0 with at most two
    decimals (the way a 房产证 gives it), up to 100 000 m²."""
    if isinstance(value, bool) or not isinstance(value, int | float | str | Decimal):
        raise FieldError(field, f"must be a number of square metres, got {value!r}")
    try:
        exact = Decimal(str(value).strip())
    except InvalidOperation:
        raise FieldError(field, f"must be a number of square metres, got {value!r}") from None
    if not exact.is_finite() or exact <= 0 or exact > 100_000:
        raise FieldError(field, f"must be above 0 and at most 100000 m², got {value}")
    if exact != exact.quantize(Decimal("0.01")):
        raise FieldError(field, f"at most two decimals, got {value}")
    return Fraction(exact)


@dataclass(frozen=True, slots=True)
class Unit:
    """One 专有部分: a room (房号) of a building and its floor area."""

    building: str
    room: str
    area_m2: Fraction


@dataclass(frozen=True, slots=True)
class Household:
    """An owner household (业主户) and the units it owns. Who lives there is not
    here: a resident is bound to a household by staff (the elections' roll)."""

    id: str
    units: tuple[Unit, ...]

    def area_in(self, buildings: frozenset[str]) -> Fraction:
        """The floor area it owns in these buildings (0: not an owner there)."""
        return sum((u.area_m2 for u in self.units if u.building in buildings), Fraction(0))


@dataclass(frozen=True, slots=True)
class Count:
    """Heads and area: of the eligible, of those who took part, of those who agreed."""

    heads: int
    area: Fraction

    def __add__(self, other: Count) -> Count:
        return Count(self.heads + other.heads, self.area + other.area)


NOBODY = Count(0, Fraction(0))


@dataclass(frozen=True, slots=True)
class Verdict:
    """What the count decided for one question (a candidate, or a matter)."""

    eligible: Count
    voted: Count
    agreed: Count
    turnout_heads: bool
    turnout_area: bool
    consent_heads: bool
    consent_area: bool

    @property
    def turnout(self) -> bool:
        return self.turnout_heads and self.turnout_area

    @property
    def consent(self) -> bool:
        return self.consent_heads and self.consent_area

    @property
    def passed(self) -> bool:
        return self.turnout and self.consent

    @property
    def why_not(self) -> str:
        """The first reason it did not pass ("" when it did), in Chinese and English."""
        if not self.turnout_area:
            return "参与表决的专有部分面积不足三分之二 · participating area below 2/3"
        if not self.turnout_heads:
            return "参与表决的业主人数不足三分之二 · participating owners below 2/3"
        if not self.consent_area:
            return "同意的面积未达要求 · consenting area below the threshold"
        if not self.consent_heads:
            return "同意的人数未达要求 · consenting owners below the threshold"
        return ""


def decide(matter: Matter, eligible: Count, voted: Count, agreed: Count) -> Verdict:
    """Art. 278 applied: participation of all the eligible, consent of those who voted."""
    if not (agreed.heads <= voted.heads <= eligible.heads):
        raise ValueError("agreed ≤ voted ≤ eligible (heads)")
    if not (agreed.area <= voted.area <= eligible.area):
        raise ValueError("agreed ≤ voted ≤ eligible (area)")
    consent = CONSENT[matter]
    return Verdict(
        eligible,
        voted,
        agreed,
        turnout_heads=TURNOUT.met(Fraction(voted.heads), Fraction(eligible.heads)),
        turnout_area=TURNOUT.met(voted.area, eligible.area),
        consent_heads=consent.met(Fraction(agreed.heads), Fraction(voted.heads)),
        consent_area=consent.met(agreed.area, voted.area),
    )


# ---------------------------------------------------------------------- an election
class ElectionState(Labelled):
    """The steps of an election, in order (forward only)."""

    NOMINATING = "nominating", "候选人提名", "Nominating candidates"
    NOTICE = "notice", "候选人公示", "Candidates on public notice"
    VOTING = "voting", "投票中", "Voting"
    PUBLISHED = "published", "结果已公布", "Result published"


class BallotChannel(Labelled):
    """How a household's ballot came."""

    ONLINE = "online", "线上投票", "Online"
    PROXY = "proxy", "委托投票", "By proxy"
    PAPER = "paper", "纸质选票", "Paper ballot"


class AuditAction(Labelled):
    """A line of an election's audit trail."""

    CREATED = "created", "发起选举", "Election created"
    NOMINATED = "nominated", "提名候选人", "Candidate nominated"
    NOTICE = "notice", "开始公示", "Notice period began"
    VOTING = "voting", "开始投票", "Voting opened"
    BALLOT = "ballot", "投票", "Ballot cast"
    CORRECTED = "corrected", "更正选票", "Ballot corrected"
    PUBLISHED = "published", "计票并公布结果", "Counted and published"


@dataclass(frozen=True, slots=True)
class Election:
    """An owners' election for one estate (``buildings``) run in ``area`` (a
    community, or any area the staff's post covers)."""

    id: str
    title: str
    area: str
    buildings: tuple[str, ...]
    matter: Matter
    seats: int
    notice_days: int
    state: ElectionState
    created_at: datetime
    created_by: str
    notice_at: datetime | None = None
    voting_at: datetime | None = None
    closed_at: datetime | None = None
    result: dict[str, object] | None = None


@dataclass(frozen=True, slots=True)
class Candidate:
    election_id: str
    household: str
    name: str
    statement: str
    nominated_by: str
    nominated_at: datetime


@dataclass(frozen=True, slots=True)
class Ballot:
    """A household's ballot: the candidates it agreed to (none: it took part and
    agreed to nobody)."""

    election_id: str
    household: str
    choices: tuple[str, ...]
    channel: BallotChannel
    cast_by: str
    cast_at: datetime
    proxy: str | None = None


@dataclass(frozen=True, slots=True)
class AuditEntry:
    election_id: str
    at: datetime
    actor: str
    action: AuditAction
    household: str | None = None
    detail: dict[str, object] = field(default_factory=dict)
