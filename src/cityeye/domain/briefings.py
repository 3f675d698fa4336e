"""线上宣讲 (policy briefings for enterprises) and 促动师 (the 红茶议事会's facilitators).

The seed (000:376) counts both for 小河街道's year: "开展疫情政策线上宣讲 13 场" and "成功培育
小区专员等红茶议事会促动师 45 人". It gives the counts only; how a briefing is run (an
invitation list, sign-up, attendance, questions each answered or turned into a case)
and what a facilitator may do (open and moderate topics in their own community) are
our choices (docs/participation.md "线上宣讲" and "促动师").

Plain frozen values: the service (:mod:`cityeye.participation.briefings`) decides, the
store (``cityeye.store.briefings``) keeps them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from cityeye.domain.participation import MeetingMode
from cityeye.domain.users import UserRole

#: Who may be trained as a facilitator: residents, and 小区专员 (community workers, who
#: sign in as handlers). Staff who run topics anyway need no flag.
FACILITATOR_ROLES = frozenset({UserRole.RESIDENT, UserRole.HANDLER})


@dataclass(frozen=True, slots=True)
class Briefing:
    """One briefing session (宣讲) of a street (or any area of the organiser's post)."""

    id: str
    title: str
    topic: str  # the policy it explains
    mode: MeetingMode  # online (线上, with a link) or on site (线下, with a place)
    at: datetime
    area: str
    created_at: datetime
    created_by: str
    place: str = ""
    link: str = ""
    materials: tuple[str, ...] = ()  # uploaded attachments' refs


@dataclass(frozen=True, slots=True)
class Invitation:
    """An enterprise on a briefing's invitation list, and how far it came."""

    briefing_id: str
    subject_id: str
    name: str
    area: str | None = None
    signed_up_at: datetime | None = None
    attended_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class Question:
    """A question asked during a briefing; answered on the spot, or turned into a case
    in the closed loop (``briefing/<briefing>-<n>``)."""

    briefing_id: str
    n: int
    text: str
    asked_at: datetime
    subject_id: str | None = None  # the enterprise that asked, when known
    answer: str | None = None
    answered_at: datetime | None = None
    answered_by: str | None = None
    case_key: str | None = None


@dataclass(frozen=True, slots=True)
class Facilitator:
    """A trained 促动师: a resident or 小区专员 who may open and moderate topics in
    ``community`` (and nowhere else) until ``ended_at``."""

    user_id: str
    community: str
    since: datetime
    granted_by: str
    note: str = ""
    ended_at: datetime | None = None

    @property
    def active(self) -> bool:
        return self.ended_at is None
