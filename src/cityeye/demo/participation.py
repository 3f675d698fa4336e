"""The demo district's month of 社情民意 and 红茶议事会 (``cityeye participation demo``).

On a database with the demo district and its demo users (``cityeye world load``,
``cityeye user demo``), everything goes through the service
(:class:`~cityeye.participation.service.Participation`), on a clock that walks through
the simulated month — there is no second copy of the rules here:

* the month of simulated suggestions (:func:`cityeye.demo.suggestions.simulate_suggestions`,
  ~3,000 of which the seeds' 2,000 in 小河街道), each classified and grouped as it comes,
  a share of them answered by the street office;
* a few verified residents in each community that holds a topic;
* topics from 小河街道's biggest groups of suggestions at every one of the six steps, and
  one in each other street (from its busiest community's biggest group, at a step of
  :data:`OTHER_PLAN` in turn: every street's dispatcher has a topic to run), with
  online and offline meetings (participants, sign-ins, turns, minutes, decisions),
  ballots with the residents' votes, one that failed its quorum, and resolved ones whose
  actions became cases dispatched to their parties through the pipeline (dated inside
  the month, so before the replayed events: :func:`month_before` the first of them, so
  that none of those is late for the engine).

A database is seeded once: a second run refuses (:class:`AlreadySeeded`), since the
suggestions and topics are there already; start from a fresh database to seed again.
"""

from __future__ import annotations

import random
import secrets
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import orjson

from cityeye.accounts import create_user
from cityeye.attachments import AttachmentStore
from cityeye.demo.suggestions import BUSY_STREET, simulate_suggestions
from cityeye.domain import AreaLevel, Event, FieldError, PartyKind, World
from cityeye.domain.participation import Channel, MeetingMode, ParticipantRole, TopicStep
from cityeye.domain.scenario import REPORT_SCENARIO
from cityeye.domain.users import User, UserRole
from cityeye.errors import ConflictError
from cityeye.ingest.decode import decode_event
from cityeye.ingest.intake import Intake
from cityeye.participation.service import Participation, WantedAction, text_tools
from cityeye.store import Store
from cityeye.store import participation as db
from cityeye.store.users import list_users, user_with_hash

