"""督办 and 催办 (issue 18, item 2): a leader's supervision of a case — recorded under
their name, told to whoever handles it, counted on the case and in the KPIs of its
areas and day — and refused across every boundary of role and area.

The district is world_small: 长征桥社区 (grids G0001, G0002) and 小河社区 (G0003). A
road report in G0001 goes to the grid worker party P-GW1 (zhang and li work there,
wang for another party); one in G0003 has no lead and waits for 小河's dispatcher."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from openpyxl import load_workbook
from pypdf import PdfReader

from cityeye.accounts import create_user
from cityeye.api.app import create_app
from cityeye.consistency import check
from cityeye.domain import Event, FieldError
from cityeye.live.pipeline import LivePipeline
from cityeye.report import build_report, render_html, week_bounds, write_pdf, write_xlsx
from cityeye.scenarios import load_catalogue
from cityeye.store import Store
from cityeye.store.outbox import notification_rows
from cityeye.world import load_world
from kit import SetClock, at, ev
from pdfcheck import dark_pixels_at_top, unembedded_fonts

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
PASSWORD = "correct horse battery"
USERS: dict[str, dict[str, Any]] = {
    "street_boss": {"role": "leader", "areas": ("330105001",), "display_name": "小河街道王书记"},
    "cz_boss": {"role": "leader", "areas": ("330105001001",), "display_name": "长征桥李主任"},
    "xh_boss": {"role": "leader", "areas": ("330105001002",), "display_name": "小河社区赵主任"},
    "root": {"role": "admin"},
    "cz": {"role": "dispatcher", "areas": ("330105001001",)},
    "xh": {"role": "dispatcher", "areas": ("330105001002",)},
    "zhang": {"role": "handler", "party_id": "P-GW1"},
    "li": {"role": "handler", "party_id": "P-GW1"},
    "wang": {"role": "handler", "party_id": "P-C1"},
    "resident": {"role": "resident"},
}
CZ, XH = "330105001001", "330105001002"


@dataclass
class Desk:
    client: TestClient
    store: Store
    clock: SetClock
    cases: dict[str, str]  # grid → case id
    ids: dict[str, str]  # username → user id

    def auth(self, username: str) -> dict[str, str]:
        r = self.client.post(
            "/api/v1/auth/login", json={"username": username, "password": PASSWORD}
        )
        assert r.status_code == 200, r.text
        self.client.cookies.clear()
        return {"Authorization": f"Bearer {r.json()['token']}"}

    def post(self, who: str, grid: str, what: str, note: str | None = None) -> Any:
        body = {} if note is None else {"note": note}
        url = f"/api/v1/cases/{self.cases[grid]}/{what}"
        return self.client.post(url, json=body, headers=self.auth(who))

    def told(self, kind: str) -> set[str]:
        """Usernames with a desk notification of ``kind``."""
        names = {v: k for k, v in self.ids.items()}
        return {
            names[r["user_id"]]
            for r in notification_rows(self.store)
            if r["kind"] == kind and r["channel"] == "desk"
        }

    def kpi(self, who: str, area: str, day: str) -> dict[str, Any]:
        r = self.client.get(
            "/api/v1/kpis", params={"area": area, "first": day, "last": day}, headers=self.auth(who)
        )
        assert r.status_code == 200, r.text
        body: dict[str, Any] = r.json()
        return body


def report(i: int, grid: str) -> Event:
    """A resident's road report ``r<i>`` in ``grid``, ``i`` minutes after T0."""
    return ev("report.citizen", i, area=grid, source="app", event_id=f"r{i}", category="road")


@pytest.fixture
def desk(tmp_path: Path) -> Iterator[Desk]:
    store = Store.open(f"sqlite:///{tmp_path / 'supervise.db'}")
    world = load_world(FIXTURES / "world_small.yaml")
    store.save_world(world)
    ids = {
        name: create_user(store, world, username=name, password=PASSWORD, **spec).id
        for name, spec in USERS.items()
    }
    pipeline = LivePipeline(store, lateness_s=0)
    pipeline.ingest([report(1, "G0001"), report(2, "G0003")])
    cases = {c.area or "": c.id for c in store.load_cases()}
    clock = SetClock(at(60))
    app = create_app(store, pipeline, wall_clock=False, clock=clock)
    with TestClient(app) as client:
        yield Desk(client, store, clock, cases, ids)
    store.close()


