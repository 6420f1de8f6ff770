from __future__ import annotations

from datetime import date

import pytest

from rcu.normalisation.dates import normalise_birth_date

TODAY = date(2024, 6, 15)


def birth_date(raw, fmt=None):
    return normalise_birth_date(raw, fmt=fmt, today=TODAY)


@pytest.mark.parametrize(
    ("raw", "fmt"),
    [
        ("12/03/1980", "%d/%m/%Y"),
        ("12-03-1980", "%d-%m-%Y"),
        ("1980-03-12", "%Y-%m-%d"),
        ("03/12/1980", "%m/%d/%Y"),
        ("12031980", "%d%m%Y"),
        ("12/3/1980", "%d/%m/%Y"),
        ("12/03/1980 00:00:00", "%d/%m/%Y"),  # exports add a midnight time
        ("12/03/1980 14:35", "%d/%m/%Y %H:%M"),  # time in the format: ignored
        ("12 Mar 1980", "%d %b %Y"),
    ],
)
def test_birth_date_read_with_the_declared_format_becomes_iso(raw, fmt):
    result = birth_date(raw, fmt)
    assert (result.value, result.key, result.problems) == ("1980-03-12", "1980-03-12", ())


@pytest.mark.parametrize(
    "raw", ["1980-03-12", "12/03/1980", "12-03-1980", "12.03.1980", "19800312", "1980-03-12T00:00:00"]
)
def test_birth_date_without_a_format_accepts_the_usual_shapes(raw):
    assert birth_date(raw).value == "1980-03-12"


def test_birth_date_in_another_shape_than_the_format_is_unparseable():
    result = birth_date("1980-03-12", "%d/%m/%Y")
    assert (result.value, result.key, result.problems) == (None, None, ("unparseable",))


@pytest.mark.parametrize(("raw", "fmt"), [("hier", None), ("12/03", None), ("12/03-1980", None),
                                          ("1980", "%d/%m/%Y"), ("mars 1980", "%B %Y %d")])
def test_text_that_is_not_a_date_is_unparseable(raw, fmt):
    assert birth_date(raw, fmt).problems == ("unparseable",)


@pytest.mark.parametrize(
    ("raw", "fmt"),
    [
        ("31/02/1980", "%d/%m/%Y"),
        ("31/02/1980", None),
        ("29/02/1981", "%d/%m/%Y"),
        ("32/01/1980", "%d/%m/%Y"),
        ("12/13/1980", "%d/%m/%Y"),
        ("1980-02-30 10:00", "%Y-%m-%d %H:%M"),  # read by strptime
    ],
)
def test_digits_in_the_right_places_but_no_such_day_is_impossible(raw, fmt):
    result = birth_date(raw, fmt)
    assert (result.value, result.key, result.problems) == (None, None, ("impossible",))


def test_leap_day_of_a_leap_year_is_a_date():
    assert birth_date("29/02/1980", "%d/%m/%Y").value == "1980-02-29"


def test_birth_date_after_today_is_future():
    assert birth_date("16/06/2024", "%d/%m/%Y").problems == ("future",)
    assert birth_date("15/06/2024", "%d/%m/%Y").value == "2024-06-15"


def test_birth_date_before_1900_is_kept_and_flagged_before_1700_implausible():
    old = birth_date("31/12/1899", "%d/%m/%Y")
    assert (old.value, old.problems) == ("1899-12-31", ("before_1900",))
    assert birth_date("01/01/1900", "%d/%m/%Y").problems == ()
    assert birth_date("31/12/1699", "%d/%m/%Y").problems == ("implausible",)
    assert birth_date("01/01/0001", "%d/%m/%Y").problems == ("implausible",)


def test_two_digit_year_is_the_latest_past_one_and_flagged():
    assert birth_date("12/03/80", "%d/%m/%y").value == "1980-03-12"
    assert birth_date("12/03/20", "%d/%m/%y").value == "2020-03-12"
    assert birth_date("12/03/80", "%d/%m/%y").problems == ("century_guessed",)


def test_today_defaults_to_the_date_in_france():
    assert normalise_birth_date("3000-01-01").problems == ("future",)
    assert normalise_birth_date("2000-01-01").value == "2000-01-01"


def test_blank_birth_date_is_missing_without_a_problem():
    assert birth_date("  ").value is None
    assert birth_date(None).problems == ()
