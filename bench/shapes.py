"""Labelled person files of several shapes, for the many-shapes benchmark (`bench.many_shapes`).

Each shape is one source file as a company would hand it over, with its source
configuration and the truth (which records are the same person):

- ``no_contact``: British names, birth date, birthplace, postcode; no e-mail, no phone
  (occupation and gender columns that no attribute takes);
- ``historical``: the same, born in the 19th century (the shape of public historical
  person files; RCU once dropped every birth date before 1900 and linked nothing);
- ``national_id``: American names, street address, birth date, a national id number
  on most records;
- ``heavy_corruption``: first and last name, birth date, city, e-mail, with typos,
  blanks, swapped names and moved people on most records;
- ``other_names``: Spanish, Vietnamese and German names (few surnames shared by many
  people), e-mail, mobile, address;
- ``households``: French families sharing surname, address, landline and sometimes an
  e-mail; twins sharing their birth date;
- ``voters``: a voter roll, American names with a middle name, a birth year instead of
  a date, sex, street address, no contact field; families at one address, sons named
  after their fathers. The middle name, the birth year and the sex are custom
  attributes an administrator adds (`attributes.json` beside the file).

Nothing here is tuned to the engine: names and places come from Faker's locale lists
(with their frequencies), corruption from a handful of generic operations whose
probabilities are the shape's. Every shape holds at least 2,000 true pairs at its
default size. Deterministic for a seed.
"""

from __future__ import annotations

import contextlib
import csv
import json
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from itertools import pairwise
from pathlib import Path

SOURCE_CODE = "file"
TRUTH_FILE = "truth.csv"
RECORDS_FILE = "records.csv"
CONFIG_FILE = "source.json"
ATTRIBUTES_FILE = "attributes.json"  # custom attributes to add before the source
DATE_FORMAT = "%d/%m/%Y"


@dataclass
class Person:
    person_id: str
    first_name: str
    last_name: str
    birth_date: date | None
    gender: str
    town: str = ""
    postcode: str = ""
    address: str = ""
    birthplace: str = ""
    email: str = ""
    phone: str = ""
    mobile: str = ""
    national_id: str = ""
    occupation: str = ""
    extra: dict = field(default_factory=dict)


@dataclass(frozen=True)
class Corruption:
    """Probabilities, per record after the first of a person, of each kind of damage."""

    name_typo: float = 0.08
    first_name_variant: float = 0.05  # initial, nickname or shortened
    names_swapped: float = 0.01
    name_missing: float = 0.02
    date_missing: float = 0.10
    date_typo: float = 0.05
    date_day_month_swapped: float = 0.02
    moved: float = 0.15  # new address, postcode, town, landline
    place_typo: float = 0.05
    place_missing: float = 0.08
    email_missing: float = 0.25
    email_changed: float = 0.10
    email_typo: float = 0.03
    phone_missing: float = 0.25
    phone_typo: float = 0.03
    id_missing: float = 0.30
    id_typo: float = 0.02
    married_name: float = 0.03  # women only


LETTERS = "abcdefghijklmnopqrstuvwxyz"
NICKNAMES = {
    "William": "Bill", "Robert": "Bob", "Elizabeth": "Liz", "Margaret": "Maggie",
    "Richard": "Dick", "James": "Jim", "Thomas": "Tom", "Catherine": "Kate",
    "Katherine": "Kate", "Michael": "Mike", "Jonathan": "Jon", "Alexander": "Alex",
    "Christopher": "Chris", "Jennifer": "Jenny", "Patricia": "Pat", "Daniel": "Dan",
    "Joseph": "Joe", "Samuel": "Sam", "Benjamin": "Ben", "Rebecca": "Becky",
    "Jean-Pierre": "J.-P.", "Marie-Claude": "Marie", "Francisco": "Paco", "José": "Pepe",
}


