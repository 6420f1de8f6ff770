"""Generic values: an identifier shared by many unrelated records is no evidence.

A shop types its own phone number for walk-in customers, a clerk types
`noemail@magasin.fr` or `CLIENT COMPTANT`: such values would tie together hundreds of
different people. They are found two ways:

- *shared by many people*: an e-mail or phone carried by at least `min_records`
  records whose last names are too many and too varied for one household;
- *known placeholder*: an e-mail or name that says "none" or "unknown" whatever its
  count (`noemail@…`, `a@a.fr`, `Client comptant`, `Inconnu`).

`GenericValueSet` holds the result with the administrators' edits; the engine skips
the generic blocking keys and compares `neutralise`d records, so a generic value reads
as missing: no evidence for or against a match.
"""

from __future__ import annotations

import dataclasses
import math
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

from rcu.engine.blocking import KeyKind
from rcu.engine.types import MatchRecord

EMAIL = "email"
PHONE = "phone"
NAME = "name"
KINDS = (EMAIL, PHONE, NAME)

SHARED_BY_MANY_PEOPLE = "shared_by_many_people"
KNOWN_PLACEHOLDER = "known_placeholder"

# Record keys holding each kind of identifier, by blocking-key kind (see keys.py).
_KEY_ATTRIBUTES = {KeyKind.EMAIL: ("email",), KeyKind.PHONE: ("phone", "mobile")}
_KIND_OF_PREFIX = {KeyKind.EMAIL: EMAIL, KeyKind.PHONE: PHONE}
_PREFIX_OF_KIND = {EMAIL: KeyKind.EMAIL, PHONE: KeyKind.PHONE}
# Record keys and attributes a generic value of each kind is removed from.
_ATTRIBUTES_OF_KIND = {EMAIL: ("email",), PHONE: ("phone", "mobile")}
_NAME_ATTRIBUTES = ("first_name", "last_name")

# Enough distinct surnames to tell a shop from a household many times over; beyond it
# a value is generic anyway, so counting on would only cost memory.
DISTINCT_NAMES_CAP = 1_000

# E-mail local parts (and domain labels) meaning "no address", compared without dots,
# hyphens, underscores and "+tag". Only words nobody has as a mailbox name.
_PLACEHOLDER_MAILBOXES = frozenset(
    {
        "noemail",
        "nomail",
        "noemailaddress",
        "pasdemail",
        "pasdemel",
        "pasdemails",
        "pasdadresse",
        "pasdadressemail",
        "sansemail",
        "sansmail",
        "aucun",
        "aucune",
        "aucunmail",
        "aucunemail",
        "none",
        "null",
        "unknown",
        "inconnu",
        "inconnue",
        "test",
        "xxx",
        "sinemail",
        "sincorreo",
        "keinemail",
    }
)
# Reserved for documentation and testing (RFC 2606, RFC 6761): no one's mailbox.
_RESERVED_DOMAINS = frozenset({"example.com", "example.org", "example.net"})
_RESERVED_TOP_LEVEL = frozenset({"test", "example", "invalid", "localhost"})
_MAILBOX_SEPARATORS = re.compile(r"[._\-]")

# Folded names (as `normalise_name` keys them) standing for "no particular person".
_PLACEHOLDER_NAMES = frozenset(
    {
        "client comptant",
        "client divers",
        "clients divers",
        "client de passage",
        "client passage",
        "inconnu",
        "inconnue",
        "anonyme",
        "unknown",
        "anonymous",
        "xxx",
    }
)


@dataclass(frozen=True, slots=True)
class GenericValue:
    """One generic value: its key form, how widely it is shared, and why it is generic.

    `rule` names what made it generic: the placeholder rule that matched, or
    "many_distinct_last_names" for a value shared by many people.
    """

    kind: str  # "email" | "phone" | "name"
    value: str  # the comparison key: lower-case e-mail, E.164 phone, folded name
    records: int
    distinct_names: int
    reason: str  # SHARED_BY_MANY_PEOPLE | KNOWN_PLACEHOLDER
    rule: str = ""

    @property
    def key(self) -> str | None:
        """The blocking key this value produces ("ph:+33140000000"); None for a name,
        which only enters blocking keys combined with other values."""
        prefix = _PREFIX_OF_KIND.get(self.kind)
        return f"{prefix}:{self.value}" if prefix else None


