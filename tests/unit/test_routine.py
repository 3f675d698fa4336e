"""日提醒、周通报、月考核 (issue 19 item 3): when each job is due, what the daily reminder
tells whom, that every job runs once per period however often it is asked, and the
routine's notices on the desk, the robots and the command line.

The district is world_small: 长征桥社区 (grids G0001, G0002) and 小河社区 (G0003). The
cases are stored with known deadlines around a morning, 2026-10-05 09:00 local:

====  =====  ======  ===========  ==================  ==========================
case  grid   lead    state        due (local)         at 09:00 on 10-05
====  =====  ======  ===========  ==================  ==========================
C1    G0001  P-GW1   dispatched   10-04 12:00         overdue 21 h
C2    G0002  P-GW1   in_progress  10-05 17:00         due today
C3    G0001  P-GW1   accepted     10-06 10:00         not yet
C4    G0003  —       reported     10-05 20:00         due today, to dispatch
C5    G0003  P-C1    closed       10-01 10:00         ended: nothing
C6    G0002  P-C1    dispatched   10-03 08:00         overdue 49 h
====  =====  ======  ===========  ==================  ==========================
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from cityeye.accounts import create_user
from cityeye.api.app import create_app
from cityeye.assessment.rules import AssessmentError, default_rules, parse_rules
from cityeye.cli import app as cli
from cityeye.domain import Case, CaseOrigin, CaseState, Severity
from cityeye.live.pipeline import LivePipeline
from cityeye.notifiers import NotifyConfig, OutboxSender, Webhook
from cityeye.routine.jobs import Due, Job, Outcome, Routine, asked, due, run
from cityeye.routine.reminders import reminders
from cityeye.store import Store
from cityeye.store.outbox import notification_rows
from cityeye.world import load_world
from kit import CST, Receiver, SetClock

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
PASSWORD = "correct horse battery"
USERS: dict[str, dict[str, Any]] = {
    "zhang": {"role": "handler", "party_id": "P-GW1"},
    "li": {"role": "handler", "party_id": "P-GW1"},
    "wang": {"role": "handler", "party_id": "P-C1"},
    "cz": {"role": "dispatcher", "areas": ("330105001001",)},
    "xh": {"role": "dispatcher", "areas": ("330105001002",)},
    "street_boss": {"role": "leader", "areas": ("330105001",)},
    "root": {"role": "admin"},
    "resident": {"role": "resident"},
}
MORNING = datetime(2026, 10, 5, 9, 0, tzinfo=CST)


def local(day: int, hour: int) -> datetime:
    return datetime(2026, 10, day, hour, 0, tzinfo=CST)


CASES = [
    ("C1", "G0001", "P-GW1", CaseState.DISPATCHED, local(4, 12)),
    ("C2", "G0002", "P-GW1", CaseState.IN_PROGRESS, local(5, 17)),
    ("C3", "G0001", "P-GW1", CaseState.ACCEPTED, local(6, 10)),
    ("C4", "G0003", None, CaseState.REPORTED, local(5, 20)),
    ("C5", "G0003", "P-C1", CaseState.CLOSED, local(1, 10)),
    ("C6", "G0002", "P-C1", CaseState.DISPATCHED, local(3, 8)),
]


@dataclass
class Office:
    store: Store
    ids: dict[str, str]  # username → user id

    @property
    def names(self) -> dict[str, str]:
        return {v: k for k, v in self.ids.items()}

    def run(self, job: Job, period: str, now: datetime) -> Outcome:
        """Ask for ``job``'s ``period`` at ``now``, under the packaged rules."""
        world = self.store.load_world()
        assert world is not None
        rules = default_rules()
        return run(self.store, world, rules, asked(job, period, rules), now)

    def desk_rows(self, kind: str) -> dict[str, dict[str, Any]]:
        """Username → the payload of their desk notification of ``kind``."""
        return {
            self.names[r["user_id"]]: r
            for r in notification_rows(self.store)
            if r["kind"] == kind and r["channel"] == "desk"
        }


@pytest.fixture
def office(tmp_path: Path) -> Iterator[Office]:
    store = Store.open(f"sqlite:///{tmp_path / 'routine.db'}")
    world = load_world(FIXTURES / "world_small.yaml")
    store.save_world(world)
    ids = {
        name: create_user(store, world, username=name, password=PASSWORD, **spec).id
        for name, spec in USERS.items()
    }
    store.save_cases(
        Case(
            case_id,
            CaseOrigin.CITIZEN,
            state,
            Severity.MEDIUM,
            local(1, 9),
            title=f"道路破损 {case_id}",
            area=grid,
            lead=lead,
            due_at=due_at,
            closed_at=local(1, 12) if state.terminal else None,
        )
        for case_id, grid, lead, state, due_at in CASES
    )
    yield Office(store, ids)
    store.close()


