"""Person names: kept as written, compared without case, accents or punctuation."""

from __future__ import annotations

from functools import lru_cache

from rcu.normalisation.civility import split_title
from rcu.normalisation.result import MISSING, Normalised
from rcu.normalisation.text import collapse_spaces, has_letter, word_key


def name_key(text: str) -> str | None:
    """Comparison form: "Jean-François" → "jean francois", "D'ARTAGNAN" → "d artagnan"."""
    return word_key(text) or None


@lru_cache(maxsize=65_536)
def normalise_name(raw: str | None) -> Normalised:
    """The name without a leading title, spaces tidied, letters and case as given.

    Problems: "civility_removed" (a title was taken off the front), "couple" (it named a
    household), "digits" (kept, but names rarely hold digits), "invalid" (no letter at
    all: left out).
    """
    text = collapse_spaces(raw or "")
    if not text:
        return MISSING
    split = split_title(text)
    problems: list[str] = []
    if split.removed:
        problems.append("civility_removed")
    if split.couple:
        problems.append("couple")
    value = split.rest
    if not value and split.removed:  # nothing but a title: the civility is all there was
        return Normalised(None, None, tuple(problems))
    if not has_letter(value):
        problems.append("invalid")
        return Normalised(None, None, tuple(problems))
    if any(c.isdigit() for c in value):
        problems.append("digits")
    return Normalised(value, name_key(value), tuple(problems))


def name_civility(raw: str | None) -> str | None:
    """The civility a title before the name implies ("Mme Dupont" → "MME"), else None."""
    text = collapse_spaces(raw or "")
    return split_title(text).civility if text else None
