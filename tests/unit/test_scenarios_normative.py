"""The normative scenarios, held to SCENARIOS.md line by line, edges included.

Times are minutes after T0 (2026-10-01 10:00 +08:00) unless a test says otherwise.
"""

from __future__ import annotations

from datetime import timedelta

import pytest

from cityeye.domain import Severity
from kit import T0, at, default_world, ev, only, run

H = 60  # minutes in an hour


# ----------------------------------------------------------------- elderly.inactive
class TestElderlyInactive:
    S = ("elderly.inactive",)

    def test_24h_without_sign_of_life_fires_high_then_critical_at_48h(self) -> None:
        events = [ev("door.open", 0, device="DS1"), ev("door.open", 0, device="DS2")]
        events += [ev("door.open", m, device="DS2") for m in range(60, 49 * H, 12 * H)]
        events.append(ev("motion.detected", 50 * H, device="DS2"))  # keeps the clock going
        [alert] = run(events, self.S)
        assert alert.key == "S1"
        assert alert.opened_at == at(24 * H)
        assert alert.severity == Severity.CRITICAL  # reached 48 h before the stream ended
        assert alert.resolved_at is None
        assert alert.event_ids == [events[0].id]  # the last sign of life explains it

    def test_exactly_24h_later_is_already_too_late(self) -> None:
        """The timer fires at 24 h; a sign of life at exactly 24 h comes after it."""
        events = [ev("door.open", 0, device="DS1"), ev("door.open", 24 * H, device="DS1")]
        [alert] = [a for a in run(events, self.S, lateness_s=0) if a.key == "S1"]
        assert alert.opened_at == at(24 * H)
        assert alert.resolved_at == at(24 * H)
        assert alert.severity == Severity.HIGH

    def test_sign_of_life_just_before_24h_keeps_quiet(self) -> None:
        events = [
            ev("door.open", 0, device="DS1"),
            ev("water.flow", 24 * H - 1, subject="S1", litres=3),
            ev("motion.detected", 30 * H, device="MS1"),
        ]
        alerts = only(run(events, self.S), "elderly.inactive")
        assert [a.key for a in alerts] == ["S2"]  # S2 was never seen at all

    def test_never_seen_subject_fires_24h_after_start_of_service(self) -> None:
        events = [ev("door.open", 0, device="DS1"), ev("door.open", 25 * H, device="DS1")]
        alerts = run(events, self.S)
        [s2] = [a for a in alerts if a.key == "S2"]
        assert s2.opened_at == at(24 * H)
        assert s2.event_ids == []

    def test_resolve_then_fire_again(self) -> None:
        events = [
            ev("door.open", 0, device="DS1"),
            ev("door.open", 30 * H, device="DS1"),  # resolves the first alert
            ev("door.open", 60 * H, device="DS2"),  # clock runs on; S1 silent since 30 h
        ]
        alerts = [a for a in run(events, self.S) if a.key == "S1"]
        assert [(a.id, a.opened_at, a.resolved_at) for a in alerts] == [
            ("elderly.inactive/S1/1", at(24 * H), at(30 * H)),
            ("elderly.inactive/S1/2", at(54 * H), None),
        ]

    def test_only_registered_elderly_living_alone(self) -> None:
        events = [ev("door.open", 0, subject="S3"), ev("door.open", 30 * H, subject="S3")]
        assert {a.key for a in run(events, self.S)} == {"S1", "S2"}

    def test_late_sign_of_life_resolves_but_raises_nothing(self) -> None:
        events = [
            ev("door.open", 0, device="DS1"),
            ev("door.open", 0, device="DS2"),
            ev("door.open", 26 * H, device="DS2"),
            ev("door.open", 25 * H, device="DS1"),  # 60 min late: beyond the 10 min
        ]
        [alert] = [a for a in run(events, self.S) if a.key == "S1"]
        assert alert.opened_at == at(24 * H)
        assert alert.resolved_at == at(25 * H)


