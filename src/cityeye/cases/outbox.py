"""告知 — telling people at once: which case changes make a notification, and for whom.

The notification design in one place (issue 15, item 3); this module is its pure part,
the other two are adapters around it:

* **When and for whom** (here, no I/O). A stored case change — the timeline lines new
  since the last save and the severity the case had before — gives :class:`Notice` s:

  ========== ======================================= ==========================
  kind       when                                    who hears it
  ========== ======================================= ==========================
  dispatched a dispatch line (the case has a lead)   the lead party's handlers
  critical   opened critical, or raised to critical  the dispatchers whose areas
                                                     cover the case (and the
                                                     lead's handlers if raised
                                                     after dispatch)
  escalated  a deadline was missed                   those dispatchers and the
                                                     lead's handlers
  handled    a handle line                           the resident who reported
  closed     a close line                            the resident who reported
  supervised a leader's 督办 line                     the lead party's handlers
                                                     (no lead yet: the
                                                     dispatchers of the area)
  urged      a leader's 催办 line                     the same
  ========== ======================================= ==========================

  The assessment office's routine (:mod:`cityeye.routine`) adds notices about no one
  case — ``reminder`` (日提醒: each handler's and dispatcher's cases due today or
  overdue), ``bulletin`` (周通报 published) and ``result`` (月考核 result published) —
  addressed to one user (:attr:`Notice.user`) or to one party's group robot only
  (:attr:`Notice.robot_only`).

* **A durable outbox** (:mod:`cityeye.store.outbox`). The store turns notices into
  rows of the ``notifications`` table *in the transaction that stores the case
  change*: one per recipient and channel — ``desk`` per user, ``webhook`` per party
  with a robot configured, ``sms`` per user with a phone when a gateway is
  configured (:class:`Channels`). A crash loses nothing, and the re-feed after a
  restart writes nothing twice: each row has a key made of the case, the timeline
  line (:attr:`Notice.ref`), the channel and the recipient. The engine thread only
  writes rows; it never waits on the network.
* **Delivery** (:mod:`cityeye.notifiers` and :mod:`cityeye.api.notifications`). The
  desk reads its rows (``GET /api/v1/notifications`` and the SSE stream, woken when
  rows are committed in the same process); a sender thread of ``cityeye serve``
  posts due webhook and SMS rows (钉钉/浙政钉, 企业微信 or signed JSON), retried with
  exponential backoff.

The resident who reported still hears the outcome through the book's
:class:`~cityeye.cases.notify.Notifier` too (replay's ``notifications.jsonl``); the
words are the same (:func:`~cityeye.cases.notify.reporter_text`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from cityeye.cases.lifecycle import Action, Note, Record
from cityeye.cases.notify import reporter_text
from cityeye.domain import Case, CaseState, Severity, TimelineEntry
from cityeye.domain.labels import Labelled
from cityeye.domain.scenario import REPORT_SCENARIO

#: The source whose reports may have a signed-in reporter (``report_follows``).
PORTAL_SOURCE = "portal"


class NoticeKind(Labelled):
    """What a notice is about, named as the desk's alert says it."""

    DISPATCHED = "dispatched", "新派工单", "New case"
    CRITICAL = "critical", "紧急工单", "Critical case"
    ESCALATED = "escalated", "超时升级", "Escalated"
    HANDLED = "handled", "已处置", "Handled"
    CLOSED = "closed", "已结案", "Closed"
    SUPERVISED = "supervised", "领导督办", "Supervised"
    URGED = "urged", "领导催办", "Urged"
    REMINDER = "reminder", "每日提醒", "Daily reminder"
    BULLETIN = "bulletin", "周通报", "Weekly bulletin"
    RESULT = "result", "考核结果", "Contest result"


class Channel(StrEnum):
    DESK = "desk"  # the desk's list and live stream (always)
    WEBHOOK = "webhook"  # a party's group robot: 钉钉/浙政钉, 企业微信, JSON
    SMS = "sms"  # a user's phone, through the district's gateway


@dataclass(frozen=True, slots=True)
class Channels:
    """Which channels besides the desk a notice goes out on (from ``--notify``):
    the parties with a webhook, and whether an SMS gateway is configured."""

    webhook_parties: frozenset[str] = frozenset()
    sms: bool = False


@dataclass(frozen=True, slots=True)
class Notice:
    """Something to tell about one case (or, from the routine, about none: ``case_id``
    ``None``), before it is addressed to people.

    ``party``: its handlers hear it (and its webhook, if any); ``dispatchers``: the
    dispatchers whose areas cover ``area`` hear it; ``report``: the id of the portal
    report whose signed-in reporter hears it; ``user``: this one person only (a daily
    reminder is written for its reader); ``robot_only``: ``party``'s group robot only,
    not its people (the party's own digest beside each handler's)."""

    case_id: str | None
    kind: NoticeKind
    ref: str  # unique within the case: the timeline line it reports ("dispatch@3")
    at: datetime
    title: str
    text: str
    severity: Severity
    area: str | None
    url: str
    party: str | None = None
    dispatchers: bool = False
    report: str | None = None
    user: str | None = None
    robot_only: bool = False

    @property
    def key(self) -> str:
        """What makes the notice one (the row's key adds channel and recipient): the
        case and its timeline line, or ``-`` and the routine job's own ref."""
        return f"{self.case_id or '-'}|{self.ref}"

    def payload(self) -> dict[str, object]:
        """What every channel is made from (kept as the row's JSON)."""
        return {
            "title": self.title,
            "text": self.text,
            "severity": self.severity.value,
            "area": self.area,
            "url": self.url,
            "at": self.at.isoformat(),
        }


