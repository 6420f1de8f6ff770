"""When a subject request must be answered: pure date arithmetic, no ORM.

GDPR art. 12(3): "within one month of receipt of the request", extendable "by two
further months" (so three months from receipt). Periods of time in EU law are counted
by Regulation (EEC, Euratom) No 1182/71:

- art. 3(1): the day of receipt does not count, so the period runs from the next day;
- art. 3(2)(c): a period in months ends at the end of the day, in the last month, that
  has the same date as the day of receipt; if that month has no such date, at the end
  of its last day (received 31 January → 28 or 29 February);
- art. 3(4): if that last day is a public holiday, a Saturday or a Sunday, the period
  ends at the end of the next working day.

Public holidays are France's (metropolitan) from the `holidays` package: our users are
French companies and the CNIL is their authority.
"""

from __future__ import annotations

import calendar
from datetime import date, timedelta
from functools import cache

import holidays

MONTHS_TO_ANSWER = 1
MONTHS_WHEN_EXTENDED = 3  # one month, plus "two further months" (art. 12(3))


@cache
def _french_holidays(year: int) -> holidays.HolidayBase:
    return holidays.country_holidays("FR", years=year)


def is_working_day(day: date) -> bool:
    return day.weekday() < 5 and day not in _french_holidays(day.year)


def add_months(day: date, months: int) -> date:
    """The same date `months` later, or the last day of that month when it is shorter."""
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def period_end(received_on: date, months: int) -> date:
    """The last day of a period of `months` months from `received_on` (1182/71)."""
    last = add_months(received_on, months)
    while not is_working_day(last):
        last += timedelta(days=1)
    return last


def due_on(received_on: date) -> date:
    """The deadline of a request received on `received_on`."""
    return period_end(received_on, MONTHS_TO_ANSWER)


def extended_due_on(received_on: date) -> date:
    """The deadline once extended (only possible before `due_on` has passed)."""
    return period_end(received_on, MONTHS_WHEN_EXTENDED)


def working_days_between(start: date, end: date) -> int:
    """Working days after `start` up to and including `end` (0 when `end <= start`)."""
    count, day = 0, start
    while day < end:
        day += timedelta(days=1)
        count += is_working_day(day)
    return count
