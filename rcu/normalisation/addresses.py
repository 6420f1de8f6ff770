"""Street address lines: kept as written, compared in La Poste's expanded vocabulary."""

from __future__ import annotations

import re

from rcu.normalisation.result import MISSING, Normalised, rejected
from rcu.normalisation.text import NON_WORD, collapse_spaces, fold, has_alnum

# La Poste abbreviations (norme NF Z 10-011) and the usual variants, expanded only as
# whole words so "r" becomes "rue" but the r of "Roch" stays.
ABBREVIATIONS: dict[str, str] = {
    "all": "allee",
    "app": "appartement", "appt": "appartement", "apt": "appartement",
    "av": "avenue", "ave": "avenue", "aven": "avenue",
    "bat": "batiment", "bt": "batiment",
    "bd": "boulevard", "bld": "boulevard", "blvd": "boulevard", "boul": "boulevard",
    "cc": "centre commercial",
    "che": "chemin", "chem": "chemin", "ch": "chemin",
    "chs": "chaussee",
    "crs": "cours",
    "ctre": "centre",
    "dom": "domaine",
    "esc": "escalier",
    "esp": "esplanade",
    "etg": "etage",
    "fg": "faubourg", "fbg": "faubourg",
    "gal": "galerie",
    "gde": "grande",
    "ham": "hameau",
    "imm": "immeuble",
    "imp": "impasse",
    "ld": "lieu dit",
    "lot": "lotissement",
    "mte": "montee",
    "pas": "passage", "pass": "passage",
    "pl": "place",
    "prom": "promenade",
    "prv": "parvis",
    "pte": "porte",
    "qu": "quai", "qua": "quartier",
    "r": "rue",
    "rd": "route departementale", "rn": "route nationale",
    "res": "residence", "resid": "residence",
    "rle": "ruelle",
    "rpt": "rond point",
    "rte": "route",
    "sen": "sentier",
    "sq": "square",
    "st": "saint", "ste": "sainte",
    "tra": "traverse",
    "vla": "villa",
    "za": "zone artisanale",
    "zi": "zone industrielle",
}

# Repetition indices after a house number: "12B", "12 b", "12bis" all mean "12 bis".
NUMBER_SUFFIXES: dict[str, str] = {
    "b": "bis", "bis": "bis", "t": "ter", "ter": "ter", "q": "quater", "quater": "quater",
}
_GLUED_SUFFIX = re.compile(r"(\d)(quater|bis|ter|b|t|q)\b")
# "N° 12", "no 12": the word says nothing the number does not.
_NUMBER_WORDS = frozenset({"n", "no", "num", "numero"})
# "B.P. 123", "C.S. 12345": postal box markers spelt with dots fold to two letters.
_SPLIT_MARKERS = {("b", "p"): "bp", ("c", "s"): "cs", ("l", "d"): "lieu dit"}


def _number_follows(tokens: list[str], start: int) -> bool:
    """A house number comes next, maybe after more number words ("N° N° 12")."""
    for token in tokens[start:]:
        if token.isdigit():
            return True
        if token not in _NUMBER_WORDS:
            return False
    return False


def address_key(text: str) -> str | None:
    """Folded, punctuation as spaces, abbreviations expanded, CEDEX dropped.

    "12B, bd St-Michel" and "12 bis boulevard Saint Michel" share one key. Postal
    boxes ("BP 123", "CS 12345") are kept: they are where the mail goes.
    """
    spaced = _GLUED_SUFFIX.sub(r"\1 \2", NON_WORD.sub(" ", fold(text)))
    tokens = spaced.split()
    words: list[str] = []
    count = len(tokens)
    i = 0
    while i < count:
        token = tokens[i]
        following = tokens[i + 1] if i + 1 < count else ""
        i += 1
        if token == "cedex":  # a sorting-office routing, not part of the address
            if following.isdigit():
                i += 1
            continue
        if token in _NUMBER_WORDS and _number_follows(tokens, i):
            continue
        if words and words[-1].isdigit() and token in NUMBER_SUFFIXES:
            words.append(NUMBER_SUFFIXES[token])
            continue
        marker = _SPLIT_MARKERS.get((token, following))
        if marker:
            words.append(marker)
            i += 1
            continue
        words.append(ABBREVIATIONS.get(token, token))
    return " ".join(words) or None


def normalise_address_line(raw: str | None) -> Normalised:
    """Value trimmed with spaces tidied, otherwise as written; key from address_key.

    A line without a single letter or digit ("-", ".") is "invalid".
    """
    text = collapse_spaces(raw or "")
    if not text:
        return MISSING
    if not has_alnum(text):
        return rejected("invalid")
    return Normalised(text, address_key(text))
