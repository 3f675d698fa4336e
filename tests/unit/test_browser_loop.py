"""The closed loop in real browsers (issue 6, part 7): a resident reports on the
portal, the dispatcher dispatches, the handler accepts and handles it with a photo, the
dispatcher verifies and closes, the resident rates, and the leader's cockpit tile
changes — every role signed in, nothing asked of another host. tests/browser/loop.mjs
drives the pages; this checks what it saw and what the database holds afterwards."""

from __future__ import annotations

from pathlib import Path

from cityeye.store import Store
from cityeye.store.requests import get_follow
from cityeye.store.users import list_users
from serving import keep_screenshots, run_in_browser

PASSWORD = "loop-pass-1234"
#: who signs in: (username, role options)
PEOPLE = {
    "xh_disp": ("--role", "dispatcher", "--area", "330105001002"),  # 小河社区
    "pm_li": ("--role", "handler", "--party", "P-PM1"),  # 绿城物业 (co-governing)
    "boss": ("--role", "leader", "--area", "330105"),
    "root": ("--role", "admin"),
    "li": ("--role", "resident"),
}


def test_the_whole_loop_from_a_residents_phone_to_the_cockpit(tmp_path: Path) -> None:
    # no lateness hold: a report becomes a case as it arrives (the default holds
    # events 10 min for stragglers, see docs/ingest.md)
    report, db = run_in_browser(
        tmp_path,
        "loop.mjs",
        users=PEOPLE,
        password=PASSWORD,
        serve=("--lateness", "0s"),
        env={
            "DISPATCHER": "xh_disp",
            "HANDLER": "pm_li",
            "LEADER": "boss",
            "ADMIN": "root",
            "RESIDENT": "li",
            "PARTY": "P-PM1",
            "AREA": "G0003",
        },
    )
    assert report["errors"] == []
    assert report["external"] == []  # every page works with the network off
    assert report["steps"] == [
        "cockpit",
        "reported",
        "dispatched",
        "handled",
        "closed",
        "rated",
        "cockpit moved",
        "admin",
        "resident signed in",
    ]
    assert report["followKeyShown"]
    assert report["photosBothWays"]  # the resident's photo and the handler's, on the phone
    assert report["qr"].startswith("data:image/")  # drawn in the page, no outside service
    assert report["keptByScan"]  # a second phone that scanned it keeps the key too
    assert report["notice"].startswith(f"您的上报 {report['tracking']}：")  # told it moved on
    tracking_line, key_line = report["copied"].splitlines()
    assert tracking_line == "查询编号：" + report["tracking"]
    assert key_line.startswith("查询码：")
    assert len(key_line) > 20
    assert report["before"] == "—"  # nothing rated yet
    assert report["after"] == "100.0%"  # one rating, 5 stars
    keep_screenshots(tmp_path, "portal.png")
    store = Store.open(db)
    case, signed_in = sorted(store.load_cases(), key=lambda c: c.opened_at)
    li = next(u for u in list_users(store) if u.username == "li")
    follow = get_follow(store, report["signedInTracking"])
    store.close()
    assert signed_in.key == f"portal/{report['signedInTracking']}"
    assert follow is not None
    assert follow.user_id == li.id  # the signed-in resident's report is theirs
    assert case.key == f"portal/{report['tracking']}"
    assert case.area == "G0003"
    assert case.state.value == "closed"
    assert case.rating == 5
    assert case.lead == "P-PM1"
    handled = next(e for e in case.timeline if e.action == "handle")
    assert handled.actor == "P-PM1"
    assert len(handled.attachments) == 1  # the handler's photo
    assert [e.action for e in case.timeline if e.to_state != e.from_state] == [
        "dispatch",
        "accept",
        "handle",
        "verify",
        "close",
    ]
