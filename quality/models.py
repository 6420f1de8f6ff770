"""Quality figures kept day by day, and the rules admins set on them."""

from __future__ import annotations

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from rcu.models import SourceSystem

# Scopes a figure belongs to: one source, the golden customers, the whole base, or one
# department's records ("source:crm", "golden", "base", "department:marketing").
GOLDEN = "golden"
BASE = "base"


def source_scope(code: str) -> str:
    return f"source:{code}"


def department_scope(code: str) -> str:
    return f"department:{code}"


class Metric(models.TextChoices):
    RECORDS = "records", _("records")
    COMPLETENESS = "completeness", _("completeness")
    VALIDITY = "validity", _("validity")
    CONSISTENCY = "consistency", _("consistency")
    AGREEMENT = "agreement", _("agreement with the golden value")
    FLAG = "flag", _("records flagged")
    UNIQUENESS = "uniqueness", _("linked to another record")
    CANDIDATES = "candidates", _("open candidates")
    FRESHNESS = "freshness", _("updated within a year")
    DUPLICATE_RATE = "duplicate_rate", _("duplicate rate")
    AUTO_LINK_RATE = "auto_link_rate", _("automatic link rate")


class QualitySnapshot(models.Model):
    """One day's measure. The figures are the truth; this row says when and how long."""

    taken_on = models.DateField(_("day"), unique=True)
    started_at = models.DateTimeField(_("started"))
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)
    duration_ms = models.PositiveIntegerField(_("duration (ms)"), null=True, blank=True)
    taken_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
        related_name="+", verbose_name=_("taken by"),
        help_text=_("Empty for the daily task; the admin who asked for a measure now."),
    )

    class Meta:
        ordering = ["-taken_on"]
        verbose_name = _("quality snapshot")
        verbose_name_plural = _("quality snapshots")

    def __str__(self) -> str:
        return str(self.taken_on)


class QualityFigure(models.Model):
    """A count out of a count: `numerator` of `denominator` on `taken_on`.

    A rate is numerator / denominator (None when the denominator is 0). `detail` names
    the flag of a FLAG figure. Derived data, rebuilt by each day's snapshot: no history.
    """

    taken_on = models.DateField(_("day"))
    scope = models.CharField(_("scope"), max_length=120)
    attribute = models.CharField(_("attribute"), max_length=200, blank=True)
    metric = models.CharField(_("metric"), max_length=20, choices=Metric.choices)
    detail = models.CharField(_("detail"), max_length=200, blank=True)
    numerator = models.BigIntegerField(_("numerator"))
    denominator = models.BigIntegerField(_("denominator"))

    class Meta:
        verbose_name = _("quality figure")
        verbose_name_plural = _("quality figures")
        constraints = [
            # A snapshot taken again the same day replaces its figures, never doubles them.
            models.UniqueConstraint(
                fields=["scope", "taken_on", "attribute", "metric", "detail"],
                name="uniq_quality_figure",
            ),
        ]
        # The unique index leads with (scope, taken_on): the pages read one scope's
        # latest day, and the trends one scope over a range of days, through it.
        indexes = [
            # The latest day measured: MAX(taken_on) without a scan.
            models.Index(fields=["taken_on"], name="quality_figure_day_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.taken_on} {self.scope} {self.attribute} {self.metric}: {self.numerator}/{self.denominator}"

    @property
    def rate(self) -> float | None:
        return self.numerator / self.denominator if self.denominator else None


class QualityRule(models.Model):
    """What an admin expects of a source: at least `minimum` of `metric` on `attribute`."""

    class RuleMetric(models.TextChoices):
        COMPLETENESS = Metric.COMPLETENESS.value, Metric.COMPLETENESS.label
        VALIDITY = Metric.VALIDITY.value, Metric.VALIDITY.label

    source = models.ForeignKey(
        SourceSystem, on_delete=models.CASCADE, related_name="quality_rules",
        verbose_name=_("source"),
    )
    attribute = models.CharField(_("attribute"), max_length=200)
    metric = models.CharField(_("metric"), max_length=20, choices=RuleMetric.choices)
    minimum = models.DecimalField(
        _("minimum rate"), max_digits=4, decimal_places=3,
        validators=[MinValueValidator(0), MaxValueValidator(1)],
        help_text=_("A fraction from 0 to 1: 0.95 means 95 %."),
    )
    active = models.BooleanField(_("active"), default=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
        related_name="+", verbose_name=_("created by"),
    )
    # The last day a breach of this rule was mailed: a snapshot taken again that day
    # does not mail the admins twice.
    notified_on = models.DateField(_("breach last notified"), null=True, blank=True)
    history = HistoricalRecords(excluded_fields=["notified_on"])

    class Meta:
        ordering = ["source", "attribute", "metric"]
        verbose_name = _("quality rule")
        verbose_name_plural = _("quality rules")
        constraints = [
            models.UniqueConstraint(
                fields=["source", "attribute", "metric"], name="uniq_quality_rule"
            ),
            models.CheckConstraint(
                condition=models.Q(minimum__gte=0, minimum__lte=1), name="quality_rule_minimum_0_1"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.source_id} {self.attribute} {self.metric} ≥ {self.minimum}"
