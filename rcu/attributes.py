"""The canonical customer attributes, defined once.

Everything that speaks of attributes (field mappings, normalisation, survivorship, the
customer model, the UI) reads this registry. Extra identifiers (loyalty card, customer
number…) are declared at run time as `ExtraIdentifier` rows and travel in a JSON field.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING

from django.utils.translation import gettext_lazy as _

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise


class Kind(StrEnum):
    TEXT = "text"
    NAME = "name"
    CIVILITY = "civility"
    DATE = "date"
    EMAIL = "email"
    PHONE = "phone"
    ADDRESS = "address"
    POSTCODE = "postcode"
    CITY = "city"
    COUNTRY = "country"
    IDENTIFIER = "identifier"


@dataclass(frozen=True)
class Attribute:
    name: str
    label: StrOrPromise  # translated when shown: str() it in the reader's language
    kind: Kind
    # The longest value stored, in characters: the customer's column is this wide, and a
    # longer value is a rejected row, never cut (see docs/limits.md).
    max_length: int
    # Attributes of one group survive together: an address is never stitched from two sources.
    group: str | None = None


CANONICAL_ATTRIBUTES: tuple[Attribute, ...] = (
    Attribute("civility", _("Civility"), Kind.CIVILITY, 10),
    Attribute("first_name", _("First name"), Kind.NAME, 150),
    Attribute("last_name", _("Last name"), Kind.NAME, 150),
    Attribute("birth_date", _("Birth date"), Kind.DATE, 10),
    Attribute("email", _("E-mail"), Kind.EMAIL, 254),
    Attribute("phone", _("Phone"), Kind.PHONE, 20),
    Attribute("mobile", _("Mobile"), Kind.PHONE, 20),
    Attribute("address_line1", _("Address line 1"), Kind.ADDRESS, 255, group="address"),
    Attribute("address_line2", _("Address line 2"), Kind.ADDRESS, 255, group="address"),
    Attribute("postcode", _("Postcode"), Kind.POSTCODE, 20, group="address"),
    Attribute("city", _("City"), Kind.CITY, 150, group="address"),
    Attribute("country", _("Country"), Kind.COUNTRY, 2, group="address"),
)

ATTRIBUTES_BY_NAME: dict[str, Attribute] = {a.name: a for a in CANONICAL_ATTRIBUTES}
CANONICAL_NAMES: tuple[str, ...] = tuple(a.name for a in CANONICAL_ATTRIBUTES)
# Extra identifiers (loyalty card, customer number…) and external ids: at most this long.
IDENTIFIER_MAX_LENGTH = 200
ADDRESS_GROUP: tuple[str, ...] = tuple(a.name for a in CANONICAL_ATTRIBUTES if a.group == "address")



# --- custom attributes -------------------------------------------------------------------
# Attributes administrators add at run time (`AttributeDefinition` rows): no code change,
# no migration. Their values travel in `SourceRecord.attributes` beside the canonical ones
# and in `Customer.custom_attributes`; their comparison keys in `SourceRecord.keys` under
# `rcu.engine.custom.key_name(...)`.


class CustomType(StrEnum):
    TEXT = "text"
    NAME = "name"
    DATE = "date"
    CODE = "code"
    NUMBER = "number"
    IDENTIFIER = "identifier"


class ComparisonMethod(StrEnum):
    """How the engine compares a custom attribute (rcu.engine.custom)."""

    NAME = "name"  # exact, same phonetic key, Jaro-Winkler high, low, different
    TEXT = "text"  # exact, Jaro-Winkler high, low, different
    DATE = "date"  # exact, same month, same year, different
    EXACT = "exact"  # same, different; rare values weigh more (term frequencies)
    NUMBER = "number"  # exact, within the tolerance, different
    NONE = "none"  # kept and shown, not compared


DEFAULT_COMPARISON: dict[CustomType, ComparisonMethod] = {
    CustomType.NAME: ComparisonMethod.NAME,
    CustomType.TEXT: ComparisonMethod.TEXT,
    CustomType.DATE: ComparisonMethod.DATE,
    CustomType.CODE: ComparisonMethod.EXACT,
    CustomType.IDENTIFIER: ComparisonMethod.EXACT,
    CustomType.NUMBER: ComparisonMethod.NUMBER,
}
# Comparisons that make sense for each type (the first is its default).
COMPARISONS_OF_TYPE: dict[CustomType, tuple[ComparisonMethod, ...]] = {
    CustomType.NAME: (ComparisonMethod.NAME, ComparisonMethod.TEXT, ComparisonMethod.EXACT,
                      ComparisonMethod.NONE),
    CustomType.TEXT: (ComparisonMethod.TEXT, ComparisonMethod.EXACT, ComparisonMethod.NONE),
    CustomType.DATE: (ComparisonMethod.DATE, ComparisonMethod.EXACT, ComparisonMethod.NONE),
    CustomType.CODE: (ComparisonMethod.EXACT, ComparisonMethod.NONE),
    CustomType.IDENTIFIER: (ComparisonMethod.EXACT, ComparisonMethod.NONE),
    CustomType.NUMBER: (ComparisonMethod.NUMBER, ComparisonMethod.EXACT, ComparisonMethod.NONE),
}
# The longest custom value stored, in characters (a longer one is a rejected row).
CUSTOM_MAX_LENGTH = 255
# Names a custom attribute may not take: the canonical attributes, the keys derived from
# them, and the engine's own comparisons.
RESERVED_NAMES = frozenset(
    {*CANONICAL_NAMES, "address", "postal", "postcode_city", "identifiers", "extra_identifiers",
     "custom_attributes", "provenance", "pinned", "public_id", "id"}
)


@dataclass(frozen=True)
class CustomAttribute:
    """One custom attribute as everything outside the database sees it (typed shape of
    an `AttributeDefinition` row)."""

    name: str
    label: str
    type: CustomType
    comparison: ComparisonMethod
    tolerance: float = 0.0
    survivorship: str = ""  # a configurable survivorship rule, or "" for the default order
    active: bool = True
    tells_apart: bool = False  # a disagreement on it is a contradiction (two people)

    @property
    def compared(self) -> bool:
        return self.active and self.comparison != ComparisonMethod.NONE
