"""`cityeye participation demo`: the demo district's month of suggestions and topics at
every step, seeded through the participation service (three days here, to be quick)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from functools import cache
from pathlib import Path

import orjson
import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from cityeye.attachments import AttachmentStore
from cityeye.cli import app
from cityeye.demo.district import build_demo_world
from cityeye.demo.participation import AlreadySeeded, Summary, history, month_before, seed
from cityeye.demo.users import demo_users
from cityeye.domain import CaseState, World
from cityeye.domain.participation import TopicStep
from cityeye.live.clock import ReplayClock
from cityeye.live.pipeline import LivePipeline
from cityeye.live.playback import ReplayFeeder
from cityeye.participation.votes import tally
from cityeye.sourcefile import SourceDoc
from cityeye.store import Store, tables
from cityeye.store import participation as db
from cityeye.world import build_world

START = datetime(2026, 9, 1, tzinfo=timezone(timedelta(hours=8)))
DAYS = 3
CLOSED = CaseState.CLOSED


@cache
def gongshu() -> World:
    return build_world(SourceDoc(data=build_demo_world(2021)))


@pytest.fixture(scope="module")
def seeded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Store, Summary, Path]]:
    where = tmp_path_factory.mktemp("demo")
    store = Store.open(f"sqlite:///{where / 'demo.db'}")
    world = gongshu()
    store.save_world(world)
    demo_users(store, world)
    pipeline = LivePipeline(store, world)
    summary = seed(pipeline, AttachmentStore(where / "files"), start=START, days=DAYS, seed=7)
    pipeline.close()
    yield store, summary, where
    store.close()


def test_a_month_of_suggestions_grouped_and_answered(
    seeded: tuple[Store, Summary, Path],
) -> None:
    store, summary, _ = seeded
    stored = db.all_suggestions(store)
    assert len(stored) == summary.suggestions > 200
    assert all(START <= s.created_at < START + timedelta(days=DAYS) for s in stored)
    assert {s.channel.value for s in stored} == {"portal", "volunteer", "worker"}
    assert all(s.group_id and s.category for s in stored)
    assert len({s.group_id for s in stored}) == summary.groups < len(stored)
    answered = [s for s in stored if s.answer]
    assert len(answered) == summary.answered > 0
    assert all(s.answered_at and s.answered_at < START + timedelta(days=DAYS) for s in answered)
    assert store.load_engine_state(db.GROUPER_STATE) is not None  # the API continues it


def test_topics_at_every_step_of_xiaohe_and_in_every_street(
    seeded: tuple[Store, Summary, Path],
) -> None:
    store, summary, _ = seeded
    world = gongshu()
    topics, total = db.list_topics(store, None, None, offset=0, limit=100)
    assert total == len(summary.topic_ids)
    assert summary.topics == {step: sum(t.step == step for t in topics) for step in TopicStep}
    xiaohe = next(a.code for a in world.areas.values() if a.name == "小河街道")
    assert {t.step for t in topics if world.within(t.area, xiaohe)} == set(TopicStep)
    # every street's dispatcher (the demo's is 上塘's) has a topic to run
    streets = [a for a in world.areas.values() if a.level.value == "street"]
    assert all(any(world.within(t.area, s.code) for t in topics) for s in streets)
    for t in topics:
        assert " · " not in t.title  # a resident's words, not keywords
        assert db.suggestions_of(store, t.id)  # from a group of suggestions
        steps = [r.step for r in db.steps_of(store, t.id)]
        assert steps == list(TopicStep)[: t.step.order + 1]
        meetings = db.meetings_of(store, t.id)
        if t.step.order >= TopicStep.CONSULT.order:
            modes = {m.mode.value for m in meetings}
            assert modes == {"online", "offline"}
            assert all(m.minutes for m in meetings)
            assert any(m.decisions for m in meetings)
            assert any(db.turns(store, m.id) for m in meetings)
            assert any(len(db.participants(store, m.id)) >= 4 for m in meetings)


def test_votes_are_anonymous_and_one_failed_its_quorum(
    seeded: tuple[Store, Summary, Path],
) -> None:
    store, summary, _ = seeded
    topics, _ = db.list_topics(store, None, None, offset=0, limit=100)
    outcomes = []
    votes = 0
    for t in topics:
        ballot = db.get_ballot(store, t.id)
        counts = db.vote_counts(store, t.id)
        votes += sum(counts.values())
        if ballot is not None and ballot.closed:
            outcomes.append((t.step, tally(counts, ballot.eligible or 0, t.rules)))
    assert votes == summary.votes > 0
    failed = [r for step, r in outcomes if step == TopicStep.VOTE]
    assert len(failed) == summary.failed_quorum == 1
    assert not failed[0].quorum_met
    assert not failed[0].passed
    assert all(r.passed for step, r in outcomes if step == TopicStep.RESOLVE)
    # the roll says who voted, the counters what was chosen: nothing joins them
    with store.engine.connect() as conn:
        roll = conn.execute(select(tables.vote_roll)).all()
        choices = conn.execute(select(tables.vote_choices)).all()
    assert len(roll) == votes == sum(r.votes for r in choices)
    assert set(tables.vote_roll.c.keys()) == {"topic_id", "user_id"}
    assert set(tables.vote_choices.c.keys()) == {"topic_id", "option", "votes"}


def test_resolved_actions_are_cases_led_by_their_parties(
    seeded: tuple[Store, Summary, Path],
) -> None:
    store, summary, _ = seeded
    world = gongshu()
    cases = {c.key: c for c in store.load_cases()}
    topics, _ = db.list_topics(store, None, TopicStep.RESOLVE, offset=0, limit=100)
    made = 0
    for t in topics:
        resolution = db.get_resolution(store, t.id)
        assert resolution is not None
        assert resolution.actions
        for a in resolution.actions:
            case = cases[a.case_key]
            assert case.lead == a.party in world.parties
            assert case.opened_at < START + timedelta(days=DAYS)  # before the replayed day
            made += 1
    assert made == summary.cases > 0
    closed = [c for c in cases.values() if c.key.startswith("council/") and c.state == CLOSED]
    assert len(closed) == summary.completed > 0
    assert all(c.closed_at and c.closed_at < START + timedelta(days=DAYS) for c in closed)


def test_a_second_run_refuses(seeded: tuple[Store, Summary, Path]) -> None:
    store, summary, where = seeded
    pipeline = LivePipeline(store, gongshu())
    try:
        with pytest.raises(AlreadySeeded, match="seeded on"):
            seed(pipeline, AttachmentStore(where / "files"), start=START, days=DAYS)
    finally:
        pipeline.close()
    assert len(db.all_suggestions(store)) == summary.suggestions  # nothing added
    result = CliRunner().invoke(
        app, ["participation", "demo", "--db", str(store.engine.url), "--days", "1"]
    )
    assert result.exit_code == 1
    assert "seeded already" in result.output


def test_the_month_ends_where_the_replay_begins(tmp_path: Path) -> None:
    events = tmp_path / "events.jsonl"
    first = {"id": "e1", "kind": "report.citizen", "ts": "2026-07-01T09:00:00+08:00"}
    events.write_bytes(orjson.dumps({**first, "source": "x", "attrs": {}}) + b"\n")
    start = month_before(events, "Asia/Shanghai", 30)
    assert start == datetime(2026, 6, 1, tzinfo=timezone(timedelta(hours=8)))


def test_the_month_ends_where_the_simulated_days_begin_after_the_history(
    tmp_path: Path,
) -> None:
    """Issue 18: the simulator puts three months of enterprise indicators at the head of
    the file; the month of suggestions ends where the simulated days begin (the same
    month as the replay), not before that history, which the seeding feeds first."""
    events = tmp_path / "events.jsonl"
    times = [
        "2026-07-01T09:00:00+08:00",  # history: the indicators of earlier months
        "2026-08-01T09:00:00+08:00",
        "2026-09-01T09:00:00+08:00",
        "2026-10-28T18:00:00+08:00",  # the evening before: the elderly's last signs
        "2026-10-29T00:00:05+08:00",  # the simulated days
        "2026-10-30T23:59:00+08:00",
    ]
    lines = [
        orjson.dumps({"id": f"e{i}", "kind": "enterprise.indicator", "ts": ts, "source": "x"})
        for i, ts in enumerate(times)
    ]
    events.write_bytes(b"\n".join(lines) + b"\n")
    start = month_before(events, "Asia/Shanghai", 27)
    assert start == datetime(2026, 10, 1, tzinfo=timezone(timedelta(hours=8)))
    earlier = history(events, start)
    assert [e.id for e in earlier] == ["e0", "e1", "e2"]


def test_the_replay_acts_on_its_own_cases_after_the_seeded_ones(
    seeded: tuple[Store, Summary, Path], tmp_path: Path
) -> None:
    """A simulated day's scripted actions name their case by scenario, key and the
    time it opened: in the seeded database the day's cases are numbered after the
    month's resolution cases, and a resident's report made while it plays adds
    another, yet each action lands on its own case."""
    store, summary, _ = seeded
    world = gongshu()
    grid = sorted(a.code for a in world.areas.values() if a.level.value == "grid")[0]
    t = START + timedelta(days=DAYS + 1)

    def report(i: int, minutes: int) -> dict[str, object]:
        return {
            "id": f"r{i}",
            "kind": "report.citizen",
            "ts": (t + timedelta(minutes=minutes)).isoformat(),
            "source": "portal",
            "area": grid,
            "attrs": {"category": "garbage", "text": f"垃圾桶满了 {i}"},
        }

    lines = [
        report(1, 0),
        report(2, 1),
        {
            "id": "act-r2-1",
            "kind": "case.action",
            "ts": (t + timedelta(minutes=5)).isoformat(),
            "source": "desk",
            "attrs": {
                "scenario": "citizen.report",
                "key": "portal/r2",
                "opened": (t + timedelta(minutes=1)).isoformat(),
                "action": "accept",
            },
        },
    ]
    path = tmp_path / "day.jsonl"
    path.write_bytes(b"".join(orjson.dumps(x) + b"\n" for x in lines))
    pipeline = LivePipeline(store, world, lateness_s=0)
    before = {c.id: c.state for c in store.load_cases()}
    assert len(before) == summary.cases
    feeder = ReplayFeeder(pipeline, path, ReplayClock(t + timedelta(hours=1), speed=0))
    assert feeder.step() == 3
    pipeline.tick(t + timedelta(hours=1))
    pipeline.close()
    after = {c.key: c for c in store.load_cases()}
    assert after["portal/r2"].state.value == "accepted"  # its own case, whatever its number
    assert after["portal/r1"].state.value != "accepted"
    assert {c.id: c.state for c in after.values() if c.id in before} == before  # untouched
