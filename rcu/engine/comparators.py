"""Field comparisons of two records: each returns a level, 0 the strongest agreement.

A comparison returns None when either record lacks the value: a missing value is no
evidence for or against a match. All comparisons read `MatchRecord.keys` (folded
names, E.164 phones, ISO birth dates, expanded addresses), never raw values.
"""

from __future__ import annotations

from functools import lru_cache

import phonenumbers
from phonenumbers import PhoneNumberType
from rapidfuzz.distance import DamerauLevenshtein, JaroWinkler, Levenshtein
from rapidfuzz.fuzz import token_set_ratio

from rcu.engine.blocking import NOT_IDENTIFIERS, KeyKind, mailbox_name, swapped_day_month
from rcu.engine.nicknames import known_short_form
from rcu.engine.types import Comparison, Level, Levels, MatchRecord
from rcu.normalisation.phones import FRENCH_PLAN

JARO_WINKLER_HIGH = 0.92
JARO_WINKLER_LOW = 0.80
EMAIL_CLOSE = 0.92
ADDRESS_HIGH = 90.0
ADDRESS_MID = 70.0

# Words that join a surname without being one: "Le Goff" and "Le Pen" share nothing.
NAME_PARTICLES = frozenset(
    {
        "de",
        "du",
        "des",
        "le",
        "la",
        "les",
        "d",
        "l",
        "van",
        "von",
        "der",
        "den",
        "da",
        "di",
        "del",
        "della",
        "dos",
        "das",
        "y",
        "et",
    }
)

_jaro_winkler = JaroWinkler.similarity
# Keys of custom attributes (rcu.engine.custom): not extra identifiers.
_CUSTOM_KEYS = ("custom:", "custom_id:")


# The levels of each comparison, strongest agreement first.
class FirstNameLevel(Levels):
    EXACT = 0
    JARO_WINKLER_HIGH = 1
    SHORT_FORM = 2
    COMPATIBLE = 3
    JARO_WINKLER_LOW = 4
    DIFFERENT = 5


class LastNameLevel(Levels):
    EXACT = 0
    JARO_WINKLER_HIGH = 1
    TOKEN_MATCH = 2
    JARO_WINKLER_LOW = 3
    IN_OTHER_EMAIL = 4
    DIFFERENT = 5


class BirthDateLevel(Levels):
    EXACT = 0
    DAY_MONTH_SWAPPED = 1
    ONE_TYPO = 2
    SAME_YEAR = 3
    DIFFERENT = 4


class EmailLevel(Levels):
    EXACT = 0
    SAME_LOCAL_PART = 1
    CLOSE = 2
    DIFFERENT = 3


class PhoneLevel(Levels):
    EXACT = 0
    ONE_TYPO = 1
    OTHER_LINE_KIND = 2
    DIFFERENT = 3


class AddressLevel(Levels):
    EXACT = 0
    TOKEN_SET_HIGH = 1
    TOKEN_SET_MID = 2
    DIFFERENT = 3


class PostcodeCityLevel(Levels):
    SAME_POSTCODE_AND_CITY = 0
    SAME_POSTCODE = 1
    SAME_CITY = 2
    SAME_DEPARTMENT = 3
    DIFFERENT = 4


class IdentifierLevel(Levels):
    SAME = 0
    DIFFERENT = 1



def _names(record: MatchRecord) -> tuple[str, str]:
    keys = record.keys
    return keys.get("first_name", ""), keys.get("last_name", "")


# The last pair asked about and its names in the orientation chosen: first_name and
# last_name are compared one after the other on the same pair, so the orientation is
# computed once per pair. One tuple, replaced whole, so a concurrent reader never sees
# half of an answer.
_last_orientation: tuple = (None, None, ("", "", "", ""), False, None, None)


