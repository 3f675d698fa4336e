"""The case book: alerts become cases, cases find their handlers, deadlines escalate.

Everything runs on the event-time clock the engine gives it, so a replayed month gives
the same cases, escalations and KPIs every time.

* **Opening.** An alert opens a case, or joins the open case of the same (scenario, key)
  — "the same e-bike in the same lift" stays one case. Each resident or hotline report
  (the ``citizen.report`` scenario keys every report apart) is its own case.
* **Upgrades.** A severity upgrade of the alert raises the case's severity and restarts
  the clock of the current stage at the tighter deadline.
* **Record only.** A severity a scenario lists in ``record_only`` is recorded, stored,
  shown and counted but opens no case (the lift blocks the e-bike itself; the seeds
  count blocks, 000). If that alert is later upgraded to a severity not listed, its
  case opens at the upgrade, with deadlines from then.
* **Scenario deadlines.** A scenario's own ``sla:`` (per stage) replaces its
  severity's limits for its cases: a trapped lift gets 30 min to arrive.
* **Self-resolved.** An alert that resolves while its case is still waiting for dispatch
  closes the case as self-resolved (counted apart from handled cases).
* **Routing.** With ``auto_dispatch``, a new case goes straight to the party that
  :func:`~cityeye.cases.routing.route` picks; without a party it waits for a dispatcher.
* **Escalation.** A missed deadline escalates one level up the area hierarchy; a second
  miss of the same stage goes up again.
"""

from __future__ import annotations

import heapq
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from cityeye.cases.lifecycle import (
    DEFAULT_ROLE,
    SUPERVISION,
    Action,
    Actor,
    Note,
    Record,
    Role,
    apply,
    check_note,
    check_supervision,
    parse_move,
)
from cityeye.cases.notify import Notification, Notifier, reporter_text
from cityeye.cases.quality import MAINTENANCE_SCENARIO as MAINTENANCE
from cityeye.cases.quality import device_owner
from cityeye.cases.routing import escalation_target, plan, route
from cityeye.cases.sla import Stage, handle_limit, next_limit, sla_for, stage_of
from cityeye.domain import (
    DEVICE_KINDS,
    Alert,
    Case,
    CaseOrigin,
    CaseState,
    FieldError,
    PartyKind,
    Severity,
    TimelineEntry,
    World,
    parse_ts,
)
from cityeye.domain.dates import iso_utc
from cityeye.domain.scenario import REPORT_SCENARIO
from cityeye.scenarios.spec import LoadedScenario

SYSTEM = Actor("system", Role.SYSTEM)


@dataclass(slots=True)
class Escalation:
    at: datetime
    stage: Stage
    overdue_s: float
    to: str | None


@dataclass(slots=True)
class Tracking:
    """What the book keeps beside a case: its clock and its escalations."""

    clock_start: datetime
    alert_ids: list[str] = field(default_factory=list)
    stage: Stage | None = None
    deadline: datetime | None = None
    escalations: list[Escalation] = field(default_factory=list)
    served: tuple[str, ...] = ()  # areas of whoever is answerable now
    kind: PartyKind | None = None  # the kind of party the case was routed to