# ---------------------------------------------------------------------- 督办
def test_a_supervision_is_recorded_by_name_told_to_the_handlers_and_counted(desk: Desk) -> None:
    case_id = desk.cases["G0001"]
    before = desk.store.get_case(case_id)
    assert before is not None
    assert before.lead == "P-GW1"
    r = desk.post("cz_boss", "G0001", "supervise", "  请今天内修好，居民反映多次  ")
    assert r.status_code == 200, r.text
    shown = r.json()
    assert shown["state"] == before.state.value  # it moves nothing
    assert (shown["supervisions"], shown["urges"]) == (1, 0)
    line = shown["timeline"][-1]
    assert (line["action"], line["actor"], line["actor_name"]) == (
        "supervise",
        "cz_boss",
        "长征桥李主任",
    )
    assert line["note"] == "请今天内修好，居民反映多次"
    assert shown["supervision"]["supervise"] == {
        "at": line["at"],
        "by": "长征桥李主任",
        "note": "请今天内修好，居民反映多次",
    }
    # the lead party's handlers are told, with the leader's name; nobody else
    assert desk.told("supervised") == {"zhang", "li"}
    row = next(r for r in notification_rows(desk.store) if r["kind"] == "supervised")
    assert row["payload"]["title"] == f"长征桥李主任督办 {case_id}"
    assert "请今天内修好" in row["payload"]["text"]
    # the handler's desk lists the case with its count, and opens it with the banner
    handler = desk.auth("zhang")
    listed = desk.client.get("/api/v1/cases", headers=handler).json()["items"]
    assert [(c["id"], c["supervisions"]) for c in listed] == [(case_id, 1)]
    seen = desk.client.get(f"/api/v1/cases/{case_id}", headers=handler).json()
    assert seen["supervision"]["supervise"]["by"] == "长征桥李主任"
    assert seen["supervision"]["may"] is False  # a handler is told, and sends none
    # counted for the case's areas up the hierarchy and its day, not elsewhere
    day = at(60).date().isoformat()
    assert desk.kpi("street_boss", CZ, day)["supervisions"] == 1
    assert desk.kpi("street_boss", "330105001", day)["supervisions"] == 1
    assert desk.kpi("street_boss", XH, day)["supervisions"] == 0
    next_day = (at(60) + timedelta(days=1)).date().isoformat()
    assert desk.kpi("street_boss", CZ, next_day)["supervisions"] == 0
    breakdown = desk.client.get(
        "/api/v1/kpis/breakdown",
        params={"by": "community", "area": "330105001", "first": day, "last": day},
        headers=desk.auth("street_boss"),
    ).json()
    counted = {row["value"]: row["supervisions"] for row in breakdown["rows"]}
    assert counted[CZ] == 1
    assert counted.get(XH, 0) == 0
    # the counters are what a recount from the stored cases gives (cityeye check)
    stored = desk.store.kpi_counters()
    assert {k: n for k, n in desk.store.recount_kpis().items() if n} == stored


def test_a_case_nobody_leads_yet_tells_the_areas_dispatchers(desk: Desk) -> None:
    r = desk.post("root", "G0003", "supervise", "尽快派遣")
    assert r.status_code == 200, r.text
    assert r.json()["lead"] is None
    assert desk.told("supervised") == {"xh"}  # not 长征桥's dispatcher