def _oriented(a: MatchRecord, b: MatchRecord) -> tuple:
    """((a first, b first, a last, b last), swapped, first-name similarity, last-name
    similarity) for the pair; a similarity is None when not computed yet."""
    global _last_orientation
    if _last_orientation[0] is a and _last_orientation[1] is b:
        return _last_orientation[2:]
    a_first, a_last = _names(a)
    b_first, b_last = _names(b)
    swapped = False
    first_similarity = last_similarity = None
    # One name equal on both sides: the straight reading cannot lose.
    if a_first and a_last and b_first and b_last and a_first != b_first and a_last != b_last:
        first_similarity = _jaro_winkler(a_first, b_first)
        last_similarity = _jaro_winkler(a_last, b_last)
        crossed_first = _jaro_winkler(a_first, b_last)
        crossed_last = _jaro_winkler(a_last, b_first)
        swapped = crossed_first + crossed_last > first_similarity + last_similarity
        if swapped:
            b_first, b_last = b_last, b_first
            first_similarity, last_similarity = crossed_first, crossed_last
    answer = ((a_first, b_first, a_last, b_last), swapped, first_similarity, last_similarity)
    _last_orientation = (a, b, *answer)
    return answer


def orientation(a: MatchRecord, b: MatchRecord) -> bool:
    """True when b's first and last names agree better with a's the other way round.

    Both comparators use it, so a swapped pair is judged on one consistent reading.
    It needs all four names; with one missing the straight reading is kept.
    """
    return _oriented(a, b)[1]


def _first_names_compatible(x: str, y: str) -> bool:
    """An initial or shortened form ("j", "jean" vs "jean pierre"), a part of a compound
    name ("pierre" vs "jean pierre"), or the same name glued ("jeanpierre")."""
    if x.replace(" ", "") == y.replace(" ", ""):
        return True
    short, long = (x, y) if len(x) <= len(y) else (y, x)
    if long.startswith(short):
        return True
    short_tokens, long_tokens = short.split(), long.split()
    if set(short_tokens) & set(long_tokens):
        return True
    # Initials token by token: "j p" vs "jean pierre", "jean p" vs "jean pierre".
    return len(short_tokens) == len(long_tokens) and all(
        t.startswith(s) or s.startswith(t) for s, t in zip(short_tokens, long_tokens, strict=True)
    )


def compare_first_name(a: MatchRecord, b: MatchRecord) -> Level:
    """First names. A usual short form ("Bill", "Becky", "Paco": `known_short_form`) has
    its own level; two short names one keystroke apart ("Amy" and "May", "Lee" and
    "Ele"), which Jaro-Winkler scores as strangers, are weakly similar
    ("jaro_winkler_low"), not different: a typo is no contradiction."""
    (x, y, _, _), _, similarity, _ = _oriented(a, b)
    if not x or not y:
        return None
    if x == y:
        return FirstNameLevel.EXACT
    if similarity is None:
        similarity = _jaro_winkler(x, y)
    if similarity >= JARO_WINKLER_HIGH:
        return FirstNameLevel.JARO_WINKLER_HIGH
    if _first_names_compatible(x, y):
        return FirstNameLevel.COMPATIBLE
    if known_short_form(x, y):
        return FirstNameLevel.SHORT_FORM
    if similarity >= JARO_WINKLER_LOW or (
        DamerauLevenshtein.distance(x, y, score_cutoff=1) <= 1
    ):
        return FirstNameLevel.JARO_WINKLER_LOW
    return FirstNameLevel.DIFFERENT


def _surname_tokens(name: str) -> set[str]:
    return {token for token in name.split() if len(token) > 1 and token not in NAME_PARTICLES}


MAILBOX_NAME_MIN = 3


def _mailbox(record: MatchRecord) -> str:
    email = record.keys.get("email", "")
    return mailbox_name(email) if email else ""


def _name_in_mailbox(name: str, mailbox: str) -> bool:
    return any(
        len(token) >= MAILBOX_NAME_MIN and token in mailbox for token in _surname_tokens(name)
    )


def _other_name_in_email(a: MatchRecord, b: MatchRecord, x: str, y: str) -> bool:
    """One side's surname is in the other side's e-mail address, and that side's own
    surname is not: a birth name kept in an address after marriage, or the reverse."""
    for name, other, other_name in ((x, b, y), (y, a, x)):
        mailbox = _derived(other, "mailbox", _mailbox)
        if mailbox and _name_in_mailbox(name, mailbox) and not _name_in_mailbox(
            other_name, mailbox
        ):
            return True
    return False