class CaseBook:
    """All cases of a district, kept on event time."""

    def __init__(
        self,
        world: World,
        routes: Mapping[str, PartyKind],
        *,
        sla: dict[Severity, dict[Stage, int]] | None = None,
        auto_dispatch: bool = True,
        notifier: Notifier | None = None,
        id_prefix: str = "C",
        names: Mapping[str, str] | None = None,
        record_only: Mapping[str, Iterable[Severity]] | None = None,
        scenario_sla: Mapping[str, Mapping[str, int]] | None = None,
    ) -> None:
        """``id_prefix``: case ids are the prefix and a running number; books that
        run side by side (one per bus partition) each get their own prefix.
        ``record_only``: scenario id → severities that open no case; ``scenario_sla``:
        scenario id → its own limits (seconds per stage name), in place of the
        severity's (:meth:`for_scenarios` reads both from the scenario files)."""
        self.world = world
        self.id_prefix = id_prefix
        self.names = dict(names or {})  # scenario id → the name people read (for titles)
        self.routes = dict(routes)
        self.sla = sla or sla_for(world.sla)
        self.record_only = {k: frozenset(v) for k, v in (record_only or {}).items() if v}
        # the scenario's limits for every severity, so the book asks one table per case
        self.scenario_sla: dict[str, dict[Severity, dict[Stage, int]]] = {
            scenario: {level: {Stage(k): int(v) for k, v in limits.items()} for level in Severity}
            for scenario, limits in (scenario_sla or {}).items()
        }
        self.auto_dispatch = auto_dispatch
        self.notifier = notifier
        self.cases: dict[str, Case] = {}
        self.tracking: dict[str, Tracking] = {}
        self._open: dict[tuple[str, str], str] = {}
        self._latest: dict[tuple[str, str], str] = {}
        self._deadlines: list[tuple[datetime, str]] = []
        self._load: Counter[str] = Counter()
        self.clock: datetime | None = None  # the latest event time the book has seen
        self._touched: dict[str, None] = {}  # cases changed since take_touched()
        #: (scenario, key) → id of its open alert that is recorded only (no case yet)
        self._recorded: dict[tuple[str, str], str] = {}

    @classmethod
    def for_scenarios(
        cls, world: World, scenarios: Sequence[LoadedScenario], **options: Any
    ) -> CaseBook:
        """A book for these scenarios: their routes, names, record-only severities and
        own deadlines, as the scenario files give them."""
        return cls(
            world,
            {s.id: s.config.route for s in scenarios},
            names={s.id: s.config.name.zh for s in scenarios},
            record_only={s.id: s.config.record_only for s in scenarios},
            scenario_sla={s.id: own for s in scenarios if (own := s.config.own_sla()) is not None},
            **options,
        )

    def limits(self, case: Case) -> dict[Severity, dict[Stage, int]]:
        """The deadlines that apply to ``case``: its scenario's own, else the book's
        per severity."""
        return self.scenario_sla.get(case.scenario or "", self.sla)

    def dispatches(self, alert: Alert) -> bool:
        """Whether an alert at its present severity becomes (or joins) a case."""
        return alert.severity not in self.record_only.get(alert.scenario, ())

    # ------------------------------------------------------------------ alerts
    def on_alert(
        self,
        kind: str,
        alert: Alert,
        at: datetime,
        reporter: str | None = None,
        subject: str | None = None,
    ) -> Case | None:
        """Take an alert change from the engine; returns the case it touched.
        ``reporter`` is who reported it (a resident's report), to be told the outcome;
        ``subject`` what it is about in their words (the title of a new case)."""
        self.advance(at)
        key = (alert.scenario, alert.key)
        if not self.dispatches(alert):
            # recorded, stored and counted where alerts are; no case (record_only)
            if kind == "resolved":
                self._recorded.pop(key, None)
            else:
                self._recorded[key] = alert.id
            return None
        case_id = self._open.get(key)
        case = self.cases.get(case_id) if case_id else None
        if kind == "updated" and self._recorded.get(key) == alert.id:
            # upgraded past its record-only severity: dispatched from now
            del self._recorded[key]
            kind = "opened"
            if case is None:
                case = self._open_case(alert, at, subject, start=at)
                case.reporter = reporter
                return case
        elif kind == "resolved":
            self._recorded.pop(key, None)
        if kind == "opened":
            if case is None:
                case = self._open_case(alert, at, subject)
                case.reporter = reporter
                return case
            self._track(case).alert_ids.append(alert.id)
            self._note(case, at, Record.ALERT_JOINED, f"预警 {alert.id} 并入")
            return case
        if case is None:
            return None
        if kind == "updated" and alert.severity.rank > case.severity.rank:
            case.severity = alert.severity
            track = self._track(case)
            track.clock_start = at
            case.due_at = min(filter(None, (case.due_at, self._handle_deadline(case, at))))
            self._note(case, at, Record.PRIORITY_RAISED, f"预警升级为 {alert.severity.value}")
            self._schedule(case, tighter_only=True)
        elif kind == "resolved" and case.state == CaseState.REPORTED:
            self.act(case, Action.SELF_RESOLVE, SYSTEM, at, "预警已消警，派遣前自动结案")
        return case

    def _what(self, alert: Alert) -> str:
        """What an alert is about, as a person reads it: a registered person's, a
        venue's or a building's name, a device's kind and place — never an internal id
        when the world says more (an SOS case read "一键呼救 · S1")."""
        world, key = self.world, alert.key
        subject = world.subjects.get(key)
        if subject is not None:
            return subject.name or "登记居民"
        venue = world.venues.get(key)
        if venue is not None:
            return venue.name or "登记场所"
        building = world.buildings.get(key)  # a world file that names its buildings
        if building is not None:
            return building.name or "登记楼宇"
        device = world.devices.get(key)
        if device is not None:
            kind = DEVICE_KINDS.get(device.kind)
            area = world.areas.get(device.area) if device.area else None
            return "".join(filter(None, (area.name if area else None, kind.zh if kind else "设备")))
        return key

    def _open_case(
        self,
        alert: Alert,
        at: datetime,
        subject: str | None = None,
        *,
        start: datetime | None = None,
    ) -> Case:
        """``start``: when the case's clock starts, if not when the alert opened (an
        alert that was recorded only until an upgrade made it a case)."""
        start = start or alert.opened_at
        case_id = f"{self.id_prefix}{len(self.cases) + 1:06d}"
        origin = CaseOrigin.CITIZEN if alert.scenario == REPORT_SCENARIO else CaseOrigin.ALERT
        what = self._what(alert)
        case = Case(
            id=case_id,
            origin=origin,
            state=CaseState.REPORTED,
            severity=alert.severity,
            opened_at=start,
            title=f"{self.names.get(alert.scenario, alert.scenario)} · {subject or what}",
            scenario=alert.scenario,
            key=alert.key,
            area=alert.area,
        )
        case.due_at = self._handle_deadline(case, start)
        self.cases[case_id] = case
        self.tracking[case_id] = Tracking(clock_start=start, alert_ids=[alert.id])
        if alert.scenario != REPORT_SCENARIO:
            self._open[(alert.scenario, alert.key)] = case_id
        self._latest[(alert.scenario, alert.key)] = case_id
        self._note(case, at, Record.OPEN, f"由预警 {alert.id} 生成")
        if start != alert.opened_at:
            note = f"预警升级为{alert.severity.zh}，此前仅记录、未派遣"
            self._note(case, at, Record.PRIORITY_RAISED, note)
        if alert.reported_at is not None:
            # raise_late: deadlines run from arrival (opened_at); when it happened stays
            local = alert.reported_at.astimezone(ZoneInfo(self.world.timezone))
            note = f"事发于 {local:%Y-%m-%d %H:%M}，迟到补报，时限自收到起算"
            self._note(case, at, Record.REPORTED_LATE, note)
        self._schedule(case)
        how = plan(self.world, alert.scenario, case.area, self.routes.get(alert.scenario))
        self.tracking[case_id].kind = how.kind
        if not self.auto_dispatch:
            return case
        owner = device_owner(self.world, alert.key) if alert.scenario == MAINTENANCE else None
        if owner is not None:  # a device's repair goes to whoever owns it (issue 20)
            lead = self.world.parties.get(owner)
        elif how.party is not None:
            lead = self.world.parties.get(how.party)
        else:
            lead = route(self.world, how.kind, case.area, self._load) if how.kind else None
        if lead is not None:
            self.dispatch(case, lead.id, SYSTEM, at)
        for co_kind in how.co_handlers:
            co = route(self.world, co_kind, case.area, self._load)
            if co is not None and co.id != case.lead and co.id not in case.co_handlers:
                self.add_co_handler(case, co.id)
                self._note(case, at, Note.CO_HANDLE, f"协办 {co.name}（派遣规则）")
        return case

    # ------------------------------------------------------------------ actions
    def dispatch(self, case: Case, party_id: str, actor: Actor, at: datetime) -> None:
        """Assign the lead (主办) and move the case to dispatched."""
        party = self.world.parties.get(party_id)
        self.act(case, Action.DISPATCH, actor, at, f"派给 {party.name if party else party_id}")
        if case.lead:
            self._load[case.lead] -= 1
        case.lead = party_id
        self._load[party_id] += 1
        self._track(case).served = party.areas if party else ()

    def add_co_handler(self, case: Case, party_id: str) -> None:
        """A co-handler (协办) joins the case."""
        if party_id != case.lead and party_id not in case.co_handlers:
            case.co_handlers.append(party_id)

    def act(
        self,
        case: Case,
        action: Action,
        actor: Actor,
        at: datetime,
        note: str = "",
        attachments: tuple[str, ...] = (),
    ) -> None:
        """One lifecycle move (see :mod:`cityeye.cases.lifecycle`), then the deadline of
        the stage the case is now in."""
        self.advance(at)
        apply(case, action, actor, at, note, attachments)
        self._touched[case.id] = None
        self._tell_reporter(case, at, note)
        if case.state.terminal or case.state in (CaseState.HANDLED, CaseState.VERIFIED):
            if case.lead and case.state.terminal:
                self._load[case.lead] -= 1
            if case.state.terminal and case.scenario and case.key:
                self._open.pop((case.scenario, case.key), None)
        if case.state == CaseState.REOPENED and case.scenario and case.key:
            self._open[(case.scenario, case.key)] = case.id
        self._schedule(case)

    def scripted(self, attrs: Mapping[str, Any], at: datetime) -> Case:
        """Apply a ``case.action`` event (``attrs``: scenario, key — or case —, action,
        party, note, photos, role). Raises ``FieldError`` for a bad script and
        ``TransitionError`` for a move the lifecycle refuses; nothing changes then."""
        raw_action = attrs.get("action")
        case_id = attrs.get("case")
        if case_id is not None:
            case = self.cases.get(str(case_id))
            if case is None:
                raise FieldError("attrs.case", f"no case {case_id!r}")
        else:
            scenario, key = attrs.get("scenario"), attrs.get("key")
            if not isinstance(scenario, str) or not isinstance(key, str):
                raise FieldError("attrs.key", "give case, or scenario and key")
            latest = self._latest.get((scenario, key))
            if latest is None:
                raise FieldError("attrs.key", f"no case for {scenario} / {key}")
            case = self.cases[latest]  # the newest, open or not (a closed one may reopen)
            opened = attrs.get("opened")
            if opened is not None:
                case = self._opened_at(scenario, key, opened, case)
        expected = attrs.get("if_version")
        if expected is not None and expected != self.version(case):
            # two people acted on what they saw: the second change would overwrite the
            # first one unseen, so it is refused (the desk answers 409 with the case)
            raise FieldError(
                "if_version",
                f"case {case.id} is at version {self.version(case)}, not {expected!r}; "
                "reload it and decide again",
            )
        party = attrs.get("party")
        if party is not None and party not in self.world.parties:
            raise FieldError("attrs.party", f"unknown party {party!r}")
        try:
            move = parse_move(str(raw_action))
        except ValueError as exc:
            raise FieldError("attrs.action", str(exc)) from None
        if move in SUPERVISION:
            # 督办 / 催办: a leader's note, recorded under their name, moving nothing
            assert isinstance(move, Note)
            note = str(attrs.get("note") or "").strip()
            check_supervision(case, move, note, at)
            who = str(attrs.get("actor") or Role.LEADER.value)
            if move == Note.SUPERVISE:
                self._note(case, at, Note.SUPERVISE, note, who)
            else:
                self._note(case, at, Note.URGE, note, who)
            return case
        if isinstance(move, Note):
            check_note(case, move)  # the lifecycle says where a note may go
        if move == Note.RATE:
            rating = attrs.get("rating")
            if not isinstance(rating, int) or isinstance(rating, bool) or not 1 <= rating <= 5:
                raise FieldError("attrs.rating", f"{rating!r} is not a whole number 1..5")
            if case.rating is not None:
                raise FieldError("attrs.rating", f"case {case.id} has been rated already")
            case.rating = rating
            comment = str(attrs.get("note") or "").strip()
            self._note(
                case, at, Note.RATE, f"居民评价 {rating} 星" + (f"：{comment}" if comment else "")
            )
            return case
        if move == Note.PROGRESS:
            # 进展: words or a photo on the way, without moving the case (the desk's
            # "progress note"); versioned like every change, so If-Match still holds
            photos = attrs.get("photos") or ()
            attachments = tuple(str(p) for p in photos) if isinstance(photos, list) else ()
            note = str(attrs.get("note") or "").strip()
            if not note and not attachments:
                raise FieldError("attrs.note", "a progress note needs words or a photo")
            who = str(party or attrs.get("actor") or "system")
            self._note(case, at, Note.PROGRESS, note, who, attachments)
            return case
        if move == Note.CO_HANDLE:
            if party is None:
                raise FieldError("attrs.party", "co_handle needs the party")
            self.add_co_handler(case, str(party))
            self._note(case, at, Note.CO_HANDLE, f"协办 {party}")
            return case
        assert isinstance(move, Action)
        action = move
        try:
            role = Role(attrs.get("role") or DEFAULT_ROLE[action])
        except ValueError:
            raise FieldError("attrs.role", f"{attrs.get('role')!r} is not a role") from None
        photos = attrs.get("photos") or ()
        attachments = tuple(str(p) for p in photos) if isinstance(photos, list) else ()
        note = str(attrs.get("note") or "")
        if action == Action.DISPATCH:
            if party is None:
                raise FieldError("attrs.party", "dispatch needs the party")
            self.dispatch(case, str(party), Actor(str(attrs.get("actor") or role.value), role), at)
            return case
        if role == Role.HANDLER and party is not None:
            self.add_co_handler(case, str(party))  # a party that acts takes part
        self.act(case, action, Actor(str(party or role.value), role), at, note, attachments)
        return case

    def _opened_at(self, scenario: str, key: str, opened: object, newest: Case) -> Case:
        """The case of (scenario, key) opened at ``opened`` (ISO time): how a script
        names a case without its number, which depends on every case opened before it
        (a live demo where people report while a simulated day is replayed)."""
        try:
            when = parse_ts(opened, "attrs.opened")
        except FieldError:
            raise FieldError("attrs.opened", f"{opened!r} is not an ISO time") from None
        if newest.opened_at == when:
            return newest  # nearly always: the newest case of the key
        for case in self.cases.values():
            if case.scenario == scenario and case.key == key and case.opened_at == when:
                return case
        raise FieldError("attrs.opened", f"no case for {scenario} / {key} opened at {opened}")

    def _tell_reporter(self, case: Case, at: datetime, note: str) -> None:
        """反馈: the reporter hears when the problem was handled and when the case is
        closed (and may rate it)."""
        if self.notifier is None or case.reporter is None:
            return
        text = reporter_text(case.id, case.state, note)
        if text is None:
            return
        self.notifier.send(Notification(case.id, case.reporter, case.state.value, text, at))

    # ------------------------------------------------------------------ clock
    def advance(self, now: datetime) -> None:
        """Escalate every case whose deadline passed before ``now``."""
        if self.clock is None or now > self.clock:
            self.clock = now
        while self._deadlines and self._deadlines[0][0] < now:
            deadline, case_id = heapq.heappop(self._deadlines)
            case = self.cases[case_id]
            track = self._track(case)
            if track.deadline != deadline:
                continue  # moved since: a stage was done or the clock restarted
            self._escalate(case, deadline)

    def _escalate(self, case: Case, deadline: datetime) -> None:
        track = self._track(case)
        assert track.stage is not None
        kind = track.kind or PartyKind.GRID_WORKER
        target = escalation_target(self.world, kind, track.served, case.area)
        limit = self.limits(case).get(case.severity, {}).get(track.stage, 0)
        overdue = (deadline - track.clock_start).total_seconds() - limit
        track.escalations.append(
            Escalation(deadline, track.stage, overdue, target.id if target else None)
        )
        note = f"{track.stage.value} 超时，升级至 {target.name if target else '上级'}"
        apply(case, Action.ESCALATE, SYSTEM, max(deadline, case.timeline[-1].at), note)
        self._touched[case.id] = None
        if target is None:
            # nobody above: the top has been told; the case stays overdue (the cockpit
            # shows by how much) rather than escalating into the void every hour
            track.deadline = None
            return
        track.served = target.areas
        # the next miss of the same stage, one limit later, goes up again
        track.clock_start = deadline
        track.deadline = deadline + timedelta(seconds=limit)
        heapq.heappush(self._deadlines, (track.deadline, case.id))

    def _schedule(self, case: Case, *, tighter_only: bool = False) -> None:
        track = self._track(case)
        state = case.state
        if state == CaseState.ESCALATED:  # work goes on in the stage it was in
            state = next(
                (
                    e.from_state
                    for e in reversed(case.timeline)
                    if e.from_state is not None and e.from_state != CaseState.ESCALATED
                ),
                CaseState.REPORTED,
            )
        stage_limit = next_limit(self.limits(case), case.severity, stage_of(state))
        if stage_limit is None:
            track.stage, track.deadline = None, None
            return
        stage, limit = stage_limit
        deadline = track.clock_start + timedelta(seconds=limit)
        if tighter_only and track.deadline is not None and track.stage == stage:
            deadline = min(deadline, track.deadline)
        if track.stage == stage and track.deadline == deadline:
            return
        track.stage, track.deadline = stage, deadline
        heapq.heappush(self._deadlines, (deadline, case.id))

    def _handle_deadline(self, case: Case, start: datetime) -> datetime:
        """When a case of this severity, with its clock started at ``start``, must be
        handled (its last limit; 72 h for a severity with no limits)."""
        return start + timedelta(seconds=handle_limit(self.limits(case), case.severity))

    # ------------------------------------------------------------------ helpers
    def _track(self, case: Case) -> Tracking:
        return self.tracking[case.id]

    def _note(
        self,
        case: Case,
        at: datetime,
        action: Note | Record,
        note: str,
        actor: str = "system",
        attachments: tuple[str, ...] = (),
    ) -> None:
        """A timeline line that changes no state (an alert joined, a priority raised, a
        handler's progress note)."""
        when = max(at, case.timeline[-1].at) if case.timeline else at
        entry = TimelineEntry(when, actor, action.value, case.state, case.state, note, attachments)
        case.timeline.append(entry)
        self._touched[case.id] = None

    @staticmethod
    def version(case: Case) -> int:
        """The case's version (:attr:`Case.version`)."""
        return case.version

    @property
    def touched_count(self) -> int:
        """How many cases changed since :meth:`take_touched`."""
        return len(self._touched)

    def touched_ids(self) -> list[str]:
        """The ids of the cases changed since :meth:`take_touched` (left in place)."""
        return list(self._touched)

    def take_touched(self) -> list[Case]:
        """The cases changed since the last call, in the order first touched. Every
        change adds a timeline line, so this is what a store has to bring up to date."""
        touched = [self.cases[case_id] for case_id in self._touched]
        self._touched = {}
        return touched

    # ------------------------------------------------------------------ snapshot
    _STATE = ("cases", "tracking", "_open", "_latest", "_deadlines", "_load", "clock", "_recorded")

    def state(self) -> dict[str, Any]:
        """What a restart needs back (the world, routes, deadlines and notifier come
        from configuration, not from the snapshot)."""
        return {name: getattr(self, name) for name in self._STATE} | {"prefix": self.id_prefix}

    def load_state(self, state: Mapping[str, Any]) -> None:
        if state.get("prefix") != self.id_prefix:
            raise ValueError(f"snapshot is of book {state.get('prefix')!r}, not {self.id_prefix!r}")
        for name in self._STATE:
            # a snapshot from before record_only has no recorded alerts
            setattr(self, name, state[name] if name != "_recorded" else state.get(name, {}))
        self._touched = {}

    def overdue(self, now: datetime) -> list[tuple[Case, timedelta]]:
        """Open cases past their current deadline, most overdue first."""
        out = [
            (case, now - track.deadline)
            for case_id, track in self.tracking.items()
            if track.deadline is not None
            and track.deadline < now
            and not (case := self.cases[case_id]).state.terminal
        ]
        return sorted(out, key=lambda pair: -pair[1])

    def overdue_s(self, case: Case) -> float:
        """How long past its handling deadline the case was closed, or is now (by the
        book's clock) if still open; 0 if within it."""
        end = case.closed_at if case.state.terminal else self.clock
        if case.due_at is None or end is None:
            return 0.0
        return max(0.0, (end - case.due_at).total_seconds())

    def to_json(self, case: Case) -> dict[str, Any]:
        """One line of ``cases.jsonl``."""
        track = self._track(case)
        return {
            "id": case.id,
            "origin": case.origin.value,
            "scenario": case.scenario,
            "key": case.key,
            "area": case.area,
            "severity": case.severity.value,
            "lead": case.lead,
            "co_handlers": case.co_handlers,
            "alerts": track.alert_ids,
            "states": [
                {
                    "at": iso_utc(e.at),
                    "action": e.action,
                    "to": e.to_state.value if e.to_state else None,
                    "actor": e.actor,
                }
                for e in case.timeline
                if e.from_state != e.to_state or e.action == Record.OPEN
            ],
            "escalations": [
                {"at": iso_utc(x.at), "stage": x.stage.value, "to": x.to} for x in track.escalations
            ],
            "final_state": case.state.value,
            "due_at": iso_utc(case.due_at),
            "overdue_s": self.overdue_s(case),
            "closed_at": iso_utc(case.closed_at),
            "rating": case.rating,
        }