# ---------------------------------------------------------------------- when
def test_each_job_is_due_for_its_latest_period_once_its_moment_has_passed() -> None:
    rules = default_rules()  # 08:30 daily, Monday 09:00, day 1 of a month 09:00
    monday = datetime(2026, 11, 2, 8, 0, tzinfo=CST)  # the first Monday of November

    def jobs(now: datetime) -> dict[Job, str]:
        return {d.job: d.period for d in due(rules, now, "Asia/Shanghai")}

    # 08:00 on Monday 2 November: today's reminder not yet; the bulletin still the
    # week before last (W43, published last Monday); October's result is out since
    # the 1st (a Sunday) at 09:00
    assert jobs(monday) == {
        Job.MAINTENANCE: "2026-11-02",  # 07:00: before the reminder, which counts its cases
        Job.BULLETIN: "2026-W43",
        Job.RESULT: "2026-10",
    }
    assert jobs(monday.replace(hour=6, minute=59)).get(Job.MAINTENANCE) is None
    assert jobs(monday.replace(hour=8, minute=30)) == {
        Job.MAINTENANCE: "2026-11-02",
        Job.REMINDER: "2026-11-02",
        Job.BULLETIN: "2026-W43",
        Job.RESULT: "2026-10",
    }
    at_nine = jobs(monday.replace(hour=9))
    assert at_nine[Job.BULLETIN] == "2026-W44"  # 26 Oct – 1 Nov, the week just ended
    # the first of the month before 09:00: September's result is still the latest
    first = datetime(2026, 11, 1, 8, 59, tzinfo=CST)
    assert jobs(first)[Job.RESULT] == "2026-09"
    assert jobs(first + timedelta(minutes=1))[Job.RESULT] == "2026-10"
    # the local day decides, not UTC's: 00:30 in Hangzhou is still the day before in UTC
    late = datetime(2026, 11, 3, 0, 30, tzinfo=CST)
    assert jobs(late + timedelta(hours=8, minutes=1))[Job.REMINDER] == "2026-11-03"
    # a quarterly contest publishes its quarter; "off" turns a job off
    quarterly = parse_rules(
        "assessment:\n  period: quarter\n  kpis: [{kpi: handling_rate, weight: 1, at_least: 90%}]\n"
        "  schedule: {reminder: off, maintenance: off, bulletin: '10:15', bulletin_day: fri}\n"
    )
    found = {
        d.job: d for d in due(quarterly, datetime(2026, 10, 9, 10, 15, tzinfo=CST), "Asia/Shanghai")
    }
    assert set(found) == {Job.BULLETIN, Job.RESULT}
    assert found[Job.RESULT].period == "2026-Q3"
    assert found[Job.BULLETIN] == Due(
        Job.BULLETIN, "2026-W40", date(2026, 9, 28), date(2026, 10, 4)
    )


def test_the_schedule_is_checked_with_its_line_and_an_unquoted_time_still_means_the_time() -> None:
    base = "assessment:\n  kpis: [{kpi: handling_rate, weight: 1, at_least: 90%}]\n"
    # YAML 1.1 reads an unquoted 07:45 as the number 465 (base 60): the same time
    rules = parse_rules(base + "  schedule: {reminder: 07:45}\n")
    assert rules.schedule.reminder is not None
    assert rules.schedule.reminder.strftime("%H:%M") == "07:45"
    with pytest.raises(AssessmentError) as caught:
        parse_rules(base + "  schedule:\n    reminder: '25:00'\n    bulletin_day: someday\n")
    shown = {(p.line, p.path): p.message for p in caught.value.problems}
    assert shown[(4, "assessment.schedule.reminder")].startswith("'25:00' is not a time of day")
    assert (5, "assessment.schedule.bulletin_day") in shown


def test_a_period_asked_for_by_hand_must_be_the_jobs_kind() -> None:
    rules = default_rules()
    assert asked(Job.BULLETIN, "2026-W44", rules).first == date(2026, 10, 26)
    assert asked(Job.RESULT, "2026-10", rules).last == date(2026, 10, 31)
    for job, period in [
        (Job.REMINDER, "2026-W44"),
        (Job.BULLETIN, "2026-10"),
        (Job.RESULT, "2026"),
    ]:
        with pytest.raises(Exception, match="period") as caught:
            asked(job, period, rules)
        assert getattr(caught.value, "field", None) == "period"