def compare_last_name(a: MatchRecord, b: MatchRecord) -> Level:
    """Surnames; two different ones may still be one person's birth and married names,
    when one of them is written in the other record's e-mail address."""
    (_, _, x, y), _, _, similarity = _oriented(a, b)
    if not x or not y:
        return None
    # "Le Goff" and "Legoff" are one name written two ways.
    if x == y or x.replace(" ", "") == y.replace(" ", ""):
        return LastNameLevel.EXACT
    if similarity is None:
        similarity = _jaro_winkler(x, y)
    if similarity >= JARO_WINKLER_HIGH:
        return LastNameLevel.JARO_WINKLER_HIGH
    if _surname_tokens(x) & _surname_tokens(y):
        return LastNameLevel.TOKEN_MATCH
    if similarity >= JARO_WINKLER_LOW:
        return LastNameLevel.JARO_WINKLER_LOW
    if _other_name_in_email(a, b, x, y):
        return LastNameLevel.IN_OTHER_EMAIL
    return LastNameLevel.DIFFERENT


def compare_birth_date(a: MatchRecord, b: MatchRecord) -> Level:
    x = a.keys.get("birth_date")
    y = b.keys.get("birth_date")
    if not x or not y:
        return None
    if x == y:
        return BirthDateLevel.EXACT
    if x[:4] == y[:4] and swapped_day_month(x) == y:
        return BirthDateLevel.DAY_MONTH_SWAPPED
    if DamerauLevenshtein.distance(x.replace("-", ""), y.replace("-", ""), score_cutoff=2) == 1:
        return BirthDateLevel.ONE_TYPO
    if x[:4] == y[:4]:
        return BirthDateLevel.SAME_YEAR
    return BirthDateLevel.DIFFERENT


def _spelt_from_names(record: MatchRecord) -> bool:
    """Whether the record's mailbox name is spelt from its holder's names alone: whole
    words of the first and last names, or their initials, in any order ("jean.martin",
    "martinj", "jf.legoff"); digits and separators aside."""
    mailbox = _derived(record, "mailbox", _mailbox)
    keys = record.keys
    words = f"{keys.get('first_name', '')} {keys.get('last_name', '')}".replace("-", " ").split()
    if not mailbox or not words:
        return False
    pieces = set(words) | {word[0] for word in words}
    reached = [True] + [False] * len(mailbox)
    for start in range(len(mailbox)):
        if reached[start]:
            for piece in pieces:
                if mailbox.startswith(piece, start):
                    reached[start + len(piece)] = True
    return reached[-1]


def _digits(text: str) -> str:
    return "".join(ch for ch in text if ch.isdigit())


def _same_name_mailboxes(a: MatchRecord, b: MatchRecord) -> bool:
    """Both addresses spell the same names and nothing else (digits aside): namesakes
    write them so as often as one person does."""
    return (
        _derived(a, "mailbox", _mailbox) == _derived(b, "mailbox", _mailbox)
        and _derived(a, "mailbox_of_names", _spelt_from_names)
        and _derived(b, "mailbox_of_names", _spelt_from_names)
    )


def compare_email(a: MatchRecord, b: MatchRecord) -> Level:
    """E-mail addresses. One address is one person's; two addresses that only spell
    the same names ("jean.martin@orange.fr" and "jean_martin@free.fr", or
    "jean.martin70@" and "jean.martin89@" at one provider) tell no more than the names
    already do, since a namesake writes them so as readily (None: no evidence either
    way), unless one is the other with a typo in the domain or they share digits."""
    x = a.keys.get("email")
    y = b.keys.get("email")
    if not x or not y:
        return None
    if x == y:
        return EmailLevel.EXACT
    local_x, _, domain_x = x.rpartition("@")
    local_y, _, domain_y = y.rpartition("@")
    if _same_name_mailboxes(a, b):
        digits = _digits(local_x)
        if digits != _digits(local_y):
            return None  # two numbered accounts of one name
        if domain_x != domain_y:
            if local_x == local_y and DamerauLevenshtein.distance(
                domain_x, domain_y, score_cutoff=1
            ) <= 1:
                return EmailLevel.CLOSE  # one address, its domain mistyped
            if not digits:
                return None  # the names, written at two providers
    if local_x == local_y:
        return EmailLevel.SAME_LOCAL_PART
    if _jaro_winkler(x, y) >= EMAIL_CLOSE:
        return EmailLevel.CLOSE
    return EmailLevel.DIFFERENT


