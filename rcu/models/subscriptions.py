"""Systems subscribed to changes of golden customers, and each event's delivery to them."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from rcu.models.events import ChangeEvent
from rcu.models.sources import SourceSystem


class Subscription(models.Model):
    """A system told of every change it cares about, by signed webhook (Standard Webhooks).

    `attributes` is what it may receive of a person (the projection of every channel:
    webhooks, the feed, change files); `purpose` is why it processes them (restriction
    and consent apply per purpose). Given a `source`, its events carry that source's
    external ids of the customer (cross-references). `cursor` is the last event fanned
    out into its deliveries: the outbox row, not the broker, is the truth.
    """

    class Purpose(models.TextChoices):
        MARKETING = "marketing", _("Marketing")
        SERVICE = "service", _("Customer service")
        SALES = "sales", _("Sales")
        ANALYTICS = "analytics", _("Analytics")
        OPERATIONS = "operations", _("Operations")

    name = models.SlugField(_("name"), max_length=50, unique=True)
    target_url = models.URLField(_("target URL"), max_length=500)
    purpose = models.CharField(_("purpose"), max_length=20, choices=Purpose.choices)
    event_types = models.JSONField(_("event types"), default=list)
    attributes = models.JSONField(_("attributes it may receive"), default=list)
    source = models.ForeignKey(
        SourceSystem, on_delete=models.PROTECT, null=True, blank=True, related_name="subscriptions",
        verbose_name=_("source system it is"),
    )
    active = models.BooleanField(_("active"), default=True)
    # Signing secrets (whsec_…): the previous one still signs until its end, for rotation.
    secret = models.CharField(_("signing secret"), max_length=100, editable=False)
    previous_secret = models.CharField(max_length=100, blank=True, editable=False)
    previous_secret_until = models.DateTimeField(null=True, blank=True, editable=False)
    cursor = models.BigIntegerField(_("last event fanned out"), default=0, editable=False)
    paused_at = models.DateTimeField(_("paused"), null=True, blank=True)
    paused_reason = models.CharField(_("why paused"), max_length=500, blank=True)
    last_success_at = models.DateTimeField(_("last delivery"), null=True, blank=True)
    # A snapshot asked for: every customer it may see, as `customer.snapshot` events
    # written in chunks after `snapshot_after` (the last customer id written).
    snapshot_requested_at = models.DateTimeField(_("snapshot asked"), null=True, blank=True)
    snapshot_after = models.BigIntegerField(default=0, editable=False)
    snapshot_done_at = models.DateTimeField(_("snapshot written"), null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
        related_name="+", verbose_name=_("created by"),
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    history = HistoricalRecords(excluded_fields=[
        "secret", "previous_secret", "cursor", "last_success_at", "snapshot_after",
        "snapshot_done_at",
    ])

    class Meta:
        ordering = ["name"]
        verbose_name = _("subscription")
        verbose_name_plural = _("subscriptions")

    def __str__(self) -> str:
        return self.name


class Delivery(models.Model):
    """One event to one subscriber: pending until a 2xx acknowledges it.

    Deliveries of one (subscription, customer) leave in event order: one is sent only
    when every earlier one of that stream is delivered. `customer_id` repeats the
    event's so that the streams are read by index.
    """

    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        DELIVERED = "delivered", _("Delivered")
        SKIPPED = "skipped", _("Skipped")

    id = models.BigAutoField(primary_key=True)
    subscription = models.ForeignKey(
        Subscription, on_delete=models.CASCADE, related_name="deliveries",
        verbose_name=_("subscription"),
    )
    event = models.ForeignKey(
        ChangeEvent, on_delete=models.CASCADE, related_name="deliveries", verbose_name=_("event"),
    )
    customer_id = models.BigIntegerField()
    status = models.CharField(_("status"), max_length=10, choices=Status.choices,
                              default=Status.PENDING)
    attempts = models.PositiveIntegerField(_("attempts"), default=0)
    next_attempt_at = models.DateTimeField(_("next attempt"), null=True, blank=True)
    last_error = models.CharField(_("last error"), max_length=500, blank=True)
    delivered_at = models.DateTimeField(_("delivered"), null=True, blank=True)

    class Meta:
        ordering = ["id"]
        verbose_name = _("delivery")
        verbose_name_plural = _("deliveries")
        constraints = [
            models.UniqueConstraint(fields=["subscription", "event"], name="uniq_delivery_event"),
        ]
        indexes = [
            models.Index(
                fields=["subscription", "customer_id", "event"], name="delivery_pending_stream_idx",
                condition=models.Q(status="pending"),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.subscription} evt_{self.event_id} {self.status}"
