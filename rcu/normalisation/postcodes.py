"""Postcodes: five digits in France, as written elsewhere."""

from __future__ import annotations

from functools import lru_cache

from rcu.normalisation.result import MISSING, Normalised, rejected
from rcu.normalisation.text import collapse_spaces, has_alnum

# Countries and territories on the French five-digit postcode system (La Poste).
FRENCH_POSTCODE_COUNTRIES = frozenset(
    {"FR", "GP", "MQ", "GF", "RE", "YT", "PM", "BL", "MF", "NC", "PF", "WF", "MC"}
)
_INVALID = rejected("invalid")


def _french(text: str) -> Normalised:
    digits = "".join(text.split())
    if not (digits.isascii() and digits.isdigit()):
        return _INVALID
    problems: tuple[str, ...] = ()
    if len(digits) == 4:  # a spreadsheet read "01000" as the number 1000
        digits = "0" + digits
        problems = ("padded",)
    # 01 to 95 are mainland departments (20 is Corsica), 97 and 98 overseas and Monaco.
    if len(digits) != 5 or not ("01" <= digits[:2] <= "98"):
        return _INVALID
    return Normalised(digits, digits, problems)


@lru_cache(maxsize=16_384)
def normalise_postcode(raw: str | None, *, country: str = "FR") -> Normalised:
    """French rules for France and the territories sharing its postcodes: exactly five
    digits once spaces are removed ("75 001" → "75001"); four digits are zero-padded
    and flagged "padded"; anything else is "invalid". Other countries: upper-cased
    as written, compared without spaces.
    """
    text = collapse_spaces(raw or "")
    if not text:
        return MISSING
    if country.upper() in FRENCH_POSTCODE_COUNTRIES:
        return _french(text)
    if not has_alnum(text):
        return _INVALID
    value = text.upper()
    return Normalised(value, value.replace(" ", ""))
