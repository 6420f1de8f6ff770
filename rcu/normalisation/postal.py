"""La Poste's postcode and commune base (RNVP-light): does a postcode exist, does a city
go with it, and which delivery label should the address's last line carry.

The reference (`rcu/reference/laposte_hexasmal.csv`, 2023 edition) ships inside the
package and is loaded once, on first use, through `importlib.resources`. Lookups are
dictionary reads: the check costs little on the import hot path.

Cities are compared on a place key: folded, words glued together, "ST"/"STE" read as
"SAINT"/"SAINTE", CEDEX and a typed-in postcode dropped, arrondissement numbers kept as
a bare number ("Paris 1er arrondissement" → "paris1"). An arrondissement commune also
answers to the city alone ("PARIS 01" accepts "paris1" and "paris"), so "Paris" with
75001 matches and "Paris 8e" with 75001 does not.
"""

from __future__ import annotations

import re
import sys
from dataclasses import dataclass
from enum import StrEnum
from functools import cache, lru_cache
from importlib import resources

from rapidfuzz.distance import Levenshtein

from rcu.normalisation.text import NON_WORD, fold

REFERENCE_PACKAGE = "rcu.reference"
REFERENCE_FILE = "laposte_hexasmal.csv"
_COLUMNS = (
    "code_commune_insee", "nom_de_la_commune", "code_postal", "ligne_5",
    "libelle_d_acheminement", "coordonnees_geographiques",
)

_SUR = re.compile(r"\bs\s*/")
# "1", "01", "1er", "8e", "8eme": an arrondissement number as people write it.
_ARRONDISSEMENT = re.compile(r"(\d{1,2})(?:e|er|ere|em|eme|me)?")
_ARRONDISSEMENT_WORDS = frozenset({"arrondissement", "arrondissements", "arrdt", "arr", "ardt"})
_PLACE_ABBREVIATIONS = {"st": "saint", "ste": "sainte"}
# A misspelling is corrected only within this many edits of a name of the postcode:
# one for short names (a wrong letter in "Nice" may well be another place), two from
# eight letters on ("Marseile", "Montpelier", "Strasbour").
_LONG_NAME = 8


def place_key(text: str) -> str:
    """The form cities are compared on: "St-Étienne" → "saintetienne",
    "PARIS 1ER ARRONDISSEMENT" → "paris1", "Paris Cedex 08" → "paris"."""
    tokens = NON_WORD.sub(" ", _SUR.sub(" sur ", fold(text))).split()
    words: list[str] = []
    i = 0
    while i < len(tokens):
        token = tokens[i]
        i += 1
        if token == "cedex":
            if i < len(tokens) and tokens[i].isdigit():
                i += 1
            continue
        if token in _ARRONDISSEMENT_WORDS or (len(token) == 5 and token.isdigit()):
            continue
        number = _ARRONDISSEMENT.fullmatch(token)
        if number:
            words.append(str(int(number.group(1))))
            continue
        words.append(_PLACE_ABBREVIATIONS.get(token, token))
    return "".join(words)


def department_of(postcode: str) -> str:
    """Two digits, three overseas and for Monaco ("974" La Réunion, "980" Monaco)."""
    return postcode[:3] if postcode[:2] in ("97", "98") else postcode[:2]


@dataclass(frozen=True, slots=True)
class Locality:
    """One row of the reference: a commune (or a locality within it) served by a postcode."""

    insee: str  # "75101", "2A004"
    commune: str  # "PARIS 01", as La Poste writes it (upper case, no accents, ST/STE)
    line5: str  # a locality within the commune ("ARBIGNIEU"), "" when none
    label: str  # the delivery label of the last line ("PARIS")


class Status(StrEnum):
    MATCH = "match"  # the city is one of the postcode's communes, labels or localities
    CORRECTED = "corrected"  # a close misspelling of exactly one of them
    MISMATCH = "mismatch"  # the postcode exists, the city is none of its places
    UNKNOWN_POSTCODE = "unknown_postcode"  # not in the base, and not a CEDEX address
    CEDEX = "cedex"  # a CEDEX address: CEDEX codes are not in the base, nothing to check
    POSTCODE_ONLY = "postcode_only"  # the postcode exists; no city to compare


@dataclass(frozen=True, slots=True)
class PostalCheck:
    """What the reference says about a (postcode, city) pair.

    `label` is the delivery label for the last line and `line5` the locality line, when
    the city named one; both None when the reference could not place the address.
    """

    status: Status
    label: str | None = None
    line5: str | None = None

    @property
    def ok(self) -> bool:
        return self.status not in (Status.MISMATCH, Status.UNKNOWN_POSTCODE)


# A place a postcode answers to: (label, line5) by place key.
_Places = dict[str, tuple[str, str]]


