from __future__ import annotations

import phonenumbers
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rcu.normalisation.phones import FRENCH_PLAN, normalise_mobile, normalise_phone

MOBILE = "+33612345678"


@pytest.mark.parametrize(
    "raw",
    [
        "06 12 34 56 78",
        "06.12.34.56.78",
        "06-12-34-56-78",
        "0612345678",
        "06/12/34/56/78",
        "06 12 34 56 78 ",
        "06\u00a012\u00a034\u00a056\u00a078",
        "+33 6 12 34 56 78",
        "+33612345678",
        "+33 (0)6 12 34 56 78",
        "+33 06 12 34 56 78",
        "0033 6 12 34 56 78",
        "0033612345678",
        "33612345678",
        "(+33)612345678",
        "(+33) 6 12 34 56 78",
    ],
)
def test_every_french_spelling_of_a_mobile_becomes_the_same_e164(raw):
    result = normalise_phone(raw)
    assert result.value == MOBILE
    assert result.key == MOBILE
    assert result.problems == ()


def test_phone_written_with_dots_becomes_e164():
    assert normalise_phone("01.42.68.53.00").value == "+33142685300"


def test_nine_digits_get_their_lost_leading_zero_back_and_are_flagged():
    result = normalise_phone("612345678")
    assert result.value == MOBILE
    assert result.problems == ("leading_zero_restored",)


def test_overseas_number_dialled_from_france_gets_its_own_country_code():
    assert normalise_phone("0690 12 34 56").value == "+590690123456"  # Guadeloupe mobile
    assert normalise_phone("0262 12 34 56").value == "+262262123456"  # Réunion landline


@pytest.mark.parametrize(
    ("raw", "e164"),
    [
        ("+44 20 7946 0958", "+442079460958"),
        ("+32 470 12 34 56", "+32470123456"),
        ("+1 (212) 555-0123", "+12125550123"),
        ("0041 44 668 18 00", "+41446681800"),
    ],
)
def test_foreign_number_with_international_prefix_keeps_its_country(raw, e164):
    assert normalise_phone(raw).value == e164


def test_number_without_prefix_is_read_in_the_given_region():
    assert normalise_phone("020 7946 0958", region="GB").value == "+442079460958"
    assert normalise_phone("0470 12 34 56", region="BE").value == "+32470123456"


def test_extension_is_dropped_and_flagged():
    result = normalise_phone("01 42 68 53 00 ext. 12")
    assert result.value == "+33142685300"
    assert result.problems == ("extension_dropped",)


@pytest.mark.parametrize(
    "raw",
    ["12", "06 12 34 56", "06 12 34 56 78 90 12", "abcdef", "+33 0 00 00 00 01", "04 00 12 34 56",
     "+44 12"],
)
def test_invalid_phone_is_left_out_and_flagged(raw):
    result = normalise_phone(raw)
    assert (result.value, result.key, result.problems) == (None, None, ("invalid",))


@pytest.mark.parametrize(
    "raw",
    ["06 00 00 00 00", "0611111111", "07 77 77 77 77", "01 23 45 67 89", "09 87 65 43 21",
     "0000000000", "+33 6 00 00 00 00", "99 99 99 99 99"],
)
def test_placeholder_phone_is_left_out_and_flagged(raw):
    result = normalise_phone(raw)
    assert (result.value, result.key, result.problems) == (None, None, ("placeholder",))


@pytest.mark.parametrize("raw", [None, "", "  "])
def test_blank_phone_is_missing_without_a_problem(raw):
    assert normalise_phone(raw) == normalise_phone(None)
    assert normalise_phone(raw).problems == ()


def test_landline_given_as_mobile_is_kept_and_flagged():
    result = normalise_mobile("01 42 68 53 00")
    assert result.value == "+33142685300"
    assert result.problems == ("not_mobile",)


def test_mobile_given_as_mobile_has_no_problem():
    assert normalise_mobile("06 12 34 56 78").problems == ()
    assert normalise_mobile("+32 470 12 34 56").problems == ()


@settings(max_examples=300, deadline=None)
@given(st.integers(min_value=0, max_value=10**10 - 1).map(str))
def test_french_plan_types_numbers_as_phonenumbers_does(nsn):
    number = phonenumbers.PhoneNumber(country_code=33, national_number=int(nsn))
    assert FRENCH_PLAN.number_type(nsn) == phonenumbers.number_type(number)


_separators = st.sampled_from(["", " ", ".", "-", "  "])
_french_numbers = st.builds(
    lambda prefix, first, pairs, sep: prefix + first + sep + sep.join(pairs),
    st.sampled_from(["0", "+33 ", "+33 (0)", "0033 ", "33", ""]),
    st.sampled_from(list("12345679")),
    st.lists(st.integers(0, 99).map("{:02d}".format), min_size=3, max_size=5),
    _separators,
)


@settings(max_examples=300, deadline=None)
@given(st.one_of(_french_numbers, st.text(st.sampled_from(list("0123456789+ .-()")), max_size=20)))
def test_normalising_a_phone_twice_changes_nothing(raw):
    first = normalise_phone(raw)
    if first.value is not None:
        again = normalise_phone(first.value)
        assert (again.value, again.key) == (first.value, first.key)
        assert again.problems == ()
