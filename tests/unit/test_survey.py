"""社会评价 (issue 19 item 6): one response per respondent, the results' maths against
hand-computed values, anonymity of the results and the export, and who may run and
read a survey — each boundary tried (role and area)."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from openpyxl import load_workbook

from cityeye.accounts import create_user
from cityeye.api.app import create_app
from cityeye.api.server import redact_query
from cityeye.live.pipeline import LivePipeline
from cityeye.store import Store
from cityeye.store.users import list_users
from cityeye.survey.stats import score, t975
from cityeye.world import load_world

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
PASSWORD = "survey-pass-1234"
DISTRICT, STREET, CZ = "330105", "330105001", "330105001001"
XIAOHE, CHENGGUAN = "street:330105001", "department:P-CG"
PEOPLE: dict[str, dict[str, Any]] = {
    "root": {"role": "admin"},
    "office": {"role": "dispatcher", "areas": (DISTRICT,), "display_name": "考评办"},
    "boss": {"role": "leader", "areas": (DISTRICT,)},
    "xh_dispatch": {"role": "dispatcher", "areas": (STREET,)},
    "xh_boss": {"role": "leader", "areas": (STREET,)},
    "zhang": {"role": "handler", "party_id": "P-GW1"},
    "wang.ayi": {"role": "resident", "areas": ("G0001",), "display_name": "王阿姨"},
    "li.shifu": {"role": "resident", "areas": (CZ,), "display_name": "李师傅"},
    "newcomer": {"role": "resident"},  # home not verified: never invited
}


@pytest.fixture
def env(tmp_path: Path) -> Iterator[tuple[TestClient, Store]]:
    store = Store.open(f"sqlite:///{tmp_path / 'survey.db'}")
    world = load_world(FIXTURES / "world_small.yaml")
    store.save_world(world)
    for name, spec in PEOPLE.items():
        create_user(store, world, username=name, password=PASSWORD, **spec)
    with TestClient(create_app(store, LivePipeline(store, lateness_s=0), wall_clock=False)) as c:
        yield c, store
    store.close()


def auth(client: TestClient, username: str) -> dict[str, str]:
    r = client.post("/api/v1/auth/login", json={"username": username, "password": PASSWORD})
    assert r.status_code == 200, r.text
    client.cookies.clear()
    return {"Authorization": f"Bearer {r.json()['token']}"}


def new_survey(client: TestClient, who: dict[str, str], **extra: Any) -> Any:
    now = datetime.now(UTC)
    body = {
        "title": "2026 年度社会评价",
        "year": 2026,
        "opens_at": (now - timedelta(days=1)).isoformat(),
        "closes_at": (now + timedelta(days=30)).isoformat(),
    } | extra
    return client.post("/api/v1/surveys", json=body, headers=who)


def links(client: TestClient, who: dict[str, str], survey: str, n: int) -> list[str]:
    r = client.post(f"/api/v1/surveys/{survey}/invitations", json={"links": n}, headers=who)
    assert r.status_code == 201, r.text
    return [link.removeprefix("/survey/") for link in r.json()["links"]]


def answer(client: TestClient, token: str, *ratings: tuple[str, int, str | None]) -> Any:
    answers = [{"unit": u, "rating": r} | ({"comment": c} if c else {}) for u, r, c in ratings]
    return client.post("/api/v1/survey/responses", json={"token": token, "answers": answers})


def test_units_are_the_streets_and_departments(env: tuple[TestClient, Store]) -> None:
    client, _ = env
    r = client.get("/api/v1/surveys/units", headers=auth(client, "office"))
    assert r.json() == [
        {
            "unit": XIAOHE,
            "kind": "street",
            "kind_name": {"zh": "街道", "en": "Street"},
            "name": "小河街道",
        },
        {
            "unit": CHENGGUAN,
            "kind": "department",
            "kind_name": {"zh": "政府部门", "en": "Government department"},
            "name": "区城管局",
        },
    ]


def test_a_link_answers_once_and_a_resident_once(env: tuple[TestClient, Store]) -> None:
    client, _ = env
    office = auth(client, "office")
    survey = new_survey(client, office).json()["id"]
    [token] = links(client, office, survey, 1)
    # the link opens the questionnaire (the token in the body, not the URL)
    ballot = client.post("/api/v1/survey/ballot", json={"token": token}).json()
    assert [u["name"] for u in ballot["units"]] == ["小河街道", "区城管局"]
    assert (ballot["answered"], ballot["open"]) == (False, True)
    assert answer(client, token, (XIAOHE, 4, None)).status_code == 201
    again = answer(client, token, (XIAOHE, 1, None))
    assert again.status_code == 409
    assert again.json()["detail"].startswith("token: this link has been used")
    assert client.post("/api/v1/survey/ballot", json={"token": token}).json()["answered"]
    # a made-up or altered token is no link at all
    assert answer(client, token[:-2] + "xx", (XIAOHE, 4, None)).status_code == 404
    # residents: invited by account (the verified ones; not the newcomer)
    r = client.post(
        f"/api/v1/surveys/{survey}/invitations", json={"residents": True}, headers=office
    )
    assert r.json() == {"links": [], "residents": 2}
    wang = auth(client, "wang.ayi")
    mine = client.get("/api/v1/survey/mine", headers=wang).json()
    assert [s["id"] for s in mine] == [survey]
    body = {"survey": survey, "answers": [{"unit": CHENGGUAN, "rating": 5}]}
    assert client.post("/api/v1/survey/responses", json=body, headers=wang).status_code == 201
    twice = client.post("/api/v1/survey/responses", json=body, headers=wang)
    assert twice.status_code == 409
    assert "answered this survey already" in twice.json()["detail"]
    # not invited; staff do not answer
    newcomer = client.post("/api/v1/survey/responses", json=body, headers=auth(client, "newcomer"))
    assert newcomer.status_code == 404
    staff = client.post("/api/v1/survey/responses", json=body, headers=office)
    assert staff.status_code == 403
    # counted once each
    res = client.get(f"/api/v1/surveys/{survey}/results", headers=office).json()
    assert [u["responses"] for u in res["units"]] == [1, 1]
    assert (res["survey"]["invited"], res["survey"]["answered"]) == (3, 2)


def test_a_resend_after_a_lost_answer_is_recorded_not_counted_twice(
    env: tuple[TestClient, Store],
) -> None:
    client, _ = env
    office = auth(client, "office")
    survey = new_survey(client, office).json()["id"]
    [token] = links(client, office, survey, 1)
    body = {"token": token, "answers": [{"unit": XIAOHE, "rating": 3}], "receipt": "a" * 32}
    first = client.post("/api/v1/survey/responses", json=body)
    assert (first.status_code, first.json()["again"]) == (201, False)
    second = client.post("/api/v1/survey/responses", json=body)
    assert (second.status_code, second.json()["again"]) == (201, True)
    other = client.post("/api/v1/survey/responses", json=body | {"receipt": "b" * 32})
    assert other.status_code == 409
    res = client.get(f"/api/v1/surveys/{survey}/results", headers=office).json()
    assert res["units"][0]["counts"] == {"1": 0, "2": 0, "3": 1, "4": 0, "5": 0}


def test_bad_answers_are_refused_naming_the_field(env: tuple[TestClient, Store]) -> None:
    client, _ = env
    office = auth(client, "office")
    survey = new_survey(client, office).json()["id"]
    [token] = links(client, office, survey, 1)
    for bad, field in (
        ((XIAOHE, 6, None), "answers[0].rating"),
        (("street:nowhere", 3, None), "answers[0].unit"),
    ):
        r = answer(client, token, bad)
        assert r.status_code == 422
        assert r.json()["detail"].startswith(field)
    r = answer(client, token, (XIAOHE, 3, None), (XIAOHE, 4, None))
    assert r.json()["detail"] == "answers[1].unit: rated twice in one response"
    assert answer(client, token).json()["detail"] == "answers: rate at least one unit"
    # none of these used the link up
    assert answer(client, token, (XIAOHE, 3, None)).status_code == 201
    bad = new_survey(client, office, closes_at="2020-01-01T00:00:00+08:00")
    assert (bad.status_code, bad.json()["detail"]) == (422, "closes_at: must be after opens_at")
    bad = new_survey(client, office, units=["street:330105"])
    assert bad.json()["detail"].startswith("units: not streets or departments")


def test_a_closed_survey_takes_no_answers(env: tuple[TestClient, Store]) -> None:
    client, _ = env
    office = auth(client, "office")
    survey = new_survey(client, office).json()["id"]
    [token] = links(client, office, survey, 1)
    assert client.post(f"/api/v1/surveys/{survey}/close", headers=office).status_code == 200
    r = answer(client, token, (XIAOHE, 4, None))
    assert (r.status_code, r.json()["detail"]) == (409, "survey: closed")
    assert client.post(f"/api/v1/surveys/{survey}/close", headers=office).status_code == 409


def test_results_maths_against_hand_computed_values(env: tuple[TestClient, Store]) -> None:
    client, _ = env
    office = auth(client, "office")
    survey = new_survey(client, office).json()["id"]
    tokens = links(client, office, survey, 5)
    # 小河街道: 5, 4, 4, 3, 5; 区城管局: 2, 2 (three skip it)
    given = [
        [(XIAOHE, 5, "垃圾清运及时"), (CHENGGUAN, 2, "占道经营没人管")],
        [(XIAOHE, 4, None), (CHENGGUAN, 2, None)],
        [(XIAOHE, 4, None)],
        [(XIAOHE, 3, "夜间施工扰民")],
        [(XIAOHE, 5, None)],
    ]
    for token, ratings in zip(tokens, given, strict=True):
        assert answer(client, token, *ratings).status_code == 201
    res = client.get(f"/api/v1/surveys/{survey}/results", headers=office).json()
    xh, cg = res["units"]
    # mean 21/5 = 4.2; s² = (0.64+0.04+0.04+1.44+0.64)/4 = 0.7; t(0.975, 4) = 2.7764;
    # half-width 2.7764·√(0.7/5) = 1.0388 → [3.161, 5.239], cut to the scale: 5
    assert (xh["responses"], xh["mean"], xh["low"], xh["high"]) == (5, 4.2, 3.161, 5.0)
    assert xh["counts"] == {"1": 0, "2": 0, "3": 1, "4": 2, "5": 2}
    assert xh["comments"] == [
        {"rating": 5, "text": "垃圾清运及时"},
        {"rating": 3, "text": "夜间施工扰民"},
    ]
    # the same score twice: no spread, the interval is the score
    assert (cg["responses"], cg["mean"], cg["low"], cg["high"]) == (2, 2.0, 2.0, 2.0)
    assert cg["comments"] == [{"rating": 2, "text": "占道经营没人管"}]
    # one rating: a mean, no interval
    one = score({4: 1})
    assert (one.n, one.mean, one.low, one.high) == (1, 4.0, None, None)
    assert score({}).mean is None
    # the t quantile beyond the table: 1.9840 at 100 degrees of freedom (tables)
    assert t975(100) == pytest.approx(1.98397, abs=1e-4)
    assert t975(31) == pytest.approx(2.03951, abs=1e-4)


def test_results_and_export_say_nothing_of_who_answered(env: tuple[TestClient, Store]) -> None:
    client, store = env
    office = auth(client, "office")
    survey = new_survey(client, office).json()["id"]
    tokens = links(client, office, survey, 2)
    client.post(f"/api/v1/surveys/{survey}/invitations", json={"residents": True}, headers=office)
    for token in tokens:
        answer(client, token, (XIAOHE, 4, "路面平整"))
    for name in ("wang.ayi", "li.shifu"):
        body = {"survey": survey, "answers": [{"unit": CHENGGUAN, "rating": 3, "comment": "好"}]}
        r = client.post("/api/v1/survey/responses", json=body, headers=auth(client, name))
        assert r.status_code == 201
    results = client.get(f"/api/v1/surveys/{survey}/results", headers=office)
    export = client.get(f"/api/v1/surveys/{survey}/results/export", headers=office)
    assert export.status_code == 200
    book = load_workbook(io.BytesIO(export.content))
    cells = " ".join(
        str(c)
        for sheet in book.worksheets
        for row in sheet.iter_rows(values_only=True)
        for c in row
    )
    assert "小河街道" in cells
    assert "路面平整" in cells
    secrets: list[str] = []
    for token in tokens:
        # whole, id, secret (a url-safe secret may hold "_" itself: split twice only)
        _, token_id, secret = token.split("_", 2)
        secrets += [token, token_id, secret]
    for u in list_users(store):
        if u.role.value == "resident":
            secrets += [u.id, u.username, u.display_name]
    assert "" not in secrets  # an empty "secret" is in every text and would prove nothing
    for s in secrets:
        assert s not in results.text, s
        assert s not in cells, s
    # the database keeps only hashes of the tokens, and no answer row names anyone
    with store.engine.connect() as conn:
        from sqlalchemy import text

        def rows(table: str) -> list[str]:
            return [str(r) for r in conn.execute(text(f"SELECT * FROM {table}"))]

        answers = rows("survey_tally") + rows("survey_comments")
        invitations = rows("survey_invitations")
    for s in secrets:
        assert not any(s in r for r in answers), s
    for token in tokens:
        assert not any(token.split("_", 2)[2] in r for r in invitations)


def test_only_the_district_office_runs_and_reads_surveys(env: tuple[TestClient, Store]) -> None:
    client, _ = env
    made = new_survey(client, auth(client, "root"))
    assert made.status_code == 201
    survey = made.json()["id"]
    assert new_survey(client, auth(client, "office")).status_code == 201
    # the district's leader reads, does not run
    boss = auth(client, "boss")
    assert client.get(f"/api/v1/surveys/{survey}/results", headers=boss).status_code == 200
    assert new_survey(client, boss).status_code == 403
    r = client.post(f"/api/v1/surveys/{survey}/invitations", json={"links": 1}, headers=boss)
    assert r.status_code == 403
    # a street's own staff neither run nor read the survey that judges their street
    for name in ("xh_dispatch", "xh_boss", "zhang", "wang.ayi"):
        who = auth(client, name)
        assert new_survey(client, who).status_code == 403, name
        for path in ("results", "results/export"):
            r = client.get(f"/api/v1/surveys/{survey}/{path}", headers=who)
            assert r.status_code == 403, (name, path)
        assert client.get("/api/v1/surveys", headers=who).status_code == 403, name
    r = client.get(f"/api/v1/surveys/{survey}/results", headers=auth(client, "xh_dispatch"))
    assert r.json()["detail"].startswith("areas:")
    # signed out: nothing
    assert client.get(f"/api/v1/surveys/{survey}/results").status_code == 401


def test_the_header_links_the_surveys_page_to_exactly_those_it_serves(
    env: tuple[TestClient, Store],
) -> None:
    """``/auth/me``'s ``pages`` has 社会评价 for a person if and only if the list of
    surveys answers them: no header link leads a street's staff to a page of refusals,
    and nobody who may read results goes without one."""
    client, _ = env
    linked = {}
    for name in PEOPLE:
        who = auth(client, name)
        pages = client.get("/api/v1/auth/me", headers=who).json()["pages"]
        listed = client.get("/api/v1/surveys", headers=who).status_code
        assert ("surveys" in pages) == (listed == 200), (name, pages, listed)
        linked[name] = "surveys" in pages
    assert [name for name, shown in linked.items() if shown] == ["root", "office", "boss"]
    page = client.get("/surveys")
    assert page.status_code == 200
    assert '<script src="/static/surveys/surveys.js"></script>' in page.text


def test_the_link_stays_out_of_the_access_log() -> None:
    assert redact_query("/survey/sv_0123abcd_s3cr3t") == "/survey/***"
    assert redact_query("/portal?follow_key=x") == "/portal?follow_key=***"


def test_the_command_line_runs_a_survey_by_the_same_rules(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from cityeye.cli import app as cli

    url = f"sqlite:///{tmp_path / 'cli.db'}"
    store = Store.open(url)
    world = load_world(FIXTURES / "world_small.yaml")
    store.save_world(world)
    create_user(store, world, username="xh_dispatch", password=PASSWORD, **PEOPLE["xh_dispatch"])
    store.close()

    def run(*args: str) -> Any:
        return CliRunner().invoke(cli, ["survey", *args, "--db", url])

    made = run(
        "create",
        "--title=2026 年度社会评价",
        "--year=2026",
        "--opens=2026-01-01T00:00+08:00",
        "--closes=2099-01-01T00:00+08:00",
        f"--unit={XIAOHE}",
    )
    assert made.exit_code == 0, made.output
    survey = made.stdout.strip()
    invited = run("invite", survey, "--links=2", "--base-url=https://ce.example")
    lines = [x for x in invited.stdout.splitlines() if x.startswith("https://")]
    assert len(lines) == 2
    assert all(x.startswith("https://ce.example/survey/sv_") for x in lines)
    # a street's dispatcher is refused here too
    refused = run("results", survey, "--as=xh_dispatch")
    assert refused.exit_code == 1
    assert "areas:" in refused.output
    shown = run("results", survey, "--json")
    assert json.loads(shown.stdout)["survey"]["invited"] == 2
