"""社情民意 and 红茶议事会 (issue 7): suggestions → groups → cases or topics; the six-step
deliberation with its permissions and deadlines; votes by verified residents only,
once each, anonymous, with quorum and majority; resolutions whose actions become
closed-loop cases sent to their parties.

The district is tests/fixtures/world_small.yaml: 长征桥社区 (grids G0001, G0002) and 小河社区
(G0003). The topics are 小河's; its three verified residents live in G0003."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import datetime, timedelta
from fractions import Fraction
from pathlib import Path
from typing import Any
from weakref import WeakKeyDictionary

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import inspect

from cityeye.accounts import create_user
from cityeye.api.app import create_app
from cityeye.domain.participation import Rules
from cityeye.live.pipeline import LivePipeline
from cityeye.participation.votes import tally
from cityeye.store import Store
from cityeye.store import participation as db
from cityeye.store.users import list_users
from cityeye.world import load_world

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
PASSWORD = "correct horse battery"
API = "/api/v1/participation"
XIAOHE, CHANGZHENG = "330105001002", "330105001001"
USERS: dict[str, dict[str, Any]] = {
    "xh_disp": {"role": "dispatcher", "areas": (XIAOHE,)},
    "cz_disp": {"role": "dispatcher", "areas": (CHANGZHENG,)},
    "boss": {"role": "leader", "areas": ("330105",)},
    "root": {"role": "admin"},
    "zhang": {"role": "handler", "party_id": "P-GW1"},  # a grid worker of 长征桥
    "pm": {"role": "handler", "party_id": "P-PM1"},  # the property company
    "r1": {"role": "resident", "areas": ("G0003",)},
    "r2": {"role": "resident", "areas": ("G0003",)},
    "r3": {"role": "resident", "areas": (XIAOHE,)},  # registered at the community
    "r_cz": {"role": "resident", "areas": ("G0001",)},  # lives in 长征桥
    "r_new": {"role": "resident"},  # not verified: no home area yet
}
Env = tuple[TestClient, Store]


def make_app(store: Store) -> TestClient:
    pipeline = LivePipeline(store, lateness_s=0)
    return TestClient(create_app(store, pipeline, wall_clock=False))


@pytest.fixture
def env(tmp_path: Path) -> Iterator[Env]:
    store = Store.open(f"sqlite:///{tmp_path / 'participation.db'}")
    world = load_world(FIXTURES / "world_small.yaml")
    store.save_world(world)
    for name, spec in USERS.items():
        create_user(store, world, username=name, password=PASSWORD, **spec)
    with make_app(store) as client:
        yield client, store
    store.close()


#: Bearer headers per client (each test's app has its own database) and username.
_TOKENS: WeakKeyDictionary[TestClient, dict[str, dict[str, str]]] = WeakKeyDictionary()


def auth(client: TestClient, username: str) -> dict[str, str]:
    tokens = _TOKENS.setdefault(client, {})
    if username not in tokens:
        r = client.post("/api/v1/auth/login", json={"username": username, "password": PASSWORD})
        assert r.status_code == 200, r.text
        client.cookies.clear()
        tokens[username] = {"Authorization": f"Bearer {r.json()['token']}"}
    return tokens[username]


def post(client: TestClient, who: str | None, path: str, body: Any = None) -> Any:
    headers = auth(client, who) if who else {}
    return client.post(f"{API}{path}", json=body if body is not None else {}, headers=headers)


def new_topic(client: TestClient, **extra: Any) -> dict[str, Any]:
    body = {
        "title": "小河苑加装电梯",
        "description": "3 幢加装电梯",
        "area": XIAOHE,
        "kind": "estate",
    }
    r = post(client, "xh_disp", "/topics", body | extra)
    assert r.status_code == 201, r.text
    topic: dict[str, Any] = r.json()
    return topic


def to_step(client: TestClient, topic_id: str, step: str) -> dict[str, Any]:
    """Advance as 小河's dispatcher until ``step``, drafting a ballot on the way."""
    record: dict[str, Any] = client.get(f"{API}/topics/{topic_id}").json()
    while record["step"]["code"] != step:
        if record["step"]["code"] == "draft" and record["ballot"] is None:
            r = client.put(
                f"{API}/topics/{topic_id}/ballot",
                json={"options": ["同意", "不同意"]},
                headers=auth(client, "xh_disp"),
            )
            assert r.status_code == 200, r.text
        r = post(client, "xh_disp", f"/topics/{topic_id}/advance", {"note": "下一步"})
        assert r.status_code == 200, r.text
        record = r.json()
    return record


