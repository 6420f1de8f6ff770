from __future__ import annotations

from django.core.validators import MinValueValidator, RegexValidator
from django.db import models
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from rcu.models.departments import Department

country_code_validator = RegexValidator(r"^[A-Z]{2}$", _("Use an ISO 3166 two-letter code."))


class SourceSystem(models.Model):
    """A business application that sends customer data."""

    code = models.SlugField(_("code"), max_length=50, unique=True)
    name = models.CharField(_("name"), max_length=200)
    department = models.ForeignKey(
        Department, on_delete=models.PROTECT, related_name="sources", verbose_name=_("department")
    )
    trust_rank = models.PositiveSmallIntegerField(
        _("trust rank"),
        default=10,
        validators=[MinValueValidator(1)],
        help_text=_("1 is the most trusted source; survivorship prefers lower ranks."),
    )
    default_country = models.CharField(
        _("default country"), max_length=2, default="FR", validators=[country_code_validator]
    )
    active = models.BooleanField(_("active"), default=True)
    external_id_field = models.CharField(_("external id field"), max_length=200)
    business_timestamp_field = models.CharField(
        _("business timestamp field"), max_length=200, blank=True
    )
    business_timestamp_format = models.CharField(
        _("business timestamp format"), max_length=100, blank=True,
        help_text=_("strptime format, e.g. %d/%m/%Y %H:%M; empty means ISO 8601."),
    )
    description = models.TextField(_("description"), blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["trust_rank", "code"]
        verbose_name = _("source system")
        verbose_name_plural = _("source systems")
        permissions = [("ingest_sourcesystem", _("Can send records into this source"))]

    def __str__(self) -> str:
        return self.name


class ExtraIdentifier(models.Model):
    """An identifier beyond the canonical attributes (loyalty card, customer number…)."""

    code = models.SlugField(
        _("code"), max_length=50, unique=True,
        validators=[RegexValidator(r"^[a-z][a-z0-9_]*$", _("Lower-case letters, digits and _."))],
    )
    label = models.CharField(_("label"), max_length=200)
    history = HistoricalRecords()

    class Meta:
        ordering = ["code"]
        verbose_name = _("extra identifier")
        verbose_name_plural = _("extra identifiers")

    def __str__(self) -> str:
        return self.label


class FieldMapping(models.Model):
    """How one canonical attribute is read from a source's fields."""

    class Case(models.TextChoices):
        KEEP = "keep", _("Keep as sent")
        UPPER = "upper", _("Upper case")
        LOWER = "lower", _("Lower case")
        TITLE = "title", _("Title case")

    source = models.ForeignKey(
        SourceSystem, on_delete=models.CASCADE, related_name="mappings", verbose_name=_("source")
    )
    attribute = models.CharField(_("attribute"), max_length=50)
    source_fields = models.JSONField(
        _("source fields"), help_text=_("Field names, joined in this order.")
    )
    position = models.PositiveSmallIntegerField(_("position"), default=0)
    join_with = models.CharField(_("join with"), max_length=10, default=" ", blank=True)
    trim = models.BooleanField(_("trim"), default=True)
    case = models.CharField(_("case"), max_length=10, choices=Case.choices, default=Case.KEEP)
    date_format = models.CharField(_("date format"), max_length=100, blank=True)
    phone_region = models.CharField(
        _("phone region"), max_length=2, blank=True, validators=[country_code_validator]
    )
    # A yes/no statement (an `attribute` like "consent:newsletter:email", declared by an
    # app through rcu.hooks.statement_targets): the field saying when it was stated.
    date_field = models.CharField(_("date field"), max_length=200, blank=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["source", "position", "id"]
        verbose_name = _("field mapping")
        verbose_name_plural = _("field mappings")
        constraints = [
            models.UniqueConstraint(fields=["source", "attribute"], name="uniq_mapping_source_attribute"),
        ]

    def __str__(self) -> str:
        return f"{'+'.join(self.source_fields)} → {self.attribute}"