#: Where the database records that it was seeded (an ``engine_state`` row).
MARK = "participation.demo"
#: The share of suggestions the street office has answered by the end of the month.
ANSWERED_SHARE = 0.3
#: The topics are in the busy street's communities with the most suggestions, this many
#: (each gets its verified residents: a password hash costs ~0.15 s).
TOPIC_COMMUNITIES = 3
#: Verified residents made in each community that holds a topic.
RESIDENTS_PER_COMMUNITY = 4
#: The most characters of a group's words in a topic's title and notes (ours).
TOPIC_LABEL = 24
#: The topics: the step each one reaches (two open at 居民表决: one still voting, one
#: that failed its quorum), in the order of the groups they come from, biggest first.
PLAN: tuple[tuple[TopicStep, str], ...] = (
    (TopicStep.RESOLVE, "passed"),
    (TopicStep.RESOLVE, "passed"),
    (TopicStep.RESOLVE, "passed"),
    (TopicStep.VOTE, "failed"),
    (TopicStep.VOTE, "voting"),
    (TopicStep.DRAFT, ""),
    (TopicStep.CONSULT, ""),
    (TopicStep.OPINIONS, ""),
    (TopicStep.PROPOSE, ""),
)
#: The one topic of each other street, in street-code order, the steps in turn: ours,
#: a plausible spread (the seeds give 小河's method, not other streets' counts).
OTHER_PLAN: tuple[tuple[TopicStep, str], ...] = (
    (TopicStep.CONSULT, ""),
    (TopicStep.RESOLVE, "passed"),
    (TopicStep.DRAFT, ""),
    (TopicStep.OPINIONS, ""),
    (TopicStep.VOTE, "voting"),
    (TopicStep.PROPOSE, ""),
)
#: category → (the topic's title, the ballot's options, the resolution's actions as
#: (what, which kind of party, days)).
TOPICS: dict[str, tuple[str, tuple[str, ...], tuple[tuple[str, PartyKind, int], ...]]] = {
    "parking": (
        "{place}停车难：增设停车位、规范停车秩序",
        ("划设夜间临时停车位并错峰共享", "维持现状"),
        (
            ("施划临时停车位并设置标识", PartyKind.PROPERTY, 14),
            ("清理消防通道违停车辆", PartyKind.GOVERNMENT, 7),
        ),
    ),
    "environment": (
        "{place}垃圾清运与环境卫生整治",
        ("增加清运频次并设督导员", "调整垃圾桶位置", "维持现状"),
        (
            ("垃圾清运由每日一次增至两次", PartyKind.PROPERTY, 7),
            ("分类点安排志愿者督导", PartyKind.VOLUNTEER, 14),
        ),
    ),
    "property": (
        "{place}物业服务质量提升",
        ("物业限期整改并公开收支", "启动选聘新物业程序"),
        (
            ("物业公开年度收支并限期整改报修", PartyKind.PROPERTY, 30),
            ("业委会组织服务满意度测评", PartyKind.OWNERS_COMMITTEE, 30),
        ),
    ),
    "safety": (
        "{place}消防与安全隐患整治",
        ("建设集中充电棚并禁止楼道充电", "维持现状"),
        (
            ("建设电动自行车集中充电棚", PartyKind.PROPERTY, 30),
            ("排查楼道飞线充电", PartyKind.GRID_WORKER, 7),
        ),
    ),
    "facilities": (
        "{place}公共设施维修",
        ("统一维修并建立巡查制度", "先修最急的几处"),
        (
            ("维修路灯、路面和健身器材", PartyKind.PROPERTY, 14),
            ("每周巡查公共设施", PartyKind.GRID_WORKER, 30),
        ),
    ),
}
DEFAULT_TOPIC = (
    "{place}居民议事：{label}",
    ("同意方案", "不同意方案"),
    (("落实议事会决议", PartyKind.COMMUNITY, 14),),
)
ANSWERS = {
    "parking": "已转物业与城管，将统筹停车位规划，并加强违停劝导。",
    "environment": "已通知物业加强保洁和清运，社区将跟踪落实。",
    "property": "已约谈物业公司，要求限期整改并向业主公开情况。",
    "safety": "已安排网格员现场排查，隐患将限期整改。",
    "facilities": "已报修，维修完成后社区会回访。",
    "noise": "已联系相关单位，规范作息时间，请继续反映。",
}
DEFAULT_ANSWER = "感谢您的建议，社区已记录并将汇总研究后答复。"


class AlreadySeeded(ConflictError):
    """The database has the demo's suggestions and topics already."""


@dataclass
class Summary:
    suggestions: int = 0
    answered: int = 0
    groups: int = 0
    residents: int = 0
    topics: dict[TopicStep, int] = field(default_factory=lambda: dict.fromkeys(TopicStep, 0))
    meetings: int = 0
    votes: int = 0
    failed_quorum: int = 0
    cases: int = 0
    completed: int = 0  # of those cases, closed by the month's end
    topic_ids: list[str] = field(default_factory=list)


class _Clock:
    """The simulated time the service sees."""

    def __init__(self, at: datetime) -> None:
        self.at = at

    def __call__(self) -> datetime:
        return self.at


def month_before(events: Path, timezone: str, days: int = 30) -> datetime:
    """The start of the ``days`` before the file's simulated days (a JSON-lines file in
    time order, as ``cityeye simulate`` writes it): the seeding's events then all
    precede the replayed ones, none of which is late for the engine. The simulated
    days are the unbroken run of local days that ends with the file's last event; the
    history at the file's head (the enterprises' indicators of earlier months, on the
    1st of each) lies before them and is fed first by :func:`seed` (``history``), so
    the month need not be pushed back before it (issue 18: the demo's suggestions were
    dated three months before its cases). ``FieldError`` when the file has no event on
    its first line."""
    day = simulated_days(events, timezone)[0]
    midnight = datetime(day.year, day.month, day.day, tzinfo=ZoneInfo(timezone))
    return midnight - timedelta(days=days)


