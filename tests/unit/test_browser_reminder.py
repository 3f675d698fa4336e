"""日提醒 on the desk in a real browser (issue 19 item 3): ``cityeye serve``'s routine
writes the morning's reminder before the grid worker opens the desk; the desk shows
it once as a quiet banner and opens the 超期 tab from it. tests/browser/desk_reminder.mjs
drives the pages; this checks what it saw."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from cityeye.domain import Case, CaseOrigin, CaseState, Severity
from cityeye.store import Store
from cityeye.store.outbox import notification_rows
from serving import keep_screenshots, run_in_browser, wait_until

PASSWORD = "reminder-pass-1234"
#: The schedule for the test: the reminder is due from midnight, so it is due now
#: whatever the hour; the bulletin and the result are off.
RULES = """\
assessment:
  kpis: [{kpi: handling_rate, weight: 100, at_least: 90%}]
  schedule: {reminder: '00:00', bulletin: off, result: off}
"""


def test_the_mornings_reminder_is_on_the_desk_once_and_opens_the_overdue_cases(
    tmp_path: Path,
) -> None:
    rules = tmp_path / "contest.yaml"
    rules.write_text(RULES, "utf-8")
    now = datetime.now(UTC)

    def prepare(db: str) -> None:
        store = Store.open(db)
        try:  # a road report of G0001's, its deadline a day gone
            store.save_cases(
                [
                    Case(
                        "C-OVERDUE-1",
                        CaseOrigin.CITIZEN,
                        CaseState.DISPATCHED,
                        Severity.MEDIUM,
                        now - timedelta(days=3),
                        title="长征桥路面塌陷",
                        area="G0001",
                        lead="P-GW1",
                        due_at=now - timedelta(days=1),
                    )
                ]
            )
        finally:
            store.close()

    def written(db: str) -> None:
        store = Store.open(db)
        try:
            wait_until(
                lambda: any(r["kind"] == "reminder" for r in notification_rows(store)),
                "the routine's reminder",
                20,
            )
        finally:
            store.close()

    db_url: list[str] = []
    report, _ = run_in_browser(
        tmp_path,
        "desk_reminder.mjs",
        users={"zhang": ("--role", "handler", "--party", "P-GW1", "--name", "张网格员")},
        password=PASSWORD,
        serve=("--routine", "--assessment", str(rules)),
        env={"USERNAME": "zhang"},
        prepare=lambda db: (prepare(db), db_url.append(db)),  # type: ignore[func-returns-value]
        before=lambda _: written(db_url[0]),
    )
    assert report["errors"] == []
    assert report["external"] == []
    for width in (390, 1920):
        shown = report[f"w{width}"]
        assert isinstance(shown, dict)
        # the banner: Chinese first, what is due, no enum value or code
        assert shown["text"].startswith("每日提醒"), shown["text"]
        assert "超期工单 1 件（最久：C-OVERDUE-1）" in shown["text"]
        assert "reminder" not in shown["text"]
        assert shown["toasts"] == 1
        assert shown["tones"] == 0  # news, not an emergency: no chime
        # tapped: the 超期 tab, with the overdue case
        assert shown["tab"].startswith("超期")
        assert any("长征桥路面塌陷" in c for c in shown["cases"]), shown["cases"]
        assert shown["toastsAfter"] == 0
        assert shown["toastsOnReload"] == 0  # shown once on this device
        assert (tmp_path / "shots" / f"desk-reminder-{width}.png").stat().st_size > 10_000
    keep_screenshots(tmp_path, "desk-reminder-390.png")
