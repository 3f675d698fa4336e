"""社会评价 answered on a 390×844 phone in Chromium (issue 19 item 6): a one-time link
and a signed-in resident each answer once, a send whose answer was lost is
sent again and counted once; the page is Chinese (no English words), fits
the phone, passes the accessibility scan, and the results count what was tapped.
tests/browser/survey.mjs drives the page."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx

from serving import keep_screenshots, run_in_browser

PASSWORD = "survey-pass-1234"
PEOPLE = {
    "office": ("--role", "dispatcher", "--area", "330105", "--name", "考评办"),
    "wang": ("--role", "resident", "--area", "G0001", "--name", "王阿姨"),
}


def test_answering_on_a_phone(tmp_path: Path) -> None:
    env: dict[str, str] = {"RESIDENT": "wang"}
    seen: dict[str, object] = {}

    def signed_in(base: str) -> httpx.Client:
        r = httpx.post(
            f"{base}/api/v1/auth/login", json={"username": "office", "password": PASSWORD}
        )
        return httpx.Client(base_url=base, headers={"Authorization": f"Bearer {r.json()['token']}"})

    def make_survey(base: str) -> None:
        now = datetime.now(UTC)
        with signed_in(base) as client:
            body = {
                "title": "2026 年度社会评价",
                "year": 2026,
                "opens_at": (now - timedelta(hours=1)).isoformat(),
                "closes_at": (now + timedelta(days=7)).isoformat(),
            }
            survey = client.post("/api/v1/surveys", json=body).json()["id"]
            r = client.post(
                f"/api/v1/surveys/{survey}/invitations", json={"links": 2, "residents": True}
            )
            assert r.json()["residents"] == 1
        env["TOKEN"], env["TOKEN2"] = (x.removeprefix("/survey/") for x in r.json()["links"])
        seen["base"], seen["survey"] = base, survey

    def results(_db: str) -> None:
        with signed_in(str(seen["base"])) as client:
            seen["results"] = client.get(f"/api/v1/surveys/{seen['survey']}/results").json()

    report, _ = run_in_browser(
        tmp_path,
        "survey.mjs",
        users=PEOPLE,
        password=PASSWORD,
        env=env,
        before=make_survey,
        after=results,
    )
    assert report["errors"] == []
    assert report["external"] == []  # offline: nothing from outside the server
    assert report["units"] == ["小河街道街道", "区城管局政府部门"]
    assert report["latin"] == []  # no English word on the Chinese page
    assert report["violations"] == []
    assert report["fits"] is True
    assert report["english"] == "How satisfied are you with this unit's work this year?"
    assert report["done"] == "您的评价已匿名记录。"
    assert report["again"] == "这份评价已经提交过了，感谢参与。"
    assert report["resident"] == "您的评价已匿名记录。"
    assert report["lost"].startswith("网络不通或未收到回复")
    assert report["resent"] == "您的评价已匿名记录。"
    units = seen["results"]["units"]  # type: ignore[index]
    assert [(u["name"], u["responses"], u["mean"]) for u in units] == [
        ("小河街道", 1, 4.0),
        ("区城管局", 2, 4.0),  # the resident's 5 and the resent 3, once
    ]
    assert units[0]["comments"] == [{"rating": 4, "text": "垃圾分类做得好"}]
    keep_screenshots(tmp_path, "survey-phone.png", "survey-phone-rated.png")
