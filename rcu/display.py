"""Values and history words as people read them, in the language of the page.

Stored values stay canonical (ISO dates, E.164 phones, machine reasons such as
"import #3"); every page shows them through these helpers, so that the French UI
shows "15/12/1939", "07 73 66 31 33" and "import n° 3" everywhere, history included.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Any

import phonenumbers
from django.utils.formats import date_format
from django.utils.timezone import localtime
from django.utils.translation import gettext as _

from rcu.attributes import ATTRIBUTES_BY_NAME, Kind

_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def phone_display(value: str) -> str:
    """E.164 → the way people write it: national for French numbers, international else."""
    if not value or not value.startswith("+"):
        return value or ""
    try:
        number = phonenumbers.parse(value, None)
    except phonenumbers.NumberParseException:
        return value
    if number.country_code == 33:
        return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.NATIONAL)
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.INTERNATIONAL)


def date_display(value: Any) -> str:
    if isinstance(value, datetime):
        return date_format(localtime(value), "SHORT_DATETIME_FORMAT")
    if isinstance(value, date):
        return date_format(value, "SHORT_DATE_FORMAT")
    if isinstance(value, str) and _ISO_DATE.match(value):
        try:
            return date_format(date.fromisoformat(value), "SHORT_DATE_FORMAT")
        except ValueError:
            return value
    return "" if value is None else str(value)


def value_display(name: str, value: Any) -> str:
    """One attribute's value for a page: dates and phones in the page's formats."""
    if value is None or value == "":
        return ""
    attribute = ATTRIBUTES_BY_NAME.get(name)
    kind = attribute.kind if attribute is not None else None
    if kind == Kind.DATE or isinstance(value, date | datetime):
        return date_display(value)
    if kind == Kind.PHONE and isinstance(value, str):
        return phone_display(value)
    return str(value)


_REASONS: list[tuple[re.Pattern[str], Any]] = [
    (re.compile(r"^import #(\d+)$"), lambda m: _("import no. %(n)s") % {"n": m[1]}),
    (re.compile(r"^matching run #(\d+)$"), lambda m: _("matching run no. %(n)s") % {"n": m[1]}),
    (re.compile(r"^matching$"), lambda m: _("matching")),
    (re.compile(r"^ingest$"), lambda m: _("sent through the API")),
    (re.compile(r"^merge$"), lambda m: _("merge")),
    (re.compile(r"^rejected$"), lambda m: _("rejection")),
    (re.compile(r"^detach$"), lambda m: _("detachment")),
    (re.compile(r"^undo merge #(\d+)$"), lambda m: _("merge no. %(n)s undone") % {"n": m[1]}),
    (re.compile(r"^undo reject #(\d+)$"), lambda m: _("rejection no. %(n)s reopened") % {"n": m[1]}),
    (re.compile(r"^undo detach #(\d+)$"), lambda m: _("detachment no. %(n)s undone") % {"n": m[1]}),
    (re.compile(r"^undo correct #(\d+)$"), lambda m: _("correction no. %(n)s undone") % {"n": m[1]}),
    (re.compile(r"^undo \w+ #(\d+)$"), lambda m: _("decision no. %(n)s undone") % {"n": m[1]}),
    (re.compile(r"^correction$"), lambda m: _("correction by hand")),
    (re.compile(r"^rectification$"), lambda m: _("rectification (data subject's request)")),
    (re.compile(r"^deleted at source \(snapshot import #(\d+)\)$"),
     lambda m: _("deleted at the source (full snapshot, import no. %(n)s)") % {"n": m[1]}),
    (re.compile(r"^deleted at source \(API\)$"), lambda m: _("deleted at the source (API)")),
    (re.compile(r"^configured from file$"), lambda m: _("configured from a file")),
    (re.compile(r"^model re-estimated$"), lambda m: _("model estimated again")),
    (re.compile(r"^audit #(\d+)$"), lambda m: _("file audit no. %(n)s") % {"n": m[1]}),
    (re.compile(r"^real-time matching$"), lambda m: _("real-time matching")),
    (re.compile(r"^demo seed$"), lambda m: _("demo base")),
    (re.compile(r"^survivorship rules$"), lambda m: _("survivorship rules")),
    (re.compile(r"^survivorship rules v(\d+)$"), lambda m: _("survivorship rules version %(n)s") % {"n": m[1]}),
    (re.compile(r"^survivorship$"), lambda m: _("survivorship")),
    (re.compile(r"^(\S+) command$"), lambda m: _("%(command)s command") % {"command": m[1]}),
    (re.compile(r"^created$"), lambda m: _("created")),
    (re.compile(r"^revoked$"), lambda m: _("revoked")),
]


def _known_reason(reason: str) -> str | None:
    for pattern, words in _REASONS:
        match = pattern.match(reason)
        if match:
            return str(words(match))
    return None


def history_reason(reason: str) -> str:
    """The machine reasons services record, in words; a steward's own reason as typed.
    RCU's own changes read "<job>: <reason>" ("matching run #1: matching")."""
    reason = reason or ""
    known = _known_reason(reason)
    if known is not None:
        return known
    job, sep, rest = reason.partition(": ")
    if sep:
        job_words, rest_words = _known_reason(job), _known_reason(rest)
        if job_words is not None:
            if rest_words == job_words or rest == job:
                return job_words
            return f"{job_words} : {rest_words if rest_words is not None else rest}"
    return reason
