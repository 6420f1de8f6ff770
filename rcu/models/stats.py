from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from rcu.models.sources import SourceSystem


class SourceStats(models.Model):
    """Counts per source, kept up to date by the writes that change them.

    Pages read these instead of counting a million rows on every visit. Derived
    data, so no history: `source_stats_recount` rebuilds them from the records.
    """

    source = models.OneToOneField(
        SourceSystem, on_delete=models.CASCADE, primary_key=True, related_name="stats"
    )
    record_count = models.PositiveIntegerField(_("records"), default=0)
    customer_count = models.PositiveIntegerField(
        _("customers"), default=0, help_text=_("Golden customers with a record in this source.")
    )
    counted_at = models.DateTimeField(_("recounted"), null=True, blank=True)

    class Meta:
        verbose_name = _("source statistics")
        verbose_name_plural = _("source statistics")

    def __str__(self) -> str:
        return f"{self.source_id}: {self.record_count}"
