"""The erasure workflow of a request (art. 17): legal holds, four eyes, acknowledgements.

An erasure request's execution is asked for by the DPO, approved (or refused, with a
reason) by a second person with the DPO or admin role, then executed by the DPO
(`gdpr.services.erasure_requests`). Once executed, every source and subscriber concerned
must acknowledge: a subscriber by a 2xx delivery of the `customer.erased` events, a
source without a subscription by the DPO's hand, with a note. None of these rows holds
an identifier of the person: counts, sources, dates and staff accounts only.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from gdpr.models.requests import SubjectRequest


class RequestLegalHold(models.Model):
    """A documented, reasoned exception to an erasure: what is kept (a source's records,
    or only named attributes of them), on which legal basis, why, and until when."""

    request = models.ForeignKey(SubjectRequest, on_delete=models.CASCADE, related_name="legal_holds")
    source = models.ForeignKey("rcu.SourceSystem", on_delete=models.PROTECT, related_name="+",
                               verbose_name=_("source"))
    # Canonical attribute names kept; empty: the whole records of the source.
    attributes = models.JSONField(_("attributes kept"), default=list, blank=True)
    legal_basis = models.CharField(_("legal basis"), max_length=200)
    reason = models.TextField(_("reason"))
    keep_until = models.DateField(_("kept until"))
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                   related_name="+", verbose_name=_("recorded by"))
    created_at = models.DateTimeField(_("recorded"), auto_now_add=True)

    class Meta:
        ordering = ["id"]
        verbose_name = _("legal hold")
        verbose_name_plural = _("legal holds")

    def __str__(self) -> str:
        return f"{self.request_id} hold {self.pk}"


class ErasureStatus(models.TextChoices):
    ASKED = "asked", _("approval asked")
    APPROVED = "approved", _("approved")
    REFUSED = "refused", _("refused")
    EXECUTED = "executed", _("executed")


class ErasureApproval(models.Model):
    """One request for execution and its four-eyes decision; once executed, what was
    done (`report`: counts per table and file, no identifier) and the `customer.erased`
    events that sources and subscribers must acknowledge. A refused one stays as the
    trail; at most one other per request."""

    request = models.ForeignKey(SubjectRequest, on_delete=models.CASCADE,
                                related_name="erasure_approvals")
    status = models.CharField(_("status"), max_length=10, choices=ErasureStatus.choices,
                              default=ErasureStatus.ASKED)
    asked_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                 related_name="+", verbose_name=_("asked by"))
    asked_at = models.DateTimeField(_("asked"), auto_now_add=True)
    # What the approver approves: the preview's counts when asked (ErasureReport.to_json).
    preview = models.JSONField(_("preview"), default=dict, blank=True)
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True,
                                   blank=True, related_name="+", verbose_name=_("decided by"))
    decided_at = models.DateTimeField(_("decided"), null=True, blank=True)
    refusal_reason = models.TextField(_("reason for refusing"), blank=True)
    executed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True,
                                    blank=True, related_name="+", verbose_name=_("executed by"))
    executed_at = models.DateTimeField(_("executed"), null=True, blank=True)
    report = models.JSONField(_("what was done"), default=dict, blank=True)
    # The customer.erased events written (ids of outbox rows): what acknowledges.
    event_ids = models.JSONField(default=list, blank=True)
    acknowledged_at = models.DateTimeField(_("all acknowledged"), null=True, blank=True)

    class Meta:
        ordering = ["asked_at", "id"]
        verbose_name = _("erasure approval")
        verbose_name_plural = _("erasure approvals")
        permissions = [("approve_erasure", "Can approve the execution of an erasure")]
        constraints = [
            models.UniqueConstraint(
                fields=["request"], name="gdpr_erasure_one_live_approval",
                condition=~models.Q(status="refused"),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.request_id} {self.status}"


class AcknowledgementKind(models.TextChoices):
    SUBSCRIBER = "subscriber", _("subscriber")
    SOURCE = "source", _("source")


class ErasureAcknowledgement(models.Model):
    """A source or subscriber told of an executed erasure, and whether it acknowledged:
    by a 2xx delivery (`acknowledged_by` empty) or by the DPO's hand with a note."""

    request = models.ForeignKey(SubjectRequest, on_delete=models.CASCADE,
                                related_name="erasure_acknowledgements")
    kind = models.CharField(_("kind"), max_length=10, choices=AcknowledgementKind.choices)
    subscription = models.ForeignKey("rcu.Subscription", on_delete=models.SET_NULL, null=True,
                                     blank=True, related_name="+")
    source = models.ForeignKey("rcu.SourceSystem", on_delete=models.SET_NULL, null=True,
                               blank=True, related_name="+")
    name = models.CharField(_("name"), max_length=100)  # kept if the system goes
    acknowledged_at = models.DateTimeField(_("acknowledged"), null=True, blank=True)
    acknowledged_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                        null=True, blank=True, related_name="+",
                                        verbose_name=_("recorded by"))
    note = models.TextField(_("note"), blank=True)

    class Meta:
        ordering = ["kind", "name", "id"]
        verbose_name = _("erasure acknowledgement")
        verbose_name_plural = _("erasure acknowledgements")

    def __str__(self) -> str:
        return f"{self.request_id} {self.kind} {self.name}"

    @property
    def by_delivery(self) -> bool:
        return self.acknowledged_at is not None and self.acknowledged_by_id is None