def email_placeholder_rule(address: str) -> str | None:
    """The rule by which an e-mail key is a known placeholder, or None."""
    local, at, domain = address.rpartition("@")
    if not at or not local or not domain:
        return None
    mailbox = _MAILBOX_SEPARATORS.sub("", local.partition("+")[0])
    if mailbox in _PLACEHOLDER_MAILBOXES:
        return f"placeholder_local_part:{mailbox}"
    if domain in _RESERVED_DOMAINS or domain.rpartition(".")[2] in _RESERVED_TOP_LEVEL:
        return f"reserved_domain:{domain}"
    label = domain.partition(".")[0]
    if _MAILBOX_SEPARATORS.sub("", label) in _PLACEHOLDER_MAILBOXES:
        return f"placeholder_domain:{label}"
    # "a@a.fr", "xx@xx.com", "aaaa@gmail.com": one character typed over and over.
    # A single letter alone ("j@dupont.fr") is a real mailbox and stays.
    if len(set(mailbox)) == 1 and (len(mailbox) >= 3 or label == mailbox):
        return "repeated_character"
    return None


def name_placeholder_rule(name: str) -> str | None:
    """The rule by which a folded name is a known placeholder, or None."""
    if name in _PLACEHOLDER_NAMES:
        return f"placeholder_name:{name}"
    letters = name.replace(" ", "")
    if len(letters) >= 3 and len(set(letters)) == 1:
        return "repeated_character"
    return None


def _name_readings(record: MatchRecord) -> Iterator[str]:
    """The names a placeholder may hide in: each name alone and both in either order."""
    first = record.keys.get("first_name", "")
    last = record.keys.get("last_name", "")
    if last:
        yield last
    if first:
        yield first
    if first and last:
        yield f"{first} {last}"
        yield f"{last} {first}"


def _placeholder_name(record: MatchRecord) -> str | None:
    for reading in _name_readings(record):
        if name_placeholder_rule(reading):
            return reading
    return None


def _person(record: MatchRecord, placeholder_name: str | None) -> object | None:
    """Who the record names: its last name; a token of its own when that name is a
    placeholder, since each walk-in is somebody else; None when it names nobody."""
    last = record.keys.get("last_name")
    if placeholder_name is not None and placeholder_name != record.keys.get("first_name"):
        return ("anonymous", record.source, record.id)
    return last or None


@dataclass(slots=True)
class _Tally:
    records: int = 0
    named: int = 0  # records that name someone: a real last name or a placeholder
    names: set[object] = field(default_factory=set)

    def count(self, person: object | None) -> None:
        self.records += 1
        if person is None:
            return
        self.named += 1
        if len(self.names) < DISTINCT_NAMES_CAP:
            self.names.add(person)


def detect_generic_values(
    records: Iterable[MatchRecord],
    *,
    kinds: Iterable[str] = (KeyKind.EMAIL, KeyKind.PHONE),
    min_records: int = 10,
    min_distinct_names: int = 5,
    min_distinct_name_ratio: float = 0.3,
) -> list[GenericValue]:
    """The generic e-mails, phones and names of `records`, sorted by (kind, value).

    One pass; memory grows with the number of distinct identifier values, each keeping
    a count and at most `DISTINCT_NAMES_CAP` names. `kinds` are blocking-key kinds:
    `KeyKind.EMAIL` and `KeyKind.PHONE` (both phone columns).

    A value carried by `min_records` records or more is shared by many people when its
    records name at least `min_distinct_names` different last names, and that count
    reaches `min_distinct_name_ratio` of its named records: the largest share of
    distinct surnames a household (parents, children, in-laws, typos) plausibly
    reaches. Records named by a placeholder ("client comptant") each count as another
    person; records with no last name are left out of the ratio.
    """
    kinds = tuple(dict.fromkeys(kinds))
    unknown = set(kinds) - set(_KEY_ATTRIBUTES)
    if unknown:
        raise ValueError(f"Only e-mail and phone values are counted, not {sorted(unknown)}")
    attributes = [
        (_KIND_OF_PREFIX[KeyKind(prefix)], attribute)
        for prefix in kinds
        for attribute in _KEY_ATTRIBUTES[KeyKind(prefix)]
    ]
    tallies: dict[tuple[str, str], _Tally] = {}
    for record in records:
        placeholder_name = _placeholder_name(record)
        if placeholder_name is not None:
            name_tally = tallies.setdefault((NAME, placeholder_name), _Tally())
            name_tally.count(record.keys.get("last_name"))
        person = _person(record, placeholder_name)
        seen: set[tuple[str, str]] = set()
        for kind, attribute in attributes:
            value = record.keys.get(attribute)
            if value and (kind, value) not in seen:
                seen.add((kind, value))
                tallies.setdefault((kind, value), _Tally()).count(person)

    generic: list[GenericValue] = []
    for (kind, value), tally in tallies.items():
        distinct = len(tally.names)
        if kind == EMAIL:
            rule = email_placeholder_rule(value)
        elif kind == NAME:
            rule = name_placeholder_rule(value)
        else:
            rule = None
        if rule is not None:
            reason = KNOWN_PLACEHOLDER
        elif _shared_by_many_people(
            tally,
            min_records=min_records,
            min_distinct_names=min_distinct_names,
            ratio=min_distinct_name_ratio,
        ):
            reason, rule = SHARED_BY_MANY_PEOPLE, "many_distinct_last_names"
        else:
            continue
        generic.append(GenericValue(kind, value, tally.records, distinct, reason, rule))
    generic.sort(key=lambda item: (item.kind, item.value))
    return generic


