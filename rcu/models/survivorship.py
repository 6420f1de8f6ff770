from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords


class SurvivorshipSettings(models.Model):
    """The administrators' survivorship rules per attribute: one row, versioned.

    `rules` is `rcu.survivorship.SurvivorshipRules.to_json()["attributes"]`; an attribute
    not listed keeps the default order. Each save raises `version`, which the golden
    values chosen by these rules carry in their provenance.
    """

    version = models.PositiveIntegerField(_("version"), default=0)
    rules = models.JSONField(_("rules"), default=dict, blank=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
        related_name="+", verbose_name=_("updated by"),
    )
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("survivorship rules")
        verbose_name_plural = _("survivorship rules")

    def __str__(self) -> str:
        return f"survivorship rules v{self.version}"