def typo(rng: random.Random, text: str) -> str:
    """One keyboard accident: a letter dropped, doubled, replaced or two swapped."""
    if len(text) < 3:
        return text
    i = rng.randrange(1, len(text) - 1)
    kind = rng.randrange(4)
    if kind == 0:
        return text[:i] + text[i + 1 :]
    if kind == 1:
        return text[:i] + text[i] + text[i:]
    if kind == 2:
        return text[:i] + rng.choice(LETTERS) + text[i + 1 :]
    return text[: i - 1] + text[i] + text[i - 1] + text[i + 1 :]


def digit_typo(rng: random.Random, text: str) -> str:
    digits = [i for i, c in enumerate(text) if c.isdigit()]
    if not digits:
        return text
    i = rng.choice(digits)
    return text[:i] + str((int(text[i]) + rng.randrange(1, 10)) % 10) + text[i + 1 :]


def date_text(value: date | None) -> str:
    return value.strftime(DATE_FORMAT) if value else ""


def weighted(rng: random.Random, names) -> str:
    """A name from a Faker list: an OrderedDict of weights, or a tuple (Zipf-weighted
    by position, so the first names of the list are the common ones)."""
    if isinstance(names, dict):
        keys = list(names)
        return rng.choices(keys, weights=list(names.values()))[0]
    names = list(names)
    return rng.choices(names, weights=[1.0 / (i + 1) ** 0.8 for i in range(len(names))])[0]


class Locale:
    """Names, places and contact details of one country, from Faker's lists."""

    def __init__(self, code: str, rng: random.Random, *, town_count: int = 400) -> None:
        from faker import Faker

        self.faker = Faker(code)
        self.faker.seed_instance(rng.randrange(1 << 30))
        provider = self.faker.provider("faker.providers.person")
        self.male = provider.first_names_male
        self.female = provider.first_names_female
        self.last = provider.last_names
        self.rng = rng
        # Towns with a Zipf population: a few cities hold most people.
        self.towns = [(self.faker.city(), self.faker.postcode()) for _ in range(town_count)]
        self.town_weights = [1.0 / (i + 1) for i in range(town_count)]

    def first_name(self, gender: str) -> str:
        return weighted(self.rng, self.male if gender == "M" else self.female)

    def last_name(self) -> str:
        return weighted(self.rng, self.last)

    def town(self) -> tuple[str, str]:
        town, postcode = self.rng.choices(self.towns, weights=self.town_weights)[0]
        # Several postcodes per town: the district changes the last characters.
        return town, digit_typo(self.rng, postcode) if self.rng.random() < 0.5 else postcode

    def street(self) -> str:
        return self.faker.street_address().replace("\n", " ")


def birth_date(rng: random.Random, *, first: int = 1930, last: int = 2006) -> date:
    start = date(first, 1, 1)
    return start + timedelta(days=rng.randrange((date(last, 12, 31) - start).days))


def email_of(rng: random.Random, first: str, last: str, domains: list[str]) -> str:
    def fold(text: str) -> str:
        import unicodedata

        ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
        return "".join(c for c in ascii_text.lower() if c.isalnum())

    style = rng.randrange(4)
    local = (
        f"{fold(first)}.{fold(last)}" if style == 0
        else f"{fold(first)[:1]}{fold(last)}" if style == 1
        else f"{fold(last)}{fold(first)[:1]}{rng.randrange(10, 99)}" if style == 2
        else f"{fold(first)}{rng.randrange(1950, 2010)}"
    )
    return f"{local}@{rng.choice(domains)}"


def phone_of(rng: random.Random, prefix: str, length: int) -> str:
    return prefix + "".join(str(rng.randrange(10)) for _ in range(length))


@dataclass(frozen=True)
class Shape:
    name: str
    description: str
    people: int
    corruption: Corruption
    make_people: Callable[[random.Random, int], list[Person]]
    row: Callable[[Person], dict[str, str]]
    config: dict
    # Share of people with one to five records (must sum to 1).
    records_per_person: tuple[float, ...] = (0.40, 0.33, 0.17, 0.07, 0.03)
    # Custom attributes the file needs ({"name", "type", "label"}, "tells_apart" when
    # the administrator declares it), added before the source.
    attributes: tuple[dict, ...] = ()
    # Damage to what `_damage` does not know (a Person's `extra`), per record after the first.
    damage_extra: Callable[[random.Random, Person], None] | None = None


