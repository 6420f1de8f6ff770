"""The engine's explanation in plain words: "même e-mail, nom proche (0,92), adresses différentes".

Pure: reads the explanation dict the matching engine stores with each candidate.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

from django.utils.formats import number_format
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from rcu.engine.fellegi_sunter import WITH_ANOTHER_DIFFERENCE

if TYPE_CHECKING:
    from django_stubs_ext import StrPromise

COMPARISON_LABELS = {
    "first_name": gettext_lazy("First name"),
    "last_name": gettext_lazy("Last name"),
    "birth_date": gettext_lazy("Birth date"),
    "email": gettext_lazy("E-mail"),
    "phone": gettext_lazy("Phone"),
    "address": gettext_lazy("Address"),
    "postcode_city": gettext_lazy("Postcode and city"),
    "identifiers": gettext_lazy("Identifiers"),
}

# (comparison, level) → phrase; "{s}" receives a similarity where one is known.
PHRASES: dict[tuple[str, str], StrPromise] = {
    ("first_name", "exact"): gettext_lazy("same first name"),
    ("first_name", "jaro_winkler_high"): gettext_lazy("close first name{s}"),
    ("first_name", "short_form"): gettext_lazy("a first name and its usual short form"),
    ("first_name", "compatible"): gettext_lazy("compatible first names (initial or compound)"),
    ("first_name", "jaro_winkler_low"): gettext_lazy("somewhat similar first name{s}"),
    ("first_name", "different"): gettext_lazy("different first names"),
    ("last_name", "exact"): gettext_lazy("same last name"),
    ("last_name", "jaro_winkler_high"): gettext_lazy("close last name{s}"),
    ("last_name", "token_match"): gettext_lazy("last names share a part"),
    ("last_name", "jaro_winkler_low"): gettext_lazy("somewhat similar last name{s}"),
    ("last_name", "in_other_email"): gettext_lazy(
        "different last names, one written in the other's e-mail (birth or married name)"
    ),
    ("last_name", "different"): gettext_lazy("different last names"),
    ("birth_date", "exact"): gettext_lazy("same birth date"),
    ("birth_date", "day_month_swapped"): gettext_lazy("birth dates with day and month swapped"),
    ("birth_date", "one_typo"): gettext_lazy("birth dates one digit apart"),
    ("birth_date", "same_year"): gettext_lazy("same birth year"),
    ("birth_date", "different"): gettext_lazy("different birth dates"),
    ("email", "exact"): gettext_lazy("same e-mail"),
    ("email", "same_local_part"): gettext_lazy("same e-mail name, other domain"),
    ("email", "close"): gettext_lazy("close e-mail"),
    ("email", "different"): gettext_lazy("different e-mails"),
    ("phone", "exact"): gettext_lazy("same phone"),
    ("phone", "one_typo"): gettext_lazy("phones one digit apart"),
    ("phone", "other_line_kind"): gettext_lazy("different phones, a landline and a mobile"),
    ("phone", "different"): gettext_lazy("different phones"),
    ("address", "exact"): gettext_lazy("same address"),
    ("address", "token_set_high"): gettext_lazy("very close address"),
    ("address", "token_set_mid"): gettext_lazy("close address"),
    ("address", "different"): gettext_lazy("different addresses"),
    ("postcode_city", "same_postcode_and_city"): gettext_lazy("same postcode and town"),
    ("postcode_city", "same_postcode"): gettext_lazy("same postcode"),
    ("postcode_city", "same_city"): gettext_lazy("same town"),
    ("postcode_city", "same_department"): gettext_lazy("same département"),
    ("postcode_city", "different"): gettext_lazy("different places"),
    ("identifiers", "same"): gettext_lazy("same identifier"),
    ("identifiers", "different"): gettext_lazy("different identifiers"),
}


# The levels of custom attributes' comparisons (rcu.engine.custom), with the attribute's label.
CUSTOM_LEVEL_PHRASES: dict[str, StrPromise] = {
    "exact": gettext_lazy("%(what)s: same"),
    "same": gettext_lazy("%(what)s: same"),
    "jaro_winkler_high": gettext_lazy("%(what)s: close spelling"),
    "phonetic": gettext_lazy("%(what)s: sounds alike"),
    "jaro_winkler_low": gettext_lazy("%(what)s: somewhat similar"),
    "same_month": gettext_lazy("%(what)s: same month"),
    "same_year": gettext_lazy("%(what)s: same year"),
    "within_tolerance": gettext_lazy("%(what)s: close values"),
    "different": gettext_lazy("%(what)s: different"),
}


def comparison_label(comparison: str) -> str:
    """A comparison's name in words: the built-in ones, or a custom attribute's label."""
    label = COMPARISON_LABELS.get(comparison)
    if label is not None:
        return str(label)
    from rcu.selectors.attributes import custom_attribute_labels

    return custom_attribute_labels().get(comparison, comparison)


# Term-frequency contributions (rcu.engine.term_frequency): how common the shared value is.
RARE_VALUE = "rare_value"
COMMON_VALUE = "common_value"


def phrase(comparison: str, level: str | None, similarity: float | None = None) -> str:
    if level == RARE_VALUE:
        return _("%(what)s rare in this base") % {
            "what": comparison_label(comparison)
        }
    if level == COMMON_VALUE:
        return _("%(what)s common in this base") % {
            "what": comparison_label(comparison)
        }
    if level == WITH_ANOTHER_DIFFERENCE:
        return _("%(what)s differs along with another household detail (one move, counted once)") % {
            "what": comparison_label(comparison)
        }
    if level is None:
        return _("%(what)s not compared (missing)") % {
            "what": comparison_label(comparison)
        }
    template = PHRASES.get((comparison, level))
    if template is None:
        custom = CUSTOM_LEVEL_PHRASES.get(level)
        if custom is not None and comparison not in COMPARISON_LABELS:
            return str(custom) % {"what": comparison_label(comparison)}
        return f"{comparison_label(comparison)}: {level}"
    shown = f" ({number_format(similarity, 2)})" if similarity is not None else ""
    return str(template).replace("{s}", shown)


def explanation_sentence(
    explanation: Mapping, *, similarities: Mapping[str, float] | None = None
) -> str:
    """Evidence for first (strongest first), then evidence against; missing values left out."""
    similarities = similarities or {}
    compared = [
        c for c in explanation.get("contributions", []) if c.get("level") is not None
    ]
    ordered = sorted(compared, key=lambda c: (c["weight"] < 0, -abs(c["weight"])))
    parts = [phrase(c["comparison"], c["level"], similarities.get(c["comparison"]))
             for c in ordered]
    sentence = ", ".join(parts)
    guard = guard_sentence(explanation.get("link_guard"))
    if guard:
        sentence = f"{sentence} — {guard}" if sentence else guard
    return sentence[:1].upper() + sentence[1:]


def guard_sentence(link_guard: str | None) -> str:
    """Why the engine would not link it alone, in words."""
    if not link_guard:
        return ""
    if link_guard == "restricted":
        return _("one of them is restricted (GDPR art. 18): no merge until the DPO lifts it")
    if link_guard == "names_only":
        return _("nothing but the names to compare, a steward must decide")
    if link_guard == "possible_twins":
        return _("same birth date and home, first names alike but not the same: twins? "
                 "a steward must decide")
    if link_guard == "household_evidence":
        return _("what they have in common, one household could share, a steward must decide")
    if link_guard == "no_identifying_evidence":  # stored by earlier versions
        return _("nothing personal in common, a steward must decide")
    if link_guard.startswith("contradiction:"):
        names = [comparison_label(n).lower()
                 for n in link_guard.split(":", 1)[1].split(",") if n]
        return _("contradicts on %(what)s, a steward must decide") % {"what": ", ".join(names)}
    return link_guard
