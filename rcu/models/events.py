"""The outbox: one row per change to a golden customer, written in the transaction of
the change (`rcu.services.changes`), read by deliveries and the change feed."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class ChangeEvent(models.Model):
    """A change to one golden customer, in the order it happened to that customer.

    `version` counts the customer's events from 1 (unique per customer: two writers of
    one customer hold its lock in turn). `changes` holds the new golden values of the
    attributes that changed (attribute → JSON value); `data` what else the type says:
    ``retired_ids`` and ``survivor_id`` of a merge, ``merged_from`` of an unmerge. The
    customer is kept by id, not by foreign key: an event outlives nothing it should not,
    and erasure purges events explicitly. The id is the feed's cursor and, as
    ``evt_<id>``, the webhook id.
    """

    class Type(models.TextChoices):
        CREATED = "customer.created", _("Customer created")
        UPDATED = "customer.updated", _("Customer updated")
        MERGED = "customer.merged", _("Customers merged")
        UNMERGED = "customer.unmerged", _("Customer restored from a merge")
        RECTIFIED = "customer.rectified", _("Customer rectified")
        RESTRICTED = "customer.restricted", _("Customer restricted")
        RESTRICTION_LIFTED = "customer.restriction_lifted", _("Customer restriction lifted")
        ERASED = "customer.erased", _("Customer erased")
        # The state of a customer as one subscriber asked for it (a new subscriber's
        # starting point): addressed to that subscriber alone, never a change.
        SNAPSHOT = "customer.snapshot", _("Customer as it stands (snapshot)")

    id = models.BigAutoField(primary_key=True)
    type = models.CharField(_("type"), max_length=32, choices=Type.choices)
    customer_id = models.BigIntegerField(_("customer id"))
    customer_public_id = models.UUIDField(_("customer public id"))
    version = models.PositiveIntegerField(_("version"))
    changes = models.JSONField(_("changed values"), default=dict, blank=True)
    data = models.JSONField(_("data"), default=dict, blank=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
        related_name="+", verbose_name=_("by"),
    )
    actor_job = models.CharField(_("by RCU"), max_length=100, blank=True)
    occurred_at = models.DateTimeField(_("occurred"), db_index=True)
    # A snapshot event is for this subscriber only; every other event is for everyone.
    audience = models.ForeignKey(
        "rcu.Subscription", on_delete=models.CASCADE, null=True, blank=True, related_name="+",
        verbose_name=_("for the subscriber"),
    )

    class Meta:
        ordering = ["id"]
        verbose_name = _("change event")
        verbose_name_plural = _("change events")
        constraints = [
            # Snapshots repeat the version they show; changes number each customer's versions.
            models.UniqueConstraint(fields=["customer_id", "version"], name="uniq_event_customer_version",
                                    condition=models.Q(audience__isnull=True)),
        ]
        indexes = [
            # A customer's events, snapshots included (the next version, the admins' search,
            # erasure): the unique index above is partial, so it cannot serve them all.
            models.Index(fields=["customer_id", "version"], name="changeevent_customer_idx"),
        ]

    def __str__(self) -> str:
        return f"evt_{self.pk} {self.type} {self.customer_public_id} v{self.version}"

    @property
    def webhook_id(self) -> str:
        return f"evt_{self.pk}"