def vote_and_close(client: TestClient, topic_id: str, votes: dict[str, str]) -> dict[str, Any]:
    to_step(client, topic_id, "vote")
    for who, choice in votes.items():
        r = post(client, who, f"/topics/{topic_id}/votes", {"choice": choice})
        assert r.status_code == 201, r.text
    closed = post(client, "xh_disp", f"/topics/{topic_id}/ballot/close")
    assert closed.status_code == 200, closed.text
    answer: dict[str, Any] = closed.json()
    return answer


def at(text: str) -> datetime:
    return datetime.fromisoformat(text)


# ---------------------------------------------------------------------- the workflow
def test_six_steps_in_order_each_with_its_deadline_and_record(env: Env) -> None:
    client, _ = env
    topic = new_topic(client)
    assert topic["step"] == {
        "code": "propose",
        "zh": "提出议题",
        "en": "Raise the topic",
        "order": 0,
    }
    assert topic["rules"] == {"quorum": "2/3", "majority": "1/2"}  # estate: Civil Code art. 278
    created = at(topic["steps"][0]["at"])
    assert at(topic["step_due_at"]) == created + timedelta(days=7)
    expected_days = {"opinions": 7, "consult": 14, "draft": 7, "vote": 7}
    for step, days in expected_days.items():
        record = to_step(client, topic["id"], step)
        last = record["steps"][-1]
        assert (last["code"], last["actor"], last["note"]) == (step, "xh_disp", "下一步")
        assert at(record["step_due_at"]) == at(last["at"]) + timedelta(days=days), step
    record = client.get(f"{API}/topics/{topic['id']}").json()
    assert [s["zh"] for s in record["steps"]] == [
        "提出议题",
        "广开言路",
        "民主协商",
        "拟订方案",
        "居民表决",
    ]
    # 居民表决 → 形成决议 only once the ballot is closed and passed
    early = post(client, "xh_disp", f"/topics/{topic['id']}/advance")
    assert early.status_code == 409
    assert early.json()["detail"].startswith("ballot:")


def test_only_dispatchers_of_the_area_and_admins_move_a_topic(env: Env) -> None:
    client, _ = env
    body = {"title": "停车难", "area": XIAOHE}
    for who in ("cz_disp", "boss", "r1", "pm"):
        r = post(client, who, "/topics", body)
        assert r.status_code == 403, (who, r.text)
    assert post(client, None, "/topics", body).status_code == 401
    topic = new_topic(client)
    url = f"/topics/{topic['id']}/advance"
    refusals = {"cz_disp": "area:", "boss": "role:", "r1": "role:", "zhang": "role:"}
    for who, field in refusals.items():
        r = post(client, who, url)
        assert r.status_code == 403, (who, r.text)
        assert r.json()["detail"].startswith(field), (who, r.json())
    assert client.get(f"{API}/topics/{topic['id']}").json()["step"]["code"] == "propose"
    assert post(client, "root", url).json()["step"]["code"] == "opinions"  # an admin may
    assert post(client, "xh_disp", url).json()["step"]["code"] == "consult"


def test_the_vote_needs_a_drafted_ballot(env: Env) -> None:
    client, _ = env
    topic = new_topic(client)
    early = client.put(
        f"{API}/topics/{topic['id']}/ballot",
        json={"options": ["同意", "不同意"]},
        headers=auth(client, "xh_disp"),
    )
    assert early.status_code == 409  # drafted at 拟订方案, not before
    to_step(client, topic["id"], "consult")
    post(client, "xh_disp", f"/topics/{topic['id']}/advance")
    r = post(client, "xh_disp", f"/topics/{topic['id']}/advance")
    assert r.status_code == 409
    assert r.json()["detail"].startswith("ballot:")
    bad = client.put(
        f"{API}/topics/{topic['id']}/ballot",
        json={"options": ["同意", "同意"]},
        headers=auth(client, "xh_disp"),
    )
    assert bad.status_code == 422
    assert bad.json()["detail"].startswith("options")
    bad = client.put(
        f"{API}/topics/{topic['id']}/ballot",
        json={"options": ["同意", "不同意"], "quorum": "3/2"},
        headers=auth(client, "xh_disp"),
    )
    assert bad.status_code == 422
    assert bad.json()["detail"].startswith("quorum")


