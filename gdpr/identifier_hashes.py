"""Keyed hashes of a person's identifiers (pure: no ORM), for the re-import quarantine.

When a person is erased, RCU keeps HMAC-SHA256 digests of their identifiers under
`RCU_ERASURE_HASH_KEY` (held outside the database): the database alone cannot tell whose
they were, but an incoming record carrying one of them is recognised. Each digest covers
its kind and the value in a comparable form:

- ``source_ref``: the source's code and the record's external id, exactly;
- ``email``: the e-mail, trimmed and lower-cased (as normalisation stores it);
- ``phone``: each phone and mobile in E.164 (normalisation's form);
- ``name_birth``: first and last name folded (accents, case, punctuation) with the birth
  date (ISO): a name alone is too common to hold anyone back.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping
from enum import StrEnum
from typing import Any

from rcu.normalisation.emails import normalise_email
from rcu.normalisation.names import name_key
from rcu.normalisation.phones import normalise_phone


class IdentifierKind(StrEnum):
    SOURCE_REF = "source_ref"
    EMAIL = "email"
    PHONE = "phone"
    NAME_BIRTH = "name_birth"


def digest(key: str, kind: IdentifierKind, value: str) -> str:
    return hmac.new(key.encode(), f"{kind}\x1f{value}".encode(), hashlib.sha256).hexdigest()


def _text(value: Any) -> str:
    return "" if value is None else str(value).strip()


def identifier_values(*, source: str, external_id: str, attributes: Mapping[str, Any]) -> set[tuple[IdentifierKind, str]]:
    """The comparable identifiers of one record (no digest yet)."""
    found: set[tuple[IdentifierKind, str]] = set()
    if source and external_id:
        found.add((IdentifierKind.SOURCE_REF, f"{source}\x1f{external_id}"))
    email = _text(attributes.get("email"))
    if email:
        found.add((IdentifierKind.EMAIL, normalise_email(email).value or email.lower()))
    for name in ("phone", "mobile"):
        phone = _text(attributes.get(name))
        if phone:
            found.add((IdentifierKind.PHONE, normalise_phone(phone).value or phone))
    first, last = name_key(_text(attributes.get("first_name"))), name_key(_text(attributes.get("last_name")))
    birth = _text(attributes.get("birth_date"))[:10]
    if last and birth:
        found.add((IdentifierKind.NAME_BIRTH, f"{first or ''}\x1f{last}\x1f{birth}"))
    return found


def identifier_digests(*, key: str, source: str, external_id: str,
                       attributes: Mapping[str, Any]) -> dict[str, IdentifierKind]:
    """digest → kind, for one record."""
    return {digest(key, kind, value): kind
            for kind, value in identifier_values(source=source, external_id=external_id, attributes=attributes)}
