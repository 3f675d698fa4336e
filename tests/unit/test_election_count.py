"""The count of an owners' election (cityeye.participation.elections.count), without a
database: the seats go to the candidates who pass, most agreeing households first and
then area; candidates tied for the last seat are all left out and named; a household
that owns nothing in the estate counts for nothing."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from cityeye.domain.elections import (
    Ballot,
    BallotChannel,
    Candidate,
    Election,
    ElectionState,
    Matter,
)
from cityeye.participation.elections import count
from cityeye.world import load_world

WORLD = load_world(Path(__file__).resolve().parent.parent / "fixtures" / "world_estate.yaml")
AT = datetime(2026, 11, 2, tzinfo=UTC)


def election(seats: int) -> Election:
    return Election(
        "el_x", "换届", "330105001001", ("B1", "B2"), Matter.ELECTION, seats, 7,
        ElectionState.VOTING, AT, "cz_disp",
    )  # fmt: skip


def candidates(*households: str) -> list[Candidate]:
    return [Candidate("el_x", h, f"候选人{h}", "", "cz_disp", AT) for h in households]


def ballots(choices: dict[str, list[str]]) -> list[Ballot]:
    return [
        Ballot("el_x", h, tuple(c), BallotChannel.PAPER, "cz_disp", AT) for h, c in choices.items()
    ]


def test_the_seats_go_to_the_most_agreed_and_a_tie_for_the_last_is_left_open() -> None:
    """All six vote; H3 and H4 (60 m² each) both have four households and 360 m²."""
    every = ["H3", "H4", "H5"]
    votes = {
        "H1": ["H3", "H4", "H5"],
        "H2": ["H3", "H4", "H5"],
        "H3": ["H3", "H4", "H5"],
        "H4": ["H3", "H4", "H5"],
        "H5": ["H5"],
        "H6": ["H5"],
    }
    one = count(WORLD, election(1), candidates(*every), ballots(votes))
    assert one["elected"] == ["H5"]  # six households: more than the others' four
    assert one["tied"] == []
    two = count(WORLD, election(2), candidates(*every), ballots(votes))
    assert two["elected"] == ["H5"]
    assert two["tied"] == ["H3", "H4"]  # equal in households and area: not chosen by order
    rows = {r["household"]: r for r in two["candidates"]}
    assert (rows["H3"]["passed"], rows["H3"]["elected"], rows["H3"]["tied"]) == (True, False, True)
    three = count(WORLD, election(3), candidates(*every), ballots(votes))
    assert three["elected"] == ["H5", "H3", "H4"]  # seats for all: no tie to break


def test_equal_households_are_ranked_by_area() -> None:
    votes = {"H1": ["H1"], "H2": ["H1"], "H3": ["H3"], "H4": ["H3"], "H6": ["H1", "H3"]}
    result = count(WORLD, election(1), candidates("H1", "H3"), ballots(votes))
    # H1: H1, H2, H6 = 3 households, 420 m²; H3: H3, H4, H6 = 3 households, 240 m²
    assert result["elected"] == ["H1"]


def test_a_household_outside_the_estate_counts_for_nothing() -> None:
    votes = {"H7": ["H1"], "H1": ["H1"]}
    result = count(WORLD, election(1), candidates("H1"), ballots(votes))
    assert result["voted"] == {"households": 1, "area_m2": "150.00"}
