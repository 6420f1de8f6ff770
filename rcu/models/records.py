from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from rcu.models.sources import SourceSystem


class SourceRecord(models.Model):
    """One customer as one source knows it.

    `raw` is the payload exactly as received; `attributes` the canonical values the
    field mappings and normalisation produced; `keys` the comparison keys. A record
    is never deleted by a merge, nor when its source deletes it: it is kept and
    flagged (`deleted_at_source`). Nothing in RCU deletes records today.
    """

    # No index of its own: the unique (source, external id) index leads with it, and
    # every record moved from one customer to another would update both.
    source = models.ForeignKey(
        SourceSystem, on_delete=models.PROTECT, related_name="records", verbose_name=_("source"),
        db_index=False,
    )
    external_id = models.CharField(_("external id"), max_length=200)
    customer = models.ForeignKey(
        "rcu.Customer",
        on_delete=models.PROTECT,
        related_name="records",
        null=True,
        blank=True,
        verbose_name=_("customer"),
    )
    raw = models.JSONField(_("raw payload"))
    attributes = models.JSONField(_("attributes"), default=dict)
    keys = models.JSONField(_("comparison keys"), default=dict)
    quality_flags = models.JSONField(_("quality flags"), default=list)
    business_ts = models.DateTimeField(_("business timestamp"), null=True, blank=True)
    payload_hash = models.CharField(max_length=64, editable=False)
    # Not indexed: nothing reads records by their last import (import jobs are never
    # deleted), and every record moved from one customer to another would update it.
    last_import_job = models.ForeignKey(
        "rcu.ImportJob", on_delete=models.SET_NULL, null=True, blank=True, related_name="+",
        db_index=False,
    )
    # Set when the source says it no longer has this record (an API deletion, or a full
    # snapshot import without it). The record is kept, with its history, but it gives no
    # golden value and takes no part in matching; sending it again restores it.
    deleted_at_source = models.DateTimeField(_("deleted at source"), null=True, blank=True)
    created_at = models.DateTimeField(_("received"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)
    # History is read by record id; indexes on its other keys would only slow imports.
    history = HistoricalRecords(
        excluded_fields=["payload_hash", "last_import_job"], no_db_index=["source", "customer"]
    )

    class Meta:
        ordering = ["source", "external_id"]
        verbose_name = _("source record")
        verbose_name_plural = _("source records")
        constraints = [
            # Upserts key on (source, external id): re-sending a record updates it.
            models.UniqueConstraint(
                fields=["source", "external_id"], name="uniq_record_source_external_id"
            ),
        ]
        indexes = [
            # "Are there records deleted at source, and which": rare rows, a tiny index
            # that the batch apply and the scopes of matching consult.
            models.Index(
                fields=["deleted_at_source"], name="record_deleted_at_source_idx",
                condition=models.Q(deleted_at_source__isnull=False),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.source_id}:{self.external_id}"