def _households(rng: random.Random, people: list[Person], *, share: float, twins: float,
                locale: Locale, landline: Callable[[], str] | None = None,
                shared_email: float = 0.0) -> None:
    """Group a share of people into households (surname, address, postcode, town and
    landline in common) and make some of them twins (birth date too)."""
    i = 0
    while i < len(people) - 4:
        if rng.random() >= share:
            i += 1
            continue
        size = rng.choice((2, 2, 3, 4))
        head = people[i]
        members = people[i : i + size]
        phone = landline() if landline else ""
        for member in members[1:]:
            member.last_name = head.last_name
            member.address, member.postcode, member.town = head.address, head.postcode, head.town
            if phone:
                member.phone = head.phone = phone
            if shared_email and rng.random() < shared_email:
                member.email = head.email
        if len(members) >= 2 and rng.random() < twins / max(share, 1e-9):
            twin = members[1]
            twin.birth_date = head.birth_date
            twin.gender = rng.choice("MF")
            while twin.first_name == head.first_name:  # twins are given two names
                twin.first_name = locale.first_name(twin.gender)
        i += size


def _people(rng: random.Random, count: int, locale: Locale, *, with_address: bool = True,
            first_year: int = 1930, last_year: int = 2006) -> list[Person]:
    people = []
    for n in range(count):
        gender = rng.choice("MF")
        town, postcode = locale.town()
        people.append(Person(
            person_id=f"P{n:06d}", first_name=locale.first_name(gender),
            last_name=locale.last_name(),
            birth_date=birth_date(rng, first=first_year, last=last_year),
            gender=gender, town=town, postcode=postcode,
            address=locale.street() if with_address else "",
        ))
    return people


def _damage(rng: random.Random, person: Person, c: Corruption, locale: Locale) -> Person:
    """Another record of `person`, damaged as `c` says."""
    p = Person(**{**person.__dict__, "extra": dict(person.extra)})
    r = rng.random
    if r() < c.first_name_variant:
        nickname = NICKNAMES.get(p.first_name)
        p.first_name = nickname if nickname and r() < 0.6 else p.first_name[0] + "."
    if r() < c.name_typo:
        p.first_name = typo(rng, p.first_name)
    if r() < c.name_typo:
        p.last_name = typo(rng, p.last_name)
    if p.gender == "F" and r() < c.married_name:
        p.last_name = locale.last_name()
    if r() < c.names_swapped:
        p.first_name, p.last_name = p.last_name, p.first_name
    if r() < c.name_missing:
        p.first_name = ""
    if p.birth_date:
        roll = r()
        if roll < c.date_missing:
            p.birth_date = None
        elif roll < c.date_missing + c.date_typo:
            text = digit_typo(rng, p.birth_date.strftime("%Y%m%d"))
            with contextlib.suppress(ValueError):
                p.birth_date = date(int(text[:4]), int(text[4:6]), int(text[6:]))
        elif roll < c.date_missing + c.date_typo + c.date_day_month_swapped and (
            p.birth_date.day <= 12
        ):
                p.birth_date = p.birth_date.replace(month=p.birth_date.day, day=p.birth_date.month)
    if r() < c.moved:
        p.town, p.postcode = locale.town()
        p.address = locale.street() if p.address else ""
        p.phone = ""
    if r() < c.place_typo:
        p.town = typo(rng, p.town)
    if r() < c.place_typo:
        p.birthplace = typo(rng, p.birthplace)
    if r() < c.place_missing:
        p.postcode = ""
    if r() < c.place_missing:
        p.town = ""
    if r() < c.place_missing:
        p.birthplace = ""
    if p.email:
        roll = r()
        if roll < c.email_missing:
            p.email = ""
        elif roll < c.email_missing + c.email_changed:
            local, _, _ = p.email.partition("@")
            p.email = f"{local}@{rng.choice(['gmail.com', 'yahoo.com', 'outlook.com', 'mail.com'])}"
        elif roll < c.email_missing + c.email_changed + c.email_typo:
            p.email = typo(rng, p.email)
    for attribute in ("phone", "mobile"):
        value = getattr(p, attribute)
        if value:
            roll = r()
            if roll < c.phone_missing:
                setattr(p, attribute, "")
            elif roll < c.phone_missing + c.phone_typo:
                setattr(p, attribute, digit_typo(rng, value))
    if p.national_id:
        roll = r()
        if roll < c.id_missing:
            p.national_id = ""
        elif roll < c.id_missing + c.id_typo:
            p.national_id = digit_typo(rng, p.national_id)
    return p