# ---------------------------------------------------------------------- votes
def test_only_verified_residents_of_the_area_vote_once(env: Env) -> None:
    client, store = env
    topic = new_topic(client)
    to_step(client, topic["id"], "draft")
    r = post(client, "r1", f"/topics/{topic['id']}/votes", {"choice": "同意"})
    assert r.status_code == 409  # not yet at 居民表决
    to_step(client, topic["id"], "vote")
    url = f"/topics/{topic['id']}/votes"
    refusals = {
        "r_new": "areas:",  # a resident whose home is not verified
        "r_cz": "areas:",  # a resident of the other community
        "xh_disp": "role:",  # not a resident
        "pm": "role:",
    }
    for who, field in refusals.items():
        r = post(client, who, url, {"choice": "同意"})
        assert r.status_code == 403, (who, r.text)
        assert r.json()["detail"].startswith(field), (who, r.json())
    assert post(client, None, url, {"choice": "同意"}).status_code == 401
    assert post(client, "r1", url, {"choice": "也许"}).status_code == 422
    assert post(client, "r1", url, {"choice": "同意"}).status_code == 201
    again = post(client, "r1", url, {"choice": "不同意"})
    assert again.status_code == 409
    assert again.json()["detail"].startswith("vote:")
    assert post(client, "r3", url, {"choice": "不同意"}).status_code == 201  # at the community
    assert db.vote_counts(store, topic["id"]) == {"同意": 1, "不同意": 1}
    # nothing of the result is published before the close
    record = client.get(f"{API}/topics/{topic['id']}").json()
    assert record["tally"] is None
    assert record["ballot"]["closed"] is False


