from __future__ import annotations

from django.core.validators import RegexValidator
from django.db import models
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from rcu.attributes import ComparisonMethod, CustomAttribute, CustomType


class AttributeDefinition(models.Model):
    """An attribute an administrator added to the customer model (birthplace, national
    id…): its values are mapped from sources, normalised by type, kept on records and
    golden customers (`Customer.custom_attributes`), and compared by the engine with
    its own learned weights. Never deleted: archived, its values stay and are no
    longer mapped nor compared. Its name and type never change (values already stored
    were normalised for that type)."""

    class Type(models.TextChoices):
        TEXT = CustomType.TEXT.value, _("Text")
        NAME = CustomType.NAME.value, _("Name")
        DATE = CustomType.DATE.value, _("Date")
        CODE = CustomType.CODE.value, _("Code")
        NUMBER = CustomType.NUMBER.value, _("Number")
        IDENTIFIER = CustomType.IDENTIFIER.value, _("Identifier")

    class Comparison(models.TextChoices):
        DEFAULT = "", _("The default for its type")
        NAME = ComparisonMethod.NAME.value, _("Name: exact, sounds alike, close spelling")
        TEXT = ComparisonMethod.TEXT.value, _("Text: exact, close spelling")
        DATE = ComparisonMethod.DATE.value, _("Date: exact, same month, same year")
        EXACT = ComparisonMethod.EXACT.value, _("Exact: rare values weigh more")
        NUMBER = ComparisonMethod.NUMBER.value, _("Number: exact, within the tolerance")
        NONE = ComparisonMethod.NONE.value, _("Not compared")

    name = models.SlugField(
        _("name"), max_length=50, unique=True,
        validators=[RegexValidator(r"^[a-z][a-z0-9_]*$", _("Lower-case letters, digits and _."))],
    )
    label = models.CharField(_("label"), max_length=200)
    type = models.CharField(_("type"), max_length=20, choices=Type.choices)
    comparison = models.CharField(
        _("comparison"), max_length=20, choices=Comparison.choices, blank=True, default="",
    )
    tolerance = models.FloatField(
        _("tolerance"), default=0.0,
        help_text=_("Numbers only: two values this close are a partial agreement."),
    )
    tells_apart = models.BooleanField(
        _("tells people apart"), default=False,
        help_text=_("Two records that disagree on it are two people (a birth year, a sex): "
                    "such a pair is never linked without a steward."),
    )
    survivorship = models.CharField(
        _("survivorship default"), max_length=30, blank=True, default="",
        help_text=_("The rule used when the survivorship rules do not name this attribute; "
                    "empty: the default order (trust rank, most recent, most complete)."),
    )
    active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["name"]
        verbose_name = _("custom attribute")
        verbose_name_plural = _("custom attributes")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(tolerance__gte=0), name="attributedefinition_tolerance_positive"
            ),
        ]

    def __str__(self) -> str:
        return self.label

    def effective_comparison_label(self) -> str:
        """The comparison in force, in words (the type's default when none is chosen)."""
        return str(self.Comparison(self.as_custom().comparison.value).label)

    def as_custom(self) -> CustomAttribute:
        from rcu.attributes import DEFAULT_COMPARISON

        kind = CustomType(self.type)
        return CustomAttribute(
            name=self.name, label=self.label, type=kind,
            comparison=ComparisonMethod(self.comparison) if self.comparison else DEFAULT_COMPARISON[kind],
            tolerance=self.tolerance, survivorship=self.survivorship, active=self.active,
            tells_apart=self.tells_apart,
        )
