"""线上宣讲 and 促动师 in real browsers (issue 21 items 5, 7), at 390×844 and 1920×1080:
the 小河 dispatcher creates a briefing on the council page, its invitation list is the
area's enterprises, an enterprise is marked as come, one question is answered and
another becomes a case in the closed loop; a leader sees it without the forms. Then the
dispatcher registers a resident as 小河's facilitator, who raises a topic on the
portal, moves it on and calls a meeting; the dispatcher names them to run another; the
council page counts both.
tests/browser/briefings.mjs drives the pages; this checks what it saw and the database."""

from __future__ import annotations

from pathlib import Path

import yaml

from cityeye.domain import Case
from cityeye.store import Store
from serving import FIXTURES, keep_screenshots, run_in_browser, wait_until

PASSWORD = "briefing-pass-1234"
PEOPLE = {
    "xh_disp": ("--role", "dispatcher", "--area", "330105001002"),  # 小河社区's post
    "boss": ("--role", "leader", "--area", "330105"),
    "li": ("--role", "resident", "--area", "G0003"),  # lives in 小河社区
}
#: Two more enterprises of 小河社区 beside the fixture's E1, and one of 长征桥 (not invited).
MORE = [
    {"id": "E2", "tags": ["enterprise"], "area": "G0003", "name": "小河物流有限公司"},
    {"id": "E3", "tags": ["enterprise"], "area": "G0003", "name": "小河餐饮店"},
    {"id": "E9", "tags": ["enterprise"], "area": "G0001", "name": "长征桥制造厂"},
]


def briefing_cases(store: Store) -> list[Case]:
    return [c for c in store.load_cases() if c.key and c.key.startswith("briefing/")]


def cases_opened(db: str) -> None:
    """The questions' cases are events: the analysis process opens them at its next
    beat, after the page has its answer."""
    store = Store.open(db)
    try:
        wait_until(lambda: len(briefing_cases(store)) == 2, "the questions' cases opened")
    finally:
        store.close()


def test_a_briefing_from_invitations_to_answers_and_a_case(tmp_path: Path) -> None:
    world = yaml.safe_load((FIXTURES / "world_small.yaml").read_text(encoding="utf-8"))
    world["subjects"] += MORE
    world_file = tmp_path / "world.yaml"
    world_file.write_text(yaml.safe_dump(world, allow_unicode=True), encoding="utf-8")
    report, db = run_in_browser(
        tmp_path,
        "briefings.mjs",
        users=PEOPLE,
        password=PASSWORD,
        serve=("--lateness", "0s"),
        after=cases_opened,
        world=world_file,
        env={"DISPATCHER": "xh_disp", "LEADER": "boss", "RESIDENT": "li"},
    )
    assert report["errors"] == [], report.get("shown")
    assert report["external"] == []
    assert report["steps"] == ["phone", "wide", "leader", "facilitator"]
    for size in ("phone", "wide"):
        shown: dict[str, object] = report[size]  # type: ignore[assignment]
        assert shown["invited"] == ["E1", "E2", "E3"]  # 小河's, not 长征桥's E9
        assert "小河物流有限公司" in shown["names"]  # type: ignore[operator]
        assert "参会 1 家" in str(shown["tally"])
        assert "本月底前到账" in str(shown["answer"])
        assert "已转工单" in str(shown["case"])
        assert shown["overflow"] == 0
    wide: dict[str, object] = report["wide"]  # type: ignore[assignment]
    # the second briefing's questions: 4 asked in all, 2 answered, 2 made cases
    assert "问题 4 个，已答复 2 个，转工单 2 个" in str(wide["stats"])
    assert report["leader"] == {
        "listed": 2,
        "formShown": False,
        "boxesDisabled": True,
        "askShown": 0,
    }
    # 促动师: a resident of 小河 raised a topic, moved it on and ran a meeting, counted
    facilitator: dict[str, object] = report["facilitator"]  # type: ignore[assignment]
    assert facilitator["heading"] == "促动师 · 小河社区"
    assert len(facilitator["meetings"]) == 1  # type: ignore[arg-type]
    assert facilitator["overflow"] == 0
    assert "1 人" in str(facilitator["counts"])
    assert "主持会议 2 场" in str(facilitator["counts"])  # theirs, and the one staff named them to
    keep_screenshots(
        tmp_path,
        "briefing-phone.png",
        "briefing-wide.png",
        "facilitator-phone.png",
        "facilitators-wide.png",
    )
    store = Store.open(db)
    cases = briefing_cases(store)
    store.close()
    assert sorted(c.key or "" for c in cases) == sorted(
        f"briefing/{report[size]['id']}-2"  # type: ignore[index]
        for size in ("phone", "wide")
    )
    assert all(c.area == "G0003" for c in cases)  # the asking enterprise's grid
