from __future__ import annotations

import pytest

from rcu.normalisation.postcodes import normalise_postcode


def test_french_postcode_is_five_digits():
    result = normalise_postcode("75001")
    assert (result.value, result.key, result.problems) == ("75001", "75001", ())


def test_spaces_inside_a_french_postcode_are_removed():
    assert normalise_postcode(" 75 001 ").value == "75001"


def test_four_digit_postcode_lost_its_leading_zero_and_is_padded():
    result = normalise_postcode("1000")
    assert (result.value, result.key, result.problems) == ("01000", "01000", ("padded",))


@pytest.mark.parametrize("raw", ["20000", "20167", "97400", "97100", "98000", "98800", "01000"])
def test_corsican_overseas_and_monaco_postcodes_are_valid(raw):
    assert normalise_postcode(raw).value == raw


FULL_WIDTH_75001 = "\uff17\uff15\uff10\uff10\uff11"


@pytest.mark.parametrize(
    "raw", ["750011", "123", "7500A", "2A004", "00100", "99000", "0999", "75-001", FULL_WIDTH_75001]
)
def test_anything_else_is_an_invalid_french_postcode(raw):
    result = normalise_postcode(raw)
    assert (result.value, result.key, result.problems) == (None, None, ("invalid",))


def test_overseas_territories_follow_french_rules():
    assert normalise_postcode("97 100", country="GP").value == "97100"
    assert normalise_postcode("ABC", country="RE").problems == ("invalid",)


def test_foreign_postcode_is_upper_cased_and_compared_without_spaces():
    result = normalise_postcode(" sw1a 1aa ", country="GB")
    assert (result.value, result.key, result.problems) == ("SW1A 1AA", "SW1A1AA", ())
    assert normalise_postcode("1000", country="BE").value == "1000"


def test_blank_postcode_is_missing_without_a_problem():
    assert normalise_postcode(" ").problems == ()
    assert normalise_postcode(None).value is None