def desk_url(case_id: str) -> str:
    return f"/desk#case={case_id}"


def notices(
    case: Case,
    stored: int,
    before: Severity | None,
    area_name: str | None = None,
    people: Mapping[str, str] | None = None,
) -> list[Notice]:
    """The notices of a case change: ``case.timeline[stored:]`` are the lines not
    stored yet, ``before`` the severity stored (``None``: a new case). ``area_name``
    is put in the words (the code stays in :attr:`Notice.area`); ``people`` names the
    users who acted (a 督办 says whose it is)."""
    out: list[Notice] = []
    new = list(enumerate(case.timeline))[stored:]
    where = f"（{area_name}）" if area_name else ""
    grade = case.severity.zh
    dispatch = _last(new, lambda e: e.action == Action.DISPATCH)
    if dispatch is not None and case.lead:
        index, entry = dispatch
        urgent = "紧急" if case.severity == Severity.CRITICAL else "新"
        out.append(
            _notice(
                case,
                NoticeKind.DISPATCHED,
                f"dispatch@{index}",
                entry.at,
                f"{urgent}案件 {case.id}",
                f"{case.title}{where}，{grade}级，已派给本单位，请及时接单处置。",
                party=case.lead,
            )
        )
    raised = case.severity == Severity.CRITICAL and before != Severity.CRITICAL
    if raised and new:
        # the lead's handlers were told by the dispatch if it came in the same save
        told = dispatch is not None
        line = _last(new, lambda e: e.action == Record.PRIORITY_RAISED) or new[0]
        out.append(
            _notice(
                case,
                NoticeKind.CRITICAL,
                "critical",
                line[1].at,
                f"紧急案件 {case.id}",
                f"{case.title}{where}为紧急案件，请立即关注、调度。",
                party=None if told else case.lead,
                dispatchers=True,
            )
        )
    for index, entry in new:
        if entry.action == Action.ESCALATE:
            out.append(
                _notice(
                    case,
                    NoticeKind.ESCALATED,
                    f"escalate@{index}",
                    entry.at,
                    f"案件超时升级 {case.id}",
                    f"{case.title}{where}：{entry.note}",
                    party=case.lead,
                    dispatchers=True,
                )
            )
    for index, entry in new:
        if entry.action in (Note.SUPERVISE, Note.URGE):
            out.append(_supervision(case, index, entry, where, (people or {}).get(entry.actor)))
    report = _portal_report(case)
    if report is not None:
        for index, entry in new:
            if entry.to_state in (CaseState.HANDLED, CaseState.CLOSED) and (
                entry.from_state != entry.to_state
            ):
                kind = NoticeKind(entry.to_state.value)
                out.append(
                    Notice(
                        case.id,
                        kind,
                        f"{kind.value}@{index}",
                        entry.at,
                        f"您反映的问题{entry.to_state.zh}",
                        reporter_text(case.id, entry.to_state, entry.note) or entry.note,
                        case.severity,
                        case.area,
                        f"/portal#track={report}",
                        report=report,
                    )
                )
    return out


def _supervision(
    case: Case, index: int, entry: TimelineEntry, where: str, name: str | None
) -> Notice:
    """A leader's 督办 or 催办, told to whoever handles the case now: the lead party's
    handlers, or the area's dispatchers while nobody leads it."""
    supervise = entry.action == Note.SUPERVISE
    kind = NoticeKind.SUPERVISED if supervise else NoticeKind.URGED
    who = name or "领导"
    words = f"：{entry.note}" if entry.note else "，请抓紧办理。"
    return _notice(
        case,
        kind,
        f"{entry.action}@{index}",
        entry.at,
        f"{who}{'督办' if supervise else '催办'} {case.id}",
        f"{case.title}{where}{words}",
        party=case.lead,
        dispatchers=case.lead is None,
    )


def _notice(
    case: Case,
    kind: NoticeKind,
    ref: str,
    at: datetime,
    title: str,
    text: str,
    *,
    party: str | None,
    dispatchers: bool = False,
) -> Notice:
    return Notice(
        case.id,
        kind,
        ref,
        at,
        title,
        text,
        case.severity,
        case.area,
        desk_url(case.id),
        party=party,
        dispatchers=dispatchers,
    )


def _last(
    lines: Sequence[tuple[int, TimelineEntry]], wanted: Callable[[TimelineEntry], bool]
) -> tuple[int, TimelineEntry] | None:
    """The last of ``lines`` (with their index) that is ``wanted``."""
    for index, entry in reversed(lines):
        if wanted(entry):
            return index, entry
    return None


def _portal_report(case: Case) -> str | None:
    """The portal report a resident's case came from (``portal/<event id>``)."""
    if case.scenario != REPORT_SCENARIO or not case.key:
        return None
    source, _, report = case.key.partition("/")
    return report if source == PORTAL_SOURCE and report else None
