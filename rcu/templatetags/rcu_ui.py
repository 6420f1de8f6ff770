"""Small display filters shared by the RCU pages."""

from __future__ import annotations

import json
from typing import Any

from django import template
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from rcu.attributes import ATTRIBUTES_BY_NAME
from rcu.models import ImportJob
from rcu.survivorship import (
    RULE_COMPLETE,
    RULE_ONLY,
    RULE_PINNED,
    RULE_RECENT,
    RULE_STABLE,
    RULE_TRUST,
)

register = template.Library()

RULE_LABELS = {
    RULE_PINNED: _("steward's choice"),
    RULE_ONLY: _("only value available"),
    RULE_TRUST: _("most trusted source"),
    RULE_RECENT: _("most recent"),
    RULE_COMPLETE: _("most complete record"),
    RULE_STABLE: _("tie, stable order"),
}

RULE_HELP = {
    RULE_PINNED: _("A steward chose this record's value."),
    RULE_ONLY: _("No other linked record has a value for this attribute."),
    RULE_TRUST: _("This source has the best trust rank among the records having a value."),
    RULE_RECENT: _("Same trust rank: this record was updated most recently in its source."),
    RULE_COMPLETE: _("Same trust rank and date: this record fills the most attributes."),
    RULE_STABLE: _("Records tie on every rule: the order of source and external id decides."),
}

PROBLEM_LABELS = {
    "invalid": _("invalid, not kept"),
    "unknown": _("not recognised, not kept"),
    "couple": _("names a couple or household"),
    "digits": _("contains digits"),
    "civility_removed": _("title removed from the name"),
    "cedex_removed": _("CEDEX removed"),
    "unparseable": _("unreadable date, not kept"),
    "impossible": _("impossible date, not kept"),
    "future": _("date in the future, not kept"),
    "implausible": _("implausible date, not kept"),
    "before_1900": _("born before 1900, kept: check it"),
    "century_guessed": _("two-digit year, century guessed"),
    "placeholder": _("placeholder number, not kept"),
    "leading_zero_restored": _("leading zero restored"),
    "extension_dropped": _("extension dropped"),
    "not_mobile": _("not a mobile number"),
    "padded": _("zero-padded"),
    "name_conflict": _("titles in the names disagree"),
    "from_name": _("taken from the title in the name"),
    "postcode_mismatch": _("does not match the postcode (La Poste)"),
    "corrected": _("corrected to La Poste's delivery label"),
}

# Whole flags whose problem reads differently for this attribute.
FLAG_LABELS = {
    "postcode.unknown": _("not in La Poste's postcode base, kept"),
}

OTHER_LABELS = {
    "business_timestamp": _("Business timestamp"),
    "address": _("Address"),
    "customer": pgettext_lazy("history subject", "golden record"),
    "raw": _("raw payload"),
    "attributes": _("attributes"),
    "quality_flags": _("quality flags"),
    "business_ts": _("business timestamp"),
    "customer_id": _("golden customer"),
    "merged_into": _("merged into"),
    "pinned": _("pinned choices"),
    "extra_identifiers": _("extra identifiers"),
}

ACTION_LABELS = {
    "created": pgettext_lazy("history action", "created"),
    "changed": pgettext_lazy("history action", "changed"),
    "deleted": pgettext_lazy("history action", "deleted"),
}

STATUS_CLASSES = {
    ImportJob.Status.PENDING: "badge-neutral",
    ImportJob.Status.RUNNING: "badge-info",
    ImportJob.Status.SUCCEEDED: "badge-ok",
    ImportJob.Status.INTERRUPTED: "badge-warn",
    ImportJob.Status.FAILED: "badge-error",
    ImportJob.Status.CANCELLED: "badge-neutral",
}


@register.filter
def attribute_label(name: str, extra_labels: dict[str, str] | None = None) -> str:
    """The translated label of a canonical attribute, an extra identifier, or the name."""
    attribute = ATTRIBUTES_BY_NAME.get(name)
    if attribute is not None:
        return str(attribute.label)
    if extra_labels and name in extra_labels:
        return extra_labels[name]
    if name in OTHER_LABELS:
        return str(OTHER_LABELS[name])
    return name


@register.filter
def rule_label(rule: str) -> str:
    return str(RULE_LABELS.get(rule, rule or "—"))


@register.filter
def rule_help(rule: str) -> str:
    return str(RULE_HELP.get(rule, ""))


@register.filter
def quality_flag(flag: str) -> str:
    """"email.invalid" → "E-mail: invalid, not kept"."""
    attribute, _sep, problem = flag.partition(".")
    label = attribute_label(attribute)
    text = FLAG_LABELS.get(flag) or PROBLEM_LABELS.get(problem)
    return f"{label}: {text if text is not None else problem.replace('_', ' ')}"


@register.filter
def history_action(action: str) -> str:
    return str(ACTION_LABELS.get(action, action))


@register.filter
def status_class(status: str) -> str:
    return STATUS_CLASSES.get(status, "badge-neutral")


@register.filter
def status_label(status: str) -> str:
    try:
        return str(ImportJob.Status(status).label)
    except ValueError:
        return status


@register.filter
def as_json(value: Any) -> str:
    """Pretty JSON for nested values shown as text."""
    return json.dumps(value, ensure_ascii=False, indent=2, sort_keys=True, default=str)


@register.filter
def get_item(mapping: dict | None, key: str) -> Any:
    if not mapping:
        return None
    return mapping.get(key)


@register.filter
def percent(fraction: float | None) -> str:
    """A rate 0..1 as a percentage with one decimal ("92.5 %"); "—" when unknown."""
    if fraction is None:
        return "—"
    return f"{fraction * 100:.1f} %"


@register.filter
def signed_percent(change: float | None) -> str:
    """A change of rate in percentage points, signed ("+4.0 pt")."""
    if change is None:
        return "—"
    return f"{change * 100:+.1f} pt"


@register.filter
def signed(change: float | int | None) -> str:
    if change is None:
        return "—"
    return f"{change:+}"
