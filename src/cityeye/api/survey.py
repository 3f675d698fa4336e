"""``/api/v1/surveys`` and ``/api/v1/survey``: the annual 社会评价 of streets and
departments (issue 19 item 6; docs/survey.md).

Staff at a district post create a survey, invite respondents (one-time token links,
shown once, and/or verified residents by account), close it, read the results and
export them as xlsx for the assessment office. A respondent opens ``/survey/{token}``
(or ``/survey`` signed in as a resident) and answers once. The rules are
:mod:`cityeye.survey.service`'s; this module only speaks HTTP. A token travels in the
request body, never in an API path, so it reaches no access log (the page's own path
is redacted there, :mod:`cityeye.api.server`).
"""

from __future__ import annotations

import io
from datetime import datetime
from typing import Annotated, Any, Literal
from urllib.parse import quote

from fastapi import APIRouter, Path, Query
from fastapi.responses import Response
from pydantic import BaseModel, Field

from cityeye.api.auth import CurrentUser, MaybeUser
from cityeye.api.deps import Svc
from cityeye.api.exports import MEDIA
from cityeye.api.presenters import survey_json, survey_results_json, unit_json
from cityeye.errors import AuthError, FieldError
from cityeye.store import survey as survey_db
from cityeye.survey import service

router = APIRouter(tags=["survey"])

SurveyId = Annotated[str, Path(max_length=64)]


class NewSurvey(BaseModel):
    title: str = Field(max_length=200, examples=["2026 年度社会评价"])
    year: int
    opens_at: datetime
    closes_at: datetime
    units: list[str] | None = Field(
        default=None,
        max_length=500,
        description="street:<area> or department:<party>; every street and department if left out",
    )
    question_zh: str | None = Field(default=None, max_length=300)
    question_en: str | None = Field(default=None, max_length=300)


class Invite(BaseModel):
    links: int = Field(default=0, ge=0, le=service.MAX_LINKS, description="token links to make")
    residents: bool = Field(default=False, description="invite the verified residents")
    area: str | None = Field(
        default=None, max_length=128, description="only residents whose home is in this area"
    )


class AnswerIn(BaseModel):
    unit: str = Field(max_length=160)
    rating: int
    comment: str | None = Field(default=None, max_length=service.MAX_COMMENT)


class NewResponse(BaseModel):
    token: str | None = Field(default=None, max_length=200, description="the link's token")
    survey: str | None = Field(
        default=None, max_length=64, description="the survey (a signed-in resident)"
    )
    answers: list[AnswerIn] = Field(max_length=500)
    receipt: str | None = Field(
        default=None,
        min_length=16,
        max_length=64,
        description="the phone's key for this one submission: a resend is not refused",
    )


class TokenIn(BaseModel):
    token: str = Field(max_length=200)


def _with_counts(svc: Svc, survey: Any) -> dict[str, Any]:
    invited, answered = survey_db.invitation_counts(svc.store, survey.id)
    return survey_json(survey, invited, answered)


# ------------------------------------------------------------------------ staff
@router.post("/api/v1/surveys", status_code=201)
def create_survey(body: NewSurvey, user: CurrentUser, svc: Svc) -> dict[str, Any]:
    """A new survey (district admins and dispatchers)."""
    made = service.create_survey(
        svc.store,
        svc.world,
        user,
        title=body.title,
        year=body.year,
        opens_at=body.opens_at,
        closes_at=body.closes_at,
        now=svc.clock.now(),
        units=body.units,
        question_zh=body.question_zh,
        question_en=body.question_en,
    )
    return _with_counts(svc, made)


@router.get("/api/v1/surveys")
def list_surveys(user: CurrentUser, svc: Svc) -> list[dict[str, Any]]:
    """Every survey with how many were invited and answered (readers of results)."""
    service.may_read(user, svc.world)
    return [_with_counts(svc, s) for s in survey_db.list_surveys(svc.store)]