def simulated_days(events: Path, timezone: str) -> list[date]:
    """The local days of the file's unbroken run of days that ends with its last event
    (its simulated days, without the history at its head)."""
    zone = ZoneInfo(timezone)
    seen: set[date] = set()
    with events.open("rb") as stream:
        for n, line in enumerate(stream):
            if not line.strip():
                continue
            try:
                seen.add(decode_event(line).ts.astimezone(zone).date())
            except FieldError as exc:
                if n == 0:
                    raise FieldError(
                        "events", f"{events}: no event on its first line ({exc})"
                    ) from None
    if not seen:
        raise FieldError("events", f"{events}: no event in it")
    run = [max(seen)]
    while run[-1] - timedelta(days=1) in seen:
        run.append(run[-1] - timedelta(days=1))
    return sorted(run)


def history(events: Path, before: datetime) -> list[Event]:
    """The file's events before ``before`` (the history at its head): :func:`seed` feeds
    them first, so the engine meets them in time order; the replay then finds them
    stored and leaves them (duplicates)."""
    out = []
    with events.open("rb") as stream:
        for line in stream:
            if not line.strip():
                continue
            try:
                event = decode_event(line)
            except FieldError:
                continue
            if event.ts < before:
                out.append(event)
    return sorted(out, key=lambda e: e.ts)


def seeded(store: Store) -> dict[str, object] | None:
    """What the seeding recorded, if this database was seeded."""
    saved = store.load_engine_state(MARK)
    if saved is None:
        return None
    found: dict[str, object] = orjson.loads(saved[0])
    return found


