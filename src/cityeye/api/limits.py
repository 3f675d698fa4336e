"""Limits on what one client may do, in memory: the sign-in pacing that nobody else's
failures can lock (:class:`SignInGuard`) and the per-address rate limits of the pages that
need no account (:class:`Throttle`: the portal's reports and photos, suggestions).

One place for every limit, so the numbers a street office may want to change are found
together; the services object (:mod:`cityeye.api.deps`) holds one of each per app.
"""

from __future__ import annotations

import ipaddress
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import timedelta

from fastapi import HTTPException, Request

#: Per client address and hour: the portal's reports and photos (a report may carry up
#: to four), and suggestions (社情民意). Our choice: generous for a person, tight for a
#: script.
REPORTS_PER_HOUR = 10
PHOTOS_PER_HOUR = 30
SUGGESTIONS_PER_HOUR = 10
HOUR = timedelta(hours=1)
#: Per client address and ten minutes: place look-ups (a pin named, a name searched;
#: cityeye.api.places). Our choice: a resident tapping and typing for ten minutes makes
#: a few dozen; a script reading out the district's buildings is slowed to a crawl.
PLACE_LOOKUPS = 120
TEN_MINUTES = timedelta(minutes=10)

#: The most names or addresses a throttle remembers (a flood of made-up ones must not
#: grow memory without end).
MAX_KEYS = 100_000