# ---------------------------------------------------------------------- 日提醒
def test_the_daily_reminder_tells_each_handler_and_dispatcher_what_is_theirs(
    office: Office,
) -> None:
    outcome = office.run(Job.REMINDER, "2026-10-05", MORNING)
    assert outcome.ran
    got = {name: row["payload"]["text"] for name, row in office.desk_rows("reminder").items()}
    # hand-counted from the table in the module's docstring
    assert got == {
        "zhang": "您今日待办：超期工单 1 件（最久：C1），今日到期 1 件。请及时处置。",
        "li": "您今日待办：超期工单 1 件（最久：C1），今日到期 1 件。请及时处置。",
        "wang": "您今日待办：超期工单 1 件（最久：C6）。请及时处置。",
        # 长征桥: C6 is the more overdue, named first
        "cz": "您今日待办：超期工单 2 件（最久：C6、C1），今日到期 1 件。请及时处置。",
        "xh": "您今日待办：今日到期 1 件，待派遣 1 件。请及时处置。",
    }  # leaders, the admin and residents get none
    row = office.desk_rows("reminder")["xh"]
    assert row["case_id"] is None
    assert row["payload"]["url"] == "/desk#tab=overdue"
    assert row["payload"]["title"] == "每日提醒 10月5日"
    assert outcome.summary == {"people": 5, "robots": 0, "rows": 5}


def test_nobody_with_nothing_due_hears_anything(office: Office) -> None:
    world = office.store.load_world()
    assert world is not None
    # on 10-02 at 09:00 nothing is overdue or due that day: only 小河's dispatcher hears,
    # of the report waiting for dispatch
    notices = reminders(office.store, world, local(2, 9), date(2026, 10, 2))
    told = {office.names[n.user]: n.text for n in notices if n.user}
    assert told == {"xh": "您今日待办：待派遣 1 件。请及时处置。"}


def test_each_job_runs_once_per_period_however_often_it_is_asked(office: Office) -> None:
    world = office.store.load_world()
    assert world is not None
    rules = default_rules()
    wanted = asked(Job.REMINDER, "2026-10-05", rules)
    assert run(office.store, world, rules, wanted, MORNING).ran
    again = run(office.store, world, rules, wanted, MORNING + timedelta(hours=1))
    assert not again.ran
    assert "already done" in again.line()
    assert len(office.desk_rows("reminder")) == 5
    # a scheduler in serve and cron both asking: still one reminder each
    later = SetClock(MORNING + timedelta(hours=2))
    routine = Routine(office.store, rules, later, say=lambda _: None)
    ran = routine.run_once()
    assert Job.REMINDER not in {o.due.job for o in ran if o.ran}
    assert len([r for r in notification_rows(office.store) if r["kind"] == "reminder"]) == 5
    # the next day is a new period
    later.at = MORNING + timedelta(days=1)
    assert Job.REMINDER in {o.due.job for o in routine.run_once() if o.ran}


def test_a_run_that_died_unfinished_is_run_again_without_telling_anyone_twice(
    office: Office,
) -> None:
    from cityeye.store.routine import claim_run

    world = office.store.load_world()
    assert world is not None
    rules = default_rules()
    wanted = asked(Job.REMINDER, "2026-10-05", rules)
    assert claim_run(office.store, "reminder", "2026-10-05", MORNING, timedelta(minutes=30))
    # claimed, never finished (killed): within the lease it is left alone...
    assert not run(office.store, world, rules, wanted, MORNING + timedelta(minutes=10)).ran
    # ...after it, run again
    first = run(office.store, world, rules, wanted, MORNING + timedelta(minutes=31))
    assert first.ran
    # and had it got as far as writing rows, the keys keep each person's one reminder
    from cityeye.routine.reminders import reminders as again
    from cityeye.store.outbox import tell

    tell(office.store, again(office.store, world, MORNING, date(2026, 10, 5)), world, MORNING)
    assert len(office.desk_rows("reminder")) == 5


def test_the_reminder_reaches_the_desk_of_its_reader_only(office: Office, tmp_path: Path) -> None:
    world = office.store.load_world()
    assert world is not None
    run(
        office.store,
        world,
        default_rules(),
        asked(Job.REMINDER, "2026-10-05", default_rules()),
        MORNING,
    )
    app = create_app(
        office.store,
        LivePipeline(office.store, lateness_s=0),
        wall_clock=False,
        clock=SetClock(MORNING),
    )
    with TestClient(app) as client:

        def items(user: str) -> list[dict[str, Any]]:
            r = client.post("/api/v1/auth/login", json={"username": user, "password": PASSWORD})
            client.cookies.clear()
            token = r.json()["token"]
            page = client.get("/api/v1/notifications", headers={"Authorization": f"Bearer {token}"})
            assert page.status_code == 200, page.text
            return [n for n in page.json()["items"] if n["kind"] == "reminder"]

        (mine,) = items("xh")
        assert mine["case_id"] is None
        assert "待派遣 1 件" in mine["text"]
        assert [n["text"] for n in items("zhang")] != [mine["text"]]  # each their own
        assert items("street_boss") == []


