"""The canonical customer attributes, defined once.

Everything that speaks of attributes (field mappings, normalisation, survivorship, the
customer model, the UI) reads this registry. Extra identifiers (loyalty card, customer
number…) are declared at run time as `ExtraIdentifier` rows and travel in a JSON field.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from django.utils.translation import gettext_lazy as _


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
    label: str
    kind: Kind
    # Attributes of one group survive together: an address is never stitched from two sources.
    group: str | None = None


CANONICAL_ATTRIBUTES: tuple[Attribute, ...] = (
    Attribute("civility", _("Civility"), Kind.CIVILITY),
    Attribute("first_name", _("First name"), Kind.NAME),
    Attribute("last_name", _("Last name"), Kind.NAME),
    Attribute("birth_date", _("Birth date"), Kind.DATE),
    Attribute("email", _("E-mail"), Kind.EMAIL),
    Attribute("phone", _("Phone"), Kind.PHONE),
    Attribute("mobile", _("Mobile"), Kind.PHONE),
    Attribute("address_line1", _("Address line 1"), Kind.ADDRESS, group="address"),
    Attribute("address_line2", _("Address line 2"), Kind.ADDRESS, group="address"),
    Attribute("postcode", _("Postcode"), Kind.POSTCODE, group="address"),
    Attribute("city", _("City"), Kind.CITY, group="address"),
    Attribute("country", _("Country"), Kind.COUNTRY, group="address"),
)

ATTRIBUTES_BY_NAME: dict[str, Attribute] = {a.name: a for a in CANONICAL_ATTRIBUTES}
CANONICAL_NAMES: tuple[str, ...] = tuple(a.name for a in CANONICAL_ATTRIBUTES)
ADDRESS_GROUP: tuple[str, ...] = tuple(a.name for a in CANONICAL_ATTRIBUTES if a.group == "address")

