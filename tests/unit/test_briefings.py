"""线上宣讲 and 促动师 (issue 21 items 5, 7; seed 000:376 counts "开展疫情政策线上宣讲 13 场"
and "成功培育小区专员等红茶议事会促动师 45 人"; the workflow is ours).

The district is tests/fixtures/world_small.yaml (长征桥社区 G0001–G0002, 小河社区 G0003)
with three more enterprise subjects: two in 小河 (one tagged ``key``, sector
``logistics``) and one in 长征桥."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from weakref import WeakKeyDictionary

import pytest
from fastapi.testclient import TestClient

from cityeye.accounts import create_user
from cityeye.api.app import create_app
from cityeye.domain.assets import Subject
from cityeye.live.pipeline import LivePipeline
from cityeye.participation.briefings import invitees
from cityeye.store import Store
from cityeye.world import load_world
from kit import photo

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
PASSWORD = "correct horse battery"
API = "/api/v1/briefings"
FAC = "/api/v1/participation/facilitators"
XIAOHE, CHANGZHENG = "330105001002", "330105001001"
USERS: dict[str, dict[str, Any]] = {
    "xh_disp": {"role": "dispatcher", "areas": (XIAOHE,)},
    "cz_disp": {"role": "dispatcher", "areas": (CHANGZHENG,)},
    "boss": {"role": "leader", "areas": ("330105",)},
    "zhang": {"role": "handler", "party_id": "P-GW1"},  # a grid worker of 长征桥
    "pm": {"role": "handler", "party_id": "P-PM1"},  # serves both communities
    "r1": {"role": "resident", "areas": ("G0003",)},  # lives in 小河
    "r_cz": {"role": "resident", "areas": ("G0001",)},  # lives in 长征桥
}
MORE = (
    Subject("E2", "G0003", ("enterprise", "key"), "小河物流有限公司", {"sector": "logistics"}),
    Subject("E3", "G0003", ("enterprise",), "小河餐饮店", {"sector": "catering"}),
    Subject("E9", "G0001", ("enterprise", "key"), "长征桥制造厂", {"sector": "logistics"}),
)
Env = tuple[TestClient, Store]


@pytest.fixture
def env(tmp_path: Path) -> Iterator[Env]:
    store = Store.open(f"sqlite:///{tmp_path / 'briefings.db'}")
    world = load_world(FIXTURES / "world_small.yaml")
    world = replace(world, subjects=world.subjects | {s.id: s for s in MORE})
    store.save_world(world)
    for name, spec in USERS.items():
        create_user(store, world, username=name, password=PASSWORD, **spec)
    pipeline = LivePipeline(store, lateness_s=0)
    with TestClient(create_app(store, pipeline, wall_clock=False)) as client:
        yield client, store
    store.close()


_TOKENS: WeakKeyDictionary[TestClient, dict[str, dict[str, str]]] = WeakKeyDictionary()


def auth(client: TestClient, username: str) -> dict[str, str]:
    tokens = _TOKENS.setdefault(client, {})
    if username not in tokens:
        r = client.post("/api/v1/auth/login", json={"username": username, "password": PASSWORD})
        assert r.status_code == 200, r.text
        client.cookies.clear()
        tokens[username] = {"Authorization": f"Bearer {r.json()['token']}"}
    return tokens[username]


def call(client: TestClient, method: str, who: str | None, path: str, body: Any = None) -> Any:
    headers = auth(client, who) if who else {}
    return client.request(method, path, json=body, headers=headers)


def now(client: TestClient) -> datetime:
    return datetime.fromisoformat(client.get("/api/v1/clock").json()["now"])


def briefing(client: TestClient, **extra: Any) -> dict[str, Any]:
    body = {
        "title": "稳岗返还政策线上宣讲",
        "topic": "疫情期间稳岗返还与社保减免",
        "mode": "online",
        "at": (now(client) - timedelta(minutes=30)).isoformat(),
        "link": "https://meeting.example.cn/j/123",
        "area": XIAOHE,
    } | extra
    r = call(client, "POST", "xh_disp", API, body)
    assert r.status_code == 201, r.text
    made: dict[str, Any] = r.json()
    return made


def test_the_invitation_list_is_the_areas_enterprises_by_tag_and_sector(env: Env) -> None:
    client, store = env
    world = store.load_world()
    assert world is not None
    assert [e.id for e in invitees(world, XIAOHE)] == ["E1", "E2", "E3"]
    assert [e.id for e in invitees(world, XIAOHE, tags=["key"])] == ["E2"]
    assert [e.id for e in invitees(world, XIAOHE, sectors=["catering"])] == ["E3"]
    made = briefing(client, tags=["key"], subjects=["E3"])
    assert [i["subject"] for i in made["invitations"]] == ["E2", "E3"]
    assert made["invited"] == 2
    assert made["signed_up"] == 0
    # 长征桥's enterprise is not 小河's to invite; an unknown one is named as such
    r = call(client, "POST", "xh_disp", API, made | {"subjects": ["E9"]})
    assert r.status_code == 422
    bad = {k: made[k] for k in ("title", "topic", "mode", "at", "link")} | {"area": XIAOHE}
    r = call(client, "POST", "xh_disp", API, bad | {"subjects": ["E9"]})
    assert r.status_code == 422
    assert "subjects[0]" in r.text
    r = call(client, "POST", "xh_disp", API, bad | {"tags": ["nonesuch"]})
    assert r.status_code == 422
    assert "tags" in r.text


def test_each_mode_needs_its_place_or_link_and_materials_are_uploads(env: Env) -> None:
    client, _ = env
    base = {"title": "宣讲", "topic": "政策", "at": now(client).isoformat(), "area": XIAOHE}
    r = call(client, "POST", "xh_disp", API, base | {"mode": "online"})
    assert r.status_code == 422
    assert "link" in r.text
    r = call(client, "POST", "xh_disp", API, base | {"mode": "offline"})
    assert r.status_code == 422
    assert "place" in r.text
    r = call(client, "POST", "xh_disp", API, base | {"mode": "online", "link": "ftp://x"})
    assert r.status_code == 422
    assert "link" in r.text
    r = call(
        client,
        "POST",
        "xh_disp",
        API,
        base | {"mode": "offline", "place": "x", "materials": ["no"]},
    )
    assert r.status_code == 422
    assert "photos[0]" in r.text
    ref = client.post(
        "/api/v1/attachments",
        content=photo(),
        headers=auth(client, "xh_disp") | {"content-type": "image/png"},
    ).json()["ref"]
    made = briefing(client, mode="offline", place="运河财富小镇会客厅", link="", materials=[ref])
    assert made["materials"] == [ref]


def test_sign_up_attendance_and_the_period_counts(env: Env) -> None:
    client, _ = env
    made = briefing(client)
    url = f"{API}/{made['id']}/invitations"
    r = call(client, "PUT", "xh_disp", f"{url}/E1", {"signed_up": True})
    assert r.status_code == 200, r.text
    r = call(client, "PUT", "xh_disp", f"{url}/E2", {"attended": True})  # came: signed up
    got = r.json()
    assert (got["signed_up"], got["attended"]) == (2, 1)
    assert call(client, "PUT", "xh_disp", f"{url}/E9", {"attended": True}).status_code == 404
    assert call(client, "PUT", "xh_disp", f"{url}/E1", {}).status_code == 422
    # a briefing yet to come takes sign-ups but no attendance
    later = briefing(client, at=(now(client) + timedelta(days=2)).isoformat())
    r = call(client, "PUT", "xh_disp", f"{API}/{later['id']}/invitations/E2", {"attended": True})
    assert r.status_code == 409
    call(client, "PUT", "xh_disp", f"{API}/{later['id']}/invitations/E2", {"signed_up": True})
    day = now(client).date()
    stats = call(client, "GET", "boss", f"{API}/stats?first={day}&last={day}&area={XIAOHE}").json()
    assert stats["sessions"] == 1  # the one held today; the later one is not yet
    assert (stats["enterprises_invited"], stats["enterprises_reached"]) == (3, 1)
    everything = call(client, "GET", "xh_disp", f"{API}/stats").json()
    assert everything["sessions"] == 2
    assert everything["enterprises_reached"] == 1  # E2, counted once


def test_a_question_is_answered_or_becomes_a_case_in_the_closed_loop(env: Env) -> None:
    client, store = env
    made = briefing(client)
    qs = f"{API}/{made['id']}/questions"
    r = call(client, "POST", "xh_disp", qs, {"text": "稳岗返还什么时候到账？", "subject": "E1"})
    assert r.status_code == 201, r.text
    assert r.json()["n"] == 1
    r = call(client, "POST", "xh_disp", qs, {"text": "x", "subject": "E9"})
    assert r.status_code == 422
    assert "subject" in r.text
    q2 = call(client, "POST", "xh_disp", qs, {"text": "门口道路破损影响货车进出", "subject": "E2"})
    assert q2.json()["n"] == 2
    r = call(client, "POST", "xh_disp", f"{qs}/1/answer", {"text": "月底前到账"})
    assert r.json()["answer"] == "月底前到账"
    r = call(client, "POST", "xh_disp", f"{qs}/2/case", {"category": "road"})
    assert r.status_code == 201, r.text
    assert r.json()["case"]["state"] == "reported"
    cases = [c for c in store.load_cases() if c.key == f"briefing/{made['id']}-2"]
    assert len(cases) == 1
    assert cases[0].area == "G0003"
    assert "门口道路破损" in cases[0].title
    assert call(client, "POST", "xh_disp", f"{qs}/2/case", {}).status_code == 409
    assert call(client, "POST", "xh_disp", f"{qs}/9/answer", {"text": "x"}).status_code == 404
    bad = call(client, "POST", "xh_disp", f"{qs}/1/case", {"category": "nonesuch"})
    assert bad.status_code == 422
    assert "category" in bad.text
    record = call(client, "GET", "xh_disp", f"{API}/{made['id']}").json()
    assert [q["case"] is not None for q in record["questions"]] == [False, True]
    stats = call(client, "GET", "xh_disp", f"{API}/stats").json()
    assert (stats["questions"], stats["questions_answered"], stats["questions_to_cases"]) == (
        2,
        1,
        1,
    )


def test_each_boundary_of_a_briefing(env: Env) -> None:
    client, _ = env
    made = briefing(client)
    one = f"{API}/{made['id']}"
    assert client.get(one).status_code == 401
    assert client.get(API).status_code == 401
    assert call(client, "GET", "cz_disp", one).status_code == 404  # another community's post
    r = call(client, "POST", "cz_disp", f"{one}/questions", {"text": "x"})
    assert r.status_code == 404
    assert call(client, "GET", "cz_disp", API).json()["total"] == 0
    assert call(client, "GET", "cz_disp", f"{API}?area={XIAOHE}").status_code == 404
    assert call(client, "GET", "zhang", one).status_code == 403  # a handler
    assert call(client, "GET", "r1", API).status_code == 403  # a resident
    assert call(client, "GET", "boss", one).status_code == 200  # a leader reads …
    r = call(client, "POST", "boss", f"{one}/questions", {"text": "x"})
    assert r.status_code == 403  # … and changes nothing
    r = call(client, "POST", "cz_disp", API, {**made, "area": XIAOHE})
    assert r.status_code in (403, 422)
    body = {k: made[k] for k in ("title", "topic", "mode", "at", "link")} | {"area": XIAOHE}
    assert call(client, "POST", "cz_disp", API, body).status_code == 403


# ---------------------------------------------------------------------- facilitators
PART = "/api/v1/participation"


def topic(client: TestClient, who: str, area: str = XIAOHE) -> Any:
    return call(
        client,
        "POST",
        who,
        f"{PART}/topics",
        {"title": "楼道堆物", "description": "", "area": area},
    )


def test_a_facilitator_opens_and_moderates_topics_in_their_community_only(env: Env) -> None:
    client, _ = env
    assert topic(client, "r1").status_code == 403  # not yet trained
    r = call(
        client, "POST", "xh_disp", FAC, {"user": "r1", "community": XIAOHE, "note": "2020 培训"}
    )
    assert r.status_code == 201, r.text
    assert r.json()["community"]["name"] == "小河社区"
    mine = call(client, "GET", "r1", f"{FAC}/mine").json()
    assert (mine["active"], mine["community"]["code"]) == (True, XIAOHE)
    assert call(client, "GET", "r_cz", f"{FAC}/mine").json()["active"] is False
    made = topic(client, "r1")
    assert made.status_code == 201, made.text
    tid = made.json()["id"]
    assert topic(client, "r1", CHANGZHENG).status_code == 403  # not their community
    assert topic(client, "r1", "G0001").status_code == 403
    assert topic(client, "r1", "G0003").status_code == 201  # a grid of theirs
    r = call(client, "POST", "r1", f"{PART}/topics/{tid}/advance", {"note": "征求意见"})
    assert r.status_code == 200
    assert r.json()["step"]["code"] == "opinions"
    m = call(
        client,
        "POST",
        "r1",
        f"{PART}/topics/{tid}/meetings",
        {"mode": "offline", "at": now(client).isoformat(), "place": "小河社区议事厅"},
    )
    assert m.status_code == 201, m.text
    r = call(client, "PUT", "r1", f"{PART}/meetings/{m.json()['id']}/minutes", {"text": "议定"})
    assert r.status_code == 200
    # answering suggestions, ballots and resolutions stay with staff
    r = call(client, "POST", "r1", f"{PART}/topics/{tid}/resolution", {"text": "x"})
    assert r.status_code == 403
    # a topic of 长征桥 is not theirs to move
    other = topic(client, "cz_disp", CHANGZHENG).json()["id"]
    r = call(client, "POST", "r1", f"{PART}/topics/{other}/advance", {"note": ""})
    assert r.status_code == 403
    # stepping down ends it
    assert call(client, "DELETE", "xh_disp", f"{FAC}/r1").status_code == 200
    assert topic(client, "r1").status_code == 403
    assert call(client, "GET", "r1", f"{FAC}/mine").json()["active"] is False
    assert call(client, "DELETE", "xh_disp", f"{FAC}/r1").status_code == 409


def test_who_may_be_trained_and_by_whom(env: Env) -> None:
    client, _ = env
    # a resident of 长征桥 is not 小河's facilitator; a leader is staff already
    r = call(client, "POST", "xh_disp", FAC, {"user": "r_cz", "community": XIAOHE})
    assert r.status_code == 422
    assert "user" in r.text
    r = call(client, "POST", "xh_disp", FAC, {"user": "boss", "community": XIAOHE})
    assert r.status_code == 422
    r = call(client, "POST", "xh_disp", FAC, {"user": "r1", "community": "G0003"})
    assert r.status_code == 422
    assert "community" in r.text
    # 小河's post cannot train for 长征桥; a leader trains nobody; signed out: 401
    r = call(client, "POST", "xh_disp", FAC, {"user": "r_cz", "community": CHANGZHENG})
    assert r.status_code == 403
    r = call(client, "POST", "boss", FAC, {"user": "r1", "community": XIAOHE})
    assert r.status_code == 403
    assert client.post(FAC, json={"user": "r1", "community": XIAOHE}).status_code == 401
    # a 小区专员 whose party serves the community
    r = call(client, "POST", "xh_disp", FAC, {"user": "pm", "community": XIAOHE})
    assert r.status_code == 201, r.text
    r = call(client, "POST", "xh_disp", FAC, {"user": "zhang", "community": XIAOHE})
    assert r.status_code == 422  # 张网格员 serves 长征桥
    # the list: 404 for another's area, 403 for a handler, 401 signed out
    assert call(client, "GET", "cz_disp", f"{FAC}?area={XIAOHE}").status_code == 404
    assert call(client, "GET", "pm", FAC).status_code == 403
    assert client.get(FAC).status_code == 401
    assert call(client, "DELETE", "cz_disp", f"{FAC}/pm").status_code == 404


def test_facilitators_and_the_meetings_they_ran_are_counted(env: Env) -> None:
    client, _ = env
    call(client, "POST", "xh_disp", FAC, {"user": "r1", "community": XIAOHE})
    call(client, "POST", "cz_disp", FAC, {"user": "r_cz", "community": CHANGZHENG})
    tid = topic(client, "r1").json()["id"]
    at = now(client).isoformat()
    meeting = {"mode": "online", "at": at}
    assert call(client, "POST", "r1", f"{PART}/topics/{tid}/meetings", meeting).status_code == 201
    # staff call one and name the facilitator who runs it; one they run themselves
    r = call(
        client, "POST", "xh_disp", f"{PART}/topics/{tid}/meetings", meeting | {"moderator": "r1"}
    )
    assert r.status_code == 201, r.text
    assert (
        call(client, "POST", "xh_disp", f"{PART}/topics/{tid}/meetings", meeting).status_code == 201
    )
    r = call(
        client, "POST", "xh_disp", f"{PART}/topics/{tid}/meetings", meeting | {"moderator": "r_cz"}
    )
    assert r.status_code == 422
    assert "moderator" in r.text
    day = now(client).date()
    listed = call(client, "GET", "boss", f"{FAC}?first={day}&last={day}").json()
    rows = {c["area"]["code"]: c for c in listed["communities"]}
    assert (rows[XIAOHE]["facilitators"], rows[XIAOHE]["meetings"]) == (1, 2)
    assert (rows[CHANGZHENG]["facilitators"], rows[CHANGZHENG]["meetings"]) == (1, 0)
    assert (listed["facilitators"], listed["meetings"]) == (2, 2)
    assert (listed["first"], listed["last"]) == (day.isoformat(), day.isoformat())
    mine = call(client, "GET", "xh_disp", FAC).json()
    assert [(f["user"], f["meetings"]) for f in mine["items"]] == [("r1", 2)]
    earlier = day - timedelta(days=3)
    before = call(client, "GET", "boss", f"{FAC}?first={earlier}&last={earlier}").json()
    assert before["meetings"] == 0