# ---------------------------------------------------------------------- 催办
def test_an_urge_needs_no_words_and_waits_ten_minutes_for_the_next(desk: Desk) -> None:
    first = desk.post("street_boss", "G0001", "urge")
    assert first.status_code == 200, first.text
    assert (first.json()["supervisions"], first.json()["urges"]) == (0, 1)
    assert first.json()["supervision"]["urge"]["by"] == "小河街道王书记"
    assert desk.told("urged") == {"zhang", "li"}
    # another leader, nine minutes later: still too soon for this case
    desk.clock.at += timedelta(minutes=9)
    again = desk.post("cz_boss", "G0001", "urge", "还没处理？")
    assert again.status_code == 429, again.text
    assert again.json()["detail"].startswith("urge: ")
    assert 1 <= int(again.headers["retry-after"]) <= 60
    case = desk.store.get_case(desk.cases["G0001"])
    assert case is not None
    assert sum(e.action == "urge" for e in case.timeline) == 1
    # the case says when another is taken, to the leader looking at it
    seen = desk.client.get(f"/api/v1/cases/{case.id}", headers=desk.auth("cz_boss")).json()
    assert 1 <= seen["supervision"]["urge_wait_s"] <= 60
    assert seen["supervision"]["may"] is True
    # a 督办 is not limited; ten minutes after the first, a 催办 is taken again
    assert desk.post("cz_boss", "G0001", "supervise", "加快").status_code == 200
    desk.clock.at += timedelta(minutes=1)
    later = desk.post("cz_boss", "G0001", "urge", "还没处理？")
    assert later.status_code == 200, later.text
    assert (later.json()["supervisions"], later.json()["urges"]) == (1, 2)
    day = at(60).date().isoformat()
    figures = desk.kpi("street_boss", CZ, day)
    assert (figures["supervisions"], figures["urges"]) == (1, 2)
    # a restart rebuilds the same case from the stored events, refusal included
    assert check(desk.store, load_catalogue(), 0).differences == []


# ---------------------------------------------------------------------- who may
@pytest.mark.parametrize("who", ["cz", "zhang", "wang"])
@pytest.mark.parametrize("what", ["supervise", "urge"])
def test_dispatchers_and_handlers_may_not_supervise(desk: Desk, who: str, what: str) -> None:
    r = desk.post(who, "G0001", what, "督办一下")
    assert r.status_code in (403, 404), r.text  # wang's party does not see it at all
    if who != "wang":
        assert r.status_code == 403
    case = desk.store.get_case(desk.cases["G0001"])
    assert case is not None
    assert not any(e.action == what for e in case.timeline)
    assert not desk.told("supervised")
    assert not desk.told("urged")


@pytest.mark.parametrize("what", ["supervise", "urge"])
def test_a_leader_of_another_area_cannot_reach_the_case(desk: Desk, what: str) -> None:
    r = desk.post("xh_boss", "G0001", what, "督办一下")
    assert r.status_code == 404  # not found == not yours, as everywhere
    assert desk.post("resident", "G0001", what, "督办一下").status_code == 404
    case = desk.store.get_case(desk.cases["G0001"])
    assert case is not None
    assert not any(e.action == what for e in case.timeline)
    # and the leader of the case's own community may
    assert desk.post("cz_boss", "G0001", what, "督办一下").status_code == 200


def test_the_desks_moves_do_not_carry_a_supervision(desk: Desk) -> None:
    case_id = desk.cases["G0001"]
    auth = desk.auth("root")
    tag = desk.client.get(f"/api/v1/cases/{case_id}", headers=auth).headers["etag"]
    r = desk.client.post(
        f"/api/v1/cases/{case_id}/actions",
        json={"action": "supervise", "note": "x"},
        headers=auth | {"If-Match": tag},
    )
    assert r.status_code == 422
    assert r.json()["detail"].startswith("action: ")


# ---------------------------------------------------------------------- refusals
def test_bad_input_names_the_field(desk: Desk) -> None:
    empty = desk.post("cz_boss", "G0001", "supervise", "   ")
    assert empty.status_code == 422
    assert empty.json()["detail"].startswith("note: ")
    missing = desk.post("cz_boss", "G0001", "supervise")
    assert missing.status_code == 422
    assert missing.json()["detail"].startswith("note: ")
    long = desk.post("cz_boss", "G0001", "supervise", "快" * 501)
    assert long.status_code == 422
    assert [e["field"] for e in long.json()["errors"]] == ["note"]
    assert desk.post("cz_boss", "G0001", "supervise", "快" * 500).status_code == 200


