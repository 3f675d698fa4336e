"""``GET /api/v1/meta``: the names the pages show for the values the API sends.

A case's ``state`` is ``"dispatched"`` in the JSON; the desk shows 已派遣, the
cockpit in English "Dispatched". Those names are the enums' own (each member says
them: :mod:`cityeye.domain.labels`), and this is how they reach the pages, which
keep no table of their own (``static/common.js`` loads this once per page). It holds
no data, only words, so it needs no sign-in; it is the same for everybody until the
server is upgraded, so it is answered with an ``ETag`` and a repeat costs a 304.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from fastapi import APIRouter, Request, Response
from pydantic import BaseModel

from cityeye.assessment.scoring import Standing
from cityeye.cases.lifecycle import Action, Note, Record
from cityeye.cases.outbox import NoticeKind
from cityeye.cases.standards import Mark
from cityeye.domain import (
    DEVICE_KINDS,
    REPORT_CATEGORIES,
    AreaLevel,
    CaseState,
    Module,
    PartyKind,
    Severity,
)
from cityeye.domain.elections import AuditAction, BallotChannel, ElectionState, Matter
from cityeye.domain.enterprises import EnterpriseSize, RiskLevel, WarningOutcome
from cityeye.domain.labels import Labelled
from cityeye.domain.participation import (
    SUGGESTION_CATEGORIES,
    Channel,
    MeetingMode,
    ParticipantRole,
    TopicKind,
    TopicStep,
)
from cityeye.domain.users import UserRole
from cityeye.world.places import PlaceKind

#: Each group the pages look names up in, and the enum it comes from, in the order
#: the enum lists its members (the topic steps' order is the method's).
GROUPS: dict[str, type[Labelled]] = {
    "case_states": CaseState,
    "severities": Severity,
    "actions": Action,  # the lifecycle's moves …
    "notes": Note,  # … and the notes: together a case's moves (the desk's buttons)
    "records": Record,  # the other timeline lines, which the case book writes itself
    "notice_kinds": NoticeKind,
    "user_roles": UserRole,
    "area_levels": AreaLevel,
    "modules": Module,
    "party_kinds": PartyKind,
    "topic_steps": TopicStep,
    "topic_kinds": TopicKind,
    "meeting_modes": MeetingMode,
    "participant_roles": ParticipantRole,
    "suggestion_channels": Channel,
    "place_kinds": PlaceKind,
    "standard_marks": Mark,  # the moments a response standard's steps are measured to
    "standings": Standing,  # the contest board's colours (达标 / 接近目标 / 未达标)
    "election_matters": Matter,  # what owners decide, by the consent art. 278 asks
    "election_states": ElectionState,
    "ballot_channels": BallotChannel,
    "election_audit": AuditAction,
    # 小河网驿 (issue 21): an enterprise's size and risk, a warning visit's outcome
    "enterprise_sizes": EnterpriseSize,
    "risk_levels": RiskLevel,
    "warning_outcomes": WarningOutcome,
}


class Names(BaseModel):
    zh: str
    en: str


def meta() -> dict[str, dict[str, dict[str, str]]]:
    """Every group: value → ``{"zh", "en"}``; and the report and suggestion categories
    by code."""
    out = {
        group: {m.value: {"zh": m.zh, "en": m.en} for m in enum} for group, enum in GROUPS.items()
    }
    out["report_categories"] = {
        c.code: {"zh": c.zh, "en": c.en} for c in REPORT_CATEGORIES.values()
    }
    out["device_kinds"] = {d.kind: {"zh": d.zh, "en": d.en} for d in DEVICE_KINDS.values()}
    out["suggestion_categories"] = {c.code: {"zh": c.zh, "en": c.en} for c in SUGGESTION_CATEGORIES}
    return out


router = APIRouter(prefix="/api/v1", tags=["meta"])
#: The answer, made once: the names are the enums', fixed for the life of the process.
BODY = json.dumps(meta(), ensure_ascii=False, separators=(",", ":")).encode()
ETAG = '"' + hashlib.sha256(BODY).hexdigest()[:20] + '"'
HEADERS = {"ETag": ETAG, "Cache-Control": "no-cache"}  # keep it, ask if it changed


@router.get(
    "/meta",
    response_model=dict[str, dict[str, Names]],
    responses={304: {"description": "Not modified: the names the ETag stands for"}},
)
def get_meta(request: Request) -> Any:
    """The Chinese and English names of what the API sends as codes, by group:
    ``case_states``, ``severities``, ``actions`` and ``notes`` (a case's moves),
    ``records`` (the other timeline lines: ``open``, ``alert_joined`` …),
    ``notice_kinds``, ``user_roles``, ``area_levels``, ``modules``,
    ``party_kinds``, ``topic_steps``, ``topic_kinds``, ``meeting_modes``,
    ``participant_roles``, ``suggestion_channels``, ``report_categories``,
    ``device_kinds`` (the cockpit map's legend) and ``suggestion_categories`` (the
    council page's filter); each
    maps a value to ``{"zh", "en"}``. Public (no data, only names); send
    ``If-None-Match`` with the ``ETag`` and an unchanged answer is a 304."""
    wanted = request.headers.get("if-none-match", "")
    if ETAG in (t.strip().removeprefix("W/") for t in wanted.split(",")):
        return Response(status_code=304, headers=HEADERS)
    return Response(BODY, media_type="application/json", headers=HEADERS)