def test_a_partys_robot_gets_the_partys_digest_without_a_case_grade(
    office: Office, tmp_path: Path
) -> None:
    receiver = Receiver()
    server = receiver.serve()
    try:
        notify = NotifyConfig(
            {"P-GW1": Webhook("dingtalk", f"{receiver.url}/robot")}, base_url="https://ce.example"
        )
        office.store.channels = notify.channels
        world = office.store.load_world()
        assert world is not None
        outcome = run(
            office.store,
            world,
            default_rules(),
            asked(Job.REMINDER, "2026-10-05", default_rules()),
            MORNING,
        )
        assert outcome.summary["robots"] == 1
        assert OutboxSender(office.store, notify, now=lambda: MORNING).run_once() == 1
        (_, _, body) = receiver.got[0]
        text = json.loads(body)["markdown"]["text"]
        assert "本单位今日待办：超期工单 1 件（最久：C1），今日到期 1 件" in text
        assert "等级" not in text  # a reminder has no case grade
        assert "[查看 Open](https://ce.example/desk#tab=overdue)" in text
    finally:
        server.shutdown()
        server.server_close()


def test_overdue_supervision_tasks_are_in_the_units_reminder(office: Office) -> None:
    from cityeye.domain.tasks import Task
    from cityeye.store.tasks import replace_year

    def task(seq: int, due_at: datetime, parties: tuple[str, ...]) -> Task:
        return Task(
            f"T{seq}",
            2026,
            seq,
            "一",
            "数字治理",
            f"任务{seq}",
            ("区城管局",),
            ("张网格员",),
            parties,
            "推进中",
            None,
            None,
            due_at,
            None,
            "test",
            local(1, 9),
        )

    replace_year(
        office.store,
        2026,
        "2026年重点工作",
        [
            task(1, local(4, 18), ("P-GW1",)),
            task(2, local(9, 18), ("P-GW1",)),
            task(3, local(3, 18), ("P-C1",)),
        ],
    )
    world = office.store.load_world()
    assert world is not None
    notices = {
        office.names[n.user]: n.text
        for n in reminders(office.store, world, MORNING, MORNING.date())
        if n.user
    }
    assert notices["zhang"].endswith("今日到期 1 件，超期督办任务 1 项。请及时处置。")
    assert notices["wang"].endswith("超期工单 1 件（最久：C6），超期督办任务 1 项。请及时处置。")


# ---------------------------------------------------------------------- 周通报
def test_the_weekly_bulletin_tells_leaders_and_dispatchers_where_their_areas_bulletin_is(
    office: Office,
) -> None:
    outcome = office.run(Job.BULLETIN, "2026-W40", MORNING)
    assert outcome.ran
    rows = office.desk_rows("bulletin")
    assert set(rows) == {"cz", "xh", "street_boss"}  # handlers get the reminder, not this
    boss = rows["street_boss"]["payload"]
    assert boss["title"] == "小河街道第40周通报"
    assert "9月28日—10月4日" in boss["text"]
    assert boss["url"] == "/api/v1/reports/2026-W40?area=330105001&format=pdf"
    assert rows["cz"]["payload"]["url"].endswith("area=330105001001&format=pdf")


# ---------------------------------------------------------------------- the command
def test_cityeye_assess_runs_what_is_due_once_and_says_so(office: Office, tmp_path: Path) -> None:
    db = office.store.engine.url.render_as_string(hide_password=False)
    runner = CliRunner()
    args = ["assess", "--db", db, "--at", "2026-10-05T09:00:00+08:00", "--job", "reminder"]
    first = runner.invoke(cli, args)
    assert first.exit_code == 0, first.output
    assert "reminder 2026-10-05: people 5, robots 0, rows 5" in first.output
    second = runner.invoke(cli, args)
    assert second.exit_code == 0, second.output
    assert "reminder 2026-10-05: already done" in second.output
    bad = runner.invoke(cli, ["assess", "--db", db, "--job", "weekly"])
    assert bad.exit_code == 2
    assert "--job" in bad.output
    assert "give reminder, bulletin" in bad.output
    bad = runner.invoke(cli, ["assess", "--db", db, "--job", "bulletin", "--period", "2026-10"])
    assert bad.exit_code == 2
    assert "not an ISO week" in bad.output