def test_an_ended_case_takes_neither(desk: Desk) -> None:
    case_id = desk.cases["G0001"]
    auth = desk.auth("root")
    for action in ("accept", "arrive", "handle", "verify", "close"):
        tag = desk.client.get(f"/api/v1/cases/{case_id}", headers=auth).headers["etag"]
        moved = desk.client.post(
            f"/api/v1/cases/{case_id}/actions",
            json={"action": action, "note": "已处理"},
            headers=auth | {"If-Match": tag},
        )
        assert moved.status_code == 200, moved.text
    seen = desk.client.get(f"/api/v1/cases/{case_id}", headers=desk.auth("cz_boss")).json()
    assert seen["supervision"]["may"] is False
    for what in ("supervise", "urge"):
        r = desk.post("cz_boss", "G0001", what, "为什么这么慢")
        assert r.status_code == 422, r.text
        assert r.json()["detail"].startswith("state: ")
        assert "closed" in r.json()["detail"]
    assert not desk.told("supervised")
    assert not desk.told("urged")


# ---------------------------------------------------------------------- the week's bulletin
def test_the_weekly_bulletin_lists_the_weeks_supervision_by_name(
    desk: Desk, tmp_path: Path
) -> None:
    """周通报 (issue 19 item 3): the week's 督办 and 催办, newest first, each with the
    leader's name, the note and where the case stands, in every format; another week's
    bulletin has none of them."""
    assert desk.post("cz_boss", "G0001", "supervise", "请今天内修好").status_code == 200
    desk.clock.at = at(90)
    assert desk.post("cz_boss", "G0001", "urge").status_code == 200
    bulletin = build_report(desk.store, "2026-W40", "小河街道")  # 28 Sep – 4 Oct, T0 in it
    assert bulletin.kind == "week"
    assert bulletin.title == "小河街道 2026-W40 周通报 · Weekly bulletin"
    seen = [(r["what"], r["by"], r["at"], r["note"]) for r in bulletin.supervised]
    assert seen == [
        ("催办", "长征桥李主任", "2026-10-01 11:30", ""),
        ("督办", "长征桥李主任", "2026-10-01 11:00", "请今天内修好"),
    ]
    assert {r["id"] for r in bulletin.supervised} == {desk.cases["G0001"]}
    assert build_report(desk.store, "2026-W41", "小河街道").supervised == []
    # 小河社区's bulletin does not carry 长征桥's case
    assert build_report(desk.store, "2026-W40", "小河社区").supervised == []

    # the contest's round the week ends in (October, so far), the street among the streets
    assert bulletin.ranking_round == "数字治理赛 2026-10"
    assert [(r["name"], r["mine"]) for r in bulletin.ranking] == [("小河街道", True)]
    assert bulletin.ranking[0]["rank"] == 1

    html = render_html(bulletin)
    assert "小河街道 · 2026-W40 周通报" in html
    assert "★ 小河街道" in html
    assert "请今天内修好" in html
    out = tmp_path / "bulletin.pdf"
    write_pdf(bulletin, out)
    assert unembedded_fonts(out) == []
    text = "".join(page.extract_text() for page in PdfReader(out).pages)
    for needed in ("周通报", "督办与催办", "长征桥李主任", "请今天内修好", "排名"):
        assert needed in text, needed
    assert dark_pixels_at_top(out, tmp_path) > 200  # drawn with no Chinese font installed
    book = tmp_path / "bulletin.xlsx"
    write_xlsx(bulletin, book)
    rows = list(load_workbook(book)["督办 Supervision"].iter_rows(values_only=True))
    assert [r[0] for r in rows[1:]] == ["催办", "督办"]
    ranked = list(load_workbook(book)["排名 Ranking"].iter_rows(values_only=True))
    assert ranked[1][:2] == (1, "★ 小河街道")


def test_a_week_that_is_not_one_is_named() -> None:
    with pytest.raises(FieldError, match="--week"):
        week_bounds("2026-W54", "Asia/Shanghai")
    with pytest.raises(FieldError, match="--week"):
        week_bounds("2026W01", "Asia/Shanghai")
    start, end = week_bounds("2026-W01", "Asia/Shanghai")  # ISO: the week with 1 Jan's Thursday
    assert (start.isoformat(), end.isoformat()) == (
        "2025-12-29T00:00:00+08:00",
        "2026-01-05T00:00:00+08:00",
    )