def seed(
    pipeline: Intake,
    files: AttachmentStore,
    *,
    start: datetime,
    days: int = 30,
    seed: int = 2021,
    progress: Callable[[int, int], None] | None = None,
    earlier: Sequence[Event] = (),
) -> Summary:
    """Seed the month from ``start`` (aware) over ``days`` days; ``progress(done,
    total)`` as suggestions go in; ``earlier``: events from before ``start`` (the
    replayed file's history, :func:`history`) fed to the engine first.
    :class:`AlreadySeeded` on a second run; :class:`FieldError` when the district or
    the demo users are missing."""
    store, world = pipeline.store, pipeline.world
    if start.tzinfo is None:
        raise FieldError("start", "give the time zone (e.g. +08:00)")
    if days < 1:
        raise FieldError("days", "at least one day")
    done = seeded(store)
    if done is not None:
        raise AlreadySeeded(
            f"this database was seeded on {done.get('at')} "
            f"({done.get('suggestions')} suggestions, {done.get('topics')} topics); "
            "start from a fresh one to seed again"
        )
    street = next((a for a in world.at_level(AreaLevel.STREET) if a.name == BUSY_STREET), None)
    if street is None:
        raise FieldError("world", f"no {BUSY_STREET} in this district: load the demo district")
    admin = _user(store, "admin")
    handler = _user(store, "handler")
    if admin is None:
        raise FieldError("users", "no admin: run `cityeye user demo` first")
    if any(e.ts >= start for e in earlier):
        raise FieldError("earlier", f"events from before the month's start ({start}) only")
    if earlier:
        pipeline.ingest(list(earlier))
    clock = _Clock(start)
    # one snapshot of the grouper at the end instead of one every few suggestions
    service = Participation(pipeline, files, now=clock, snapshot_every=lambda: 1 << 30)
    rng = random.Random(seed)
    summary = Summary()

    # ---------------------------------------------------------------- suggestions
    month = list(simulate_suggestions(world, start, days=days, seed=seed))
    to_answer: list[tuple[datetime, str, str]] = []
    for n, sim in enumerate(month, start=1):
        clock.at = sim.at
        channel = Channel(sim.channel)
        made = service.suggest(
            text=sim.text,
            area=sim.area,
            channel=channel,
            author=handler.id if handler is not None and channel != Channel.PORTAL else None,
        )
        if rng.random() < ANSWERED_SHARE:
            later = sim.at + timedelta(hours=rng.uniform(4, 72))
            to_answer.append((later, made.id, made.category))
        if progress is not None and (n % 50 == 0 or n == len(month)):
            progress(n, len(month))
    service.save_grouper()
    summary.suggestions = len(month)
    end = start + timedelta(days=days)
    for at, suggestion_id, category in sorted(to_answer):
        clock.at = min(at, end - timedelta(minutes=1))
        service.answer(admin, suggestion_id, ANSWERS.get(category, DEFAULT_ANSWER))
        summary.answered += 1

    # ---------------------------------------------------------------- topics
    communities = {a.code: a for a in world.at_level(AreaLevel.COMMUNITY)}
    busy = {code for code, a in communities.items() if a.parent == street.code}
    busiest = Counter(sim.area for sim in month if sim.area in busy)
    chosen_areas = {code for code, _ in busiest.most_common(TOPIC_COMMUNITIES)}
    # every other street: its busiest community (most suggestions; ties: the first code)
    said = Counter(sim.area for sim in month if sim.area not in busy and sim.area in communities)
    elsewhere: dict[str, str] = {}
    for code, _ in sorted(said.items(), key=lambda kv: (-kv[1], kv[0])):
        elsewhere.setdefault(str(communities[code].parent), code)
    with service.lock:
        live = service.grouper().groups
        # the biggest groups, one per community and category (two topics about the same
        # car park would be one), those with a title of their own first
        biggest = sorted(
            (g for g in live.values() if service.community_of(g.area) in chosen_areas),
            key=lambda g: (g.category not in TOPICS, -g.count, g.id),
        )
        seen: set[tuple[str, str]] = set()
        distinct = []
        for g in biggest:
            if (g.area, g.category) not in seen:
                seen.add((g.area, g.category))
                distinct.append(g)
        summary.groups = len(live)
        chosen = [(g.id, list(g.members), g.category, g.top_terms()) for g in distinct]
        others = []
        for _, code in sorted(elsewhere.items()):
            mine = [g for g in live.values() if service.community_of(g.area) == code]
            top = min(mine, key=lambda g: (g.category not in TOPICS, -g.count, g.id))
            others.append((top.id, list(top.members), top.category, top.top_terms()))
    if not chosen:
        raise FieldError("suggestions", f"no suggestions in {BUSY_STREET}: seed more days")
    span = end - start
    residents: dict[str, list[User]] = {}
    plans = [
        (chosen[i % len(chosen)], step, outcome, 0.25 + 0.04 * i)
        for i, (step, outcome) in enumerate(PLAN)
    ]
    # after 小河's: a resolution's cases go into the engine as they are made, so each
    # must come after the ones before it in time (none late)
    plans += [
        (picked, *OTHER_PLAN[j % len(OTHER_PLAN)], 0.36 + 0.03 * j)
        for j, picked in enumerate(others)
    ]
    for (group_id, members, category, terms), step, outcome, begin in plans:
        community = service.community_of(live[group_id].area)
        # residents speak from 广开言路 on (a password hash costs ~0.15 s each)
        if community not in residents and step.order >= TopicStep.OPINIONS.order:
            residents[community] = _residents(store, world, community, rng)
            summary.residents += len(residents[community])
        t0 = start + span * begin
        topic_id = _deliberate(
            service,
            admin,
            residents.get(community, []),
            summary,
            rng,
            clock,
            members=members,
            category=category,
            terms=terms,
            community=communities[community].name,
            step=step,
            outcome=outcome,
            t0=t0,
            dt=span * 0.05,
            end=end,
        )
        summary.topics[step] += 1
        summary.topic_ids.append(topic_id)
    summary.completed = _work_on(pipeline, summary.topic_ids, end)
    # the engine holds events for its lateness: move its clock to the month's end (still
    # before the replayed events) so the actions' reports open their cases now
    pipeline.tick(end)
    store.save_engine_state(
        MARK,
        orjson.dumps(
            {
                "at": datetime.now(UTC).isoformat(timespec="seconds"),
                "suggestions": summary.suggestions,
                "topics": len(summary.topic_ids),
                "seed": seed,
            }
        ),
        0,
        datetime.now(UTC),
    )
    return summary


