"""居民表决: who may vote on a topic, and what a closed ballot decided.

Only verified residents vote: a resident user whose home ``areas`` (set by staff,
``cityeye user add li --role resident --area G0003``) lie within the topic's area. One
vote per resident per topic; the store keeps who voted (the roll) apart from what was
chosen (counters per option, no voter), written in one transaction, so a tally never
says who chose what.

A ballot decides when at least ``quorum`` of the eligible voted and the winning option
has more than ``majority`` of the votes cast (estate matters by default: two thirds,
more than half — Civil Code art. 278).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from fractions import Fraction

from cityeye.domain import World
from cityeye.domain.participation import Rules, Tally, Topic
from cityeye.domain.users import User, UserRole
from cityeye.participation.workflow import Refused


def home_within(user: User, area: str, world: World) -> bool:
    """Whether one of the resident's home areas lies within ``area``."""
    return any(world.within(home, area) for home in user.areas)


def check_eligible(user: User, topic: Topic, world: World) -> None:
    """Raise :class:`Refused` unless ``user`` may vote on ``topic``."""
    if user.role != UserRole.RESIDENT:
        raise Refused("role", "only residents vote; staff run the ballot")
    if not user.areas:
        raise Refused("areas", "your home is not verified yet: ask the community to register it")
    if not home_within(user, topic.area, world):
        raise Refused("areas", f"your home is not within {topic.area}, the area of this topic")


def eligible_count(users: Iterable[User], topic: Topic, world: World) -> int:
    """How many active, verified residents may vote on ``topic``."""
    return sum(
        1
        for u in users
        if u.role == UserRole.RESIDENT and u.active and home_within(u, topic.area, world)
    )


def tally(counts: Mapping[str, int], eligible: int, rules: Rules) -> Tally:
    """What the votes decided: the quorum is voters / eligible ≥ ``rules.quorum``; the
    winner (a single option with the most votes) passes with more than
    ``rules.majority`` of the votes cast. A vote below the quorum fails, however
    unanimous."""
    voters = sum(counts.values())
    quorum_met = eligible > 0 and Fraction(voters, eligible) >= rules.quorum
    winner = None
    if voters:
        top = max(counts.values())
        leaders = [option for option, n in counts.items() if n == top]
        winner = leaders[0] if len(leaders) == 1 else None
    passed = quorum_met and winner is not None and Fraction(counts[winner], voters) > rules.majority
    return Tally(eligible, voters, dict(counts), quorum_met, winner, passed)
