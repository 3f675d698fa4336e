"""The council page's work on groups of suggestions (issue 18, item 6): one answer for a
whole group, reaching each member within the caller's areas only; the filters and the
search, the same on the list, the groups and the xlsx export; groups titled by their
most representative sentence; the staff pages a signed-in person may open.

The district is tests/fixtures/world_small.yaml (see test_participation.py): 长征桥社区
(grids G0001, G0002) and 小河社区 (G0003), a dispatcher for each."""

from __future__ import annotations

import io
from datetime import UTC, datetime
from typing import Any

from openpyxl import load_workbook
from test_participation import API, Env, auth, env, post, suggest

from cityeye.domain.participation import Channel, Suggestion
from cityeye.participation.text import TITLE_LENGTH, headline, representative
from cityeye.store import participation as db

__all__ = ["env"]  # the fixture, shared with test_participation

PARKING = (
    "小区地下车库停车位太少，晚上回来没有地方停车",
    "晚上回来车库没有停车位，停车太难了",
    "你好，地下车库停车位太少了，晚上没有地方停车，谢谢！",
)


def group_of(client: Any, who: str, group: str, **params: Any) -> list[dict[str, Any]]:
    body = client.get(
        f"{API}/suggestions", params={"group": group, **params}, headers=auth(client, who)
    ).json()
    items: list[dict[str, Any]] = body["items"]
    return items


def stored(store: Any, sid: str, text: str, area: str, at: datetime, group: str) -> None:
    """A suggestion put straight into the database: a chosen time and group (the
    grouper never groups two areas; data from before it, or a merge, might)."""
    db.add_suggestion(
        store,
        Suggestion(
            id=sid,
            channel=Channel.PORTAL,
            category="parking",
            text=text,
            area=area,
            created_at=at,
            group_id=group,
        ),
    )


# ---------------------------------------------------------------------- answer a group
def test_one_answer_reaches_every_member_and_keeps_individual_answers(env: Env) -> None:
    client, store = env
    sent = [suggest(client, None, text, "G0003") for text in PARKING]
    group = sent[0]["group"]
    assert {s["group"] for s in sent} == {group}
    own = post(client, "xh_disp", f"/suggestions/{sent[1]['id']}/answer", {"text": "已单独回复"})
    assert own.status_code == 200
    r = post(client, "xh_disp", f"/groups/{group}/answer", {"text": "已协调物业增设夜间车位"})
    assert r.status_code == 200, r.text
    assert r.json() == {"group": group, "answered": 2, "kept": 1}
    answers = {s["id"]: (s["answer"], s["answered_by"]) for s in group_of(client, "xh_disp", group)}
    assert answers == {
        sent[0]["id"]: ("已协调物业增设夜间车位", "xh_disp"),
        sent[1]["id"]: ("已单独回复", "xh_disp"),  # written for that person: kept
        sent[2]["id"]: ("已协调物业增设夜间车位", "xh_disp"),
    }
    # asked to, the group's answer replaces the individual one too
    again = post(
        client, "xh_disp", f"/groups/{group}/answer", {"text": "车位已增设", "overwrite": True}
    )
    assert again.json() == {"group": group, "answered": 3, "kept": 0}
    assert {s["answer"] for s in group_of(client, "xh_disp", group)} == {"车位已增设"}
    answered_at = {db.get_suggestion(store, s["id"]).answered_at for s in sent}  # type: ignore[union-attr]
    assert len(answered_at) == 1  # one transaction, one moment


def test_a_group_answer_stays_within_the_callers_areas(env: Env) -> None:
    client, store = env
    sent = [suggest(client, None, text, "G0003") for text in PARKING[:2]]
    group = sent[0]["group"]
    # the same group id with a member in 长征桥 (G0001)
    stored(store, "SG-CZ-1", "车库停车位太少", "G0001", datetime.now(UTC), group)
    for who, status in (("cz_disp", None), ("boss", 403), ("zhang", 403), ("r1", 403)):
        r = post(client, who, f"/groups/{sent[0]['group']}/answer", {"text": "越界答复"})
        if who == "cz_disp":  # 长征桥's dispatcher answers only 长征桥's member
            assert r.json() == {"group": group, "answered": 1, "kept": 0}
        else:
            assert r.status_code == status, (who, r.text)
    assert all(db.get_suggestion(store, s["id"]).answer is None for s in sent)  # type: ignore[union-attr]
    r = post(client, "xh_disp", f"/groups/{group}/answer", {"text": "小河已答复"})
    assert r.json() == {"group": group, "answered": 2, "kept": 0}
    assert db.get_suggestion(store, "SG-CZ-1").answer == "越界答复"  # type: ignore[union-attr]
    # a group with nobody in the caller's areas is none of theirs
    only_xh = suggest(client, None, "小河社区 3 幢楼道声控灯坏了，晚上看不见", "G0003")["group"]
    r = post(client, "cz_disp", f"/groups/{only_xh}/answer", {"text": "x"})
    assert r.status_code == 404
    assert r.json()["detail"].startswith("group")
    for body, field in (({"text": "  "}, "text"), ({"text": "a\x00b"}, "text")):
        r = post(client, "xh_disp", f"/groups/{group}/answer", body)
        assert r.status_code == 422, r.text
        assert field in str(r.json()["detail"])
    assert post(client, None, f"/groups/{group}/answer", {"text": "x"}).status_code == 401