# ---------------------------------------------------------------------- 月考核
def test_the_rounds_result_is_published_once_and_each_reader_hears_their_units_place(
    office: Office,
) -> None:
    from cityeye.store.results import get_result

    world = office.store.load_world()
    assert world is not None
    rules = default_rules()
    first = datetime(2026, 11, 1, 9, 0, tzinfo=CST)
    assert {d.job: d.period for d in due(rules, first, world.timezone)}[Job.RESULT] == "2026-10"
    outcome = run(office.store, world, rules, asked(Job.RESULT, "2026-10", rules), first)
    assert outcome.ran
    assert outcome.summary["boards"] == 2  # streets and communities, as the rules rank
    streets = get_result(office.store, "2026-10", "street")
    communities = get_result(office.store, "2026-10", "community")
    assert streets is not None
    assert communities is not None
    rows = office.desk_rows("result")
    assert set(rows) == {"cz", "xh", "street_boss"}
    boss = rows["street_boss"]["payload"]
    assert boss["title"] == "数字治理赛2026年10月考核结果已发布"
    assert boss["url"] == "/board?period=2026-10"
    (street,) = streets["rows"]
    assert boss["text"] == f"小河街道：第 1 名（共 1 个），得分 {street['score']:g}。"
    # each community's reader hears their own community's place, not the street's
    cz_row = next(r for r in communities["rows"] if r["unit"] == "330105001001")
    ranked = sum(1 for r in communities["rows"] if r["rank"] is not None)
    assert rows["cz"]["payload"]["text"].startswith(
        f"长征桥社区：第 {cz_row['rank']} 名（共 {ranked} 个）"
    )
    # asked again: nothing new is published or told
    again = run(office.store, world, rules, asked(Job.RESULT, "2026-10", rules), first)
    assert not again.ran
    assert len(office.desk_rows("result")) == 3


def test_a_round_not_over_is_not_published_and_is_tried_again_later(
    office: Office, tmp_path: Path
) -> None:
    db = office.store.engine.url.render_as_string(hide_password=False)
    runner = CliRunner()
    early = runner.invoke(
        cli,
        [
            "assess",
            "--db",
            db,
            "--at",
            "2026-10-20T10:00:00+08:00",
            "--job",
            "result",
            "--period",
            "2026-10",
        ],
    )
    assert early.exit_code == 1
    assert "2026-10 has not ended yet" in early.output
    out = tmp_path / "docs"
    later = runner.invoke(
        cli,
        [
            "assess",
            "--db",
            db,
            "--at",
            "2026-11-02T10:00:00+08:00",
            "--job",
            "result",
            "--job",
            "bulletin",
            "--out",
            str(out),
        ],
    )
    assert later.exit_code == 0, later.output
    assert "result 2026-10: boards 2" in later.output
    assert "bulletin 2026-W44: people 3" in later.output
    written = sorted(p.name for p in out.iterdir())
    assert "考核结果-2026-10-street.pdf" in written
    assert "考核结果-2026-10-community.xlsx" in written
    assert "周通报-2026-W44-小河街道.pdf" in written
    assert "周通报-2026-W44-长征桥社区.xlsx" in written


def test_a_round_with_nothing_counted_publishes_no_result(office: Office) -> None:
    world = office.store.load_world()
    assert world is not None
    rules = default_rules()
    outcome = run(office.store, world, rules, asked(Job.RESULT, "2026-09", rules), local(5, 9))
    assert outcome.ran
    assert outcome.summary == {"boards": 0, "people": 0, "rows": 0}
    assert office.desk_rows("result") == {}


def test_the_maintenance_job_runs_where_a_pipeline_takes_its_events(office: Office) -> None:
    """设备检修 sends its events into the live pipeline: inside `cityeye serve` it runs
    (here with nothing noisy: no device sent); `cityeye assess` has no pipeline and
    says so instead of claiming the day."""
    world = office.store.load_world()
    assert world is not None
    rules = default_rules()
    wanted = asked(Job.MAINTENANCE, "2026-10-05", rules)
    alone = run(office.store, world, rules, wanted, MORNING)
    assert not alone.ran
    assert alone.line() == "maintenance 2026-10-05: runs inside cityeye serve"
    sent: list[object] = []
    served = run(office.store, world, rules, wanted, MORNING, ingest=sent.extend)
    assert served.ran
    assert served.summary == {"devices": 0}
    assert sent == []
