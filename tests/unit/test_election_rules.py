"""Civil Code art. 278 at its edges: participation ≥ 2/3 of both area and owners
(exactly 2/3 is enough, one short is not); election consent > 1/2 of both among those
who voted (exactly half fails, one more passes); area and head count each decide."""

from __future__ import annotations

from fractions import Fraction

import pytest

from cityeye.domain import FieldError
from cityeye.domain.elections import Count, Matter, area_of, decide

#: 30 owner households of 100 m² each: 3 000 m² in all.
ALL = Count(30, Fraction(3000))


def test_exactly_two_thirds_taking_part_is_enough() -> None:
    voted = Count(20, Fraction(2000))
    verdict = decide(Matter.ELECTION, ALL, voted, Count(11, Fraction(1100)))
    assert verdict.turnout
    assert verdict.passed


def test_one_owner_short_of_two_thirds_is_not() -> None:
    voted = Count(19, Fraction(2000))  # area exactly 2/3, heads 19/30 < 2/3
    verdict = decide(Matter.ELECTION, ALL, voted, Count(19, Fraction(2000)))
    assert (verdict.turnout_area, verdict.turnout_heads) == (True, False)
    assert not verdict.passed  # unanimous among too few
    assert "人数不足三分之二" in verdict.why_not


def test_a_hundredth_of_a_square_metre_short_of_two_thirds_is_not() -> None:
    voted = Count(20, Fraction(2000) - Fraction(1, 100))
    verdict = decide(Matter.ELECTION, ALL, voted, voted)
    assert (verdict.turnout_heads, verdict.turnout_area, verdict.passed) == (True, False, False)


def test_two_thirds_of_an_area_that_does_not_divide_by_three() -> None:
    """1000.01 m² in all: two thirds is 666.67333… m²; 666.67 is short, 666.68 is enough
    (floats would call 2/3 of it anything)."""
    eligible = Count(3, Fraction("1000.01"))
    short = decide(Matter.ELECTION, eligible, Count(2, Fraction("666.67")), NONE2)
    enough = decide(Matter.ELECTION, eligible, Count(2, Fraction("666.68")), NONE2)
    assert (short.turnout_area, enough.turnout_area) == (False, True)


NONE2 = Count(0, Fraction(0))


def test_exactly_half_consenting_is_not_elected_and_one_more_is() -> None:
    voted = Count(20, Fraction(2000))
    half = decide(Matter.ELECTION, ALL, voted, Count(10, Fraction(1000)))
    assert (half.turnout, half.consent_heads, half.consent_area) == (True, False, False)
    assert not half.passed
    more = decide(Matter.ELECTION, ALL, voted, Count(11, Fraction(1100)))
    assert more.passed


def test_area_passes_but_head_count_fails() -> None:
    """10 of 20 voters agree (half: not more than half), but they own 1 200 of the
    2 000 m² that voted."""
    verdict = decide(Matter.ELECTION, ALL, Count(20, Fraction(2000)), Count(10, Fraction(1200)))
    assert (verdict.consent_area, verdict.consent_heads, verdict.passed) == (True, False, False)
    assert "人数" in verdict.why_not


def test_head_count_passes_but_area_fails() -> None:
    """14 of 20 voters agree, but they own only 900 of the 2 000 m² that voted."""
    verdict = decide(Matter.ELECTION, ALL, Count(20, Fraction(2000)), Count(14, Fraction(900)))
    assert (verdict.consent_heads, verdict.consent_area, verdict.passed) == (True, False, False)
    assert "面积" in verdict.why_not


def test_major_matters_need_three_quarters_and_exactly_three_quarters_is_enough() -> None:
    voted = Count(20, Fraction(2000))
    assert decide(Matter.MAJOR, ALL, voted, Count(15, Fraction(1500))).passed
    assert not decide(Matter.MAJOR, ALL, voted, Count(14, Fraction(1500))).passed
    assert not decide(Matter.MAJOR, ALL, voted, Count(15, Fraction("1499.99"))).passed
    # what elects a committee does not raise repair funds
    assert decide(Matter.ELECTION, ALL, voted, Count(11, Fraction(1100))).passed
    assert not decide(Matter.MAJOR, ALL, voted, Count(11, Fraction(1100))).passed


def test_nobody_eligible_decides_nothing() -> None:
    assert not decide(Matter.ELECTION, NONE2, NONE2, NONE2).passed


def test_counts_that_cannot_be_are_refused() -> None:
    with pytest.raises(ValueError, match="heads"):
        decide(Matter.ELECTION, ALL, Count(31, Fraction(3000)), NONE2)


@pytest.mark.parametrize(
    ("raw", "exact"), [(89.5, Fraction(179, 2)), ("120.25", Fraction(481, 4)), (60, Fraction(60))]
)
def test_areas_are_exact(raw: object, exact: Fraction) -> None:
    assert area_of("area_m2", raw) == exact


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        (0, "above 0"),
        (-5, "above 0"),
        ("89.555", "two decimals"),
        (True, "number"),
        ("x", "number"),
    ],
)
def test_wrong_areas_are_named(raw: object, reason: str) -> None:
    with pytest.raises(FieldError, match=reason) as err:
        area_of("households[0].units[0].area_m2", raw)
    assert err.value.field == "households[0].units[0].area_m2"