class PostalReference:
    """The postcode base in memory: postcode → localities, and postcode → place keys."""

    def __init__(self, localities: dict[str, tuple[Locality, ...]]):
        self._localities = localities
        # Built per postcode on first use: a base imports a few thousand postcodes at most,
        # and building all 6,328 would double the load time and the memory for nothing.
        self._places: dict[str, _Places] = {}
        self._departments = frozenset(department_of(pc) for pc in localities)

    def __len__(self) -> int:
        return len(self._localities)

    def postcode_exists(self, postcode: str) -> bool:
        return postcode in self._localities

    def department_exists(self, postcode: str) -> bool:
        return department_of(postcode) in self._departments

    def localities(self, postcode: str) -> tuple[Locality, ...]:
        return self._localities.get(postcode, ())

    def communes(self, postcode: str) -> frozenset[str]:
        return frozenset(row.commune for row in self.localities(postcode))

    def labels(self, postcode: str) -> frozenset[str]:
        return frozenset(row.label for row in self.localities(postcode))

    def _places_of(self, postcode: str) -> _Places | None:
        places = self._places.get(postcode)
        if places is None:
            rows = self._localities.get(postcode)
            if rows is None:
                return None
            places = self._places[postcode] = _places_of(rows)
        return places

    def check(self, postcode: str, city: str | None, *, cedex: bool = False) -> PostalCheck:
        """Does `city` go with `postcode`? A CEDEX address is never "unknown" for its
        code not being in the base: only its department must exist."""
        places = self._places_of(postcode)
        key = place_key(city) if city else ""
        if places is None:
            if cedex and self.department_exists(postcode):
                return PostalCheck(Status.CEDEX)
            return PostalCheck(Status.UNKNOWN_POSTCODE)
        if not key:
            return PostalCheck(Status.POSTCODE_ONLY)
        found = places.get(key)
        if found is not None:
            return PostalCheck(Status.MATCH, found[0], found[1] or None)
        if cedex:  # a CEDEX code may also be a regular one: its office need not be there
            return PostalCheck(Status.CEDEX)
        corrected = _closest(key, places)
        if corrected is not None:
            return PostalCheck(Status.CORRECTED, corrected[0], corrected[1] or None)
        return PostalCheck(Status.MISMATCH)


def _places_of(rows: tuple[Locality, ...]) -> _Places:
    places: _Places = {}
    # Communes and labels first, so a locality sharing a commune's name does not shadow it.
    for row in rows:
        for name in (row.commune, row.label):
            key = place_key(name)
            places.setdefault(key, (row.label, ""))
            city = key.rstrip("0123456789")
            if city != key:  # "paris1": an arrondissement also answers to "paris"
                places.setdefault(city, (row.label, ""))
    for row in rows:
        if row.line5:
            places.setdefault(place_key(row.line5), (row.label, row.line5))
    return places


def _closest(key: str, places: _Places) -> tuple[str, str] | None:
    """The one place within the allowed edits of `key`; None when none or several are.

    Keys with digits (arrondissements) are never corrected: "Paris 8e" with 75001 is a
    mismatch to show, not a typo to fix.
    """
    if not key.isalpha():
        return None
    allowed = 2 if len(key) >= _LONG_NAME else 1
    found: set[tuple[str, str]] = set()
    for name, place in places.items():
        if not name.isalpha() or abs(len(name) - len(key)) > allowed:
            continue
        if Levenshtein.distance(key, name, score_cutoff=allowed) <= allowed:
            found.add(place)
    labels = {label for label, _line5 in found}
    if len(labels) != 1:
        return None
    if len(found) > 1:  # two localities of one label: the label alone is sure
        return (labels.pop(), "")
    return found.pop()


def read_reference(lines) -> dict[str, tuple[Locality, ...]]:
    """Parse the hexasmal CSV (an iterable of lines, header first) into postcode → rows."""
    iterator = iter(lines)
    header = next(iterator).rstrip("\r\n").split(";")
    if tuple(header) != _COLUMNS:
        raise ValueError(f"unexpected reference header: {header}")
    grouped: dict[str, list[Locality]] = {}
    intern = sys.intern
    for line in iterator:
        line = line.rstrip("\r\n")
        if not line:
            continue
        insee, commune, postcode, line5, label, _coordinates = line.split(";")
        grouped.setdefault(intern(postcode), []).append(
            Locality(intern(insee), intern(commune), intern(line5), intern(label))
        )
    return {postcode: tuple(rows) for postcode, rows in grouped.items()}


@cache
def postal_reference() -> PostalReference:
    """The shipped reference, loaded on first use and kept for the process."""
    source = resources.files(REFERENCE_PACKAGE).joinpath(REFERENCE_FILE)
    with source.open("r", encoding="utf-8") as lines:
        return PostalReference(read_reference(lines))


@lru_cache(maxsize=65_536)
def postal_check(postcode: str, city: str | None, *, cedex: bool = False) -> PostalCheck:
    """`PostalReference.check` on the shipped reference, cached: sources repeat pairs."""
    return postal_reference().check(postcode, city, cedex=cedex)


_CEDEX_SUFFIX = re.compile(r"\bcedex\b\s*(\d{1,3})?", re.IGNORECASE)


def cedex_suffix(*texts: str | None) -> str | None:
    """"CEDEX 08" (or "CEDEX") when any of the texts routes through a CEDEX; None otherwise.
    A numbered CEDEX wins over a bare one wherever it is written ("Paris Cedex" as the
    town, "CEDEX 12" on an address line): the number is the delivery office."""
    bare = False
    for text in texts:
        if text and "cedex" in text.lower():
            for found in _CEDEX_SUFFIX.finditer(text):
                number = found.group(1)
                if number:
                    return f"CEDEX {number.zfill(2)}"
                bare = True
    return "CEDEX" if bare else None


def postal_last_line(
    postcode: str | None, city: str | None, check: PostalCheck | None, cedex: str | None
) -> str:
    """"75008 PARIS", "13001 MARSEILLE", "75384 PARIS CEDEX 08": the delivery label when
    the reference placed the address, else the city as written in capitals."""
    if check is not None and check.label:
        label = check.label
    else:
        label = " ".join(NON_WORD.sub(" ", fold(city or "")).split()).upper()
    parts = [part for part in (postcode, label, cedex) if part]
    return " ".join(parts)[:38].rstrip()
