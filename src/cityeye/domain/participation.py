"""社情民意 and 红茶议事会: what residents suggest, and how a topic is deliberated.

Plain frozen values, in the domain layer because the store keeps them and the
participation services work on them: the workflow (:mod:`cityeye.participation.workflow`)
decides how a topic moves, the votes (:mod:`cityeye.participation.votes`) who may vote
and what a ballot decided, the store (``cityeye.store.participation``) keeps them.

The six steps are the 六步议事法 of 大关街道's 百姓圆桌会 (seed 000:555): 提出议题 → 广开言路 →
民主协商 → 拟订方案 → 居民表决 → 形成决议. The 红茶议事会 is 小河街道's forum and its online
platform (000:360); the seeds do not give it these steps. cityeye runs every topic
through them: joining the two is our choice (docs/participation.md "Where each method
comes from").
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from fractions import Fraction

from cityeye.domain.labels import Labelled


# ---------------------------------------------------------------------- categories
# (the classifier, :mod:`cityeye.participation.text`, sorts suggestions into these;
# here, beside the other names, so GET /api/v1/meta serves them without loading it)
@dataclass(frozen=True)
class Category:
    """One suggestion category: a stable code for storage, and its names for people."""

    code: str
    zh: str
    en: str


SUGGESTION_CATEGORIES: tuple[Category, ...] = (
    Category("parking", "停车", "Parking"),
    Category("environment", "环境卫生", "Sanitation and environment"),
    Category("property", "物业管理", "Property management"),
    Category("safety", "安全隐患", "Safety hazards"),
    Category("traffic", "交通出行", "Traffic and transport"),
    Category("greening", "绿化", "Greening"),
    Category("facilities", "公共设施", "Public facilities"),
    Category("elderly", "养老助老", "Care for the elderly"),
    Category("noise", "噪音扰民", "Noise"),
    Category("renovation", "老旧小区改造", "Old-estate renovation"),
    Category("community", "社区服务", "Community services"),
    Category("other", "其他", "Other"),
)
"""The fixed list, in display order. ``other`` is both a trained category (praise,
questions about unrelated matters) and where a low-confidence guess goes."""


class Channel(Labelled):
    """Where a suggestion came from."""

    PORTAL = "portal", "门户", "Portal"  # a resident, on the portal (signed in or not)
    VOLUNTEER = "volunteer", "志愿者", "Volunteer"  # a volunteer, signed in as a handler
    WORKER = "worker", "网格员", "Worker"  # a grid or community worker, signed in as a handler


class TopicKind(Labelled):
    """An estate matter (the owners of one estate decide: Civil Code art. 278) or a
    public one (the neighbourhood's)."""

    ESTATE = "estate", "小区事务", "Estate matter"
    PUBLIC = "public", "公共事务", "Public matter"


class TopicStep(Labelled):
    """The six steps, in order."""

    PROPOSE = "propose", "提出议题", "Raise the topic"
    OPINIONS = "opinions", "广开言路", "Hear every view"
    CONSULT = "consult", "民主协商", "Deliberate"
    DRAFT = "draft", "拟订方案", "Draft the plan"
    VOTE = "vote", "居民表决", "Residents vote"
    RESOLVE = "resolve", "形成决议", "Resolve"

    @property
    def order(self) -> int:
        return list(TopicStep).index(self)

    @property
    def next(self) -> TopicStep | None:
        steps = list(TopicStep)
        i = steps.index(self)
        return steps[i + 1] if i + 1 < len(steps) else None


class MeetingMode(Labelled):
    ONLINE = "online", "线上", "Online"
    OFFLINE = "offline", "线下", "Offline"


class ParticipantRole(Labelled):
    RESIDENT = "resident", "居民", "Resident"
    PROPERTY = "property", "物业", "Property"
    OWNERS_COMMITTEE = "owners_committee", "业委会", "Owners' committee"
    COMMUNITY = "community", "社区", "Community"
    DEPARTMENT = "department", "职能部门", "Department"


#: Civil Code art. 278: two thirds of the owners take part; a decision needs more than
#: half of those taking part (ordinary matters).
ESTATE_QUORUM = Fraction(2, 3)
ESTATE_MAJORITY = Fraction(1, 2)


@dataclass(frozen=True, slots=True)
class Rules:
    """When a ballot decides: at least ``quorum`` of the eligible voted, and the
    winning option has more than ``majority`` of the votes cast."""

    quorum: Fraction = ESTATE_QUORUM
    majority: Fraction = ESTATE_MAJORITY


@dataclass(frozen=True, slots=True)
class Suggestion:
    id: str
    channel: Channel
    category: str
    text: str
    area: str
    created_at: datetime
    photos: tuple[str, ...] = ()
    author: str | None = None  # a user id; None for an anonymous resident
    group_id: str | None = None
    terms: tuple[str, ...] = ()  # the classifier's top terms
    answer: str | None = None
    answered_at: datetime | None = None
    answered_by: str | None = None
    #: the key (``participation/<id>``) of the case it became, if it did
    case_key: str | None = None
    topic_id: str | None = None


@dataclass(frozen=True, slots=True)
class StepRecord:
    """One line of a topic's public record."""

    step: TopicStep
    at: datetime
    actor: str
    note: str = ""


@dataclass(frozen=True, slots=True)
class Topic:
    id: str
    title: str
    description: str
    area: str
    kind: TopicKind
    step: TopicStep
    created_at: datetime
    step_due_at: datetime | None = None
    rules: Rules = field(default_factory=Rules)
    created_by: str | None = None


@dataclass(frozen=True, slots=True)
class Meeting:
    id: str
    topic_id: str
    mode: MeetingMode
    at: datetime
    place: str = ""
    agenda: tuple[str, ...] = ()
    minutes: str = ""
    decisions: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Participant:
    meeting_id: str
    n: int  # its number in the meeting
    role: ParticipantRole
    user_id: str | None = None
    name: str = ""
    signed_in_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class Turn:
    meeting_id: str
    speaker: int  # the participant's number
    text: str
    at: datetime


@dataclass(frozen=True, slots=True)
class Ballot:
    topic_id: str
    options: tuple[str, ...]
    closes_at: datetime | None = None
    opens_at: datetime | None = None
    closed_at: datetime | None = None
    #: how many were eligible when it closed (the roll is fixed then)
    eligible: int | None = None

    @property
    def closed(self) -> bool:
        return self.closed_at is not None


@dataclass(frozen=True, slots=True)
class Tally:
    """What a closed ballot decided."""

    eligible: int
    voters: int
    counts: dict[str, int]
    quorum_met: bool
    winner: str | None
    passed: bool


@dataclass(frozen=True, slots=True)
class ResolutionAction:
    n: int
    title: str
    party: str
    due_at: datetime
    case_key: str  # ``council/<topic>-<n>``: the case in the closed loop


@dataclass(frozen=True, slots=True)
class Resolution:
    topic_id: str
    text: str
    at: datetime
    actor: str
    actions: tuple[ResolutionAction, ...] = ()
