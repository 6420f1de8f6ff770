"""The stewards' ledger: every merge, rejection, reopening, detachment, correction and undo."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from rcu.models import Customer
from stewardship.decision_states import StateAfter, StateBefore
from stewardship.models.candidates import MergeCandidate


class DecisionQuerySet(models.QuerySet["Decision"]):
    def in_effect(self) -> DecisionQuerySet:
        return self.filter(undone_at__isnull=True)


class Decision(models.Model):
    """One steward decision, with the exact state it changed.

    `before` and `after` hold what undoing needs: each record's customer, each
    customer's `merged_into` and pinned choices, the pair decisions written or
    replaced, the candidates whose status changed, the customers created. A decision
    is undone by another decision (`undone_by`), never deleted.
    """

    class Kind(models.TextChoices):
        MERGE = "merge", _("Merge")
        REJECT = "reject", _("Reject")
        REOPEN = "reopen", _("Reopen")
        DETACH = "detach", _("Detach records")
        CORRECT = "correct", _("Correct values")
        UNDO = "undo", _("Undo")

    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices)
    candidate = models.ForeignKey(
        MergeCandidate, on_delete=models.SET_NULL, null=True, blank=True,
        related_name="decisions", verbose_name=_("candidate"),
    )
    survivor = models.ForeignKey(
        Customer, on_delete=models.SET_NULL, null=True, blank=True, related_name="+",
        verbose_name=_("surviving customer"),
    )
    customers = models.ManyToManyField(
        Customer, related_name="steward_decisions", verbose_name=_("customers involved"),
    )
    departments = models.ManyToManyField(
        "rcu.Department", related_name="steward_decisions", blank=True,
        verbose_name=_("departments"),
        help_text=_("The departments owning the sources of the records it touched: who may see it."),
    )
    choices = models.JSONField(_("values chosen"), default=dict, blank=True)
    before = models.JSONField(_("state before"), default=dict, blank=True)
    after = models.JSONField(_("state after"), default=dict, blank=True)
    reason = models.TextField(_("reason"), blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
        related_name="+", verbose_name=_("decided by"),
    )
    decided_at = models.DateTimeField(_("decided"), auto_now_add=True)
    undoes = models.OneToOneField(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="undone_by",
        verbose_name=_("undoes"),
    )
    undone_at = models.DateTimeField(_("undone"), null=True, blank=True)
    history = HistoricalRecords(no_db_index=["candidate", "survivor", "decided_by", "undoes"])

    objects = DecisionQuerySet.as_manager()

    class Meta:
        ordering = ["-decided_at", "-id"]
        verbose_name = _("steward decision")
        verbose_name_plural = _("steward decisions")
        indexes = [models.Index(fields=["kind", "decided_at"], name="decision_kind_day_idx")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} #{self.pk}"

    def state_before(self) -> StateBefore:
        return StateBefore.from_json(self.before)

    def state_after(self) -> StateAfter:
        return StateAfter.from_json(self.after)

    @property
    def can_be_undone(self) -> bool:
        return self.undone_at is None and self.kind in (
            self.Kind.MERGE, self.Kind.DETACH, self.Kind.REJECT, self.Kind.CORRECT
        )