def _shared_by_many_people(
    tally: _Tally, *, min_records: int, min_distinct_names: int, ratio: float
) -> bool:
    if tally.records < min_records:
        return False
    distinct = len(tally.names)
    if distinct >= DISTINCT_NAMES_CAP:
        return True
    needed = max(min_distinct_names, math.ceil(ratio * tally.named))
    return distinct >= needed


class GenericValueSet:
    """The generic values in force: those detected, edited by administrators.

    Values are comparison keys (lower-case e-mail, E.164 phone, folded name), as
    `MatchRecord.keys` holds them. `add` marks more values generic, `remove` clears
    detected ones; a value in both is refused, since nobody can tell which edit wins.
    """

    def __init__(
        self,
        values: Iterable[GenericValue] = (),
        *,
        add: Iterable[tuple[str, str]] = (),
        remove: Iterable[tuple[str, str]] = (),
    ) -> None:
        added = set(add)
        removed = set(remove)
        conflicting = added & removed
        if conflicting:
            raise ValueError(f"Both added and removed: {sorted(conflicting)}")
        unknown = {kind for kind, _ in added | removed} - set(KINDS)
        if unknown:
            raise ValueError(f"Unknown kinds of generic value: {sorted(unknown)}")
        entries = {(value.kind, value.value) for value in values} | added
        entries -= removed
        self._values: dict[str, frozenset[str]] = {
            kind: frozenset(value for entry_kind, value in entries if entry_kind == kind)
            for kind in KINDS
        }
        self._skipped_keys = frozenset(
            f"{_PREFIX_OF_KIND[kind]}:{value}" for kind, value in entries if kind in _PREFIX_OF_KIND
        )

    def __len__(self) -> int:
        return sum(len(values) for values in self._values.values())

    def __iter__(self) -> Iterator[tuple[str, str]]:
        """(kind, value) pairs, sorted."""
        return iter(sorted((kind, value) for kind in KINDS for value in self._values[kind]))

    def is_generic(self, kind: str, value: str) -> bool:
        values = self._values.get(kind)
        return values is not None and value in values

    def blocking_keys_to_skip(self) -> frozenset[str]:
        """The "em:" and "ph:" blocking keys of generic values: blocks of strangers."""
        return self._skipped_keys

    def neutralise(self, record: MatchRecord) -> MatchRecord:
        """The record without its generic values, in `keys` and `attributes` alike, so
        comparisons see them as missing; the record itself when it has none."""
        dropped: list[str] = []
        for kind, attributes in _ATTRIBUTES_OF_KIND.items():
            generic = self._values[kind]
            if generic:
                dropped.extend(
                    attribute for attribute in attributes if record.keys.get(attribute) in generic
                )
        dropped.extend(self._generic_names(record))
        if not dropped:
            return record
        return dataclasses.replace(
            record,
            keys={name: key for name, key in record.keys.items() if name not in dropped},
            attributes={
                name: value for name, value in record.attributes.items() if name not in dropped
            },
        )

    def _generic_names(self, record: MatchRecord) -> list[str]:
        """The name attributes to drop: both when the full name is generic ("client
        comptant" typed across both fields), else each generic one alone."""
        generic = self._values[NAME]
        if not generic:
            return []
        first = record.keys.get("first_name", "")
        last = record.keys.get("last_name", "")
        if first and last and (f"{first} {last}" in generic or f"{last} {first}" in generic):
            return list(_NAME_ATTRIBUTES)
        return [
            name for name, value in (("first_name", first), ("last_name", last)) if value in generic
        ]