# --- the shapes -----------------------------------------------------------------------------

OCCUPATIONS = ("farmer", "teacher", "clerk", "nurse", "miner", "engineer", "baker", "tailor",
               "labourer", "merchant", "carpenter", "solicitor", "weaver", "servant")


def _no_contact(rng: random.Random, count: int, *, first_year: int = 1905,
                last_year: int = 2006) -> list[Person]:
    locale = Locale("en_GB", rng, town_count=300)
    people = _people(rng, count, locale, with_address=False, first_year=first_year,
                     last_year=last_year)
    for p in people:
        p.birthplace = rng.choices(locale.towns, weights=locale.town_weights)[0][0]
        p.occupation = rng.choice(OCCUPATIONS)
    _households(rng, people, share=0.15, twins=0.01, locale=locale)
    return people


def _national_id(rng: random.Random, count: int) -> list[Person]:
    locale = Locale("en_US", rng, town_count=500)
    people = _people(rng, count, locale)
    for p in people:
        p.national_id = "".join(str(rng.randrange(10)) for _ in range(9))
    _households(rng, people, share=0.15, twins=0.01, locale=locale)
    return people


def _heavy(rng: random.Random, count: int) -> list[Person]:
    locale = Locale("en_GB", rng, town_count=200)
    people = _people(rng, count, locale, with_address=False)
    domains = ["gmail.com", "hotmail.co.uk", "yahoo.co.uk", "btinternet.com"]
    for p in people:
        p.email = email_of(rng, p.first_name, p.last_name, domains)
    return people


def _other_names(rng: random.Random, count: int) -> list[Person]:
    locales = [Locale(code, rng, town_count=150) for code in ("es_ES", "vi_VN", "de_DE")]
    people = []
    domains = ["gmail.com", "yahoo.com", "outlook.com", "gmx.de", "telefonica.net"]
    for n in range(count):
        locale = rng.choices(locales, weights=(0.4, 0.35, 0.25))[0]
        gender = rng.choice("MF")
        town, postcode = locale.town()
        last = locale.last_name()
        if locale is locales[0] and rng.random() < 0.7:
            last = f"{last} {locale.last_name()}"  # Spanish double surname
        person = Person(
            person_id=f"P{n:06d}", first_name=locale.first_name(gender), last_name=last,
            birth_date=birth_date(rng), gender=gender, town=town, postcode=postcode,
            address=locale.street(),
        )
        person.email = email_of(rng, person.first_name, person.last_name, domains)
        person.mobile = phone_of(rng, "+34 6", 8)
        person.extra["locale"] = locale
        people.append(person)
    return people


def _households_fr(rng: random.Random, count: int) -> list[Person]:
    locale = Locale("fr_FR", rng, town_count=400)
    people = _people(rng, count, locale)
    domains = ["orange.fr", "free.fr", "gmail.com", "laposte.net", "sfr.fr"]
    for p in people:
        p.email = email_of(rng, p.first_name, p.last_name, domains) if rng.random() < 0.8 else ""
        p.mobile = phone_of(rng, "06", 8) if rng.random() < 0.7 else ""
    _households(rng, people, share=0.45, twins=0.08, locale=locale,
                landline=lambda: phone_of(rng, "01", 8), shared_email=0.15)
    return people


