"""业委会换届选举 in Chromium (issue 21 item 6; tests/browser/elections.mjs drives it):
a community's dispatcher creates an election and nominates by unit, then runs a
prepared one — opens voting after its notice, records paper and proxy ballots — while
two residents vote on phones for their households and a second resident of a household
that voted is told so; the count elects only the candidate whom both the households and
the floor area agree to: 陈三 has 3 of 5 households but 180 of 480 m², 张一 300 of 480 m²
but 2 of 5 households, 刘六 3 of 5 and 360 of 480 m². Screenshots at 390×844 and
1920×1080: Chinese without English words, no sideways scrolling; an axe scan in both
languages. Staff bind a resident's account to a household (an unknown account refused
in words).

The estate: tests/fixtures/world_estate.yaml (长征桥新村: six owner households, 600 m²)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from cityeye.domain.users import UserRole
from cityeye.participation import elections as svc
from cityeye.store import Store
from cityeye.store import elections as elections_db
from cityeye.store.users import list_users
from cityeye.world import load_world
from serving import FIXTURES, keep_screenshots, run_in_browser

PASSWORD = "elections-pass-1234"
CZ = "330105001001"
WORLD = FIXTURES / "world_estate.yaml"
PEOPLE = {
    "cz_disp": ("--role", "dispatcher", "--area", CZ, "--name", "长征桥社区书记"),
    "zhang": ("--role", "resident", "--area", "G0001", "--name", "张一"),
    "zhang2": ("--role", "resident", "--area", "G0001", "--name", "张一的儿子"),
    "chen": ("--role", "resident", "--area", "G0001", "--name", "陈三"),
    "liu": ("--role", "resident", "--area", "G0001", "--name", "刘六"),
}
PREPARED = "长征桥新村第三届业委会换届选举"


def prepare(db: str) -> None:
    """The election the test runs: nominated and on notice since ten days ago."""
    store = Store.open(db)
    try:
        world = load_world(WORLD)
        users = {u.username: u for u in list_users(store)}
        staff = users["cz_disp"]
        assert staff.role == UserRole.DISPATCHER
        then = datetime.now(UTC) - timedelta(days=10)
        e = svc.create(store, world, staff, title=PREPARED, area=CZ, now=then, seats=2)
        for h, name in (("H3", "陈三"), ("H6", "刘六"), ("H1", "张一")):
            svc.nominate(store, world, staff, e.id, household=h, name=name, now=then)
        svc.start_notice(store, world, staff, e.id, then)
        for who, h in (("zhang", "H1"), ("zhang2", "H1"), ("chen", "H3")):
            svc.bind(store, world, staff, username=who, household=h, now=then)
    finally:
        store.close()


def test_an_election_passes_only_when_households_and_area_both_agree(tmp_path: Path) -> None:
    report, db = run_in_browser(
        tmp_path,
        "elections.mjs",
        users=PEOPLE,
        password=PASSWORD,
        world=WORLD,
        prepare=prepare,
        env={"STAFF": "cz_disp", "PREPARED": PREPARED},
    )
    assert report["errors"] == [], report["errors"]
    assert report["external"] == []
    assert report["steps"] == ["created", "recorded", "voted", "published", "read"]
    assert "长征桥社区" in report["areas"]
    assert str(report["newState"]).startswith("候选人提名")
    # a candidate is picked by unit and area, never by an internal id
    choices = report["householdChoices"]
    assert isinstance(choices, list)
    assert choices[0] == "长征桥新村3幢 101（150.00 m²）"
    assert "王五" in str(report["nominated"])
    assert str(report["preparedState"]).startswith("候选人公示")
    assert report["bindRefused"] == "没有这个居民账号。"
    assert report["bound"] == "已绑定：liu → 长征桥新村12幢 202（120.00 m²）"
    households = report["households"]
    assert isinstance(households, list)
    assert "纸质选票 · 长征桥社区书记" in households[1]
    assert "委托投票（受托人 李四的女儿） · 长征桥社区书记" in households[3]
    assert str(report["zhangSaid"]).startswith("您家已投票（线上投票")
    assert str(report["zhang2Said"]).startswith("您家已投票（线上投票")
    assert report["zhang2Form"] is False
    # 5 of 6 households, 480 of 600 m² took part
    assert "5 / 6 户，面积 480.00 / 600.00 m²" in str(report["turnout"])
    assert report["result"] == [  # in the order of nomination (the same moment: by household)
        ["张一", "2 / 5 ✗", "300.00 / 480.00 m² ✓", "未当选：同意的人数未达要求"],
        ["陈三", "3 / 5 ✓", "180.00 / 480.00 m² ✗", "未当选：同意的面积未达要求"],
        ["刘六", "3 / 5 ✓", "360.00 / 480.00 m² ✓", "当选"],
    ]
    assert report["residentResult"] == [
        "未当选：同意的人数未达要求",
        "未当选：同意的面积未达要求",
        "当选",
    ]
    assert report["residentStaffOnly"] is False
    assert report["violations"] == {"zh": [], "en": []}  # axe: nothing serious or critical
    assert "Not elected: consenting area below the threshold" in str(report["english"])
    audit = report["audit"]
    assert isinstance(audit, list)
    assert sum("投票" in line and "开始投票" not in line for line in audit) == 5
    assert "计票并公布结果" in audit[-1]
    for shot in ("staffDesk", "phone", "staffResult", "staffPhone"):
        seen = report[shot]
        assert isinstance(seen, dict)
        assert seen["latin"] == [], (shot, seen)
        assert seen["overflow"] <= 0, (shot, seen)
    store = Store.open(db)
    try:
        assert elections_db.household_of(store, "liu") == "H6"  # the binding was kept
    finally:
        store.close()
    keep_screenshots(tmp_path, "elections-staff.png", "elections-result.png", "elections-phone.png")