def _work_on(pipeline: Intake, topic_ids: list[str], end: datetime) -> int:
    """The parties at work on the resolutions' cases by the month's end, as the desk
    would record it (``case.action`` events by scenario and key): every action accepted,
    those of the first resolution done, verified and closed. How many were closed."""
    resolutions = [r for r in (db.get_resolution(pipeline.store, t) for t in topic_ids) if r]
    if not resolutions:
        return 0
    last = max(r.at for r in resolutions)
    room = end - last
    events: list[Event] = []

    def act(case_key: str, n: int, after: float, action: str, **attrs: str) -> None:
        events.append(
            Event(
                id=f"{case_key.split('/', 1)[1]}-{n}",
                kind="case.action",
                ts=last + room * after,
                source="desk",
                attrs={"scenario": REPORT_SCENARIO, "key": case_key, "action": action} | attrs,
            )
        )

    closed = 0
    for i, resolution in enumerate(sorted(resolutions, key=lambda r: r.at)):
        for a in resolution.actions:
            act(a.case_key, 1, 0.05 + 0.01 * a.n, "accept")
            if i == 0:
                act(a.case_key, 2, 0.5 + 0.01 * a.n, "handle", note="已按决议完成")
                act(a.case_key, 3, 0.6 + 0.01 * a.n, "verify", role="verifier")
                act(a.case_key, 4, 0.65 + 0.01 * a.n, "close")
                closed += 1
    pipeline.ingest(sorted(events, key=lambda e: e.ts))
    return closed


def _user(store: Store, username: str) -> User | None:
    found = user_with_hash(store, username)
    return found[0] if found is not None else None


def _residents(store: Store, world: World, community: str, rng: random.Random) -> list[User]:
    """Verified residents of ``community``, each at home in one of its grids."""
    grids = sorted(a.code for a in world.at_level(AreaLevel.GRID) if a.parent == community) or [
        community
    ]
    known = {u.username: u for u in list_users(store)}
    out = []
    for k in range(1, RESIDENTS_PER_COMMUNITY + 1):
        username = f"r{community}-{k}"
        if username in known:
            out.append(known[username])
            continue
        out.append(
            create_user(
                store,
                world,
                username=username,
                password=secrets.token_urlsafe(12),
                role=UserRole.RESIDENT,
                display_name=f"居民{rng.choice('张王李赵刘陈杨黄周吴')}{k}",
                areas=(grids[(k - 1) % len(grids)],),
            )
        )
    return out


def _party(world: World, community: str, kind: PartyKind) -> str:
    """A party of ``kind`` serving ``community`` (else its residents' committee)."""
    serving = sorted(
        (p for p in world.parties.values() if p.kind == kind),
        key=lambda p: p.id,
    )
    for p in serving:
        if any(world.within(a, community) or world.within(community, a) for a in p.areas):
            return p.id
    for p in sorted(world.parties.values(), key=lambda p: p.id):
        if p.kind == PartyKind.COMMUNITY and community in p.areas:
            return p.id
    return serving[0].id if serving else next(iter(sorted(world.parties)))


