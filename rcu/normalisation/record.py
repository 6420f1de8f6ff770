"""One source record, normalised attribute by attribute, with its keys and flags."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date

from rcu.attributes import CANONICAL_ATTRIBUTES, Kind
from rcu.normalisation.addresses import (
    LINE_RANK,
    normalise_address_line,
    postal_line,
    postal_line_kind,
)
from rcu.normalisation.cities import city_key, normalise_city
from rcu.normalisation.civility import normalise_civility
from rcu.normalisation.countries import normalise_country
from rcu.normalisation.dates import normalise_birth_date
from rcu.normalisation.emails import normalise_email
from rcu.normalisation.names import name_civility, normalise_name
from rcu.normalisation.phones import normalise_mobile, normalise_phone
from rcu.normalisation.postal import (
    PostalCheck,
    Status,
    cedex_suffix,
    postal_check,
    postal_last_line,
)
from rcu.normalisation.postcodes import FRENCH_POSTCODE_COUNTRIES, normalise_postcode
from rcu.normalisation.result import Normalised

NAME_ATTRIBUTES = ("first_name", "last_name")
ADDRESS_LINES = ("address_line1", "address_line2")
# Attributes whose key is not compared alone: civility says too little, and the two
# address lines are compared together as "address".
_NO_OWN_KEY = frozenset({"civility", *ADDRESS_LINES})
# The address in La Poste's postal form (NF Z 10-011), one line per "\n", kept among the
# record's keys: survivorship copies only the keys of attributes, and the matching engine
# neither blocks nor compares on it (rcu.engine.blocking.NOT_IDENTIFIERS).
POSTAL_KEY = "postal"
# Keys that are not an attribute's: no extra identifier may be declared with these codes.
DERIVED_KEYS = ("address", POSTAL_KEY)
_PROBLEM_OF_STATUS = {
    Status.UNKNOWN_POSTCODE: "postcode.unknown",
    Status.MISMATCH: "city.postcode_mismatch",
    Status.CORRECTED: "city.corrected",
}


@dataclass(frozen=True, slots=True)
class NormalisedRecord:
    attributes: dict[str, str]  # canonical values, only non-empty ones; birth_date in ISO
    keys: dict[str, str]  # comparison keys, only non-empty ones
    flags: list[str]  # quality flags "<attribute>.<problem>", sorted, unique


@dataclass(frozen=True, slots=True)
class _Options:
    """What a record's normalisers need to know beyond the value itself."""

    default_region: str
    date_formats: Mapping[str, str]
    phone_regions: Mapping[str, str]
    today: date | None
    postcode_country: str


# (attribute name, trimmed text, options) → result
_Normaliser = Callable[[str, str, _Options], Normalised]


def _identifier(name: str, text: str, options: _Options) -> Normalised:
    """Extra identifiers (loyalty card, customer number): trimmed, compared without
    spaces or case."""
    return Normalised(text, "".join(text.split()).upper())


def _phone(name: str, text: str, options: _Options) -> Normalised:
    region = options.phone_regions.get(name, options.default_region)
    if name == "mobile":
        return normalise_mobile(text, region=region)
    return normalise_phone(text, region=region)


_BY_KIND: dict[Kind, _Normaliser] = {
    Kind.CIVILITY: lambda name, text, options: normalise_civility(text),
    Kind.NAME: lambda name, text, options: normalise_name(text),
    Kind.DATE: lambda name, text, options: normalise_birth_date(
        text, fmt=options.date_formats.get(name), today=options.today
    ),
    Kind.EMAIL: lambda name, text, options: normalise_email(text),
    Kind.PHONE: _phone,
    Kind.ADDRESS: lambda name, text, options: normalise_address_line(text),
    Kind.POSTCODE: lambda name, text, options: normalise_postcode(
        text, country=options.postcode_country
    ),
    Kind.CITY: lambda name, text, options: normalise_city(text),
    Kind.COUNTRY: lambda name, text, options: normalise_country(text),
}
# Looked up once per value: by attribute name, resolved from the registry at import.
_NORMALISERS: dict[str, _Normaliser] = {
    attribute.name: _BY_KIND.get(attribute.kind, _identifier) for attribute in CANONICAL_ATTRIBUTES
}