def _derived(record: MatchRecord, name: str, compute):
    """`compute(record)`, computed once per record and kept in `record.derived`."""
    derived = record.derived
    value = derived.get(name)
    if value is None:
        value = derived[name] = compute(record)
    return value


def _phone_tuple(record: MatchRecord) -> tuple[str, ...]:
    keys = record.keys
    return tuple(number for number in (keys.get("phone"), keys.get("mobile")) if number)


def _phone_numbers(record: MatchRecord) -> tuple[str, ...]:
    return _derived(record, "phones", _phone_tuple)


MOBILE = "mobile"
LANDLINE = "landline"
FRENCH_PREFIX = "+33"


def _line_kind_of_type(kind: int) -> str | None:
    if kind == PhoneNumberType.MOBILE:
        return MOBILE
    if kind == PhoneNumberType.FIXED_LINE:
        return LANDLINE
    return None


def phone_line_kind(e164: str) -> str | None:
    """"mobile" or "landline" for a number whose plan says which; None otherwise
    (a number type shared by both, VoIP, a number phonenumbers cannot place). French
    numbers go through the precompiled French plan, others through phonenumbers."""
    if e164.startswith(FRENCH_PREFIX):
        return _line_kind_of_type(FRENCH_PLAN.number_type(e164[len(FRENCH_PREFIX) :]))
    return _foreign_line_kind(e164)


@lru_cache(maxsize=16_384)
def _foreign_line_kind(e164: str) -> str | None:
    try:
        return _line_kind_of_type(phonenumbers.number_type(phonenumbers.parse(e164)))
    except phonenumbers.NumberParseException:
        return None


def _line_kinds(record: MatchRecord) -> frozenset[str | None]:
    return frozenset(phone_line_kind(number) for number in _phone_numbers(record))


def compare_phone(a: MatchRecord, b: MatchRecord) -> Level:
    """Every number of one record against every number of the other, whichever column
    each was written in. Different numbers of different kinds (a landline against a
    mobile) say much less than two different mobiles: they get their own level."""
    xs = _phone_numbers(a)
    ys = _phone_numbers(b)
    if not xs or not ys:
        return None
    for x in xs:
        if x in ys:
            return PhoneLevel.EXACT
    for x in xs:
        for y in ys:
            if Levenshtein.distance(x, y, score_cutoff=1) <= 1:
                return PhoneLevel.ONE_TYPO
    x_kinds = _derived(a, "line_kinds", _line_kinds)
    y_kinds = _derived(b, "line_kinds", _line_kinds)
    if None not in x_kinds and None not in y_kinds and x_kinds.isdisjoint(y_kinds):
        return PhoneLevel.OTHER_LINE_KIND
    return PhoneLevel.DIFFERENT


def _house_numbers(address: str) -> set[str]:
    return {token for token in address.split() if token.isdigit()}


def compare_address(a: MatchRecord, b: MatchRecord) -> Level:
    """Token-set similarity of the expanded address lines. Two different house numbers
    in the same street are not the same address: at best "token_set_mid"."""
    x = a.keys.get("address")
    y = b.keys.get("address")
    if not x or not y:
        return None
    if x == y:
        return AddressLevel.EXACT
    ratio = token_set_ratio(x, y, score_cutoff=ADDRESS_MID)
    if ratio >= ADDRESS_HIGH:
        x_numbers, y_numbers = _house_numbers(x), _house_numbers(y)
        if not (x_numbers and y_numbers and x_numbers.isdisjoint(y_numbers)):
            return AddressLevel.TOKEN_SET_HIGH
        return AddressLevel.TOKEN_SET_MID
    if ratio >= ADDRESS_MID:
        return AddressLevel.TOKEN_SET_MID
    return AddressLevel.DIFFERENT


def _department(postcode: str) -> str | None:
    """The French department a five-digit postcode belongs to: two digits, three
    overseas ("971" Guadeloupe, "974" La Réunion)."""
    if len(postcode) != 5 or not postcode.isdigit():
        return None
    return postcode[:3] if postcode[:2] in ("97", "98") else postcode[:2]


