"""Small display filters shared by the RCU pages."""

from __future__ import annotations

import json
from typing import Any

from django import template
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from rcu.attributes import ATTRIBUTES_BY_NAME
from rcu.models import ImportJob
from rcu.selectors.attributes import custom_attribute_labels
from rcu.survivorship import (
    RULE_COMPLETE,
    RULE_FREQUENT,
    RULE_LONGEST,
    RULE_ONLY,
    RULE_PINNED,
    RULE_RECENT,
    RULE_SOURCE_PRIORITY,
    RULE_STABLE,
    RULE_TRUST,
    RULE_TYPED,
    RULE_VALIDATED,
)

register = template.Library()

RULE_LABELS = {
    RULE_TYPED: _("corrected by hand"),
    RULE_PINNED: _("steward's choice"),
    RULE_ONLY: _("only value available"),
    RULE_TRUST: _("most trusted source"),
    RULE_RECENT: _("most recent"),
    RULE_COMPLETE: _("most complete record"),
    RULE_STABLE: _("tie, stable order"),
    RULE_SOURCE_PRIORITY: _("source priority"),
    RULE_FREQUENT: _("most frequent across sources"),
    RULE_LONGEST: _("longest"),
    RULE_VALIDATED: _("validated value first"),
}

RULE_HELP = {
    RULE_TYPED: _("Typed by hand (a steward's correction or the DPO's rectification): kept "
                  "whatever the sources say, until it is changed or unpinned."),
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
    "custom_attributes": _("custom attributes"),
}

ACTION_LABELS = {
    "created": pgettext_lazy("history action", "created"),
    "changed": pgettext_lazy("history action", "changed"),
    "deleted": pgettext_lazy("history action", "deleted"),
}

STATUS_CLASSES: dict[str, str] = {  # keyed by ImportJob.Status (a str)
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
    custom = custom_attribute_labels().get(name)
    if custom is not None:
        return custom
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


ADMIN_FIELD_LABELS = {
    "email": _("e-mail"),
    "first_name": _("first name"),
    "last_name": _("last name"),
    "name": _("name"),
    "review_target_days": _("target age of a candidate"),
    "auto_link": _("auto-link threshold"),
    "review": _("review threshold"),
    "max_block_size": _("largest block compared"),
    "model_frozen": _("model frozen"),
    "external_id": _("external id field"),
    "business_timestamp": _("business timestamp"),
}


@register.simple_tag(takes_context=True)
def admin_change(context, event) -> list[str]:
    """An administration event's change in words: "+ Steward", "- Marketing", "e-mail"."""
    from rcu.forms_administration import ROLE_LABELS
    from rcu.services.administration import AdminChange

    names = context.get("department_names_cache")
    if names is None:
        from rcu.selectors.administration import department_names

        names = department_names()
        context.dicts[0]["department_names_cache"] = names

    def label(code: str) -> str:
        kind, _sep, rest = code.partition(":")
        if kind == "role" and rest:
            return str(ROLE_LABELS.get(rest, rest))
        if kind == "department" and rest:
            return names.get(rest, rest)
        if code in ADMIN_FIELD_LABELS:
            return str(ADMIN_FIELD_LABELS[code])
        return attribute_label(code)

    change = AdminChange.from_json(event.change)
    parts = [f"+ {label(c)}" for c in change.added] + [f"\u2212 {label(c)}" for c in change.removed]
    parts += [label(c) for c in change.fields]
    if change.note:
        parts.append(change.note)
    return parts


@register.simple_tag
def role_label(code: str) -> str:
    from rcu.forms_administration import ROLE_LABELS

    return str(ROLE_LABELS.get(code, code))


@register.filter
def attribute_value(value: Any, name: str) -> str:
    """`{{ value|attribute_value:"birth_date" }}`: the value in the page's formats."""
    from rcu.display import value_display

    return value_display(name, value)


@register.filter
def history_reason(reason: str) -> str:
    from rcu.display import history_reason as words

    return words(reason)


@register.filter
def undo_decision(extra_tags: str) -> int | None:
    """"undo:42" in a message's tags: the decision its Undo button takes back."""
    for tag in (extra_tags or "").split():
        if tag.startswith("undo:") and tag[5:].isdigit():
            return int(tag[5:])
    return None


@register.filter
def pair_sides(record_a, record_b) -> tuple:
    """The two records of a candidate, to loop over them in a template."""
    return (record_a, record_b)