@router.get("/api/v1/surveys/units")
def survey_units(user: CurrentUser, svc: Svc) -> list[dict[str, Any]]:
    """What a survey may rate: the district's streets and departments."""
    service.may_run(user, svc.world)
    return [unit_json(u) for u in service.units_of(svc.world)]


@router.post("/api/v1/surveys/{survey_id}/invitations", status_code=201)
def invite(survey_id: SurveyId, body: Invite, user: CurrentUser, svc: Svc) -> dict[str, Any]:
    """Token links (``links``: the page's paths, shown this once) and/or the verified
    residents (below ``area``) invited by account."""
    now = svc.clock.now()
    tokens = (
        service.invite_links(svc.store, svc.world, user, survey_id, body.links, now)
        if body.links
        else []
    )
    residents = (
        service.invite_residents(svc.store, svc.world, user, survey_id, body.area, now)
        if body.residents
        else 0
    )
    return {"links": [f"/survey/{t}" for t in tokens], "residents": residents}


@router.post("/api/v1/surveys/{survey_id}/close")
def close_survey(survey_id: SurveyId, user: CurrentUser, svc: Svc) -> dict[str, Any]:
    return _with_counts(svc, service.close(svc.store, svc.world, user, survey_id, svc.clock.now()))


@router.get("/api/v1/surveys/{survey_id}/results")
def results(survey_id: SurveyId, user: CurrentUser, svc: Svc) -> dict[str, Any]:
    """Per unit: responses, mean, 95 % t interval, counts per score, comments."""
    return survey_results_json(service.results(svc.store, svc.world, user, survey_id))


@router.get("/api/v1/surveys/{survey_id}/results/export")
def export_results(
    survey_id: SurveyId,
    user: CurrentUser,
    svc: Svc,
    format: Annotated[Literal["xlsx"], Query()] = "xlsx",
) -> Response:
    """The results as a workbook for the assessment office (units, then comments)."""
    found = service.results(svc.store, svc.world, user, survey_id)
    buffer = io.BytesIO()
    service.write_xlsx(found, buffer)
    stem = quote(f"{found.survey.title}-结果.xlsx")
    return Response(
        buffer.getvalue(),
        media_type=MEDIA["xlsx"],
        headers={
            "Content-Disposition": (
                f"attachment; filename=\"survey-{found.survey.id}.xlsx\"; filename*=UTF-8''{stem}"
            ),
            "Cache-Control": "no-store",
        },
    )


# ------------------------------------------------------------------------ respondents
def _ballot_json(ballot: service.Ballot) -> dict[str, Any]:
    return survey_json(ballot.survey) | {"answered": ballot.answered, "open": ballot.open}


@router.post("/api/v1/survey/ballot")
def ballot(body: TokenIn, svc: Svc) -> dict[str, Any]:
    """The questionnaire a token link opens (POST: the token stays out of URLs)."""
    return _ballot_json(service.ballot_by_token(svc.store, body.token, svc.clock.now()))


@router.get("/api/v1/survey/mine")
def my_surveys(user: CurrentUser, svc: Svc) -> list[dict[str, Any]]:
    """The surveys a signed-in resident is invited to, open ones first."""
    return [_ballot_json(b) for b in service.ballots_of_resident(svc.store, user, svc.clock.now())]


@router.post("/api/v1/survey/responses", status_code=201)
def respond(body: NewResponse, user: MaybeUser, svc: Svc) -> dict[str, Any]:
    """One response: with ``token`` (a link), or signed in as an invited resident
    with ``survey``. A second one is refused (409), unless it is the same phone's
    resend of the same submission (``receipt``), which answers ``again: true``."""
    now = svc.clock.now()
    answers = [a.model_dump() for a in body.answers]
    if body.token:
        done = service.respond_by_token(svc.store, body.token, answers, now, body.receipt)
    elif user is not None and body.survey:
        done = service.respond_as_resident(svc.store, user, body.survey, answers, now, body.receipt)
    elif body.survey:
        raise AuthError("sign in as a resident, or open the survey's link")
    else:
        raise FieldError("token", "give the link's token, or the survey when signed in")
    return {"recorded": True, "again": done.again, "survey": done.survey.id}