# ----------------------------------------------------------------- elderly.sos
def test_sos_is_critical_and_repeats_join_until_handled() -> None:
    events = [ev("button.sos", 0, device="SB1"), ev("button.sos", 3 * H, device="SB1")]
    [alert] = run(events, ["elderly.sos"])
    assert (alert.key, alert.severity, alert.count) == ("S1", Severity.CRITICAL, 2)
    assert alert.resolved_at is None  # only a handled case closes it


# ----------------------------------------------------------------- elevator.ebike
class TestElevatorEbike:
    S = ("elevator.ebike",)

    def det(self, minutes: float) -> object:
        return ev("elevator.ebike_detected", minutes, device="EL1")

    def test_every_detection_fires_and_quiet_hour_resolves(self) -> None:
        [alert] = run([self.det(0), self.det(120)], self.S, finish=False)[:1]
        assert alert.severity == Severity.MEDIUM
        assert alert.resolved_at == at(60)

    def test_detections_within_10_min_of_the_last_join(self) -> None:
        alerts = run([self.det(0), self.det(10), self.det(19), self.det(90)], self.S)
        first = alerts[0]
        assert (first.count, first.severity) == (3, Severity.HIGH)  # 3 within 60 min
        assert first.resolved_at == at(19 + 60)

    def test_more_than_10_min_after_starts_a_new_incident(self) -> None:
        alerts = run([self.det(0), self.det(10.5)], self.S)
        assert [(a.id, a.count, a.resolved_at) for a in alerts] == [
            ("elevator.ebike/EL1/1", 1, at(10.5)),  # superseded by the next incident
            ("elevator.ebike/EL1/2", 1, None),
        ]

    def test_high_needs_three_held_by_this_alert(self) -> None:
        """Detections of an earlier incident do not count toward this one's three."""
        alerts = run([self.det(0), self.det(11), self.det(12)], self.S)
        assert [a.severity for a in alerts] == [Severity.MEDIUM, Severity.MEDIUM]

    def test_exactly_60_min_of_quiet_resolves(self) -> None:
        alerts = run([self.det(0), self.det(60)], self.S)
        assert alerts[0].resolved_at == at(60)
        assert alerts[1].opened_at == at(60)


# ----------------------------------------------------------------- fire.smoke
class TestFireSmoke:
    S = ("fire.smoke",)

    def test_single_alarm_is_high_unverified(self) -> None:
        [alert] = run([ev("smoke.alarm", 0, device="SD1")], self.S)
        assert (alert.key, alert.severity) == ("B1", Severity.HIGH)

    @pytest.mark.parametrize(("second_at", "verified"), [(1, True), (2, True), (2.05, False)])
    def test_second_detector_within_120_s_verifies(self, second_at: float, verified: bool) -> None:
        events = [ev("smoke.alarm", 0, device="SD1"), ev("smoke.alarm", second_at, device="SD2")]
        [alert] = run(events, self.S)
        assert alert.severity == (Severity.CRITICAL if verified else Severity.HIGH)
        assert alert.count == 2

    def test_same_detector_twice_does_not_verify(self) -> None:
        events = [ev("smoke.alarm", 0, device="SD1"), ev("smoke.alarm", 1, device="SD1")]
        [alert] = run(events, self.S)
        assert alert.severity == Severity.HIGH

    @pytest.mark.parametrize(("celsius", "verified"), [(57, True), (56.9, False)])
    def test_hot_reading_verifies_even_just_before_the_alarm(
        self, celsius: float, verified: bool
    ) -> None:
        hot = ev("temperature.reading", 0, device="TS1", celsius=celsius)
        alarm = ev("smoke.alarm", 1.5, device="SD1")
        [alert] = run([hot, alarm], self.S)
        assert alert.severity == (Severity.CRITICAL if verified else Severity.HIGH)
        if verified:
            assert alert.event_ids == [alarm.id, hot.id]

    def test_building_from_attrs_or_device(self) -> None:
        events = [
            ev("smoke.alarm", 0, device="SD3"),
            ev("smoke.alarm", 0.5, device="X9", building="B2"),  # unknown device, attrs say B2
        ]
        [alert] = run(events, self.S)
        assert (alert.key, alert.severity) == ("B2", Severity.CRITICAL)

    def test_other_building_does_not_verify(self) -> None:
        events = [ev("smoke.alarm", 0, device="SD1"), ev("smoke.alarm", 0.5, device="SD3")]
        assert sorted((a.key, a.severity) for a in run(events, self.S)) == [
            ("B1", Severity.HIGH),
            ("B2", Severity.HIGH),
        ]


