"""The register of processing activities (GDPR art. 30): what the controller does with
customers' personal data, why, on which legal basis, for how long, shared with whom.

Maintained by the DPO (admins may edit it too); every version is kept in history,
written through `rcu.services.changes`.
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords


class LegalBasis(models.TextChoices):
    """GDPR art. 6(1), points a to f."""

    CONSENT = "consent", _("consent (art. 6(1)(a))")
    CONTRACT = "contract", _("contract (art. 6(1)(b))")
    LEGAL_OBLIGATION = "legal_obligation", _("legal obligation (art. 6(1)(c))")
    VITAL_INTERESTS = "vital_interests", _("vital interests (art. 6(1)(d))")
    PUBLIC_TASK = "public_task", _("public task (art. 6(1)(e))")
    LEGITIMATE_INTERESTS = "legitimate_interests", _("legitimate interests (art. 6(1)(f))")


class ProcessingActivity(models.Model):
    name = models.CharField(_("name"), max_length=200, unique=True)
    purpose = models.TextField(_("purpose"))
    legal_basis = models.CharField(_("legal basis"), max_length=30, choices=LegalBasis.choices)
    legal_basis_detail = models.TextField(
        _("legal basis, details"), blank=True,
        help_text=_("The legitimate interest pursued, the law that obliges, how consent is collected…"),
    )
    data_categories = models.TextField(_("categories of personal data"))
    people_categories = models.TextField(_("categories of people"))
    recipients = models.TextField(_("recipients"), blank=True)
    transfers_outside_eu = models.TextField(
        _("transfers outside the EU"), blank=True,
        help_text=_("Countries and recipients; empty when there is none."),
    )
    transfer_safeguards = models.TextField(
        _("safeguards for the transfers"), blank=True,
        help_text=_("Adequacy decision, standard contractual clauses, binding corporate rules…"),
    )
    retention = models.TextField(_("retention"))
    security_measures = models.TextField(_("security measures"), blank=True)
    sources = models.ManyToManyField(
        "rcu.SourceSystem", blank=True, related_name="+", verbose_name=_("sources concerned"),
        help_text=_("None: the activity concerns every source."),
    )
    controller = models.CharField(_("controller"), max_length=200)
    joint_controller = models.CharField(_("joint controller"), max_length=200, blank=True)
    active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)
    # The sources concerned are kept with each version (simple-history's m2m tracking).
    history = HistoricalRecords(m2m_fields=[sources])

    class Meta:
        ordering = ["-active", "name"]
        verbose_name = _("processing activity")
        verbose_name_plural = _("register of processing activities")

    def __str__(self) -> str:
        return self.name
