"""Street address lines: kept as written, compared in La Poste's expanded vocabulary."""

from __future__ import annotations

import re
from dataclasses import dataclass

from rcu.normalisation.result import MISSING, Normalised, rejected
from rcu.normalisation.text import NON_WORD, collapse_spaces, fold, has_alnum


@dataclass(frozen=True, slots=True)
class Abbreviation:
    """A word of La Poste's address vocabulary (norme NF Z 10-011).

    `word` is written in full, as the postal form writes it while the line fits;
    `official` is La Poste's abbreviation, used only when it does not; `read_as` are the
    short forms the comparison key (and the postal form) read back into the word, matched
    as whole words so "r" becomes "rue" but the r of "Roch" stays. An official
    abbreviation that is also a word ("ROC" rocade, "CAR" carrefour, "MAR" marché) is
    written, never read back.
    """

    word: str
    official: str
    read_as: tuple[str, ...] = ()
    kind: str = "street"  # "street" (a street type), "complement", "delivery" or "title"


# The one table of the address vocabulary: street types (line 4), the complements of
# lines 2 and 3, the delivery services of line 5, and the titles a street name abbreviates
# when too long.
VOCABULARY: tuple[Abbreviation, ...] = (
    Abbreviation("allee", "ALL", ("all",)),
    Abbreviation("avenue", "AV", ("av", "ave", "aven")),
    Abbreviation("boulevard", "BD", ("bd", "bld", "blvd", "boul")),
    Abbreviation("carrefour", "CAR"),
    Abbreviation("centre commercial", "CC", ("cc",)),
    Abbreviation("chaussee", "CHS", ("chs",)),
    Abbreviation("chemin", "CHE", ("che", "chem", "ch")),
    Abbreviation("cite", "CITE"),
    Abbreviation("corniche", "COR"),
    Abbreviation("cours", "CRS", ("crs",)),
    Abbreviation("descente", "DSC"),
    Abbreviation("domaine", "DOM", ("dom",)),
    Abbreviation("esplanade", "ESP", ("esp",)),
    Abbreviation("faubourg", "FG", ("fg", "fbg")),
    Abbreviation("galerie", "GAL", ("gal",)),
    Abbreviation("hameau", "HAM", ("ham",)),
    Abbreviation("impasse", "IMP", ("imp",)),
    Abbreviation("lotissement", "LOT", ("lot",)),
    Abbreviation("marche", "MAR"),
    Abbreviation("montee", "MTE", ("mte",)),
    Abbreviation("passage", "PAS", ("pas", "pass")),
    Abbreviation("parvis", "PRV", ("prv",)),
    Abbreviation("place", "PL", ("pl",)),
    Abbreviation("plateau", "PLT"),
    Abbreviation("porte", "PTE", ("pte",)),
    Abbreviation("promenade", "PROM", ("prom",)),
    Abbreviation("quai", "QUAI", ("qu",)),
    Abbreviation("quartier", "QUA", ("qua",)),
    Abbreviation("rocade", "ROC"),
    Abbreviation("rond point", "RPT", ("rpt",)),
    Abbreviation("route", "RTE", ("rte",)),
    Abbreviation("route departementale", "RD", ("rd",)),
    Abbreviation("route nationale", "RN", ("rn",)),
    Abbreviation("rue", "RUE", ("r",)),
    Abbreviation("ruelle", "RLE", ("rle",)),
    Abbreviation("sentier", "SEN", ("sen",)),
    Abbreviation("square", "SQ", ("sq",)),
    Abbreviation("traverse", "TRA", ("tra",)),
    Abbreviation("villa", "VLA", ("vla",)),
    Abbreviation("village", "VLGE"),
    Abbreviation("zone artisanale", "ZA", ("za",)),
    Abbreviation("zone industrielle", "ZI", ("zi",)),
    Abbreviation("appartement", "APP", ("app", "appt", "apt"), kind="complement"),
    Abbreviation("batiment", "BAT", ("bat", "bt"), kind="complement"),
    Abbreviation("escalier", "ESC", ("esc",), kind="complement"),
    Abbreviation("etage", "ETG", ("etg",), kind="complement"),
    Abbreviation("immeuble", "IMM", ("imm",), kind="complement"),
    Abbreviation("residence", "RES", ("res", "resid"), kind="complement"),
    Abbreviation("lieu dit", "LD", ("ld",), kind="delivery"),
    Abbreviation("centre", "CTRE", ("ctre",), kind="title"),
    Abbreviation("grande", "GDE", ("gde",), kind="title"),
    Abbreviation("saint", "ST", ("st",), kind="title"),
    Abbreviation("sainte", "STE", ("ste",), kind="title"),
    Abbreviation("general", "GAL", kind="title"),
    Abbreviation("marechal", "MAL", kind="title"),
    Abbreviation("docteur", "DR", kind="title"),
    Abbreviation("president", "PDT", kind="title"),
    Abbreviation("professeur", "PR", kind="title"),
    Abbreviation("commandant", "CDT", kind="title"),
    Abbreviation("lieutenant", "LT", kind="title"),
)

