"""One topic from a suggestion to a resolution in real browsers (issue 7): a verified
resident suggests on the portal, the 小河 dispatcher takes it through the six steps on
the council page (an offline meeting with minutes, an online one where the resident
speaks from the portal, a ballot), two of three verified residents vote on the portal,
the dispatcher closes the vote and resolves, the resolution's action becomes a case
sent to the property company, and the portal shows the public record.
tests/browser/council.mjs drives the pages; this checks what it saw and the database."""

from __future__ import annotations

from pathlib import Path

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
