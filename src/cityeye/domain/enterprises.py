"""小河网驿's key enterprises (重点企业), their visits (走访) and the warnings that send
a staff member to them (issue 21 items 1, 2 and 4).

The seed (000_31b2a66df8d68fe4.txt, lines 372–376) says the platform warned of "重点企业
搬迁、经营情况异常等 8 种情况" and helped the street "精准化走访企业 1287 家次"; it gives no
visit intervals, no risk levels and no deadlines. Every interval, level and deadline
below is ours, and docs/enterprises.md labels it so.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from cityeye.domain.labels import Labelled
from cityeye.errors import FieldError

# ---------------------------------------------------------------- 统一社会信用代码
#: GB 32100-2015's character set: the digits and the capital letters without I, O, Z,
#: S and V (they read as 1, 0, 2, 5 and U); a character's value is its index.
CREDIT_CHARS = "0123456789ABCDEFGHJKLMNPQRTUWXY"
#: The weights of the first seventeen characters (3^(i-1) mod 31, GB 32100-2015 §4.4).
CREDIT_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)


def credit_check_char(first17: str) -> str:
    """The 18th character GB 32100-2015 computes for the first seventeen:
    ``31 − (Σ value × weight mod 31)``, 31 written as ``0``."""
    total = sum(CREDIT_CHARS.index(c) * w for c, w in zip(first17, CREDIT_WEIGHTS, strict=True))
    return CREDIT_CHARS[(31 - total % 31) % 31]


def credit_code_problem(code: str) -> str | None:
    """Why ``code`` is no 统一社会信用代码 (``None`` when it is one): its length, a
    character outside the standard's set, a 行政区划码 (characters 3–8) that is not six
    digits, or a wrong check character — each said so a person can correct it."""
    if len(code) != 18:
        return f"must be 18 characters (统一社会信用代码为 18 位), not {len(code)}"
    bad = sorted({c for c in code if c not in CREDIT_CHARS})
    if bad:
        return f"has characters outside GB 32100-2015's set ({''.join(bad)}; no I, O, Z, S, V)"
    if not code[2:8].isdigit():
        return f"characters 3–8 must be the six-digit 行政区划码, not {code[2:8]}"
    expected = credit_check_char(code[:17])
    if code[17] != expected:
        return f"check character is {code[17]} but the first 17 give {expected} (校验码错误)"
    return None


def check_credit_code(value: str, field_name: str = "credit_code") -> str:
    """``value`` as a 统一社会信用代码 (spaces dropped, letters upper-cased), or a
    :class:`FieldError` naming ``field_name`` and the reason."""
    code = "".join(value.split()).upper()
    if not code:
        raise FieldError(field_name, "is required (统一社会信用代码必填)")
    problem = credit_code_problem(code)
    if problem is not None:
        raise FieldError(field_name, problem)
    return code


# ---------------------------------------------------------------------- the registry
class EnterpriseSize(Labelled):
    """企业规模 (the categories of 工信部联企业〔2011〕300号)."""

    LARGE = "large", "大型", "large"
    MEDIUM = "medium", "中型", "medium"
    SMALL = "small", "小型", "small"
    MICRO = "micro", "微型", "micro"


class RiskLevel(Labelled):
    """How closely the street watches an enterprise: sets its visit interval (ours)."""

    LOW = "low", "低风险", "low risk"
    MEDIUM = "medium", "中风险", "medium risk"
    HIGH = "high", "高风险", "high risk"


#: Days between two visits at each risk level — ours, not the seed's (docs/enterprises.md).
VISIT_INTERVAL_DAYS = {RiskLevel.LOW: 90, RiskLevel.MEDIUM: 30, RiskLevel.HIGH: 14}
#: An open ``enterprise.*`` warning makes a visit due within this many days of its
#: opening, whatever the plan said — ours.
WARNING_VISIT_DAYS = 3
#: A check-in farther than this from the enterprise's point is flagged (ours: a
#: phone's GPS in a street of tall buildings is off by a hundred metres or two).
CHECKIN_TOLERANCE_M = 500.0


@dataclass(frozen=True, slots=True)
class Contact:
    """A person to call at the enterprise (the phone is shown masked in lists)."""

    name: str
    phone: str = ""
    role: str = ""


@dataclass(frozen=True, slots=True)
class Enterprise:
    """A key enterprise. ``area``: its grid (or any area of the world); ``staff_id``:
    the user responsible for it (包联干部); ``subject_id``: the world file's subject it
    is (matched by credit code or name), which the ``enterprise.*`` warnings key on."""

    id: str
    credit_code: str
    name: str
    area: str
    sector: str = ""
    size: EnterpriseSize | None = None
    address: str = ""
    lat: float | None = None
    lon: float | None = None
    contacts: tuple[Contact, ...] = ()
    staff_id: str | None = None
    tags: tuple[str, ...] = ()
    risk: RiskLevel = RiskLevel.LOW
    subject_id: str | None = None
    created_at: datetime | None = None
    updated_at: datetime | None = None

    @property
    def interval(self) -> timedelta:
        return timedelta(days=VISIT_INTERVAL_DAYS[self.risk])


#: The fields a change is recorded for, in the order the history lists them.
TRACKED = (
    "credit_code",
    "name",
    "sector",
    "size",
    "address",
    "area",
    "lat",
    "lon",
    "contacts",
    "staff_id",
    "tags",
    "risk",
    "subject_id",
)


@dataclass(frozen=True, slots=True)
class Change:
    """One change to an enterprise: who (a user id, or ``import:<file>``), when, and
    each field's value before and after (``None``: the enterprise was created)."""

    enterprise_id: str
    at: datetime
    actor: str
    fields: dict[str, tuple[object, object]]