def _voters(rng: random.Random, count: int) -> list[Person]:
    """A voter roll: families at one address (a father and his son often share the
    first name), a middle name on most people."""
    locale = Locale("en_US", rng, town_count=300)
    people = _people(rng, count, locale, first_year=1925, last_year=2006)
    for p in people:
        p.extra["middle"] = locale.first_name(p.gender) if rng.random() < 0.85 else ""
    _households(rng, people, share=0.35, twins=0.005, locale=locale)
    # Juniors: in a household, a son given his father's first name.
    for head, son in pairwise(people):
        if (head.gender == son.gender == "M" and head.last_name == son.last_name
                and head.address == son.address and rng.random() < 0.3):
            son.first_name = head.first_name
    return people


def _voters_damage(rng: random.Random, p: Person) -> None:
    middle = p.extra.get("middle", "")
    roll = rng.random()
    if middle and roll < 0.25:
        p.extra["middle"] = ""
    elif middle and roll < 0.45:
        p.extra["middle"] = middle[0]
    elif middle and roll < 0.50:
        p.extra["middle"] = typo(rng, middle)
    if rng.random() < 0.01:
        p.gender = ""


def _voter_row(p: Person) -> dict[str, str]:
    return {"FIRST": p.first_name, "MIDDLE": p.extra.get("middle", ""), "LAST": p.last_name,
            "BIRTH_YEAR": str(p.birth_date.year) if p.birth_date else "", "SEX": p.gender,
            "STREET": p.address, "CITY": p.town, "ZIP": p.postcode}


def _field(source: str, attribute: str, **options) -> dict:
    return {"source": source, "attribute": attribute, **options}


def _config(name: str, country: str, fields: list[dict], identifiers=()) -> dict:
    return {
        "code": SOURCE_CODE, "name": f"Bench {name}", "department": "bench",
        "department_name": "Bench", "trust_rank": 1, "default_country": country,
        "external_id": "ID",
        "extra_identifiers": [{"code": code, "label": label} for code, label in identifiers],
        "fields": fields,
    }