# ----------------------------------------------------------------- power.overload
class TestPowerOverload:
    S = ("power.overload",)

    def reading(self, minutes: float, current: float, leakage: float = 5) -> object:
        return ev(
            "meter.reading",
            minutes,
            device="PM1",
            current_a=current,
            rated_a=20,
            leakage_ma=leakage,
        )

    def test_over_1_2_rated_for_5_min_fires(self) -> None:
        [alert] = run([self.reading(0, 25), self.reading(5, 26)], self.S)
        assert alert.opened_at == at(5)
        assert alert.count == 2

    def test_exactly_1_2_rated_is_not_over(self) -> None:
        assert run([self.reading(m, 24.0) for m in range(0, 30, 5)], self.S) == []

    def test_readings_less_than_5_min_apart_are_not_enough(self) -> None:
        assert run([self.reading(0, 30), self.reading(4.9, 30)], self.S) == []

    def test_one_normal_reading_starts_over(self) -> None:
        events = [self.reading(0, 30), self.reading(3, 10), self.reading(5, 30)]
        assert run(events, self.S) == []

    @pytest.mark.parametrize(("leakage", "fires"), [(30, True), (29.9, False)])
    def test_leakage_fires_at_once(self, leakage: float, fires: bool) -> None:
        alerts = run([self.reading(0, 10, leakage=leakage)], self.S)
        assert len(alerts) == (1 if fires else 0)

    def test_resolves_after_5_min_at_or_under_rated_then_fires_again(self) -> None:
        events = [self.reading(m, 30) for m in (0, 5)]
        events += [self.reading(m, 20) for m in (10, 15)]  # == rated counts as not over
        events += [self.reading(m, 30) for m in (20, 25)]
        alerts = run(events, self.S)
        assert [(a.opened_at, a.resolved_at) for a in alerts] == [(at(5), at(15)), (at(25), None)]


# ----------------------------------------------------------------- garbage
class TestGarbage:
    def test_overflow_at_90_resolves_under_50_with_hysteresis(self) -> None:
        levels = [(0, 89), (10, 90), (20, 70), (30, 95), (40, 50), (50, 49), (60, 92)]
        events = [ev("bin.fill", m, device="BN1", level=lv) for m, lv in levels]
        alerts = run(events, ["garbage.overflow"])
        assert [(a.opened_at, a.resolved_at, a.count) for a in alerts] == [
            (at(10), at(50), 2),
            (at(60), None, 1),
        ]

    @pytest.mark.parametrize(
        ("local", "fires"),
        [
            ("06:59", True),
            ("07:00", False),
            ("08:59", False),
            ("09:00", True),
            ("17:59", True),
            ("18:00", False),
            ("20:00", True),
            ("23:30", True),
        ],
    )
    def test_dumping_outside_drop_off_windows(self, local: str, fires: bool) -> None:
        hour, minute = map(int, local.split(":"))
        minutes = (hour - 10) * 60 + minute  # T0 is 10:00 local
        event = ev("camera.detection", minutes, device="CM1", label="garbage_dumping", score=0.9)
        assert len(run([event], ["garbage.dumping"])) == (1 if fires else 0)

    def test_other_labels_are_not_dumping(self) -> None:
        event = ev("camera.detection", 0, device="CM1", label="person", score=0.9)
        assert run([event], ["garbage.dumping"]) == []


