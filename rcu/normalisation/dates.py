"""Birth dates: read with the source's declared format, stored as ISO "YYYY-MM-DD"."""

from __future__ import annotations

import re
import time
from datetime import date, datetime
from functools import lru_cache
from zoneinfo import ZoneInfo

from rcu.normalisation.result import MISSING, Normalised, rejected

_PARIS = ZoneInfo("Europe/Paris")
# Before this a birth date is kept but flagged: no living customer, yet a historical or
# genealogical file holds nothing else that tells its people apart.
EARLIEST_BIRTH_DATE = date(1900, 1, 1)
# Before this it is not kept: a placeholder ("01/01/0001") or a typo in the century.
EARLIEST_KEPT_BIRTH_DATE = date(1700, 1, 1)
BEFORE_1900 = "before_1900"

_UNPARSEABLE = rejected("unparseable")
_IMPOSSIBLE = rejected("impossible")
_FUTURE = rejected("future")
_IMPLAUSIBLE = rejected("implausible")

# Exports often carry a midnight time after a date ("12/03/1980 00:00:00"): it is ignored.
_TIME_OF_DAY = r"(?:[ T]\d{1,2}:\d{2}(?::\d{2}(?:[.,]\d+)?)?)?"
# Without a declared format: the shapes French sources write, day before month.
_USUAL_SHAPES = tuple(
    re.compile(shape + _TIME_OF_DAY)
    for shape in (
        r"(?P<Y>\d{4})-(?P<m>\d{1,2})-(?P<d>\d{1,2})",
        r"(?P<Y>\d{4})/(?P<m>\d{1,2})/(?P<d>\d{1,2})",
        r"(?P<d>\d{1,2})(?P<sep>[/.\-])(?P<m>\d{1,2})(?P=sep)(?P<Y>\d{4})",
        r"(?P<Y>\d{4})(?P<m>\d{2})(?P<d>\d{2})",
    )
)
_DIRECTIVES = {
    "d": r"(?P<d>\d{1,2})",
    "m": r"(?P<m>\d{1,2})",
    "Y": r"(?P<Y>\d{4})",
    "y": r"(?P<y>\d{2})",
}


def paris_today() -> date:
    return datetime.now(_PARIS).date()


@lru_cache(maxsize=64)
def _pattern_for(fmt: str) -> re.Pattern[str] | None:
    """A strict regex for formats made of %d %m %Y/%y and separators, else None.

    The regex reads "31/02/1980" as digits in the right places, so a date that does not
    exist is told apart from text that is not a date at all; strptime cannot tell them
    apart ("32/01/1980" only "does not match").
    """
    parts: list[str] = []
    seen: set[str] = set()
    chars = iter(fmt)
    for char in chars:
        if char != "%":
            parts.append(re.escape(char))
            continue
        directive = next(chars, "")
        if directive == "%":
            parts.append("%")
        elif directive in _DIRECTIVES and directive not in seen:
            seen.add(directive)
            parts.append(_DIRECTIVES[directive])
        else:
            return None
    if not ({"d", "m"} <= seen and seen & {"Y", "y"}) or seen >= {"Y", "y"}:
        return None
    return re.compile("".join(parts) + _TIME_OF_DAY)


def _with_century(two_digits: int, today: date) -> int:
    """A two-digit birth year is in the past: 1900s unless that is impossible today."""
    year = 2000 + two_digits
    return year if year <= today.year else year - 100


def _strptime(text: str, fmt: str) -> date | Normalised:
    try:
        parsed = time.strptime(text, fmt)
    except ValueError as exc:
        message = str(exc)
        if "does not match format" in message or "unconverted data" in message:
            return _UNPARSEABLE
        return _IMPOSSIBLE
    return date(parsed.tm_year, parsed.tm_mon, parsed.tm_mday)


def read_date(
    text: str, *, fmt: str | None = None, today: date | None = None
) -> tuple[date, tuple[str, ...]] | Normalised:
    """The day written in `text` (in `fmt`, or a usual French shape) with its problems
    ("century_guessed"), or the rejection: "unparseable" (not a date in the expected
    shape), "impossible" (right shape, no such day: 31/02/1980)."""
    today = today or paris_today()
    if fmt:
        pattern = _pattern_for(fmt)
        if pattern is None:  # month names, times…: strptime reads what the regex cannot
            parsed = _strptime(text, fmt)
            return parsed if isinstance(parsed, Normalised) else (parsed, ())
        match = pattern.fullmatch(text)
    else:
        match = next((m for shape in _USUAL_SHAPES if (m := shape.fullmatch(text))), None)
    if match is None:
        return _UNPARSEABLE

    fields = match.groupdict()
    problems: tuple[str, ...] = ()
    if fields.get("Y"):
        year = int(fields["Y"])
    else:
        year = _with_century(int(fields["y"]), today)
        problems = ("century_guessed",)
    try:
        return date(year, int(fields["m"]), int(fields["d"])), problems
    except ValueError:
        return _IMPOSSIBLE


def normalise_birth_date(
    raw: str | None, *, fmt: str | None = None, today: date | None = None
) -> Normalised:
    """ISO value and key. Left out and flagged when "unparseable" (not a date in the
    expected shape), "impossible" (right shape, no such day: 31/02/1980), "future" (after
    today) or "implausible" (before 1700). Kept and flagged "before_1900" when older than
    that. A two-digit year is read as the latest past year and flagged "century_guessed".
    """
    text = (raw or "").strip()
    if not text:
        return MISSING
    today = today or paris_today()
    read = read_date(text, fmt=fmt, today=today)
    if isinstance(read, Normalised):
        return read
    day, problems = read
    return _checked(day, today, problems)


def _checked(day: date, today: date, problems: tuple[str, ...]) -> Normalised:
    if day > today:
        return _FUTURE
    if day < EARLIEST_KEPT_BIRTH_DATE:
        return _IMPLAUSIBLE
    if day < EARLIEST_BIRTH_DATE:
        problems = (*problems, BEFORE_1900)
    value = day.isoformat()
    return Normalised(value, value, problems)