def compare_postcode_city(a: MatchRecord, b: MatchRecord) -> Level:
    """Postcode and town as one comparison with a level for both agreeing: how much the
    town adds to the postcode is the base's to say. Where the town follows from the
    postcode (a French file) the joint level weighs about what the postcode does; where
    the two are independent (a residence postcode beside a birthplace) it weighs both.
    Two separate comparisons would count a dependent town twice."""
    x_postcode = a.keys.get("postcode")
    y_postcode = b.keys.get("postcode")
    x_city = a.keys.get("city")
    y_city = b.keys.get("city")
    if not (x_postcode and y_postcode) and not (x_city and y_city):
        return None
    if x_postcode and x_postcode == y_postcode:
        if x_city and x_city == y_city:
            return PostcodeCityLevel.SAME_POSTCODE_AND_CITY
        return PostcodeCityLevel.SAME_POSTCODE
    if x_city and x_city == y_city:
        return PostcodeCityLevel.SAME_CITY
    if x_postcode and y_postcode:
        department = _department(x_postcode)
        if department is not None and department == _department(y_postcode):
            return PostcodeCityLevel.SAME_DEPARTMENT
    return PostcodeCityLevel.DIFFERENT


def identifiers(record: MatchRecord) -> dict[str, str]:
    """The record's extra identifiers, by code (custom attributes, "custom:" and
    "custom_id:" keys, have comparisons of their own: rcu.engine.custom)."""
    return {
        name: value for name, value in record.keys.items()
        if name not in NOT_IDENTIFIERS and not name.startswith(_CUSTOM_KEYS)
    }


def compare_identifiers(a: MatchRecord, b: MatchRecord) -> Level:
    """Extra identifiers of the same kind: one equal is agreement; all different is
    disagreement (two loyalty cards are two people, or one person's two cards: the
    model learns how often). No identifier of a common kind: no evidence."""
    x = _derived(a, "identifiers", identifiers)
    if not x:
        return None
    y = _derived(b, "identifiers", identifiers)
    if not y:
        return None
    common = x.keys() & y.keys()
    if not common:
        return None
    return IdentifierLevel.SAME if any(x[code] == y[code] for code in common) else 1


COMPARISONS: tuple[Comparison, ...] = (
    Comparison(
        "first_name", FirstNameLevel.labels(), compare_first_name,
        term_frequency=((FirstNameLevel.EXACT.label, "first_name"),),
        equal_value=(FirstNameLevel.EXACT.label, "first_name"),
    ),
    Comparison(
        "last_name", LastNameLevel.labels(), compare_last_name, household=True,
        term_frequency=((LastNameLevel.EXACT.label, "last_name"),),
        equal_value=(LastNameLevel.EXACT.label, "last_name"),
    ),
    Comparison(
        "birth_date", BirthDateLevel.labels(), compare_birth_date,
        term_frequency=((BirthDateLevel.EXACT.label, "birth_date"),),
        equal_value=(BirthDateLevel.EXACT.label, "birth_date"),
    ),
    Comparison(
        "email", EmailLevel.labels(), compare_email,
        counted_level=EmailLevel.EXACT.label, key_kind=KeyKind.EMAIL,
    ),
    Comparison(
        "phone", PhoneLevel.labels(), compare_phone,
        counted_level=PhoneLevel.EXACT.label, key_kind=KeyKind.PHONE, household=True,
    ),
    Comparison("address", AddressLevel.labels(), compare_address, household=True),
    Comparison(
        "postcode_city", PostcodeCityLevel.labels(), compare_postcode_city, household=True,
        term_frequency=(
            (PostcodeCityLevel.SAME_POSTCODE_AND_CITY.label, "postcode"),
            (PostcodeCityLevel.SAME_POSTCODE.label, "postcode"),
            (PostcodeCityLevel.SAME_CITY.label, "city"),
        ),
    ),
    Comparison(
        "identifiers", IdentifierLevel.labels(), compare_identifiers,
        counted_level=IdentifierLevel.SAME.label, key_kind=KeyKind.IDENTIFIER,
    ),
)