# ----------------------------------------------------------------- access
class TestAccess:
    def denied(self, minutes: float, **kw: object) -> object:
        return ev("access.denied", minutes, device="AG1", **kw)

    def test_five_denials_within_10_min_inclusive(self) -> None:
        events = [self.denied(m) for m in (0, 2, 4, 6, 10)]
        clock = ev("bin.fill", 60, device="BN1", level=1)  # moves event time on
        [alert] = run([*events, clock], ["access.forced", "garbage.overflow"])
        assert (alert.opened_at, alert.count, len(alert.event_ids)) == (at(10), 5, 5)
        assert alert.resolved_at == at(40)

    def test_quiet_period_not_yet_over_when_the_stream_ends(self) -> None:
        """The clock stops at the last event: 30 quiet minutes have not passed."""
        [alert] = run([self.denied(m) for m in (0, 2, 4, 6, 10)], ["access.forced"])
        assert alert.resolved_at is None

    def test_five_spread_over_more_than_10_min_do_not(self) -> None:
        assert run([self.denied(m) for m in (0, 2, 4, 6, 10.5)], ["access.forced"]) == []

    def test_resolve_after_30_quiet_minutes_then_fire_again(self) -> None:
        first = [self.denied(m) for m in range(5)]
        later = [self.denied(60 + m) for m in range(5)]
        clock = ev("bin.fill", 100, device="BN1", level=1)
        alerts = run([*first, *later, clock], ["access.forced", "garbage.overflow"])
        assert [(a.id, a.opened_at, a.resolved_at) for a in alerts] == [
            ("access.forced/AG1/1", at(4), at(34)),
            ("access.forced/AG1/2", at(64), at(94)),
        ]

    def test_duplicates_do_not_count_twice(self) -> None:
        events = [self.denied(m, event_id=f"d{m}") for m in range(4)]
        events.append(self.denied(3, event_id="d3"))  # the same delivery again
        assert run(events, ["access.forced"]) == []

    @pytest.mark.parametrize(("closed_at", "fires"), [(2.99, False), (3, True), (9, True)])
    def test_held_open_for_3_min(self, closed_at: float, fires: bool) -> None:
        events = [
            ev("door.held_open", 0, device="AG1", seconds=60),
            ev("door.closed", closed_at, device="AG1"),
        ]
        alerts = run(events, ["access.held_open"], lateness_s=0)
        assert len(alerts) == (1 if fires else 0)
        if fires:
            assert (alerts[0].opened_at, alerts[0].resolved_at) == (at(3), at(closed_at))


# ----------------------------------------------------------------- venues
class TestVenues:
    def crowd(self, minutes: float, device: str, count: int, ratio: float = 0.7) -> object:
        return ev("crowd.count", minutes, device=device, count=count, elderly_ratio=ratio)

    @pytest.mark.parametrize(
        ("count", "ratio", "fires"),
        [(20, 0.6, True), (19, 0.9, False), (40, 0.59, False)],
    )
    def test_health_products_gathering(self, count: int, ratio: float, fires: bool) -> None:
        alerts = run([self.crowd(0, "CC1", count, ratio)], ["health_products.gathering"])
        assert len(alerts) == (1 if fires else 0)

    def test_gathering_resolves_under_10(self) -> None:
        events = [self.crowd(0, "CC1", 25), self.crowd(30, "CC1", 10), self.crowd(60, "CC1", 9)]
        [alert] = run(events, ["health_products.gathering"])
        assert (alert.key, alert.severity, alert.resolved_at) == ("V1", Severity.HIGH, at(60))

    def test_gathering_only_at_sales_venues(self) -> None:
        assert run([self.crowd(0, "CC2", 50)], ["health_products.gathering"]) == []

    @pytest.mark.parametrize(
        ("local_minutes", "fires"),
        [(12 * H - 1, False), (12 * H, True), (20 * H - 1, True), (20 * H, False)],
    )
    def test_night_crowd_between_22_and_6(self, local_minutes: int, fires: bool) -> None:
        """T0 is 10:00, so +12 h is 22:00 and +20 h is 06:00 the next day."""
        alerts = run([self.crowd(local_minutes, "CC2", 30)], ["venue.night_crowd"])
        assert len(alerts) == (1 if fires else 0)

    def test_night_crowd_resolves_under_15(self) -> None:
        events = [
            self.crowd(13 * H, "CC2", 45),
            self.crowd(14 * H, "CC2", 15),
            self.crowd(15 * H, "CC2", 14),
        ]
        [alert] = run(events, ["venue.night_crowd"])
        assert alert.resolved_at == at(15 * H)


