"""The cockpit's figures for the chosen area and period (issue 18, items 1 and 2): the
scenario breakdown inside a street or community (the counters keep scenarios
district-wide only, so it is counted from the area's cases), the alerts of a period,
and the data's own latest month that the cockpit opens on — each bound by the user's
areas like every other figure.

Same district and events as test_cockpit_api: 小河街道 (长征桥社区 G0001/G0002, 小河社区
G0003) and 大关街道 (G0101); reports in G0001 on 22 Nov, G0003 on the 23rd, G0101 on the
24th, a smoke alarm in G0002 on the 24th."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient
from test_cockpit_api import (
    DAGUAN,
    XIAOHE,
    app,  # noqa: F401  (the fixture: that module's district and events)
    bearer,
)

from cityeye.store import Store

App = tuple[TestClient, Store, dict[str, str]]
CHANGZHENG, XIAOHE_C = "330105001001", "330105001002"
DAYS = {"first": "2026-11-22", "last": "2026-11-24"}


def scenarios(client: TestClient, user: str, **params: str) -> dict[str, dict[str, Any]]:
    r = client.get(
        "/api/v1/kpis/breakdown",
        params={"by": "scenario", **DAYS, **params},
        headers=bearer(client, user),
    )
    assert r.status_code == 200, r.text
    return {row["value"]: row for row in r.json()["rows"]}


def test_scenarios_inside_an_area_count_only_that_areas_cases(app: App) -> None:  # noqa: F811
    client, _, _ = app
    whole = scenarios(client, "root")
    assert whole["citizen.report"]["cases"] == 3
    assert whole["fire.smoke"]["cases"] == 1
    street = scenarios(client, "root", area=XIAOHE)
    assert {k: v["cases"] for k, v in street.items()} == {"citizen.report": 2, "fire.smoke": 1}
    assert street["fire.smoke"]["alerts"] == 1  # the smoke alarm's alert, raised in 小河
    community = scenarios(client, "boss", area=XIAOHE_C)
    assert {k: v["cases"] for k, v in community.items()} == {"citizen.report": 1}
    other = scenarios(client, "dg_street", area=DAGUAN)
    assert {k: v["cases"] for k, v in other.items()} == {"citizen.report": 1}
    # the same figures as the counters give for the whole district, area by area
    assert street["citizen.report"]["cases"] + other["citizen.report"]["cases"] == 3
    # a day without them: nothing
    assert scenarios(client, "root", area=XIAOHE, first="2026-11-20", last="2026-11-21") == {}


def test_a_street_never_counts_anothers_scenarios(app: App) -> None:  # noqa: F811
    client, _, _ = app
    r = client.get(
        "/api/v1/kpis/breakdown",
        params={"by": "scenario", "area": XIAOHE, **DAYS},
        headers=bearer(client, "dg_street"),
    )
    assert r.status_code == 404
    assert "area" in r.json()["detail"]
    # and its own street holds none of 小河's cases
    assert set(scenarios(client, "dg_street", area=DAGUAN)) == {"citizen.report"}


def test_the_alerts_of_a_period(app: App) -> None:  # noqa: F811
    client, _, _ = app

    def alerts(user: str, **params: str) -> list[str]:
        r = client.get("/api/v1/alerts", params=params, headers=bearer(client, user))
        assert r.status_code == 200, r.text
        return [a["scenario"] for a in r.json()["items"]]

    assert "fire.smoke" in alerts("root", first="2026-11-24", last="2026-11-24")
    assert "fire.smoke" not in alerts("root", first="2026-11-22", last="2026-11-23")
    assert "fire.smoke" not in alerts("dg_street", first="2026-11-24", last="2026-11-24")
    bad = client.get(
        "/api/v1/alerts",
        params={"first": "2026-11-24", "last": "2026-11-01"},
        headers=bearer(client, "root"),
    )
    assert bad.status_code == 422
    assert "last" in bad.json()["detail"]


def test_the_latest_month_is_the_datas_own_within_the_users_areas(app: App) -> None:  # noqa: F811
    client, _, _ = app
    r = client.get("/api/v1/kpis/latest", headers=bearer(client, "root"))
    assert r.status_code == 200, r.text
    assert r.json()["month"] == "2026-11"
    assert r.json()["day"] == "2026-11-24"
    # a handler sees only their own cases: 张网格员 (G0001) has the report of the 22nd
    mine = client.get("/api/v1/kpis/latest", headers=bearer(client, "zhang")).json()
    assert mine["day"] == "2026-11-22"
    assert client.get("/api/v1/kpis/latest").status_code == 401  # signed in only
