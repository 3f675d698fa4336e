"""One topic from a suggestion to a resolution in real browsers (issue 7): a verified
resident suggests on the portal, the 小河 dispatcher takes it through the six steps on
the council page (an offline meeting with minutes, an online one where the resident
speaks from the portal, a ballot), two of three verified residents vote on the portal,
the dispatcher closes the vote and resolves, the resolution's action becomes a case
sent to the property company, and the portal shows the public record.
tests/browser/council.mjs drives the pages; this checks what it saw and the database."""

from __future__ import annotations

from pathlib import Path

import httpx

from cityeye.domain import Case
from cityeye.domain.participation import TopicStep
from cityeye.store import Store
from cityeye.store.participation import all_suggestions
from serving import keep_screenshots, run_in_browser, wait_until

PASSWORD = "council-pass-1234"
GRID = "G0003"  # 小河社区第1网格
PEOPLE = {
    "xh_disp": ("--role", "dispatcher", "--area", "330105001002"),
    "li": ("--role", "resident", "--area", GRID),
    "wang": ("--role", "resident", "--area", GRID),
    "zhao": ("--role", "resident", "--area", GRID),
    "vol_chen": ("--role", "handler", "--party", "P-C1"),  # a volunteer of the community
}


def council_cases(store: Store) -> list[Case]:
    return [c for c in store.load_cases() if c.key and c.key.startswith("council/")]


def action_dispatched(db: str) -> None:
    """The resolution's action is an event: the analysis process (a process of its
    own) opens its case and dispatches it after the page has its answer, at its next
    beat; wait for that while the server runs."""
    store = Store.open(db)
    try:
        wait_until(lambda: any(c.lead for c in council_cases(store)), "the action dispatched")
    finally:
        store.close()


def test_a_suggestion_becomes_a_topic_a_vote_and_a_resolved_case(tmp_path: Path) -> None:
    report, db = run_in_browser(
        tmp_path,
        "council.mjs",
        users=PEOPLE,
        password=PASSWORD,
        serve=("--lateness", "0s"),
        after=action_dispatched,
        env={
            "DISPATCHER": "xh_disp",
            "RESIDENTS": "li,wang,zhao",
            "VOLUNTEER": "vol_chen",
            "AREA": GRID,
            "PARTY": "P-PM1",
        },
    )
    assert report["errors"] == []
    assert report["external"] == []
    assert report["steps"] == [
        "suggested",
        "spoke online",
        "to the vote",
        "voted",
        "resolved",
        "public record",
        "verified a home",
        "door to door",
    ]
    # 居民核验: a home among the chosen area's communities and grids, and the new
    # resident signs in with the password shown once, their home verified
    assert GRID in report["homeOffered"]
    assert "新邻居" in report["residentListed"]
    assert report["neighbour"]["role"] == "resident"
    assert report["neighbour"]["areas"] == [report["homeOffered"][0]]
    assert "停车" in report["category"]  # classified as parking
    assert (report["atVote"], report["atResolve"]) == ("vote", "resolve")
    assert "参与 2" in report["tally"]  # two of three: the 2/3 quorum is met
    assert report["confirmShown"] == "投给「同意改建」？每人一票，投出后不能更改。"
    assert "通过" in report["tally"]
    assert "东门空地改建停车位" in report["resolutionShown"]
    # the steps, modes and roles by the enums' own names (GET /api/v1/meta)
    # one language at a time: Chinese, English on the button, the choice kept
    assert report["councilSteps"] == [s.zh for s in TopicStep]
    assert report["councilStepsEn"] == [s.en for s in TopicStep]
    assert report["keptAfterReload"] == "en"
    assert report["portalSteps"] == [s.zh for s in TopicStep]
    assert sorted(m.split(" · ")[1] for m in report["portalMeetings"]) == ["线上", "线下"]
    assert report["portalTurns"][0].startswith("#1 居民：")
    # a meeting's time is typed and shown on the district's clock (the form's 19:00 the
    # next day), whatever the browser's timezone
    assert all(m.endswith(" 19:00:00") for m in report["portalMeetings"]), report["portalMeetings"]
    keep_screenshots(tmp_path, "topic.png", "council.png")
    store = Store.open(db)
    cases = council_cases(store)
    channels = sorted(s.channel.value for s in all_suggestions(store))
    store.close()
    assert channels == ["portal", "volunteer"]
    assert len(cases) == 1  # the resolution's action, in the closed loop
    assert cases[0].key == f"council/{report['topic']}-1"
    assert cases[0].lead == "P-PM1"


# ---------------------------------------------------------------------- a whole group
SAME = "小区地下车库停车位太少，晚上回来没有地方停车"
GROUP_TEXTS = (
    SAME,
    SAME,
    SAME,
    SAME,
    "晚上回来车库没有停车位，停车太难了",
    "你好，地下车库停车位太少了，晚上没有地方停车，谢谢！",
)
OTHER_TEXTS = ("3 幢楼道的声控灯坏了，晚上下楼看不见", "3 幢楼道灯坏了好几天了")
GROUP_ANSWER = "已协调物业在地下车库增设夜间临时车位，下周起开放"
GROUP_PEOPLE = {
    "xh_disp": ("--role", "dispatcher", "--area", "330105001002"),
    "li": ("--role", "resident", "--area", GRID),
    "cz_disp": ("--role", "dispatcher", "--area", "330105001001"),
    "vol_chen": ("--role", "handler", "--party", "P-C1"),
}