DATE = {"format": DATE_FORMAT}
SHAPES: dict[str, Shape] = {
    "no_contact": Shape(
        "no_contact", "British names, birth date, birthplace, postcode; no e-mail, no phone",
        4200, Corruption(),
        _no_contact,
        lambda p: {"FORENAME": p.first_name, "SURNAME": p.last_name, "DOB": date_text(p.birth_date),
                   "BIRTHPLACE": p.birthplace, "POSTCODE": p.postcode, "GENDER": p.gender,
                   "OCCUPATION": p.occupation},
        _config("no contact", "GB", [
            _field("FORENAME", "first_name"), _field("SURNAME", "last_name"),
            _field("DOB", "birth_date", **DATE), _field("BIRTHPLACE", "city"),
            _field("POSTCODE", "postcode"),
        ]),
    ),
    "historical": Shape(
        "historical", "the no_contact shape, born 1800-1899",
        4200, Corruption(),
        lambda rng, count: _no_contact(rng, count, first_year=1800, last_year=1899),
        lambda p: {"FORENAME": p.first_name, "SURNAME": p.last_name, "DOB": date_text(p.birth_date),
                   "BIRTHPLACE": p.birthplace, "POSTCODE": p.postcode, "GENDER": p.gender,
                   "OCCUPATION": p.occupation},
        _config("historical", "GB", [
            _field("FORENAME", "first_name"), _field("SURNAME", "last_name"),
            _field("DOB", "birth_date", **DATE), _field("BIRTHPLACE", "city"),
            _field("POSTCODE", "postcode"),
        ]),
    ),
    "national_id": Shape(
        "national_id", "American names, street address, birth date, a national id number",
        4200, Corruption(moved=0.2, id_missing=0.25),
        _national_id,
        lambda p: {"GIVEN": p.first_name, "FAMILY": p.last_name, "BORN": date_text(p.birth_date),
                   "STREET": p.address, "ZIP": p.postcode, "CITY": p.town, "SSN": p.national_id},
        _config("national id", "US", [
            _field("GIVEN", "first_name"), _field("FAMILY", "last_name"),
            _field("BORN", "birth_date", **DATE), _field("STREET", "address_line1"),
            _field("ZIP", "postcode"), _field("CITY", "city"), _field("SSN", "national_id"),
        ], identifiers=[("national_id", "National id")]),
    ),
    "heavy_corruption": Shape(
        "heavy_corruption", "first and last name, birth date, city, e-mail; heavy corruption",
        4200,
        Corruption(name_typo=0.30, first_name_variant=0.15, names_swapped=0.05, name_missing=0.05,
                   date_missing=0.20, date_typo=0.20, date_day_month_swapped=0.05, moved=0.30,
                   place_typo=0.20, place_missing=0.20, email_missing=0.35, email_changed=0.25,
                   email_typo=0.15),
        _heavy,
        lambda p: {"first": p.first_name, "last": p.last_name, "dob": date_text(p.birth_date),
                   "city": p.town, "email": p.email},
        _config("heavy corruption", "GB", [
            _field("first", "first_name"), _field("last", "last_name"),
            _field("dob", "birth_date", **DATE), _field("city", "city"), _field("email", "email"),
        ]),
    ),
    "other_names": Shape(
        "other_names", "Spanish, Vietnamese and German names; e-mail, mobile, address",
        4200, Corruption(),
        _other_names,
        lambda p: {"NOMBRE": p.first_name, "APELLIDOS": p.last_name,
                   "NACIMIENTO": date_text(p.birth_date), "EMAIL": p.email, "MOVIL": p.mobile,
                   "DIRECCION": p.address, "CP": p.postcode, "CIUDAD": p.town},
        _config("other names", "ES", [
            _field("NOMBRE", "first_name"), _field("APELLIDOS", "last_name"),
            _field("NACIMIENTO", "birth_date", **DATE), _field("EMAIL", "email"),
            _field("MOVIL", "mobile", phone_region="ES"), _field("DIRECCION", "address_line1"),
            _field("CP", "postcode"), _field("CIUDAD", "city"),
        ]),
    ),
    "households": Shape(
        "households", "French families: shared surname, address, landline, some e-mails; twins",
        4200, Corruption(moved=0.1),
        _households_fr,
        lambda p: {"PRENOM": p.first_name, "NOM": p.last_name, "NAISSANCE": date_text(p.birth_date),
                   "EMAIL": p.email, "FIXE": p.phone, "PORTABLE": p.mobile, "ADRESSE": p.address,
                   "CP": p.postcode, "VILLE": p.town},
        _config("households", "FR", [
            _field("PRENOM", "first_name"), _field("NOM", "last_name"),
            _field("NAISSANCE", "birth_date", **DATE), _field("EMAIL", "email"),
            _field("FIXE", "phone", phone_region="FR"),
            _field("PORTABLE", "mobile", phone_region="FR"),
            _field("ADRESSE", "address_line1"), _field("CP", "postcode"), _field("VILLE", "city"),
        ]),
    ),
}


# Variants, run by name only (`--shapes no_contact_damaged`): the same people as a shape
# with other damage, to see that what the engine learns is not one generator's rates.
VARIANTS: dict[str, Shape] = {
    "no_contact_damaged": Shape(
        "no_contact_damaged",
        "the no_contact shape with twice the damage: typos, short forms, swapped names, "
        "missing dates, moves",
        4200,
        Corruption(name_typo=0.15, first_name_variant=0.10, names_swapped=0.03,
                   name_missing=0.05, date_missing=0.20, date_typo=0.10,
                   date_day_month_swapped=0.04, moved=0.30, place_typo=0.10,
                   place_missing=0.15),
        _no_contact,
        SHAPES["no_contact"].row,
        _config("no contact damaged", "GB", [
            _field("FORENAME", "first_name"), _field("SURNAME", "last_name"),
            _field("DOB", "birth_date", **DATE), _field("BIRTHPLACE", "city"),
            _field("POSTCODE", "postcode"),
        ]),
    ),
}