class Throttle:
    """Uses per key (such as a client address): after ``limit`` within ``window``,
    further ones are refused (429) until the oldest ages out — the portal's anonymous
    reports, photos and suggestions per address. (Sign-ins are paced by
    :class:`SignInGuard`, which no one else's failures can lock.) In memory: one
    process's view, reset by a restart."""

    def __init__(
        self,
        limit: int = 5,
        window: timedelta = timedelta(minutes=15),
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.limit, self.window, self.clock = limit, window.total_seconds(), clock
        self._failures: dict[str, list[float]] = {}
        self._lock = threading.Lock()

    def _recent(self, key: str, now: float) -> list[float]:
        kept = [t for t in self._failures.get(key, ()) if now - t < self.window]
        if kept:
            self._failures[key] = kept
        else:
            self._failures.pop(key, None)
        return kept

    def _wait(self, keys: tuple[str, ...], now: float) -> float:
        waits = [
            recent[0] + self.window - now
            for key in keys
            if len(recent := self._recent(key, now)) >= self.limit
        ]
        return max(waits, default=0.0)

    def _add(self, keys: tuple[str, ...], now: float) -> None:
        for key in keys:
            self._failures.setdefault(key, []).append(now)
        if len(self._failures) > MAX_KEYS:  # a flood of names or addresses
            for key in list(self._failures):
                self._recent(key, now)  # forget the stale ones
            for key in list(self._failures)[: len(self._failures) - MAX_KEYS // 2]:
                del self._failures[key]  # still too many: the oldest go

    def wait_s(self, *keys: str) -> float:
        """Seconds until another try is allowed (0: now)."""
        now = self.clock()
        with self._lock:
            return self._wait(keys, now)

    def failed(self, *keys: str) -> None:
        now = self.clock()
        with self._lock:
            self._add(keys, now)

    def take(self, *keys: str) -> float:
        """One use of ``keys`` where every use counts (a rate limit, such as the
        portal's anonymous reports per address): 0 and counted when all are under the
        limit, else the seconds to wait and nothing counted. Checked and counted under
        one lock, so requests that arrive together cannot all slip under it."""
        now = self.clock()
        with self._lock:
            wait = self._wait(keys, now)
            if wait <= 0:
                self._add(keys, now)
            return wait

    def succeeded(self, key: str) -> None:
        with self._lock:
            self._failures.pop(key, None)


@dataclass(frozen=True, slots=True)
class Pace:
    """How sign-in failures counted under one key slow the next try: the first
    ``free`` cost nothing, then each waits ``base_s`` doubled per failure, up to
    ``cap_s``."""

    free: int
    base_s: float
    cap_s: float

    def delay(self, failures: int) -> float:
        if failures < self.free:
            return 0.0
        return min(self.cap_s, self.base_s * 2.0 ** min(failures - self.free, 40))


#: Per (username, address) and per known device: five free, then 2 s, 4 s, … 15 min.
PAIR = Pace(5, 2.0, 900.0)
#: Per username from anywhere but its known devices: higher and slower, so that many
#: addresses together are paced too (about 100 tries a day once reached).
USERNAME_CEILING = Pace(30, 10.0, 900.0)
#: Per address over every username (one address trying many names).
ADDRESS_CEILING = Pace(20, 2.0, 900.0)


@dataclass(frozen=True, slots=True)
class Gate:
    """One key a sign-in is paced by; ``own``: the key is the trying person's own
    (their address with the username, or their known device), cleared by a success;
    the shared ceilings only take back the try a success counted."""

    key: str
    pace: Pace
    own: bool


class SignInGuard:
    """Paces failed sign-ins without locking anyone out (and without a CAPTCHA).

    A try from an address counts under (username, address), under the username from
    anywhere and under the address; a try that brings a valid known-device cookie for
    that username counts only under that device. Each key's failures make the next try
    wait longer (:class:`Pace`), so guessing from one place slows to a crawl at once,
    from many places soon after, while the owner signing in from another address (or,
    during a distributed attack, from a known device) is not held up. Every try is
    counted before the password is checked, under one lock, so parallel guesses cannot
    slip past; a success clears the person's own keys and takes its try back from the
    shared ones. Failures are forgotten after ``forget`` without any. In memory: one
    process's view, reset by a restart."""

    def __init__(
        self,
        *,
        pair: Pace = PAIR,
        username: Pace = USERNAME_CEILING,
        address: Pace = ADDRESS_CEILING,
        device: Pace = PAIR,
        forget: timedelta = timedelta(days=1),
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.pair, self.username, self.address, self.device = pair, username, address, device
        self.forget, self.clock = forget.total_seconds(), clock
        self._failures: dict[str, tuple[int, float]] = {}  # key: (failures, last)
        self._lock = threading.Lock()

    def gates(self, username: str, address: str, device: str | None = None) -> tuple[Gate, ...]:
        """The keys a try for ``username`` from ``address`` (``client_key``) counts
        under, or, with a known ``device`` (its token id), only that device's."""
        if device is not None:
            return (Gate(f"device:{device}", self.device, True),)
        name = username.lower()
        return (
            Gate(f"pair:{name}|{address}", self.pair, True),
            Gate(f"user:{name}", self.username, False),
            Gate(f"addr:{address}", self.address, False),
        )

    def _count(self, key: str, now: float) -> tuple[int, float]:
        found = self._failures.get(key)
        if found is not None and now - found[1] >= self.forget:
            del self._failures[key]
            return 0, now
        return found or (0, now)

    def _wait(self, gates: Sequence[Gate], now: float) -> float:
        waits = [0.0]
        for gate in gates:
            n, last = self._count(gate.key, now)
            if n:
                waits.append(last + gate.pace.delay(n) - now)
        return max(waits)

    def wait_s(self, gates: Sequence[Gate]) -> float:
        """Seconds until the next try is allowed (0: now)."""
        now = self.clock()
        with self._lock:
            return self._wait(gates, now)

    def attempt(self, gates: Sequence[Gate]) -> float:
        """A try: 0, and it counts as a failure until :meth:`succeeded` says
        otherwise; or the seconds to wait, and nothing counted."""
        now = self.clock()
        with self._lock:
            wait = self._wait(gates, now)
            if wait > 0:
                return wait
            for gate in gates:
                n, _ = self._count(gate.key, now)
                self._failures.pop(gate.key, None)  # to the end: the newest
                self._failures[gate.key] = (n + 1, now)
            if len(self._failures) > MAX_KEYS:  # a flood of names or addresses
                for key in list(self._failures):
                    self._count(key, now)  # forget the stale ones
                for key in list(self._failures)[: len(self._failures) - MAX_KEYS // 2]:
                    del self._failures[key]  # still too many: the oldest go
            return 0.0

    def succeeded(self, gates: Sequence[Gate]) -> None:
        """The try was right: the person's own keys are cleared, the shared ones no
        longer count it."""
        with self._lock:
            for gate in gates:
                found = self._failures.get(gate.key)
                if found is None:
                    continue
                if gate.own or found[0] <= 1:
                    del self._failures[gate.key]
                else:
                    self._failures[gate.key] = (found[0] - 1, found[1])


def client_key(request: Request) -> str:
    """Whom a per-address limit counts: the client's address (as uvicorn gives it,
    which behind a proxy is the forwarded one only with ``serve --forwarded-allow-ips``),
    and for IPv6 its /64, since one line gets a whole /64 to draw addresses from."""
    host = request.client.host if request.client else "?"
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return f"ip:{host}"
    if address.version == 6:
        return f"ip:{ipaddress.ip_network(f'{host}/64', strict=False)}"
    return f"ip:{address}"


def take_or_refuse(throttle: Throttle, key: str, what: str) -> None:
    """Count one try of ``what`` from ``key`` before doing anything, or refuse it (429
    with Retry-After). A failed try counts too: a script sending junk is limited like
    one sending reports."""
    wait = throttle.take(key)
    if wait > 0:
        raise HTTPException(
            429,
            f"{what}: too many from this address; try again later",
            headers={"Retry-After": str(int(wait) + 1)},
        )