def test_two_votes_at_once_count_once(env: Env) -> None:
    client, store = env
    topic = new_topic(client)
    to_step(client, topic["id"], "vote")
    user = next(u for u in list_users(store) if u.username == "r1")
    start = threading.Barrier(2)
    results: list[bool] = []

    def one(choice: str) -> None:
        start.wait()
        results.append(db.cast_vote(store, topic["id"], user.id, choice))

    threads = [threading.Thread(target=one, args=(c,)) for c in ("同意", "不同意")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(results) == [False, True]
    assert sum(db.vote_counts(store, topic["id"]).values()) == 1  # the roll's key held
    assert db.has_voted(store, topic["id"], user.id)
    # and through the API: r2 sends two votes at the same moment
    url, headers = f"{API}/topics/{topic['id']}/votes", auth(client, "r2")
    start = threading.Barrier(2)
    codes: list[int] = []

    def send(choice: str) -> None:
        start.wait()
        codes.append(client.post(url, json={"choice": choice}, headers=headers).status_code)

    threads = [threading.Thread(target=send, args=(c,)) for c in ("同意", "不同意")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(codes) == [201, 409]
    assert sum(db.vote_counts(store, topic["id"]).values()) == 2


def test_the_tally_cannot_say_who_chose_what(env: Env) -> None:
    _, store = env
    columns = inspect(store.engine)
    choices = {c["name"] for c in columns.get_columns("vote_choices")}
    roll = {c["name"] for c in columns.get_columns("vote_roll")}
    assert choices == {"topic_id", "option", "votes"}  # no voter, no time, no order
    assert roll == {"topic_id", "user_id"}  # no choice


def test_below_the_quorum_a_vote_fails_even_if_all_say_yes(env: Env) -> None:
    client, _ = env
    topic = new_topic(client)
    closed = vote_and_close(client, topic["id"], {"r1": "同意"})
    tallied = closed["tally"]
    assert (tallied["eligible"], tallied["voters"]) == (3, 1)  # r1, r2, r3; not r_new, r_cz
    assert tallied["counts"] == {"同意": 1, "不同意": 0}
    assert (tallied["quorum_met"], tallied["passed"]) == (False, False)
    r = post(client, "xh_disp", f"/topics/{topic['id']}/advance")
    assert r.status_code == 409
    assert "quorum" in r.json()["detail"]
    late = post(client, "r2", f"/topics/{topic['id']}/votes", {"choice": "同意"})
    assert late.status_code == 409  # closed


def test_the_majority_is_of_those_voting_and_configurable(env: Env) -> None:
    client, _ = env
    passes = new_topic(client)
    tallied = vote_and_close(client, passes["id"], {"r1": "同意", "r2": "同意", "r3": "不同意"})
    assert tallied["tally"]["passed"] is True
    assert tallied["tally"]["winner"] == "同意"
    strict = new_topic(client, majority="3/4")  # two thirds yes is not more than 3/4
    assert strict["rules"]["majority"] == "3/4"
    tallied = vote_and_close(client, strict["id"], {"r1": "同意", "r2": "同意", "r3": "不同意"})
    assert (tallied["tally"]["quorum_met"], tallied["tally"]["passed"]) == (True, False)
    # the defaults at their edges: exactly 2/3 is a quorum; exactly 1/2 is no majority
    estate = Rules()
    assert (estate.quorum, estate.majority) == (Fraction(2, 3), Fraction(1, 2))
    assert tally({"同意": 2, "不同意": 0}, 3, estate).passed is True
    assert tally({"同意": 1, "不同意": 1}, 3, estate).passed is False  # no winner
    assert tally({"同意": 2, "不同意": 1}, 6, estate).quorum_met is False  # 1/2 < 2/3
    assert tally({"同意": 2, "不同意": 2}, 6, estate).quorum_met is True  # exactly 2/3
    assert tally({"同意": 3, "不同意": 3}, 9, estate).passed is False  # 1/2, not more
    assert tally({}, 0, estate).quorum_met is False


# ---------------------------------------------------------------------- suggestions
def suggest(client: TestClient, who: str | None, text: str, area: str, **extra: Any) -> Any:
    r = post(client, who, "/suggestions", {"text": text, "area": area, **extra})
    assert r.status_code == 201, r.text
    return r.json()


def test_suggestions_are_grouped_and_listed_only_within_the_scope(env: Env) -> None:
    client, store = env
    first = suggest(client, None, "小区地下车库停车位太少，晚上回来没有地方停车", "G0003")
    again = suggest(client, "r1", "晚上回来车库没有停车位，停车太难了", "G0003")
    other = suggest(client, None, "长征桥路口的垃圾桶满了没人清理", "G0001")
    assert first["category"]["code"] == "parking"  # classified
    assert first["group"] == again["group"]  # the same complaint, reworded
    assert other["group"] != first["group"]
    stored = db.get_suggestion(store, again["id"])
    assert stored is not None
    assert stored.author is not None  # the signed-in resident is linked
    assert db.get_suggestion(store, first["id"]).author is None  # type: ignore[union-attr]
    # a 小河 dispatcher sees 小河's only, in the list and in the groups
    xh = client.get(f"{API}/suggestions", headers=auth(client, "xh_disp")).json()
    assert {s["id"] for s in xh["items"]} == {first["id"], again["id"]}
    assert xh["total"] == 2
    groups = client.get(f"{API}/groups", headers=auth(client, "xh_disp")).json()
    assert [(g["id"], g["count"]) for g in groups] == [(first["group"], 2)]
    assert groups[0]["category"]["code"] == "parking"
    assert groups[0]["terms"]
    cz = client.get(f"{API}/suggestions", headers=auth(client, "cz_disp")).json()
    assert [s["id"] for s in cz["items"]] == [other["id"]]
    for path in ("/suggestions", "/groups", "/stats"):
        r = client.get(f"{API}{path}", params={"area": XIAOHE}, headers=auth(client, "cz_disp"))
        assert r.status_code == 404, (path, r.text)
    by_group = client.get(
        f"{API}/suggestions", params={"group": first["group"]}, headers=auth(client, "boss")
    ).json()
    assert by_group["total"] == 2
    assert client.get(f"{API}/suggestions", headers=auth(client, "boss")).json()["total"] == 3
    assert client.get(f"{API}/suggestions", headers=auth(client, "r1")).status_code == 403
    assert client.get(f"{API}/suggestions").status_code == 401
    # one of another community's, by id: not found, as for cases
    r = post(client, "cz_disp", f"/suggestions/{first['id']}/answer", {"text": "已收到"})
    assert r.status_code == 404


def test_volunteers_and_workers_sign_in_to_send_suggestions(env: Env) -> None:
    client, store = env
    r = post(
        client, None, "/suggestions", {"text": "路灯不亮", "area": "G0001", "channel": "worker"}
    )
    assert r.status_code == 403
    assert r.json()["detail"].startswith("channel")
    sent = suggest(client, "zhang", "长征桥 2 幢楼道路灯坏了", "G0001", channel="worker")
    assert sent["channel"] == "worker"
    assert db.get_suggestion(store, sent["id"]).author is not None  # type: ignore[union-attr]
    for body, field in (
        ({"text": "x", "area": "NOWHERE"}, "area"),
        ({"text": "x", "area": "G0001", "category": "unicorns"}, "category"),
        ({"text": "   ", "area": "G0001"}, "text"),
        ({"text": "a\x00b", "area": "G0001"}, "text"),
        ({"text": "x", "area": "G0001", "photos": ["../../etc/passwd"]}, "photos"),
    ):
        r = post(client, None, "/suggestions", body)
        assert r.status_code == 422, (body, r.text)
        assert r.json()["detail"].startswith(field), (field, r.json())


def test_groups_continue_after_a_restart(env: Env, tmp_path: Path) -> None:
    client, store = env
    first = suggest(client, None, "小区地下车库停车位太少，晚上回来没有地方停车", "G0003")
    with make_app(store) as restarted:
        again = suggest(restarted, None, "晚上回来车库没有停车位，停车太难了", "G0003")
    assert again["group"] == first["group"]


def test_groups_resume_from_the_snapshot(env: Env, monkeypatch: pytest.MonkeyPatch) -> None:
    client, store = env
    monkeypatch.setattr("cityeye.participation.service.GROUPER_SNAPSHOT_EVERY", 1)
    first = suggest(client, None, "小区地下车库停车位太少，晚上回来没有地方停车", "G0003")
    saved = store.load_engine_state(db.GROUPER_STATE)
    assert saved is not None
    assert first["id"] in saved[0].decode()  # the snapshot holds the assignment
    with make_app(store) as restarted:
        again = suggest(restarted, None, "晚上回来车库没有停车位，停车太难了", "G0003")
        fresh = suggest(restarted, None, "楼道里的声控灯坏了", "G0003")
    assert again["group"] == first["group"]
    assert fresh["group"] not in (first["group"], None)


def test_a_suggestion_becomes_a_case_in_the_closed_loop(env: Env) -> None:
    client, store = env
    sent = suggest(
        client, None, "小区门口道路坑洼，下雨积水，希望尽快修补", "G0003", category="safety"
    )
    assert post(client, "boss", f"/suggestions/{sent['id']}/case").status_code == 403  # looks only
    r = post(client, "xh_disp", f"/suggestions/{sent['id']}/case")
    assert r.status_code == 201, r.text
    assert r.json()["case"]["state"] == "reported"
    cases = [c for c in store.load_cases() if c.key == f"participation/{sent['id']}"]
    assert len(cases) == 1
    assert "小区门口道路坑洼" in cases[0].title
    assert cases[0].area == "G0003"
    again = post(client, "xh_disp", f"/suggestions/{sent['id']}/case")
    assert again.status_code == 409
    listed = client.get(f"{API}/suggestions", headers=auth(client, "xh_disp")).json()["items"]
    assert listed[0]["case"]["id"] == cases[0].id
    answered = post(client, "xh_disp", f"/suggestions/{sent['id']}/answer", {"text": "已立案处理"})
    assert answered.json()["answer"] == "已立案处理"
    # and the staff see it among the cases like any resident's report
    desk = client.get("/api/v1/cases", headers=auth(client, "xh_disp")).json()["items"]
    assert cases[0].id in {c["id"] for c in desk}


def test_a_suggestion_goes_on_a_topic(env: Env) -> None:
    client, store = env
    sent = suggest(client, None, "希望给 3 幢加装电梯", "G0003")
    made = post(client, "xh_disp", f"/suggestions/{sent['id']}/topic", {"title": "3 幢加装电梯"})
    assert made.status_code == 200, made.text
    topic = made.json()
    assert topic["area"]["code"] == "330105001002"  # the community of G0003: its council
    other = suggest(client, None, "3 幢电梯什么时候装", "G0003")
    r = post(client, "xh_disp", f"/suggestions/{other['id']}/topic", {"topic_id": topic["id"]})
    assert r.status_code == 200
    assert client.get(f"{API}/topics/{topic['id']}").json()["suggestions"] == 2
    assert db.get_suggestion(store, other["id"]).topic_id == topic["id"]  # type: ignore[union-attr]
    both = post(client, "xh_disp", f"/suggestions/{other['id']}/topic", {})
    assert both.status_code == 422


# ---------------------------------------------------------------------- meetings
def test_a_meeting_signs_in_its_participants_and_keeps_the_record(env: Env) -> None:
    client, _ = env
    topic = new_topic(client)
    r = post(
        client,
        "xh_disp",
        f"/topics/{topic['id']}/meetings",
        {"mode": "online", "at": "2026-10-05T19:00:00+08:00", "agenda": ["电梯位置", "费用分摊"]},
    )
    assert r.status_code == 201, r.text
    meeting = r.json()["id"]
    seat = post(
        client, "xh_disp", f"/meetings/{meeting}/participants", {"role": "resident", "user": "r1"}
    )
    assert seat.status_code == 201, seat.text
    dup = post(
        client, "xh_disp", f"/meetings/{meeting}/participants", {"role": "resident", "user": "r1"}
    )
    assert dup.status_code == 409
    named = post(
        client,
        "xh_disp",
        f"/meetings/{meeting}/participants",
        {"role": "property", "name": "绿城物业 王经理"},
    )
    assert named.status_code == 201
    assert (
        post(
            client,
            "cz_disp",
            f"/meetings/{meeting}/participants",
            {"role": "resident", "name": "x"},
        ).status_code
        == 403
    )
    early = post(client, "r1", f"/meetings/{meeting}/turns", {"text": "我同意装在北侧"})
    assert early.status_code == 403
    assert early.json()["detail"].startswith("sign-in")
    assert post(client, "r2", f"/meetings/{meeting}/sign-in").status_code == 403  # not invited
    assert post(client, "r1", f"/meetings/{meeting}/sign-in").json()["signed_in"] is True
    assert (
        post(client, "r1", f"/meetings/{meeting}/turns", {"text": "我同意装在北侧"}).status_code
        == 201
    )
    minutes = client.put(
        f"{API}/meetings/{meeting}/minutes",
        json={"text": "与会居民同意北侧方案"},
        headers=auth(client, "xh_disp"),
    )
    assert minutes.status_code == 200
    assert (
        post(
            client, "xh_disp", f"/meetings/{meeting}/decisions", {"text": "按北侧方案拟订"}
        ).status_code
        == 201
    )
    record = client.get(f"{API}/topics/{topic['id']}").json()  # public
    shown = record["meetings"][0]
    assert shown["minutes"] == "与会居民同意北侧方案"
    assert shown["decisions"] == ["按北侧方案拟订"]
    assert shown["agenda"] == ["电梯位置", "费用分摊"]
    assert [(t["speaker"], t["role"], t["text"]) for t in shown["turns"]] == [
        (1, "resident", "我同意装在北侧")
    ]
    people = {p["n"]: p for p in shown["participants"]}
    assert people[1]["name"] is None  # a resident's name stays off the public record
    assert people[2]["name"] == "绿城物业 王经理"
    assert "r1" not in str(record)


# ---------------------------------------------------------------------- resolutions
def test_the_resolution_sends_each_action_to_its_party_as_a_case(env: Env) -> None:
    client, store = env
    topic = new_topic(client)
    vote_and_close(client, topic["id"], {"r1": "同意", "r2": "同意"})
    early = post(client, "xh_disp", f"/topics/{topic['id']}/resolution", {"text": "x"})
    assert early.status_code == 409  # at 形成决议 only
    record = post(client, "xh_disp", f"/topics/{topic['id']}/advance", {"note": "表决通过"})
    assert record.status_code == 200, record.text
    assert record.json()["tally"]["passed"] is True
    body = {
        "text": "3 幢北侧加装电梯，物业负责施工协调，城管负责占道审批",
        "actions": [
            {"title": "组织施工协调", "party": "P-PM1", "due_days": 30},
            {"title": "办理占道审批", "party": "P-CG", "due_days": 14},
        ],
    }
    bad = post(
        client,
        "xh_disp",
        f"/topics/{topic['id']}/resolution",
        body | {"actions": [{"title": "x", "party": "P-NONE"}]},
    )
    assert bad.status_code == 422
    assert bad.json()["detail"].startswith("actions[0].party")
    r = post(client, "xh_disp", f"/topics/{topic['id']}/resolution", body)
    assert r.status_code == 201, r.text
    assert post(client, "xh_disp", f"/topics/{topic['id']}/resolution", body).status_code == 409
    cases = {c.key: c for c in store.load_cases()}
    first, second = cases[f"council/{topic['id']}-1"], cases[f"council/{topic['id']}-2"]
    assert (first.lead, first.state.value, first.area) == ("P-PM1", "dispatched", XIAOHE)
    assert (second.lead, second.state.value) == ("P-CG", "dispatched")
    assert "组织施工协调" in first.title
    actions = client.get(f"{API}/topics/{topic['id']}").json()["resolution"]["actions"]
    assert [(a["party"]["id"], a["case"]["state"]) for a in actions] == [
        ("P-PM1", "dispatched"),
        ("P-CG", "dispatched"),
    ]
    stats = client.get(f"{API}/stats", headers=auth(client, "xh_disp")).json()
    assert (stats["topics_raised"], stats["topics_resolved"]) == (1, 1)
    assert (stats["actions"], stats["actions_completed"]) == (2, 0)
    # the property company works its case through the loop; the action counts as done
    for who, action in (
        ("pm", "accept"),
        ("pm", "handle"),
        ("xh_disp", "verify"),
        ("xh_disp", "close"),
    ):
        tag = client.get(f"/api/v1/cases/{first.id}", headers=auth(client, who)).headers["etag"]
        moved = client.post(
            f"/api/v1/cases/{first.id}/actions",
            json={"action": action, "note": "已完成"},
            headers=auth(client, who) | {"If-Match": tag},
        )
        assert moved.status_code == 200, (action, moved.text)
    stats = client.get(f"{API}/stats", headers=auth(client, "xh_disp")).json()
    assert stats["actions_completed"] == 1
    actions = client.get(f"{API}/topics/{topic['id']}").json()["resolution"]["actions"]
    assert actions[0]["case"]["state"] == "closed"


def test_the_public_topic_list_and_stats(env: Env) -> None:
    client, _ = env
    topic = new_topic(client)
    suggest(client, None, "小区地下车库停车位太少", "G0003")
    listed = client.get(f"{API}/topics", params={"area": XIAOHE}).json()  # no sign-in
    assert [t["id"] for t in listed["items"]] == [topic["id"]]
    assert client.get(f"{API}/topics", params={"area": CHANGZHENG}).json()["total"] == 0
    assert client.get(f"{API}/topics", params={"step": "vote"}).json()["total"] == 0
    assert client.get(f"{API}/topics", params={"area": "NOWHERE"}).status_code == 422
    stats = client.get(f"{API}/stats", params={"area": XIAOHE}, headers=auth(client, "boss"))
    assert stats.status_code == 200
    figures = stats.json()
    assert (figures["suggestions_month"], figures["groups"], figures["topics_raised"]) == (1, 1, 1)
    cz = client.get(f"{API}/stats", headers=auth(client, "cz_disp")).json()
    assert (cz["suggestions_month"], cz["topics_raised"]) == (0, 0)


def test_the_cockpit_reads_the_figures_of_an_area_and_a_period(env: Env) -> None:
    """Issue 18: the cockpit's participation row follows the chosen area and period:
    with ``first``/``last`` the suggestions, groups and topics are those of the days."""
    client, _ = env
    new_topic(client)
    suggest(client, None, "小区地下车库停车位太少", "G0003")
    today = client.get("/api/v1/clock").json()["day"]
    boss = auth(client, "boss")

    def stats(**params: str) -> dict[str, Any]:
        r = client.get(f"{API}/stats", params=params, headers=boss)
        assert r.status_code == 200, r.text
        found: dict[str, Any] = r.json()
        return found

    now = stats(area=XIAOHE, first=today, last=today)
    assert (now["suggestions_total"], now["groups"], now["topics_raised"]) == (1, 1, 1)
    assert (now["first"], now["last"]) == (today, today)
    before = stats(area=XIAOHE, first="2020-01-01", last="2020-01-31")
    assert (before["suggestions_total"], before["groups"], before["topics_raised"]) == (0, 0, 0)
    assert stats(area=CHANGZHENG, first=today, last=today)["suggestions_total"] == 0
    groups = client.get(f"{API}/groups", params={"area": XIAOHE, "first": today}, headers=boss)
    assert [g["count"] for g in groups.json()] == [1]
    old = {"area": XIAOHE, "first": "2020-01-01", "last": "2020-01-31"}
    assert client.get(f"{API}/groups", params=old, headers=boss).json() == []
    bad = client.get(
        f"{API}/stats", params={"first": "2020-01-31", "last": "2020-01-01"}, headers=boss
    )
    assert bad.status_code == 422
    assert "last" in bad.json()["detail"]