def test_each_resident_reads_the_groups_answer_under_their_own_suggestion(env: Env) -> None:
    client, _ = env
    mine = suggest(client, "r1", PARKING[0], "G0003")
    theirs = suggest(client, "r2", PARKING[1], "G0003")
    suggest(client, None, PARKING[2], "G0003")  # anonymous: nobody to show it to
    assert mine["group"] == theirs["group"]
    r = post(client, "xh_disp", f"/groups/{mine['group']}/answer", {"text": "已增设夜间车位"})
    assert r.json()["answered"] == 3
    for who, sent in (("r1", mine), ("r2", theirs)):
        listed = client.get(f"{API}/suggestions/mine", headers=auth(client, who)).json()
        assert [(s["id"], s["answer"]) for s in listed] == [(sent["id"], "已增设夜间车位")]
        assert "answered_by" not in listed[0]  # the community answered, not a username
    assert client.get(f"{API}/suggestions/mine", headers=auth(client, "r3")).json() == []
    assert client.get(f"{API}/suggestions/mine").status_code == 401


# ---------------------------------------------------------------------- filters, search
def test_filters_and_search_narrow_the_list_the_groups_and_the_export(env: Env) -> None:
    client, store = env
    # 09:30 local on 1 and 20 June (UTC+8)
    june1, june20 = (
        datetime(2026, 6, 1, 1, 30, tzinfo=UTC),
        datetime(2026, 6, 20, 1, 30, tzinfo=UTC),
    )
    stored(store, "SG-A", "东门停车位太少", "G0003", june1, "gA")
    stored(store, "SG-B", "东门停车位太少，车停不下", "G0003", june20, "gA")
    stored(store, "SG-C", "南门路灯坏了", "G0003", june20, "gC")
    db.answer_suggestion(store, "SG-B", "已增设车位", june20, "xh_disp")
    me = auth(client, "xh_disp")

    def ids(**params: Any) -> list[str]:
        r = client.get(f"{API}/suggestions", params=params, headers=me)
        assert r.status_code == 200, r.text
        return [s["id"] for s in r.json()["items"]]

    assert ids() == ["SG-C", "SG-B", "SG-A"]  # newest first
    assert ids(answered="false") == ["SG-C", "SG-A"]
    assert ids(answered="true") == ["SG-B"]
    assert ids(q="路灯") == ["SG-C"]
    assert ids(q="sg-a") == ["SG-A"]  # part of the number
    assert ids(q="100%") == []  # LIKE's wildcards are words here
    assert ids(first="2026-06-02") == ["SG-C", "SG-B"]
    assert ids(last="2026-06-01") == ["SG-A"]
    assert ids(category="parking", answered="false", q="东门") == ["SG-A"]
    groups = client.get(f"{API}/groups", params={"answered": "false"}, headers=me).json()
    # a group with an unanswered suggestion, counted whole: 2, one of them open
    assert sorted((g["id"], g["count"], g["unanswered"]) for g in groups) == [
        ("gA", 2, 1),
        ("gC", 1, 1),
    ]
    done = client.get(f"{API}/groups", params={"answered": "true"}, headers=me).json()
    assert [(g["id"], g["count"], g["unanswered"]) for g in done] == [("gA", 2, 1)]
    searched = client.get(f"{API}/groups", params={"q": "车停不下"}, headers=me).json()
    assert [(g["id"], g["count"]) for g in searched] == [("gA", 1)]
    for params, field in (
        ({"category": "unicorns"}, "category"),
        ({"first": "2026-06-05", "last": "2026-06-01"}, "last"),
        ({"answered": "maybe"}, "answered"),
        ({"q": "a\x1fb"}, "q"),
    ):
        for path in ("/suggestions", "/groups", "/suggestions.xlsx"):
            r = client.get(f"{API}{path}", params=params, headers=me)
            assert r.status_code == 422, (path, params, r.text)
            assert field in str(r.json()["detail"]), r.json()

    # the export: the same filter, Chinese columns, the district's local times
    r = client.get(f"{API}/suggestions.xlsx", params={"answered": "false", "q": "东门"}, headers=me)
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("application/vnd.openxmlformats")
    assert "attachment" in r.headers["content-disposition"]
    sheet = load_workbook(io.BytesIO(r.content)).active
    rows = list(sheet.iter_rows(values_only=True))
    title = str(rows[0][0])
    for chosen in ("未答复", "“东门”", "共 1 条"):
        assert chosen in title, title
    # the title, a blank line, then the header (the layout of every export's sheet)
    header, *data = rows[2:]
    assert header[:6] == ("编号", "提交时间", "区域", "渠道", "类别", "内容")
    assert [row[0] for row in data] == ["SG-A"]
    assert data[0][header.index("提交时间")] == datetime(2026, 6, 1, 9, 30)  # a local date cell
    assert data[0][header.index("区域")] == "小河社区第1网格"
    assert data[0][header.index("类别")] == "停车"
    # nobody exports another community's suggestions
    other = client.get(
        f"{API}/suggestions.xlsx", params={"area": "330105001002"}, headers=auth(client, "cz_disp")
    )
    assert other.status_code == 404
    assert client.get(f"{API}/suggestions.xlsx", headers=auth(client, "r1")).status_code == 403


