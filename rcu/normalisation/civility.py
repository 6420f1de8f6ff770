"""Civilities: a code ("M" or "MME") from a civility field or from a title before a name."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from rcu.normalisation.result import MISSING, Normalised, rejected
from rcu.normalisation.text import collapse_spaces, fold, strip_stray_punctuation

MONSIEUR = "M"
MADAME = "MME"

# Titles people put before a name, with the civility they imply (None: says nothing of it).
# Mademoiselle is mapped to Madame: French administrations dropped it in 2012.
_TITLES: dict[str, str | None] = {
    "m": MONSIEUR, "mr": MONSIEUR, "monsieur": MONSIEUR,
    "mme": MADAME, "madame": MADAME, "mrs": MADAME, "ms": MADAME, "miss": MADAME,
    "mlle": MADAME, "melle": MADAME, "mademoiselle": MADAME,
    "dr": None, "docteur": None, "pr": None, "professeur": None,
    "me": None, "maitre": None, "maître": None,
}
# Alone, "M" is as likely an initial as a title, and "Me" a name as "Maître".
_NEVER_ALONE = frozenset({"m", "me"})

# A title is a whole token: followed by a dot, a space or the end ("Marie" keeps its "Ma").
_TITLE = re.compile(
    r"(?P<title>monsieur|madame|mademoiselle|docteur|professeur|ma[iî]tre"
    r"|mlle|melle|mme|mrs|mr|ms|miss|dr|pr|me|m)(?:\.\s*|\s+|$)",
    re.IGNORECASE,
)
_AND = r"\s*(?:&|/|\+|\b(?:et|and|ou)\b)\s*"
# "M. et Mme", "Mr & Mrs", "Mme et M.": a household, not one person.
_COUPLE = re.compile(
    rf"(?:(?:m|mr|monsieur)\.?{_AND}(?:mme|mrs|madame|mlle)"
    rf"|(?:mme|mrs|madame){_AND}(?:mr|monsieur|m))\b\.?(?:\s+|$)",
    re.IGNORECASE,
)

# Civility fields, folded with dots and spaces removed. 1/2 are the INSEE sex codes,
# H/F the initials of homme/femme.
_CIVILITY_CODES: dict[str, str] = {
    "m": MONSIEUR, "mr": MONSIEUR, "monsieur": MONSIEUR, "mons": MONSIEUR,
    "h": MONSIEUR, "homme": MONSIEUR, "masculin": MONSIEUR, "1": MONSIEUR,
    "mme": MADAME, "madame": MADAME, "mrs": MADAME, "ms": MADAME, "miss": MADAME,
    "mlle": MADAME, "melle": MADAME, "mademoiselle": MADAME,
    "f": MADAME, "femme": MADAME, "feminin": MADAME, "2": MADAME,
}


@dataclass(frozen=True, slots=True)
class TitleSplit:
    """What split_title found before a name."""

    civility: str | None  # "M", "MME", or None when no title said which
    rest: str  # the name once titles are removed
    removed: bool  # at least one title was removed
    couple: bool  # the title named a household ("M. et Mme")


@lru_cache(maxsize=65_536)
def split_title(raw: str) -> TitleSplit:
    """Remove every leading title, remembering the first civility a title implied.

    "M." followed by more words is Monsieur (the French convention), never an initial.
    A household title ("M. et Mme Dupont") is removed but implies no civility.
    """
    text = collapse_spaces(raw)
    civility: str | None = None
    removed = couple = False
    while True:
        text = strip_stray_punctuation(text)
        match = _COUPLE.match(text)
        if match:
            removed = couple = True
            text = text[match.end():]
            continue
        match = _TITLE.match(text)
        if not match:
            break
        title = match["title"].casefold()
        rest = text[match.end():]
        if not rest.strip() and title in _NEVER_ALONE:
            break
        removed = True
        if civility is None:
            civility = _TITLES[title]
        text = rest
    return TitleSplit(None if couple else civility, collapse_spaces(text), removed, couple)


def split_civility(raw: str | None) -> tuple[str | None, str]:
    """("M" / "MME" / None, the rest): "Mme Dupont" → ("MME", "Dupont").

    None also when the title says nothing of the civility ("Dr Dupont" → (None, "Dupont"))
    or names a household ("M. et Mme Dupont" → (None, "Dupont")).
    """
    split = split_title(raw or "")
    return split.civility, split.rest


@lru_cache(maxsize=1024)
def normalise_civility(raw: str | None) -> Normalised:
    """The code ("M" or "MME") of a civility field, however the source spells it.

    Problems: "unknown" (not a civility, or one that says nothing of it, like "Dr"),
    "couple" (a household: "M. et Mme").
    """
    text = collapse_spaces(raw or "")
    if not text:
        return MISSING
    match = _COUPLE.match(text)
    if match and not text[match.end():].strip():
        return rejected("couple")
    code = _CIVILITY_CODES.get(fold(text).replace(".", "").replace(" ", ""))
    if code is None:
        return rejected("unknown")
    return Normalised(code, code)
