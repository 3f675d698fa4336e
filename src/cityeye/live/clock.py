"""What "now" is, in one place: the wall clock, or a simulated day's clock.

Everything in the service that means "now" — the heartbeat that moves the engine's
event time on (absence timers), the time stamp of a desk action, the default KPI day,
Open311 tracking numbers and windows — asks a :class:`Clock` instead of calling
``datetime.now``. In production that is the :class:`WallClock`. A demo replays a
simulated day (``cityeye serve --replay``) on a :class:`ReplayClock`, which runs from
the day's start at an adjustable speed: the desk, the cockpit and the engine then all
agree on one simulated time, so a case's deadline does not jump months ahead when a
person acts on it, and an elderly person falls silent in simulated hours, not real ones.
When the replayed file is done the replay clock runs on in real time (one second a
second, from where the day ended): the service goes on working as a live one — a
resident's report still becomes a case — instead of standing still at the day's end.
The pages take "now" from here too (``GET /api/v1/clock``, ``static/common.js``).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Literal, Protocol


class Clock(Protocol):
    """Anything that says what time it is (timezone-aware)."""

    def now(self) -> datetime: ...


class WallClock:
    """The real time, in UTC: what production runs on."""

    speed: float | None = None  # no simulated speed: real seconds are real seconds

    def now(self) -> datetime:
        return datetime.now(UTC)


class ReplayClock:
    """Simulated time: ``start + (monotonic() - t0) * speed``.

    ``speed`` is simulated seconds per real second (60: an hour a minute); it may be
    changed while running (:meth:`set_speed`), 0 pauses, and the time never jumps when
    it does: the new speed takes over from the moment of the change. ``monotonic`` is
    injectable so tests move real time by hand instead of sleeping; it is a monotonic
    clock, not the wall clock, so a system clock adjustment cannot move simulated time.
    Thread-safe (the ticker, the replay feeder and the API all read it)."""

    def __init__(
        self,
        start: datetime,
        speed: float = 60.0,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        if start.tzinfo is None:
            raise ValueError("start: needs a timezone (an aware datetime)")
        _check_speed(speed)
        self._monotonic = monotonic
        self._lock = threading.Lock()
        self._base = start.astimezone(UTC)
        self._t0 = monotonic()
        self._speed = float(speed)
        self._ended = False

    def _now(self) -> datetime:
        return self._base + timedelta(seconds=(self._monotonic() - self._t0) * self._speed)

    def now(self) -> datetime:
        with self._lock:
            return self._now()

    @property
    def speed(self) -> float:
        return self._speed

    @property
    def paused(self) -> bool:
        return self._speed == 0

    @property
    def ended(self) -> bool:
        """The replayed file is done and the clock runs in real time (:meth:`run_on`)."""
        return self._ended

    def run_on(self) -> datetime:
        """The replay has ended: from now on one real second is one second, on from
        where the day stood (no jump to today: every absence timer would fire at
        once). Returns the time of the change."""
        with self._lock:
            self._base, self._t0 = self._now(), self._monotonic()
            self._speed, self._ended = 1.0, True
            return self._base

    def set_speed(self, speed: float) -> datetime:
        """Run at ``speed`` from now on (0 pauses); returns the time of the change."""
        _check_speed(speed)
        with self._lock:
            self._base, self._t0 = self._now(), self._monotonic()
            self._speed = float(speed)
            return self._base

    def move_to(self, at: datetime) -> None:
        """Go on from ``at`` (a restarted replay resumes where it stopped)."""
        if at.tzinfo is None:
            raise ValueError("at: needs a timezone (an aware datetime)")
        with self._lock:
            self._base, self._t0 = at.astimezone(UTC), self._monotonic()


#: The fastest a replay may run: a year in under a minute is already no demo.
MAX_SPEED = 1_000_000.0


def _check_speed(speed: float) -> None:
    if not 0 <= speed <= MAX_SPEED:
        raise ValueError(f"speed: {speed} is not between 0 and {MAX_SPEED:g}")


def clock_speed(clock: Clock) -> float | None:
    """A replay clock's speed, or ``None`` for the wall clock."""
    return clock.speed if isinstance(clock, ReplayClock) else None


Mode = Literal["live", "replay", "replay_ended"]


def clock_mode(clock: Clock) -> Mode:
    """``live`` (the wall clock), ``replay`` (a simulated day playing) or
    ``replay_ended`` (its file done, running on in real time): what the cockpit's badge
    says."""
    if not isinstance(clock, ReplayClock):
        return "live"
    return "replay_ended" if clock.ended else "replay"
