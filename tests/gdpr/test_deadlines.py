"""A request's deadline, counted as Regulation 1182/71 counts a period in months."""

from __future__ import annotations

from datetime import date

import pytest

from gdpr.deadlines import add_months, due_on, extended_due_on, is_working_day


@pytest.mark.parametrize(("received", "due"), [
    (date(2026, 3, 16), date(2026, 4, 16)),  # a Monday to a Thursday: the same date
    (date(2024, 1, 31), date(2024, 2, 29)),  # no 31 February: the month's last day (leap)
    (date(2025, 1, 31), date(2025, 2, 28)),  # ... and in a common year (a Friday)
    (date(2026, 1, 31), date(2026, 3, 2)),   # 28 February 2026 is a Saturday: to Monday
    (date(2026, 4, 14), date(2026, 5, 15)),  # 14 May 2026 is Ascension Day: to Friday
    (date(2026, 10, 31), date(2026, 11, 30)),  # no 31 November: its last day, a Monday
    (date(2026, 6, 14), date(2026, 7, 15)),  # 14 July (Bastille Day) is a Tuesday
    (date(2026, 12, 25), date(2027, 1, 25)),  # the year turns
])
def test_a_request_is_due_one_month_later_on_a_working_day(received, due):
    assert due_on(received) == due
    assert is_working_day(due)


def test_an_extension_runs_three_months_from_receipt():
    assert extended_due_on(date(2026, 11, 30)) == date(2027, 3, 1)  # 28 Feb 2027: a Sunday
    assert extended_due_on(date(2024, 11, 30)) == date(2025, 2, 28)


def test_months_are_added_without_overflowing_short_months():
    assert add_months(date(2026, 8, 31), 1) == date(2026, 9, 30)
    assert add_months(date(2026, 11, 30), 3) == date(2027, 2, 28)
    assert add_months(date(2028, 11, 29), 3) == date(2029, 2, 28)
