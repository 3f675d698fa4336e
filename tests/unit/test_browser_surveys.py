"""社会评价's staff page in Chromium (issue 19 item 6; tests/browser/surveys.mjs drives
it): the district's dispatcher creates a survey — a closing time before the opening
refused next to its field — makes three one-time links (shown once, full URLs, copy and
.txt download) and invites 小河's verified residents; three respondents answer through
the links on the phone page, and the page shows the right counts, means and intervals,
sorted by mean, in a chart and a table, with the comments and the xlsx export; the
survey is closed after a second question. A district leader reads without the forms; a
street's dispatcher gets no header link and a refusal in words. Screenshots at 390×844,
1920×1080 and 3840×2160: Chinese without English words, no sideways scrolling; an axe
scan in both languages.

The world: tests/fixtures/world_small.yaml with two more streets and two more
departments (test names), so the chart has rows to sort."""

from __future__ import annotations

import json
from pathlib import Path

import yaml

from serving import FIXTURES, keep_screenshots, run_in_browser

PASSWORD = "surveys-pass-1234"
PEOPLE = {
    "office": ("--role", "dispatcher", "--area", "330105", "--name", "考评办"),
    "boss": ("--role", "leader", "--area", "330105", "--name", "区领导"),
    "xh_disp": ("--role", "dispatcher", "--area", "330105001", "--name", "小河调度"),
    "wang": ("--role", "resident", "--area", "G0001", "--name", "王阿姨"),  # home verified
}
#: Each link's answers: unit name → [rating, comment].
ANSWERS = [
    {"小河街道": [5, "垃圾分类做得好"], "大关街道": [4], "区城管局": [5]},
    {"小河街道": [3], "大关街道": [4], "区城管局": [4, "占道经营管得严，态度可以再好些"]},
    {"小河街道": [4], "大关街道": [5], "区信访局": [3]},
]


def five_units(tmp_path: Path) -> Path:
    """world_small (小河街道, 区城管局) with 大关街道, 天水街道, 区信访局 and 区数据局."""
    doc = yaml.safe_load((FIXTURES / "world_small.yaml").read_text("utf-8"))
    doc["areas"] += [
        {"code": "330105002", "name": "大关街道", "level": "street", "parent": "330105"},
        {"code": "330105003", "name": "天水街道", "level": "street", "parent": "330105"},
    ]
    doc["parties"] += [
        {"id": "P-XF", "name": "区信访局", "kind": "government", "areas": ["330105"]},
        {"id": "P-SJ", "name": "区数据局", "kind": "government", "areas": ["330105"]},
    ]
    path = tmp_path / "five_units.yaml"
    path.write_text(yaml.safe_dump(doc, allow_unicode=True), "utf-8")
    return path