def normalise_record(
    values: Mapping[str, str | None],
    *,
    default_region: str = "FR",
    date_formats: Mapping[str, str] | None = None,
    phone_regions: Mapping[str, str] | None = None,
    today: date | None = None,
) -> NormalisedRecord:
    """Normalise every attribute of one record; blank values produce nothing.

    Invalid values are left out of `attributes` and `keys` and named in `flags`; the
    record itself is always kept. `default_region` is where phone numbers without an
    international prefix are dialled from, and whose postcode rules apply when the
    record has no known country. `phone_regions` overrides it per phone attribute.
    """
    # Postcode rules follow the record's country; the source's when it has none we know.
    country = normalise_country(values.get("country"))
    options = _Options(
        default_region=default_region,
        date_formats=date_formats or {},
        phone_regions=phone_regions or {},
        today=today,
        postcode_country=country.value or default_region,
    )
    attributes: dict[str, str] = {}
    keys: dict[str, str] = {}
    flags: set[str] = set()
    address_keys: dict[str, str] = {}

    for name, raw in values.items():
        text = raw.strip() if raw else ""
        if not text:
            continue
        result = _NORMALISERS.get(name, _identifier)(name, text, options)
        if result.value is not None:
            attributes[name] = result.value
            if result.key is not None:
                if name in ADDRESS_LINES:
                    address_keys[name] = result.key
                elif name not in _NO_OWN_KEY:
                    keys[name] = result.key
        for problem in result.problems:
            flags.add(f"{name}.{problem}")

    _civility_from_names(values, attributes, flags)
    address = " ".join(address_keys[line] for line in ADDRESS_LINES if line in address_keys)
    if address:
        keys["address"] = address
    # French addresses: as for postcodes, a record without a country we know is the source's.
    if options.postcode_country.upper() in FRENCH_POSTCODE_COUNTRIES:
        _french_postal(values, attributes, keys, flags, address_keys)
    return NormalisedRecord(attributes, keys, sorted(flags))


def _french_postal(
    values: Mapping[str, str | None],
    attributes: dict[str, str],
    keys: dict[str, str],
    flags: set[str],
    address_keys: Mapping[str, str],
) -> None:
    """Check a French address against La Poste's base and store its postal form.

    Flags name what is wrong ("postcode.unknown", "city.postcode_mismatch"); a city
    within a typo of the one place of its postcode becomes the delivery label, flagged
    "city.corrected" (the value as received stays in the raw payload). A CEDEX address
    is never unknown for its code not being in the base.
    """
    postcode = attributes.get("postcode")
    city = attributes.get("city")
    cedex = cedex_suffix(values.get("city"), *(values.get(line) for line in ADDRESS_LINES))
    check: PostalCheck | None = None
    if postcode is not None:
        check = postal_check(postcode, city, cedex=cedex is not None)
        problem = _PROBLEM_OF_STATUS.get(check.status)
        if problem is not None:
            flags.add(problem)
        if check.status is Status.CORRECTED and check.label:
            attributes["city"] = check.label
            keys["city"] = city_key(check.label) or keys["city"]
    lines = [address_keys[line] for line in ADDRESS_LINES if line in address_keys]
    if len(lines) > 1:  # complements above the street, delivery services below
        lines.sort(key=lambda key: LINE_RANK[postal_line_kind(key)])
    form = [postal_line(key) for key in lines]
    if check is not None and check.line5 and check.line5 not in form:
        form.append(check.line5)
    if postcode is not None or city is not None:
        form.append(postal_last_line(postcode, city, check, cedex))
    if form:
        keys[POSTAL_KEY] = "\n".join(form)


def _civility_from_names(
    values: Mapping[str, str | None], attributes: dict[str, str], flags: set[str]
) -> None:
    """A title written before a name ("Mme Dupont") supplies a missing civility.

    When titles disagree with each other or with the civility field, nothing is
    chosen: the record is flagged "civility.name_conflict" for a steward.
    """
    implied = {
        code for code in (name_civility(values.get(name)) for name in NAME_ATTRIBUTES) if code
    }
    if not implied:
        return
    given = attributes.get("civility")
    if len(implied) > 1 or (given is not None and given not in implied):
        flags.add("civility.name_conflict")
    elif given is None:
        attributes["civility"] = implied.pop()
        flags.add("civility.from_name")
