"""City names: kept as written minus CEDEX routing, compared without arrondissements."""

from __future__ import annotations

import re
from functools import lru_cache

from rcu.normalisation.result import MISSING, Normalised, rejected
from rcu.normalisation.text import NON_WORD, collapse_spaces, fold, has_letter

# "PARIS CEDEX 08": a sorting-office routing that La Poste writes after the city.
_CEDEX = re.compile(r"\bcedex\b(?:\s*\d{1,3}\b)?", re.IGNORECASE)
_CEDEX_LEFTOVERS = " ,;-/"
# "Boulogne s/ Mer": "s/" is how forms shorten "sur".
_SUR = re.compile(r"\bs\s*/")
# "8", "08", "8e", "8eme", "1er": arrondissement numbers; postcodes typed into the city too.
_NUMBERED = re.compile(r"\d+(?:e|er|ere|em|eme|me)?")
_ARRONDISSEMENT_WORDS = frozenset({"arrondissement", "arrdt", "arr"})
_CITY_ABBREVIATIONS = {"st": "saint", "ste": "sainte"}


def city_key(text: str) -> str | None:
    """Comparison form: "St-Étienne" → "saint etienne", "PARIS 8E" → "paris"."""
    words = []
    for token in NON_WORD.sub(" ", _SUR.sub(" sur ", fold(text))).split():
        if token in _ARRONDISSEMENT_WORDS or _NUMBERED.fullmatch(token):
            continue
        words.append(_CITY_ABBREVIATIONS.get(token, token))
    return " ".join(words) or None


@lru_cache(maxsize=16_384)
def normalise_city(raw: str | None) -> Normalised:
    """Value as written with spaces tidied and CEDEX removed ("cedex_removed");
    "invalid" when no letter is left."""
    text = collapse_spaces(raw or "")
    if not text:
        return MISSING
    problems: tuple[str, ...] = ()
    if _CEDEX.search(text):
        text = collapse_spaces(_CEDEX.sub(" ", text)).strip(_CEDEX_LEFTOVERS)
        problems = ("cedex_removed",)
    if not has_letter(text):
        return rejected(*problems, "invalid")
    key = city_key(text)
    if key is None:
        return rejected(*problems, "invalid")
    return Normalised(text, key, problems)