# What stops an automatic link whatever the score: a disagreement on something that
# tells people apart. Beyond it, an automatic link needs enough evidence once what a
# household shares is counted once (`Comparison.household`, `Scorer.personal_weight`).
CONTRADICTING_LEVELS: dict[str, frozenset[Levels]] = {
    "first_name": frozenset({FirstNameLevel.DIFFERENT}),
    "birth_date": frozenset({BirthDateLevel.DIFFERENT, BirthDateLevel.SAME_YEAR}),
    "identifiers": frozenset({IdentifierLevel.DIFFERENT}),
}


# Weak agreements that stop an automatic link where the model learnt them to be evidence
# against a match (a negative weight): a "somewhat similar" first name is a typo's level
# in one base and the level of twins with close names ("Alice", "Alix") in another.
CONTRADICTING_WHEN_AGAINST: dict[str, frozenset[Levels]] = {
    "first_name": frozenset({FirstNameLevel.JARO_WINKLER_LOW}),
}


# Twins share a surname, a home and a birth date: only their first names tell them
# apart. A pair agreeing on the birth date and on the home (`TWINS_HOME`) whose first
# names are only somewhat alike ("Anne" and "Andrée", "Léa" and "Léo") may be two of
# them, and is not linked without a steward unless something personal agrees too
# (`Scorer.link_guard`, "possible_twins"): naive Bayes counts the birth date as if it
# told them apart. Where the model learnt that likeness to be evidence against a match,
# it is a contradiction already (`CONTRADICTING_WHEN_AGAINST`). An initial or one part
# of a compound name ("compatible") is not held: it is far more often one person's
# record written short (measured on the many-shapes bench: three true pairs held for
# every false one avoided), and a pair of twins, held apart, keeps such a record from
# joining them both.
TWINS_FIRST_NAMES = frozenset({FirstNameLevel.JARO_WINKLER_LOW})
TWINS_BIRTH_DATE = BirthDateLevel.EXACT
TWINS_HOME: dict[str, frozenset[Levels]] = {
    "address": frozenset({AddressLevel.EXACT, AddressLevel.TOKEN_SET_HIGH}),
    "phone": frozenset({PhoneLevel.EXACT}),
}


def compare_pair(a: MatchRecord, b: MatchRecord) -> tuple[Level, ...]:
    """The level of every comparison of COMPARISONS, in order."""
    return tuple(comparison.compare(a, b) for comparison in COMPARISONS)


def _time_pairs(pairs: int = 100_000) -> float:
    """Microseconds per record pair for all comparisons, on realistic French records."""
    import time

    from rcu.normalisation.record import normalise_record

    def record(id_: int, values: dict[str, str]) -> MatchRecord:
        normalised = normalise_record(values)
        return MatchRecord(
            id=id_, source="bench", attributes=normalised.attributes, keys=normalised.keys
        )

    a = record(
        1,
        {
            "first_name": "Jean-François",
            "last_name": "Le Goff",
            "birth_date": "03/04/1980",
            "email": "jf.legoff@orange.fr",
            "phone": "01 45 67 89 12",
            "mobile": "06 12 34 56 78",
            "address_line1": "12 bd St-Michel",
            "postcode": "75005",
            "city": "Paris",
        },
    )
    b = record(
        2,
        {
            "first_name": "LEGOFF",
            "last_name": "Jean Francois",
            "birth_date": "04/03/1980",
            "email": "jf.legoff@wanadoo.fr",
            "mobile": "01 45 67 89 12",
            "address_line1": "12 boulevard Saint Michel",
            "address_line2": "CEDEX 05",
            "postcode": "75006",
            "city": "Paris Cedex 06",
        },
    )
    c = record(
        3,
        {
            "first_name": "Marie",
            "last_name": "Dupont",
            "birth_date": "1975-11-21",
            "email": "marie.dupont@gmail.com",
            "phone": "04 78 12 34 56",
            "address_line1": "3 rue de la République",
            "postcode": "69002",
            "city": "Lyon",
        },
    )
    samples = [(a, b), (a, c), (b, c), (c, c)]
    start = time.perf_counter()
    for i in range(pairs):
        x, y = samples[i & 3]
        for comparison in COMPARISONS:
            comparison.compare(x, y)
    return (time.perf_counter() - start) / pairs * 1e6


if __name__ == "__main__":
    print(f"{_time_pairs():.2f} µs per pair")