# ---------------------------------------------------------------------- visits
class WarningOutcome(Labelled):
    """What a visit found about a warning (issue 21 item 4)."""

    RESOLVED = "resolved", "已化解", "resolved"
    CONFIRMED = "confirmed", "确认风险", "risk confirmed"
    RELOCATED = "relocated", "已迁出", "relocated"


@dataclass(frozen=True, slots=True)
class Visit:
    """A visit (走访) to an enterprise: when, by whom, whom they met, what they found;
    ``lat``/``lon``: the phone's check-in and ``distance_m`` from the enterprise's
    point (``None`` when either is unknown); ``alert_id`` and ``outcome``: the warning
    the visit answered and what it found."""

    id: str
    enterprise_id: str
    at: datetime
    visitor_id: str
    people_met: str
    situation: str
    problems: str = ""
    photos: tuple[str, ...] = field(default_factory=tuple)
    lat: float | None = None
    lon: float | None = None
    distance_m: float | None = None
    alert_id: str | None = None
    outcome: WarningOutcome | None = None
    recorded_at: datetime | None = None

    @property
    def far(self) -> bool:
        """Checked in farther from the enterprise than :data:`CHECKIN_TOLERANCE_M`."""
        return self.distance_m is not None and self.distance_m > CHECKIN_TOLERANCE_M


def next_due(
    enterprise: Enterprise,
    last_visit: datetime | None,
    warnings_opened: list[datetime],
) -> datetime | None:
    """When the enterprise's next visit is due: its interval after the last visit
    (after its registration when never visited; ``None``: unknown, so due now),
    brought forward to :data:`WARNING_VISIT_DAYS` after the earliest warning still
    waiting for a visit (``warnings_opened``: the opening of each open one without an
    outcome) that opened after the last visit."""
    base = last_visit if last_visit is not None else enterprise.created_at
    due = None if base is None else base + enterprise.interval
    pending = [w for w in warnings_opened if last_visit is None or w > last_visit]
    if pending:
        soon = min(pending) + timedelta(days=WARNING_VISIT_DAYS)
        due = soon if due is None else min(due, soon)
    return due