# Short form → word, for the comparison key.
ABBREVIATIONS: dict[str, str] = {
    short: entry.word for entry in VOCABULARY for short in entry.read_as
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


def _without_cedex(tokens: list[str]) -> list[str]:
    """The tokens less "CEDEX" and its office number: a sorting-office routing, not
    part of the address. Dropped first, so that what it stood between reads as one
    ("B CEDEX P" is a postal box, as "B P" is): the key of a key is itself."""
    kept: list[str] = []
    skip_number = False
    for token in tokens:
        if token == "cedex":
            skip_number = True
            continue
        if skip_number and token.isdigit():
            skip_number = False
            continue
        skip_number = False
        kept.append(token)
    return kept


def address_key(text: str) -> str | None:
    """Folded, punctuation as spaces, abbreviations expanded, CEDEX dropped.

    "12B, bd St-Michel" and "12 bis boulevard Saint Michel" share one key. Postal
    boxes ("BP 123", "CS 12345") are kept: they are where the mail goes.
    """
    spaced = _GLUED_SUFFIX.sub(r"\1 \2", NON_WORD.sub(" ", fold(text)))
    tokens = _without_cedex(spaced.split())
    words: list[str] = []
    count = len(tokens)
    i = 0
    while i < count:
        token = tokens[i]
        following = tokens[i + 1] if i + 1 < count else ""
        i += 1
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


# --- the postal form (NF Z 10-011) ----------------------------------------------------

MAX_LINE = 38  # characters per line, spaces included
MAX_STREET_LABEL = 32  # street type and name: abbreviations only beyond this

# The order of the lines: complements of level 2 (inside the building), of level 3
# (the building), the street, then the delivery service or locality (line 5).
LINE_ORDER = ("inside", "building", "street", "delivery")
LINE_RANK = {kind: rank for rank, kind in enumerate(LINE_ORDER)}
_INSIDE = frozenset({"appartement", "escalier", "etage", "chez", "entree", "couloir", "logement"})
_BUILDING = frozenset({"batiment", "immeuble", "residence", "tour", "bloc"})
_DELIVERY = frozenset({"bp", "cs", "tsa", "lieu", "boite"})
_BY_WORD = {entry.word: entry for entry in VOCABULARY}
_SUFFIX_WORDS = frozenset(NUMBER_SUFFIXES.values())


def postal_line_kind(key: str) -> str:
    """Where a line goes in the postal form: "inside", "building", "street" or
    "delivery" (from its comparison key, whose abbreviations are already expanded)."""
    first = key.partition(" ")[0]
    if first in _INSIDE:
        return "inside"
    if first in _BUILDING:
        return "building"
    if first in _DELIVERY:
        return "delivery"
    return "street"


def _street_start(words: list[str]) -> int:
    """Index of the first word after the house number and its repetition index."""
    i = 0
    while i < len(words) and (words[i].isdigit() or (i and words[i] in _SUFFIX_WORDS)):
        i += 1
    return i


def _abbreviate_type(words: list[str]) -> list[str]:
    start = _street_start(words)
    for width in (2, 1):
        entry = _BY_WORD.get(" ".join(words[start : start + width]))
        if entry is not None and entry.kind != "title":
            return [*words[:start], entry.official.lower(), *words[start + width :]]
    return words


def _abbreviate_titles(words: list[str]) -> list[str]:
    abbreviated = []
    for word in words:
        entry = _BY_WORD.get(word)
        abbreviated.append(entry.official.lower() if entry and entry.kind == "title" else word)
    return abbreviated


def postal_line(key: str) -> str:
    """One address line in the postal form, from its comparison key: upper case, no
    punctuation, words in full ("12 BIS AVENUE DES FLEURS"); La Poste's abbreviations
    only when the street label passes 32 characters or the line 38 (street type first,
    then titles), and cut at 38 as a last resort."""
    if len(key) <= MAX_STREET_LABEL:  # most lines: nothing to abbreviate
        return key.upper()
    words = key.split()
    start = _street_start(words)

    def fits(candidate: list[str]) -> bool:
        label = " ".join(candidate[start:])
        return len(label) <= MAX_STREET_LABEL and len(" ".join(candidate)) <= MAX_LINE

    if not fits(words):
        words = _abbreviate_type(words)
        start = _street_start(words)
        if not fits(words):
            words = _abbreviate_titles(words)
    return " ".join(words).upper()[:MAX_LINE].rstrip()