SHAPES["voters"] = Shape(
    "voters",
    "a voter roll: American names with a middle name, birth year, sex, street address; "
    "no contact field",
    4200, Corruption(moved=0.2, date_missing=0.03, date_typo=0.03, date_day_month_swapped=0.0),
    _voters, _voter_row,
    _config("voters", "US", [
        _field("FIRST", "first_name"), _field("MIDDLE", "middle_name"),
        _field("LAST", "last_name"), _field("BIRTH_YEAR", "birth_year"),
        _field("SEX", "sex"), _field("STREET", "address_line1"), _field("CITY", "city"),
        _field("ZIP", "postcode"),
    ]),
    attributes=(
        {"name": "middle_name", "type": "name", "label": "Middle name"},
        # An administrator of a voter roll knows these tell people apart.
        {"name": "birth_year", "type": "number", "label": "Birth year", "tells_apart": True},
        {"name": "sex", "type": "code", "label": "Sex", "tells_apart": True},
    ),
    damage_extra=_voters_damage,
)


def shape_attributes(data_dir: Path) -> list[dict]:
    """The custom attributes a generated file needs (`ATTRIBUTES_FILE`; none for most)."""
    path = data_dir / ATTRIBUTES_FILE
    return json.loads(path.read_text(encoding="utf-8")) if path.exists() else []


def shape_named(name: str) -> Shape:
    return SHAPES[name] if name in SHAPES else VARIANTS[name]


def generate(shape: Shape, out: Path, *, seed: int = 1, people: int | None = None) -> dict:
    """Write the shape's records.csv, source.json and truth.csv into `out`; returns counts."""
    rng = random.Random(f"{shape.name}:{seed}")
    persons = shape.make_people(rng, people or shape.people)
    out.mkdir(parents=True, exist_ok=True)
    rows: list[tuple[dict[str, str], str]] = []
    for person in persons:
        count = rng.choices(range(1, len(shape.records_per_person) + 1),
                            weights=shape.records_per_person)[0]
        locale = person.extra.get("locale")
        for n in range(count):
            record = person if n == 0 else _damage(rng, person, shape.corruption,
                                                    locale or _LOCALE_OF[shape.name](rng))
            if n and shape.damage_extra:
                shape.damage_extra(rng, record)
            rows.append((shape.row(record), person.person_id))
    rng.shuffle(rows)
    true_pairs = 0
    sizes: dict[str, int] = {}
    with (out / RECORDS_FILE).open("w", encoding="utf-8", newline="") as f, \
            (out / TRUTH_FILE).open("w", encoding="utf-8", newline="") as t:
        writer = csv.DictWriter(f, fieldnames=["ID", *rows[0][0]], delimiter=";")
        writer.writeheader()
        truth = csv.writer(t)
        truth.writerow(["source", "external_id", "person_id"])
        for n, (row, person_id) in enumerate(rows):
            external_id = f"R{n:07d}"
            writer.writerow({"ID": external_id, **row})
            truth.writerow([SOURCE_CODE, external_id, person_id])
            true_pairs += sizes.get(person_id, 0)
            sizes[person_id] = sizes.get(person_id, 0) + 1
    (out / CONFIG_FILE).write_text(json.dumps(shape.config, indent=1), encoding="utf-8")
    attributes = out / ATTRIBUTES_FILE
    if shape.attributes:
        attributes.write_text(json.dumps(list(shape.attributes), indent=1), encoding="utf-8")
    else:
        attributes.unlink(missing_ok=True)
    return {"records": len(rows), "people": len(persons), "true_pairs": true_pairs}


# A damaged record that moves needs the shape's places: one locale per shape, made once.
_LOCALES: dict[str, Locale] = {}


def _locale_for(code: str) -> Callable[[random.Random], Locale]:
    def get(rng: random.Random) -> Locale:
        if code not in _LOCALES:
            _LOCALES[code] = Locale(code, random.Random(code))
        locale = _LOCALES[code]
        locale.rng = rng
        return locale
    return get


_LOCALE_OF = {
    "no_contact": _locale_for("en_GB"), "historical": _locale_for("en_GB"), "national_id": _locale_for("en_US"),
    "heavy_corruption": _locale_for("en_GB"), "other_names": _locale_for("es_ES"),
    "households": _locale_for("fr_FR"), "no_contact_damaged": _locale_for("en_GB"),
    "voters": _locale_for("en_US"),
}
