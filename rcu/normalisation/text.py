"""Text helpers shared by every normaliser: one way to fold, one way to tidy spaces."""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

# Letters Unicode does not decompose into a base letter plus accents.
_LIGATURES = str.maketrans(
    {"œ": "oe", "æ": "ae", "ø": "o", "đ": "d", "ð": "d", "ł": "l", "þ": "th", "\u0131": "i", "ß": "ss"}
)

# The combining accents of Latin script (all of French): the common case of mark removal.
_LATIN_ACCENTS = re.compile("[\u0300-\u036f]+")

# Anything that is neither a letter nor a digit separates words in a comparison key.
NON_WORD = re.compile(r"[\W_]+")

# Punctuation that only litters the ends of a value (brackets and quotes that may pair stay).
_STRAY_AT_ENDS = (
    " .,;:!?-_'`/\\|*+=#~^"
    "\u2010\u2011\u2013\u2014"  # hyphen, non-breaking hyphen, en and em dashes
    "\u2018\u2019\u00b4"  # typographic apostrophes and the acute accent typed as one
)


def collapse_spaces(text: str) -> str:
    """Trim and turn every run of whitespace into one space."""
    return " ".join(text.split())


def strip_stray_punctuation(text: str) -> str:
    """Drop separators and stray marks left at either end ("Dupont," → "Dupont")."""
    return text.strip(_STRAY_AT_ENDS)


def has_letter(text: str) -> bool:
    return any(c.isalpha() for c in text)


def has_alnum(text: str) -> bool:
    return any(c.isalnum() for c in text)


def fold(text: str) -> str:
    """Lower-case, accents removed, ligatures expanded, whitespace collapsed.

    Two spellings people consider the same ("Éloïse", "eloise", "ELOISE ") fold to the
    same text; the result folds to itself.
    """
    if text.isascii():
        return " ".join(text.lower().split())
    return _fold_unicode(text)


def _fold_once(text: str) -> str:
    text = unicodedata.normalize("NFKD", text).casefold().translate(_LIGATURES)
    text = _LATIN_ACCENTS.sub("", unicodedata.normalize("NFKD", text))
    if not text.isascii():
        text = "".join(c for c in text if not unicodedata.category(c).startswith("M"))
    return " ".join(text.split())


@lru_cache(maxsize=65_536)
def _fold_unicode(text: str) -> str:
    folded = _fold_once(text)
    if folded.isascii():  # a decomposition may reveal a capital (modifier letter A)
        return folded.lower()
    # Outside Latin script a pass can reveal more to fold: repeat until stable.
    for _ in range(4):
        again = _fold_once(folded)
        if again == folded:
            break
        folded = again
    return folded


def word_key(text: str) -> str:
    """Folded text with every non-alphanumeric run turned into one space."""
    return " ".join(NON_WORD.sub(" ", fold(text)).split())
