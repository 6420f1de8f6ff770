"""E-mail addresses: one spelling per mailbox, syntax checked without asking DNS."""

from __future__ import annotations

import re
from functools import lru_cache

from email_validator import EmailNotValidError, validate_email

from rcu.normalisation.result import MISSING, Normalised, rejected

_INVALID = rejected("invalid")
# RFC 5322 dot-atom in ASCII (lower case): the local parts email_validator accepts as
# they are. Anything else (quotes, accents, display names) goes through it whole.
_PLAIN_LOCAL_PART = re.compile(
    r"[a-z0-9_!#$%&'*+\-/=?^`{|}~]+(?:\.[a-z0-9_!#$%&'*+\-/=?^`{|}~]+)*"
)
_MAX_ADDRESS_BYTES = 254  # RFC 5321 4.5.3.1.3


@lru_cache(maxsize=8192)
def _checked_domain(domain: str) -> tuple[str, str] | None:
    """(domain, its IDNA ASCII form) as email_validator normalises them, None if invalid.

    The few domains most customers share (orange.fr, gmail.com…) are checked once.
    """
    try:
        checked = validate_email("x@" + domain, check_deliverability=False)
    except EmailNotValidError:
        return None
    return checked.domain, checked.ascii_domain


def _validated(address: str) -> str | None:
    """The normalised address, or None when email_validator would refuse it.

    A plain local part is valid as written, so only the domain and the total length
    remain to check; the domain's verdict is cached.
    """
    local, at, domain = address.partition("@")
    if at and _PLAIN_LOCAL_PART.fullmatch(local):
        checked = _checked_domain(domain)
        if checked is None:
            return None
        forms = (domain, *checked)
        if max(len(form.encode()) for form in forms) + len(local) + 1 > _MAX_ADDRESS_BYTES:
            return None
        return f"{local}@{checked[0]}"
    try:
        return validate_email(address, check_deliverability=False).normalized
    except EmailNotValidError:
        return None


def normalise_email(raw: str | None) -> Normalised:
    """Trimmed and lower-cased; "invalid" when the syntax is wrong.

    The whole address is lower-cased: the RFC lets the part before "@" be
    case-sensitive, but no mail provider our customers use treats it so, and two
    records spelling one address in two cases must compare equal.
    """
    text = (raw or "").strip()
    if not text:
        return MISSING
    normalised = _validated(text.lower())
    if normalised is None:
        return _INVALID
    address = normalised.lower()
    return Normalised(address, address)