def door_to_door(base: str) -> None:
    """Six complaints about one car park in 小河 (G0003) — five a volunteer collected
    door to door (no limit per address, unlike the portal), one a resident sent signed
    in on the portal — two about a lamp, the same car-park words from 长征桥 (G0001);
    one of 小河's answered one by one."""
    with httpx.Client(base_url=base) as http:

        def bearer(name: str) -> dict[str, str]:
            r = http.post("/api/v1/auth/login", json={"username": name, "password": PASSWORD})
            return {"Authorization": f"Bearer {r.json()['token']}"}

        volunteer, dispatcher, resident = bearer("vol_chen"), bearer("xh_disp"), bearer("li")
        sent = []
        for area, texts, channel, who in (
            (GRID, GROUP_TEXTS[:5] + OTHER_TEXTS, "volunteer", volunteer),
            (GRID, GROUP_TEXTS[5:], "portal", resident),
            ("G0001", GROUP_TEXTS[:2], "volunteer", volunteer),
        ):
            for text in texts:
                r = http.post(
                    "/api/v1/participation/suggestions",
                    json={"text": text, "area": area, "channel": channel},
                    headers=who,
                )
                assert r.status_code == 201, r.text
                sent.append(r.json())
        r = http.post(
            f"/api/v1/participation/suggestions/{sent[0]['id']}/answer",
            json={"text": "已单独回复：请先使用东门临时车位"},
            headers=dispatcher,
        )
        assert r.status_code == 200, r.text


def test_a_group_is_filtered_searched_answered_once_and_exported(tmp_path: Path) -> None:
    report, db = run_in_browser(
        tmp_path,
        "council_group.mjs",
        users=GROUP_PEOPLE,
        password=PASSWORD,
        serve=("--lateness", "0s"),
        before=door_to_door,
        env={"DISPATCHER": "xh_disp", "RESIDENT": "li", "WORDS": "车库", "ANSWER": GROUP_ANSWER},
    )
    assert report["errors"] == []
    assert report["external"] == []
    assert report["steps"] == [
        "filtered",
        "answered the group",
        "exported",
        "the resident read it",
        "laid out",
    ]
    # the pages a dispatcher works on, this one marked
    assert report["pages"] == [
        ["/desk", "处置端", None],
        ["/council", "民意议事", "page"],
        ["/cockpit", "驾驶舱", None],
        ["/board", "晾晒台", None],
        ["/elections", "业委会选举", None],
    ]
    # 小河's two groups, the car park's the biggest; 长征桥's never shown here
    assert [g["n"] for g in report["groupsAtFirst"]] == [6, 2]
    assert [g["n"] for g in report["searched"]] == [6]  # "车库": the car park's group
    assert "未答复 5" in report["searched"][0]["meta"]
    assert "answered=false" in report["exportHref"]
    assert "q=%E8%BD%A6%E5%BA%93" in report["exportHref"]  # 车库
    # its title is a resident's sentence, not keywords; one answer form; members folded
    assert report["groupTitle"] == SAME
    assert report["answerForms"] == 1
    assert report["membersOpen"] is False
    assert sorted(report["memberTexts"]) == sorted(GROUP_TEXTS)
    # one answer: five answered now, the one answered alone keeps its answer
    assert report["answeredLine"] == "已答复 5 条；1 条保留了单独的答复"
    assert [g["n"] for g in report["afterAnswer"]] == []  # none of "车库" left unanswered
    answers = report["memberAnswers"]
    assert answers.count("已答复：" + GROUP_ANSWER) == 5
    assert answers.count("已答复：已单独回复：请先使用东门临时车位") == 1
    assert report["exportStatus"] == 200
    assert report["exportType"].startswith("application/vnd.openxmlformats")
    assert report["exportBytes"] > 1000
    # the resident who sent one of them signed in reads the answer under it on the portal
    assert report["residentSees"] == [[GROUP_TEXTS[5], "社区答复：" + GROUP_ANSWER]]
    # two columns side by side on big screens, no scroll box inside the list; stacked
    # on a phone with nothing wider than it
    for size in ("wide", "huge"):
        shown = report[size]
        assert shown["detail"]["left"] >= shown["list"]["right"], size
        assert shown["scrollers"] in ([], ["panel detail"]), (size, shown["scrollers"])
    assert report["huge"]["fontSize"] > report["wide"]["fontSize"]  # type grows at 3840
    phone = report["phone"]
    assert phone["detail"]["top"] >= phone["list"]["bottom"]
    assert phone["pageWidth"] <= 390
    keep_screenshots(
        tmp_path, "council-group-1920.png", "council-group-3840.png", "council-group-390.png"
    )
    # in the database: every 小河 member answered, 长征桥's same words untouched
    store = Store.open(db)
    try:
        suggestions = all_suggestions(store)
    finally:
        store.close()
    parking = [s for s in suggestions if s.text in GROUP_TEXTS]
    assert sorted((s.area, s.answer is not None) for s in parking) == sorted(
        [("G0001", False)] * 2 + [("G0003", True)] * 6
    )
    assert all(s.answer is None for s in suggestions if s.text in OTHER_TEXTS)
