"""Merge candidates: pairs the engine found in the grey zone, awaiting a steward."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from rcu.models import Department, SourceRecord


class MergeCandidateQuerySet(models.QuerySet["MergeCandidate"]):
    def open(self) -> MergeCandidateQuerySet:
        return self.filter(status=MergeCandidate.Status.OPEN)


class MergeCandidate(models.Model):
    """Two golden customers that may be one person, through their closest records.

    The pair is kept at the source-record level, so it survives merges: merging the
    candidate joins every record of `record_a`'s customer with every record of
    `record_b`'s. `explanation` is the score broken down per comparison, as the
    engine's `Explanation` (prior weight + contributions == total weight).
    """

    class Status(models.TextChoices):
        OPEN = "open", _("Open")
        MERGED = "merged", _("Merged")
        REJECTED = "rejected", _("Rejected")
        LINKED = "linked", _("Linked automatically")
        SUPERSEDED = "superseded", _("No longer proposed")

    record_a = models.ForeignKey(
        SourceRecord, on_delete=models.CASCADE, related_name="+", verbose_name=_("record A")
    )
    record_b = models.ForeignKey(
        SourceRecord, on_delete=models.CASCADE, related_name="+", verbose_name=_("record B")
    )
    probability = models.FloatField(_("match probability"))
    weight = models.FloatField(_("match weight"))
    levels = models.CharField(_("comparison levels"), max_length=40, blank=True)
    explanation = models.JSONField(_("explanation"), default=dict)
    departments = models.ManyToManyField(
        Department, related_name="merge_candidates", verbose_name=_("departments"), blank=True
    )
    status = models.CharField(
        _("status"), max_length=12, choices=Status.choices, default=Status.OPEN
    )
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
        related_name="+", verbose_name=_("decided by"),
    )
    decided_at = models.DateTimeField(_("decided"), null=True, blank=True)
    # The lease: who is looking at it now, until when. Not history: it is not a decision.
    leased_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
        related_name="+", verbose_name=_("held by"),
    )
    leased_until = models.DateTimeField(_("held until"), null=True, blank=True)
    # stewardship.triage.Triage: likely duplicate (0), to check (1), contradiction (2);
    # derived from the explanation and the two customers, refreshed by candidates_sync.
    triage = models.PositiveSmallIntegerField(
        _("triage"), default=1, choices=[(0, _("Likely duplicate")), (1, _("To check")),
                                         (2, _("Contradiction"))],
    )
    # A steward an administrator or a colleague gave the candidate to (not a lease: it
    # does not expire and does not stop others from deciding).
    assigned_to = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
        related_name="assigned_candidates", verbose_name=_("assigned to"),
    )
    created_at = models.DateTimeField(_("proposed"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)
    history = HistoricalRecords(
        no_db_index=["record_a", "record_b", "decided_by"],
        excluded_fields=["leased_by", "leased_until"],
    )

    objects = MergeCandidateQuerySet.as_manager()

    class Meta:
        ordering = ["-probability", "id"]
        permissions = [("decide_mergecandidate", "Can merge or reject merge candidates")]
        verbose_name = _("merge candidate")
        verbose_name_plural = _("merge candidates")
        constraints = [
            models.UniqueConstraint(fields=["record_a", "record_b"], name="uniq_candidate_records"),
            models.CheckConstraint(condition=Q(record_a__lt=F("record_b")), name="candidate_a_lt_b"),
        ]
        indexes = [
            # The queue: open candidates, best first.
            models.Index(fields=["status", "-probability"], name="candidate_queue_idx"),
            # The queue in triage order (the default): band, then match weight.
            models.Index(fields=["status", "triage", "-weight"], name="candidate_triage_idx"),
            # The queue sorted by age ("oldest first") and the metrics' waiting times.
            models.Index(fields=["status", "created_at"], name="candidate_age_idx"),
            models.Index(fields=["record_b"], name="candidate_record_b_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.record_a_id}-{self.record_b_id} ({self.probability:.3f}, {self.status})"

    def is_held_by_other(self, user, *, now) -> bool:
        return (
            self.leased_by_id is not None
            and self.leased_by_id != getattr(user, "pk", None)
            and self.leased_until is not None
            and self.leased_until > now
        )
