"""Custom attributes (`rcu.attributes.CustomType`): one normaliser per type (pure).

Each answers a `Normalised`: the value stored and shown, the key the engine compares,
or a rejection whose problem is the reason a row is refused (a custom value that cannot
be read is a row error naming the field, like any other mapping error).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date
from decimal import Decimal, InvalidOperation

from rcu.attributes import CustomType
from rcu.normalisation.dates import read_date
from rcu.normalisation.names import normalise_name
from rcu.normalisation.result import MISSING, Normalised, rejected
from rcu.normalisation.text import collapse_spaces, word_key

# The reasons a row is refused, as the import's rejected rows name them.
REASONS = {
    "not_a_name": "no letter: not a name",
    "not_a_date": "not a date",
    "impossible_date": "no such day",
    "not_a_number": "not a number",
    "empty": "nothing but punctuation",
}
# Thousands separators people write: spaces (also the narrow no-break one) and "'".
_THOUSANDS = re.compile(r"[\s\u202f\u00a0']")


def _text(raw: str, fmt: str | None, today: date | None) -> Normalised:
    value = collapse_spaces(raw)
    key = word_key(value)
    if not key:
        return rejected("empty")
    return Normalised(value, key)


def _name(raw: str, fmt: str | None, today: date | None) -> Normalised:
    result = normalise_name(raw)
    if result.value is None:
        return rejected("not_a_name")
    return Normalised(result.value, result.key)


def _date(raw: str, fmt: str | None, today: date | None) -> Normalised:
    read = read_date(raw.strip(), fmt=fmt or None, today=today)
    if isinstance(read, Normalised):
        return rejected("impossible_date" if "impossible" in read.problems else "not_a_date")
    value = read[0].isoformat()
    return Normalised(value, value)


def _code(raw: str, fmt: str | None, today: date | None) -> Normalised:
    """Codes (a department, a gender, a segment): compared without spaces or case."""
    value = collapse_spaces(raw)
    key = "".join(value.split()).upper()
    return Normalised(value, key) if key else MISSING


def _number(raw: str, fmt: str | None, today: date | None) -> Normalised:
    """Decimal numbers, with a comma or a point, thousands separated or not; stored in
    their shortest plain form ("1 250,50" → "1250.5")."""
    text = _THOUSANDS.sub("", raw.strip()).replace(",", ".")
    try:
        number = Decimal(text)
    except InvalidOperation:
        return rejected("not_a_number")
    if not number.is_finite():
        return rejected("not_a_number")
    value = format(number.normalize(), "f")
    if "." in value:
        value = value.rstrip("0").rstrip(".")
    value = "0" if value in ("-0", "") else value
    return Normalised(value, value)


_BY_TYPE: dict[CustomType, Callable[[str, str | None, date | None], Normalised]] = {
    CustomType.TEXT: _text,
    CustomType.NAME: _name,
    CustomType.DATE: _date,
    CustomType.CODE: _code,
    CustomType.IDENTIFIER: _code,
    CustomType.NUMBER: _number,
}


def normalise_custom(
    raw: str | None, kind: CustomType | str, *, fmt: str | None = None, today: date | None = None
) -> Normalised:
    """The value of one custom attribute of this type; blank input is MISSING."""
    text = (raw or "").strip()
    if not text:
        return MISSING
    return _BY_TYPE[CustomType(kind)](text, fmt, today)


def rejection_reason(result: Normalised, kind: CustomType | str) -> str:
    """Why a value was refused, in the words of the import's rejected rows."""
    problem = result.problems[0] if result.problems else "empty"
    return f"{REASONS.get(problem, problem)} ({CustomType(kind).value})"
