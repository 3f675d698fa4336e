"""People who sign in, and what each may see and do.

A street office runs cityeye for many parties at once, so what a person sees is bound
by where they work: a grid worker of 小河 never sees 大关's cases. The bound is an
area scope — the areas of the user's post (dispatchers, leaders) or of their party
(handlers), with everything below them — and every case query goes through it.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from cityeye.domain.labels import Labelled
from cityeye.domain.world import World


class UserRole(Labelled):
    """What a person is in the system (not the lifecycle's actor roles)."""

    ADMIN = "admin", "管理员", "admin"  # runs the installation; sees everything
    # 指挥中心: dispatches, closes, dismisses, within the post's areas
    DISPATCHER = "dispatcher", "调度员", "dispatcher"
    # a party's worker: accepts, works and hands back its cases
    HANDLER = "handler", "处置人员", "handler"
    # 领导: looks at everything in the post's areas, changes nothing
    LEADER = "leader", "领导", "leader"
    RESIDENT = "resident", "居民", "resident"  # reports and follows their own reports


#: The staff pages and who works on each, in the order the pages' headers link them:
#: the desk (the case queues by role: handlers, dispatchers, leaders, admins), the
#: council (社情民意与议事: staff who answer and run topics, and leaders who look on)
#: the cockpit (the command centre's screen) and the contest's board (数字治理赛晾晒台,
#: also open to everyone as its public view) and the assessment office's 社会评价
#: (surveys: run by admins and dispatchers, read by leaders, all at a district post,
#: :data:`DISTRICT_PAGES`). The pages' data APIs still decide what each person sees
#: there; this only says which links a header shows.
PAGES: dict[str, frozenset[UserRole]] = {
    "desk": frozenset({UserRole.HANDLER, UserRole.DISPATCHER, UserRole.LEADER, UserRole.ADMIN}),
    "council": frozenset({UserRole.DISPATCHER, UserRole.LEADER, UserRole.ADMIN}),
    "cockpit": frozenset({UserRole.DISPATCHER, UserRole.LEADER, UserRole.ADMIN}),
    "board": frozenset({UserRole.DISPATCHER, UserRole.LEADER, UserRole.ADMIN}),
    # 业委会换届选举: run by dispatchers and admins of the estate's area, read by leaders
    "elections": frozenset({UserRole.DISPATCHER, UserRole.LEADER, UserRole.ADMIN}),
    "surveys": frozenset({UserRole.DISPATCHER, UserRole.LEADER, UserRole.ADMIN}),
}
#: Pages only a post covering the whole district works on: the surveys rate the
#: streets, so a street's own post neither runs nor reads them (:func:`covers_district`).
DISTRICT_PAGES = frozenset({"surveys"})


def pages_of(user: User, world: World) -> list[str]:
    """The staff pages ``user`` works on (:data:`PAGES`), in order; a page of
    :data:`DISTRICT_PAGES` only at a post covering the district, so that no header
    links a page whose every request would be refused."""
    return [
        page
        for page, roles in PAGES.items()
        if user.role in roles and (page not in DISTRICT_PAGES or covers_district(user, world))
    ]


@dataclass(frozen=True, slots=True)
class User:
    id: str
    username: str
    display_name: str
    role: UserRole
    party_id: str | None = None
    areas: tuple[str, ...] = ()
    created_at: datetime | None = None
    disabled_at: datetime | None = None

    @property
    def active(self) -> bool:
        return self.disabled_at is None


@dataclass(frozen=True, slots=True)
class Scope:
    """The cases a user may see: those whose area is in ``areas`` (``None``: every
    area) or that their ``party`` takes part in."""

    areas: frozenset[str] | None
    party: str | None = None

    def allows(self, area: str | None, parties: Iterable[str] = ()) -> bool:
        if self.areas is None:
            return True
        if area is not None and area in self.areas:
            return True
        return self.party is not None and self.party in parties


def below(world: World, roots: Iterable[str]) -> frozenset[str]:
    """The areas ``roots`` and every area under them."""
    children: dict[str, list[str]] = {}
    for area in world.areas.values():
        if area.parent is not None:
            children.setdefault(area.parent, []).append(area.code)
    out: set[str] = set()
    todo = [r for r in roots if r in world.areas]
    while todo:
        code = todo.pop()
        if code not in out:
            out.add(code)
            todo += children.get(code, ())
    return frozenset(out)


def scope_of(user: User, world: World) -> Scope:
    """Admins see everything; a handler the areas its party serves and the cases its
    party takes part in; dispatchers and leaders the areas of their post; residents
    no case through this (they follow their own reports by tracking number)."""
    if user.role == UserRole.ADMIN:
        return Scope(None)
    if user.role == UserRole.HANDLER:
        party = world.parties.get(user.party_id) if user.party_id else None
        roots = party.areas if party is not None else ()
        return Scope(below(world, roots), user.party_id)
    if user.role in (UserRole.DISPATCHER, UserRole.LEADER):
        return Scope(below(world, user.areas))
    return Scope(frozenset())


def covers_district(user: User, world: World) -> bool:
    """Whether ``user``'s scope takes in the whole district (an admin, or a post at the
    district): what the district's own work needs, such as its surveys of the streets,
    which no street's post may run or read."""
    allowed = scope_of(user, world).areas
    return allowed is None or world.district.code in allowed