# ----------------------------------------------------------------- parking
class TestFilialParking:
    S = ("parking.filial_overstay",)

    @pytest.mark.parametrize(("freed_at", "fires"), [(2 * H, False), (2 * H + 0.5, True)])
    def test_more_than_2h(self, freed_at: float, fires: bool) -> None:
        events = [
            ev("parking.occupied", 0, device="PK1"),
            ev("parking.freed", freed_at, device="PK1"),
        ]
        alerts = run(events, self.S, lateness_s=0)
        assert len(alerts) == (1 if fires else 0)
        if fires:
            assert (alerts[0].opened_at, alerts[0].resolved_at) == (at(2 * H), at(freed_at))

    def test_stream_ending_at_exactly_2h_has_not_overstayed(self) -> None:
        events = [ev("parking.occupied", 0, device="PK1"), ev("door.open", 2 * H, device="DS1")]
        assert run(events, [*self.S, "elderly.inactive"], lateness_s=0)[:0] == []
        assert only(run(events, [*self.S, "elderly.inactive"]), self.S[0]) == []

    def test_only_filial_spaces(self) -> None:
        events = [ev("parking.occupied", 0, device="PK2"), ev("parking.freed", 5 * H, device="PK2")]
        assert run(events, self.S) == []


# ----------------------------------------------------------------- enterprise
class TestEnterprise:
    def indicator(self, month: int, value: float, metric: str = "revenue") -> object:
        ts_minutes = (month - 10) * 31 * 24 * H  # months relative to October, roughly
        return ev(
            "enterprise.indicator",
            ts_minutes,
            subject="ENT1",
            metric=metric,
            value=value,
            event_id=f"ENT1-{metric}-{month}",
        )

    def test_below_half_of_three_month_mean(self) -> None:
        events = [self.indicator(m, v) for m, v in [(7, 100), (8, 110), (9, 90), (10, 49)]]
        [alert] = run(events, ["enterprise.abnormal"])
        assert (alert.key, alert.event_ids) == ("ENT1/revenue", ["ENT1-revenue-10"])

    def test_exactly_half_is_not_abnormal(self) -> None:
        events = [self.indicator(m, v) for m, v in [(7, 100), (8, 100), (9, 100), (10, 50)]]
        assert run(events, ["enterprise.abnormal"]) == []

    def test_needs_three_months_of_history(self) -> None:
        events = [self.indicator(m, v) for m, v in [(8, 100), (9, 100), (10, 10)]]
        assert run(events, ["enterprise.abnormal"]) == []

    def test_recovers_at_80_percent_of_the_same_mean(self) -> None:
        values = [(6, 100), (7, 100), (8, 100), (9, 30), (10, 79), (11, 80)]
        events = [self.indicator(m, v) for m, v in values]
        [alert] = run(events, ["enterprise.abnormal"])
        assert alert.opened_at == events[3].ts  # type: ignore[attr-defined]
        assert alert.resolved_at == events[5].ts  # type: ignore[attr-defined]

    def test_each_metric_on_its_own(self) -> None:
        events = []
        for month in (7, 8, 9):
            events += [
                self.indicator(month, 100, "revenue"),
                self.indicator(month, 90, "electricity"),
            ]
        events += [self.indicator(10, 20, "electricity"), self.indicator(10, 100, "revenue")]
        [alert] = run(events, ["enterprise.abnormal"])
        assert (alert.key, alert.resolved_at) == ("ENT1/electricity", None)

    @pytest.mark.parametrize(("district", "fires"), [("330110", True), ("330105", False)])
    def test_relocation_out_of_the_district(self, district: str, fires: bool) -> None:
        event = ev("enterprise.registration_change", 0, subject="ENT1", new_district=district)
        alerts = run([event], ["enterprise.relocation"])
        assert [(a.key, a.severity) for a in alerts] == ([("ENT1", Severity.HIGH)] if fires else [])