def _deliberate(
    service: Participation,
    admin: User,
    residents: list[User],
    summary: Summary,
    rng: random.Random,
    clock: _Clock,
    *,
    members: list[str],
    category: str,
    terms: tuple[str, ...],
    community: str,
    step: TopicStep,
    outcome: str,
    t0: datetime,
    dt: timedelta,
    end: datetime,
) -> str:
    """One topic from a group of suggestions, taken up to ``step``; its id."""
    title, options, actions = TOPICS.get(category, DEFAULT_TOPIC)
    # what the group says, in a resident's words (its title on the council page), not
    # its keywords: "不敢 · 南门 · 黑乎乎" read as nothing in a minute or an agenda
    texts = [
        found.text for found in (db.get_suggestion(service.store, m) for m in members) if found
    ]
    tools = text_tools()
    label = tools.headline(tools.representative(texts), TOPIC_LABEL) or " · ".join(terms)
    known = tools.CATEGORIES_BY_CODE.get(category)
    clock.at = t0
    topic = service.to_topic(admin, members[0], title=title.format(place=community, label=label))
    for other in members[1:]:
        service.to_topic(admin, other, topic_id=topic.id)
    order = step.order
    where = f"{community}党群服务中心"
    people = [
        (ParticipantRole.COMMUNITY, f"{community}书记"),
        (ParticipantRole.PROPERTY, "物业项目经理"),
        (ParticipantRole.OWNERS_COMMITTEE, "业委会主任"),
    ]
    if order >= TopicStep.OPINIONS.order:
        clock.at = t0 + dt
        service.advance(admin, topic.id, f"{len(members)} 条社情民意（{label}），广泛征求意见")
        meeting = service.add_meeting(
            admin,
            topic.id,
            MeetingMode.ONLINE,
            clock.at + dt * 0.3,
            agenda=[f"听取居民对“{label}”的意见"],
        )
        summary.meetings += 1
        speakers = residents[:3]
        for who in speakers:
            service.add_participant(
                admin, meeting.id, ParticipantRole.RESIDENT, username=who.username
            )
        service.add_participant(admin, meeting.id, ParticipantRole.COMMUNITY, name=people[0][1])
        clock.at = meeting.at
        said = (
            f"{(known.zh if known else '这个问题')}已经反映很久了，希望这次能定下来。",
            "建议先摸清情况，再拿出两三个方案给大家选。",
            "同意，也要听听物业和业委会的意见。",
        )
        for who, text in zip(speakers, said, strict=False):
            service.sign_in(who, meeting.id)
            clock.at += timedelta(minutes=rng.randint(2, 9))
            service.speak(who, meeting.id, text)
        service.set_minutes(
            admin, meeting.id, f"线上征求意见：居民普遍反映“{label}”，建议提交民主协商。"
        )
    if order >= TopicStep.CONSULT.order:
        clock.at = t0 + dt * 2
        service.advance(admin, topic.id, "意见汇总完毕，进入民主协商")
        meeting = service.add_meeting(
            admin,
            topic.id,
            MeetingMode.OFFLINE,
            clock.at + dt * 0.3,
            place=where,
            agenda=["通报居民意见", "各方协商解决办法"],
        )
        summary.meetings += 1
        for role, name in people:
            service.add_participant(admin, meeting.id, role, name=name)
        service.add_participant(admin, meeting.id, ParticipantRole.DEPARTMENT, name="街道城管科")
        for who in residents[2:4]:
            service.add_participant(
                admin, meeting.id, ParticipantRole.RESIDENT, username=who.username
            )
        clock.at = meeting.at
        service.set_minutes(
            admin,
            meeting.id,
            f"居民代表、物业、业委会、社区和街道城管科围绕“{label}”协商，形成初步方案：{options[0]}。",
        )
        service.add_decision(admin, meeting.id, f"拟订方案：{options[0]}")
        service.add_decision(admin, meeting.id, "方案交居民表决")
    if order >= TopicStep.DRAFT.order:
        clock.at = t0 + dt * 3
        service.advance(admin, topic.id, "协商一致，拟订方案")
        closes = end + timedelta(days=7) if outcome == "voting" else None
        service.put_ballot(admin, topic.id, options, closes_at=closes)
    if order >= TopicStep.VOTE.order:
        clock.at = t0 + dt * 4
        service.advance(admin, topic.id, "方案公示，居民表决")
        if outcome == "failed":
            voters = residents[:2]  # 2 of 4: below two thirds
        elif outcome == "voting":
            voters = residents[:2]
        else:
            voters = residents[: len(residents) - rng.randint(0, 1)]
        for k, who in enumerate(voters):
            clock.at += timedelta(hours=rng.uniform(1, 10))
            # all but the last for the plan; the last as they like
            last = k == len(voters) - 1
            choice = options[-1] if last and rng.random() < 0.5 else options[0]
            service.vote(who, topic.id, choice)
            summary.votes += 1
        if outcome in ("failed", "passed"):
            clock.at = t0 + dt * 5
            service.close_ballot(admin, topic.id)
            tally = service.tally_of(topic, db.get_ballot(service.store, topic.id))
            if tally is not None and not tally.quorum_met:
                summary.failed_quorum += 1
    if order >= TopicStep.RESOLVE.order:
        clock.at = t0 + dt * 5 + timedelta(hours=2)
        service.advance(admin, topic.id, "表决通过，形成决议")
        clock.at += timedelta(hours=1)
        community_code = topic.area
        wanted = [
            WantedAction(what, _party(service.world, community_code, kind), days)
            for what, kind, days in actions
        ]
        service.resolve(admin, topic.id, f"经居民表决通过：{options[0]}。", wanted)
        summary.cases += len(wanted)
    return topic.id