def test_the_office_runs_a_survey_from_the_browser(tmp_path: Path) -> None:
    report, _ = run_in_browser(
        tmp_path,
        "surveys.mjs",
        users=PEOPLE,
        password=PASSWORD,
        world=five_units(tmp_path),
        env={
            "OFFICE": "office",
            "LEADER": "boss",
            "STREET": "xh_disp",
            "UNTICK": "区数据局",
            "ANSWERS": json.dumps(ANSWERS, ensure_ascii=False),
        },
    )
    assert report["errors"] == [], report["errors"]
    assert report["external"] == []  # offline: nothing from another host
    assert report["steps"] == [
        "created",
        "links",
        "answered",
        "results",
        "scanned",
        "closed",
        "leader",
        "street refused",
    ]
    assert report["signedOut"] == "/login"  # signed out: sent to sign in first
    # the header links the page for the district's office; the units by kind, all ticked
    assert report["officePages"][-1] == "社会评价"
    assert report["kinds"] == ["街道（3）", "政府部门（3）"]
    assert report["ticked"] == [6, 6]
    # a closing time before the opening: refused, said next to that field, in Chinese
    assert report["closesError"] == "结束时间须晚于开始时间。"
    assert report["errorsShown"] == 1
    assert report["createLatin"] == []  # the form in Chinese: no time zone's English name
    listed = report["listed"]
    for said in ("2026 年度社会评价（测试）", "进行中", "尚未邀请"):
        assert said in listed
    # three full links, shown once with the warning, the same in the .txt download
    links = report["links"]
    assert isinstance(links, list)
    assert len(links) == 3
    assert all(link.startswith("http://127.0.0.1:") and "/survey/sv_" in link for link in links)
    assert "只显示这一次" in report["warning"]
    download = report["download"]
    assert download["same"] is True
    assert download["name"].startswith("2026 年度社会评价（测试）")
    assert download["name"].endswith(".txt")
    assert report["linksAfterReload"] == ""  # gone: nobody can see them again
    # the verified residents of an area: the district, its streets and communities
    assert report["residentAreas"][:3] == ["全区（拱墅区）", "小河街道", "长征桥社区"]
    assert report["residentsInvited"].startswith("已邀请 1 位居民")
    assert "已邀请 4 · 已答 3（75%）" in report["listedAfter"]
    # the results, highest mean first: 区城管局 5 and 4; 大关 4, 4, 5; 小河 5, 3, 4;
    # 区信访局 3 alone (no interval); 天水街道 none; 区数据局 not in the survey
    assert report["rows"] == [
        {"unit": "区城管局", "responses": "2", "mean": "4.50", "interval": "1.00 – 5.00",
         "counts": "1 分：0 2 分：0 3 分：0 4 分：1 5 分：1"},
        {"unit": "大关街道", "responses": "3", "mean": "4.33", "interval": "2.90 – 5.00",
         "counts": "1 分：0 2 分：0 3 分：0 4 分：2 5 分：1"},
        {"unit": "小河街道", "responses": "3", "mean": "4.00", "interval": "1.52 – 5.00",
         "counts": "1 分：0 2 分：0 3 分：1 4 分：1 5 分：1"},
        {"unit": "区信访局", "responses": "1", "mean": "3.00",
         "interval": "仅 1 份评价，不足以计算区间",
         "counts": "1 分：0 2 分：0 3 分：1 4 分：0 5 分：0"},
        {"unit": "天水街道", "responses": "0", "mean": "—", "interval": "无评价",
         "counts": "1 分：0 2 分：0 3 分：0 4 分：0 5 分：0"},
    ]  # fmt: skip
    chart = report["chart"]
    assert [(c["unit"], c["dot"], c["whisker"]) for c in chart] == [
        ("区城管局", True, True),
        ("大关街道", True, True),
        ("小河街道", True, True),
        ("区信访局", True, False),
        ("天水街道", False, False),
    ]
    assert chart[1]["said"] == "4.33 [2.90–5.00] · 3 份"
    assert chart[3]["said"] == "3.00 · 仅 1 份，无区间"
    assert chart[4]["said"] == "无评价"
    assert report["comments"] == [
        {"unit": "区城管局（1 条）", "said": ["4 分 占道经营管得严，态度可以再好些"]},
        {"unit": "小河街道（1 条）", "said": ["5 分 垃圾分类做得好"]},
    ]
    assert report["export"] == {
        "status": 200,
        "type": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        "zip": True,
    }
    # each size: Chinese without an English word, nothing scrolls sideways, the chart
    # as wide as its panel
    for size in ("phone", "desktop", "wall"):
        seen = report[size]
        assert seen["latin"] == [], (size, seen)
        assert seen["svgLatin"] == [], (size, seen)
        assert seen["overflow"] <= 0, (size, seen)
        assert seen["chartWidth"] == seen["chartBox"], (size, seen)
    assert report["english"] == "3 responses, 9 ratings in all."
    assert report["englishTicks"] == ["1", "2", "3", "4", "5"]
    assert report["violations"] == {"zh": [], "en": []}  # axe: nothing serious or critical
    # closed after a second question; no more invitations then
    assert "无法重新开放" in report["confirm"]
    assert report["closedBadge"] == "已结束"
    assert report["invitesAfterClose"] == 0
    # a district leader reads the results, with no form to create, invite or close
    assert report["leaderRows"] == 5
    assert report["leaderForms"] == 0
    # a street's dispatcher: no header link to the page (on it, nor on the desk), and
    # the page says why instead of showing empty forms
    assert "surveys" not in report["streetPages"]
    assert "surveys" not in report["streetDeskPages"]
    assert "区考评办" in report["streetNotice"]
    assert report["streetWork"] == 0
    keep_screenshots(tmp_path, "surveys-create.png", "surveys-desktop.png", "surveys-phone.png")