# ----------------------------------------------------------------- citizen.report
def test_each_report_is_its_own_alert_with_severity_from_category() -> None:
    events = [
        ev("report.citizen", 0, area="G1", category="garbage", text="垃圾没清"),
        ev("report.citizen", 0, area="G1", category="garbage", text="垃圾没清"),
        ev("report.hotline", 1, area="G1", category="gas", text="有煤气味"),
        ev("report.citizen", 2, area="G1", category="alien", text="?"),
    ]
    alerts = run(events, ["citizen.report"])
    assert [(a.severity, a.count, a.area) for a in alerts] == [
        (Severity.LOW, 1, "G1"),
        (Severity.LOW, 1, "G1"),
        (Severity.HIGH, 1, "G1"),
        (Severity.LOW, 1, "G1"),
    ]
    assert len({a.key for a in alerts}) == 4


# ----------------------------------------------------------------- shared semantics
def test_out_of_order_within_lateness_is_the_same_as_in_order() -> None:
    ordered = [ev("access.denied", m, device="AG1") for m in (0, 1, 2, 3, 4)]
    shuffled = [ordered[i] for i in (4, 2, 0, 3, 1)]
    a, b = run(ordered, ["access.forced"]), run(shuffled, ["access.forced"])
    assert [(x.opened_at, x.count, x.event_ids) for x in a] == [
        (y.opened_at, y.count, y.event_ids) for y in b
    ]


def test_event_beyond_lateness_is_flagged_and_raises_nothing() -> None:
    events = [ev("bin.fill", 30, device="BN1", level=10), ev("bin.fill", 0, device="BN1", level=99)]
    assert run(events, ["garbage.overflow"]) == []


def test_late_event_can_still_resolve() -> None:
    events = [
        ev("bin.fill", 0, device="BN1", level=95),
        ev("bin.fill", 40, device="BN1", level=95),
        ev("bin.fill", 20, device="BN1", level=10),  # 20 min late, resolves
    ]
    alerts = run(events, ["garbage.overflow"])
    # the reading at 40 was still in the reorder buffer: it opens a new alert after
    assert [(a.opened_at, a.resolved_at) for a in alerts] == [(at(0), at(20)), (at(40), None)]


def test_timers_fire_in_event_time_not_wall_time() -> None:
    """Nothing happens between events; the clock is the largest ts minus lateness."""
    events = [ev("door.held_open", 0, device="AG1"), ev("motion.detected", 12, device="MS1")]
    assert run(events, ["access.held_open"], finish=False) == []  # clock at 2 min
    [alert] = run(events, ["access.held_open"], finish=True)  # clock goes to 12 min
    assert alert.opened_at == at(3)


def test_catalogue_reads_only_known_or_documented_kinds() -> None:
    from cityeye.domain import EVENT_KINDS
    from cityeye.scenarios import load_catalogue

    unknown = {k for s in load_catalogue() for k in s.config.reads} - set(EVENT_KINDS)
    assert unknown == set()


def test_world_start_is_t0() -> None:
    assert T0.utcoffset() == timedelta(hours=8)
    assert default_world().district.code == "330105"