# ---------------------------------------------------------------------- titles
def test_a_group_is_titled_by_its_most_representative_sentence(env: Env) -> None:
    client, _ = env
    sent = [suggest(client, None, text, "G0003") for text in PARKING]
    groups = client.get(f"{API}/groups", headers=auth(client, "xh_disp")).json()
    (group,) = groups
    assert group["title"] in PARKING  # a resident's own sentence, not keywords
    assert group["label"] == group["title"]  # what the cockpit shows
    assert group["terms"]  # the keywords, still there
    assert group["title"] == headline(representative(PARKING))
    assert group["count"] == len(sent) == group["unanswered"]


def test_the_medoid_is_the_plainest_wording_and_titles_are_cut_at_a_clause() -> None:
    texts = [
        "东门停车位太少，晚上回来根本找不到车位",
        "反映一下：东门停车位太少，晚上回来根本找不到车位。已经说了好几次了。",
        "东门停车位太少，晚上回来根本找不到车位",
        "你好，东门停车位太少，晚上找不到车位，谢谢！",
    ]
    assert representative(texts) == texts[0]
    assert representative([]) == ""
    long = "小区里乱停车，车都停到消防通道上了，南门堵得走不了，救护车进不来，已经说了好几次了"
    title = headline(long)
    assert len(title) <= TITLE_LENGTH
    assert title == "小区里乱停车，车都停到消防通道上了，南门堵得走不了，救护车进不来…"
    assert headline("建议：南门的健身器材坏了，一直没人修") == "南门的健身器材坏了，一直没人修"
    assert headline("时间：") == "时间："  # nothing after it: kept as it is
    short = "楼道灯坏了。请修一下"
    assert headline(short) == short  # whole when it fits
    # past the limit: up to the last sentence's end within it
    assert (
        headline("楼道灯坏了一个月了，晚上下楼看不见。" + "晚上" * 20)
        == "楼道灯坏了一个月了，晚上下楼看不见。"
    )
    assert headline("停" * 60) == "停" * (TITLE_LENGTH - 1) + "…"


# ---------------------------------------------------------------------- pages
def test_me_says_which_staff_pages_a_person_may_open(env: Env) -> None:
    client, _ = env
    pages = {
        who: client.get("/api/v1/auth/me", headers=auth(client, who)).json()["pages"]
        for who in ("root", "xh_disp", "boss", "zhang", "r1")
    }
    assert pages == {
        # 社会评价 only at a district post: the admin and the district's leader
        "root": ["desk", "council", "cockpit", "board", "elections", "surveys"],
        "xh_disp": ["desk", "council", "cockpit", "board", "elections"],
        "boss": ["desk", "council", "cockpit", "board", "elections", "surveys"],
        "zhang": ["desk"],
        "r1": [],
    }
