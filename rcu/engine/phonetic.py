"""A French-aware phonetic code for surnames, in the spirit of Soundex and Phonex.

Spellings that sound alike in French share a code ("Lefèvre", "Lefebvre", "Lefeuvre"
→ "LEFEVR"; "Dupont", "Dupond" → "DYP3"; "Thibault", "Thibaut", "Thibeau" → "TIBO"),
and names of other Latin-script languages get a stable, sensible code too. Unlike
Soundex, vowels are kept (as sound classes) and no letter is dropped for length, so a
lost consonant still changes the code ("Martin" → "MART1", "Marin" → "MAR1"): such
near misses are left to the string comparators, blocking only needs a shared spelling
of the sound.

Words are glued together before coding, so particles need no list: "Le Goff" and
"Legoff", "D'Artagnan" and "Dartagnan", "Van Damme" and "Vandamme" share a code.
"""

from __future__ import annotations

import re
from functools import lru_cache

# The code alphabet: upper-case letters for sounds, digits for the three nasal vowels
# (1 as in "brin", 2 as in "blanc", 3 as in "blond"). Input keys are lower-case, so
# a string without a lower-case letter is already a code and is returned as it is.
_NOT_LETTER = re.compile(r"[^a-z]+")
# "MacDonald" and "McDonald" are one name.
_MAC = re.compile(r"^mac(?=[^aeiouy])")

# Letters written but not heard at the end of a French word: "Dupont", "Lefevres",
# "Rousse". A silent final e still shapes the letters before it ("Marine" is not
# nasal, the c of "Alice" is soft): it leaves a mark, "@", that no code contains.
_THIBAULT_ENDING = re.compile(r"ault$")
_SILENT_ENDING = re.compile(r"e[sxz]?$|[tdsxz]{1,2}$")
_SILENT_E = "@"

# Consonant spellings, in order: each rule sees the letters earlier ones left.
# Upper-case output is final: later rules only match lower-case letters.
_CONSONANTS: tuple[tuple[re.Pattern[str], str], ...] = tuple(
    (re.compile(pattern), code)
    for pattern, code in (
        (r"ph", "F"),
        (r"ch(?=[rl])", "K"),  # "Christophe", "Chloe"
        (r"sch|ch|sh", "X"),
        (r"sc(?=[eiy@])", "S"),
        (r"x", "KS"),
        (r"qu|ck|q|k", "K"),
        (r"gu(?=[eiy@])", "G"),  # "Guerin", "Guy"
        (r"g(?=[eiy@])|j", "J"),
        (r"c(?=[eiy@])", "S"),
        (r"c", "K"),
        (r"b(?=v)", ""),  # "Lefebvre"
        (r"h", ""),
        (r"w|v", "V"),
        (r"z", "S"),
    )
)

# A vowel spelling, maybe closed by an n or m that makes it nasal (one not followed by
# a vowel or a second n/m: "Martin", "Blanc", but not "Anne", "Marine").
_VOWEL_GROUP = re.compile(
    r"(eau|oeu|au|ou|oi|ai|ei|eu|oe|ue|ie|[aeiouy])(?:([nm])(?![aeiouynm@]))?"
)
_ORAL: dict[str, str] = {
    "eau": "O",
    "au": "O",
    "o": "O",
    "ou": "U",
    # German umlauts transcribed: "Schroeder" is "Schröder", "Mueller" is "Müller".
    "oe": "O",
    "ue": "Y",
    "oi": "OA",
    "ai": "E",
    "ei": "E",
    "eu": "E",
    "oeu": "E",
    "e": "E",
    "ie": "IE",
    "i": "I",
    "y": "I",
    "a": "A",
    "u": "Y",
}
_NASAL: dict[str, str] = {
    "a": "2",
    "e": "2",
    "ai": "1",
    "ei": "1",
    "i": "1",
    "y": "1",
    "u": "1",
    "ie": "I1",
    "oi": "O1",
    "o": "3",
}
_REPEATS = re.compile(r"(.)\1+")


def _silent_mark(match: re.Match[str]) -> str:
    return _SILENT_E if match.group().startswith("e") else ""


def _vowel(match: re.Match[str]) -> str:
    vowel, nasal_consonant = match.group(1), match.group(2)
    if nasal_consonant is None:
        return _ORAL[vowel]
    nasal = _NASAL.get(vowel)
    if nasal is None:  # "oun", "eun": the vowel stays, the consonant is heard
        return _ORAL[vowel] + nasal_consonant.upper()
    return nasal


@lru_cache(maxsize=131_072)
def phonetic_key(name_key: str) -> str:
    """The phonetic code of a folded lower-case name key ("le goff" → "LEGOF"); "" when
    it holds no letter. A code given back is returned unchanged."""
    if not any("a" <= c <= "z" for c in name_key):
        return _REPEATS.sub(r"\1", "".join(c for c in name_key if "A" <= c <= "Z" or c in "123"))
    word = _NOT_LETTER.sub("", name_key)
    word = _THIBAULT_ENDING.sub("o", _MAC.sub("mc", word))
    stripped = _SILENT_ENDING.sub(_silent_mark, word)
    if len(stripped.rstrip(_SILENT_E)) >= 2:
        word = stripped
    for pattern, code in _CONSONANTS:
        word = pattern.sub(code, word)
    word = _VOWEL_GROUP.sub(_vowel, word).replace(_SILENT_E, "")
    return _REPEATS.sub(r"\1", word.upper())
