"""What the matching engine keeps between runs: blocking keys, scored pairs, settings,
generic values, steward decisions it must obey, and batch runs."""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from rcu.models.records import SourceRecord


class MatchKey(models.Model):
    """One blocking key of one source record.

    The primary key (bucket, key, record) serves both readers: real-time matching
    looks records up by (bucket, key), a batch partition scans a range of buckets.
    `bucket` is a stable hash of the key (`rcu.engine.blocking.key_bucket`).
    """

    pk = models.CompositePrimaryKey("bucket", "key", "record")
    bucket = models.SmallIntegerField()
    key = models.CharField(max_length=200)
    # Derived rows written by the thousand with each import: no database constraint to
    # check and no index by record to maintain per row. A changed record's keys are
    # deleted by primary key (`match_keys_delete`), and so are an erased record's, before
    # it goes (the erasure is the only code deleting records): deleting a record does not
    # cascade here, which would scan the table.
    record = models.ForeignKey(
        SourceRecord, on_delete=models.DO_NOTHING, related_name="+", db_constraint=False,
        db_index=False,
    )

    class Meta:
        verbose_name = _("blocking key")
        verbose_name_plural = _("blocking keys")

    def __str__(self) -> str:
        return f"{self.key} → {self.record_id}"


class PendingMatch(models.Model):
    """A source record that is new or changed since it was last matched.

    `python manage.py match` works through these; a matched record's row is deleted.
    """

    record = models.OneToOneField(
        SourceRecord, on_delete=models.CASCADE, primary_key=True, related_name="+",
        db_constraint=False,
    )
    # The batch run that took this record on. A record changed again meanwhile is
    # queued again (claim cleared): the run must not clear what it did not see.
    claimed_by = models.PositiveBigIntegerField(_("claimed by run"), null=True, blank=True)

    class Meta:
        verbose_name = _("record waiting to be matched")
        verbose_name_plural = _("records waiting to be matched")

    def __str__(self) -> str:
        return str(self.record_id)


class MatchPair(models.Model):
    """Two source records scored at or above the review threshold.

    Derived data: rebuilt by `match --full`, updated when a record changes. The
    clustering reads these; `levels` is the comparison vector ("-" for missing).
    """

    # Derived rows written by the hundred thousand in a batch run: no database
    # constraint checked per row; Django cascades a record's deletion to them.
    record_a = models.ForeignKey(
        SourceRecord, on_delete=models.CASCADE, related_name="+", db_constraint=False
    )
    record_b = models.ForeignKey(
        SourceRecord, on_delete=models.CASCADE, related_name="+", db_constraint=False
    )
    probability = models.FloatField()
    weight = models.FloatField()
    levels = models.CharField(max_length=40)
    # The batch partition that found the pair: a retried partition replaces its own.
    partition = models.SmallIntegerField(null=True, blank=True)

    class Meta:
        verbose_name = _("scored pair")
        verbose_name_plural = _("scored pairs")
        constraints = [
            models.UniqueConstraint(fields=["record_a", "record_b"], name="uniq_matchpair_records"),
            models.CheckConstraint(condition=Q(record_a__lt=F("record_b")), name="matchpair_a_lt_b"),
        ]
        indexes = [
            # The edges of a record, whichever side it is on (record_a is the unique's prefix).
            models.Index(fields=["record_b"], name="matchpair_record_b_idx"),
            models.Index(fields=["partition"], name="matchpair_partition_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.record_a_id}-{self.record_b_id} {self.probability:.3f}"


class PairDecision(models.Model):
    """A steward's word on two source records; the engine obeys it.

    "cannot_link": never in the same customer, never proposed again. "must_link":
    always together (a manual merge), whatever the scores say.
    """

    class Kind(models.TextChoices):
        CANNOT_LINK = "cannot_link", _("Not the same person")
        MUST_LINK = "must_link", _("Same person")

    record_a = models.ForeignKey(SourceRecord, on_delete=models.CASCADE, related_name="+")
    record_b = models.ForeignKey(SourceRecord, on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(_("decision"), max_length=12, choices=Kind.choices)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
        related_name="+", verbose_name=_("decided by"),
    )
    decided_at = models.DateTimeField(_("decided"), auto_now=True)
    reason = models.TextField(_("reason"), blank=True)
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("pair decision")
        verbose_name_plural = _("pair decisions")
        constraints = [
            models.UniqueConstraint(fields=["record_a", "record_b"], name="uniq_pairdecision"),
            models.CheckConstraint(condition=Q(record_a__lt=F("record_b")), name="pairdecision_a_lt_b"),
        ]
        indexes = [models.Index(fields=["record_b"], name="pairdecision_record_b_idx")]

    def __str__(self) -> str:
        return f"{self.record_a_id}-{self.record_b_id} {self.kind}"


class MatchSettings(models.Model):
    """The engine's thresholds and model: one row, every change kept in its history."""

    auto_link = models.FloatField(
        _("auto-link threshold"), default=0.99,
        validators=[MinValueValidator(0.0), MaxValueValidator(1.0)],
        help_text=_("Pairs at or above this match probability are linked automatically."),
    )
    review = models.FloatField(
        _("review threshold"), default=0.50,
        validators=[MinValueValidator(0.0), MaxValueValidator(1.0)],
        help_text=_("Pairs from this probability up to the auto-link threshold go to a steward."),
    )
    max_block_size = models.PositiveIntegerField(
        _("largest block compared"), default=300,
        help_text=_("A blocking key shared by more records than this is skipped and counted."),
    )
    model = models.JSONField(
        _("model parameters"), null=True, blank=True,
        help_text=_("Fellegi-Sunter m and u probabilities per comparison level, and the prior."),
    )
    model_frozen = models.BooleanField(
        _("model frozen"), default=False,
        help_text=_("When set, batch runs keep these parameters instead of retraining them."),
    )
    model_trained_at = models.DateTimeField(_("model trained"), null=True, blank=True)
    # The digest (`MatchContext.digest`) of the model, thresholds and generic values
    # the stored pairs were scored with: a pending run under another digest rescores
    # every pair instead of mixing two scales. Written by runs with `.update()`.
    scored_with = models.CharField(_("pairs scored with"), max_length=64, blank=True, editable=False)
    # The base's record count when a run last tried to learn the model, stored or not
    # (too few blocked pairs keep the old one): the next try waits for the base to
    # double, instead of every run of a small base paying for training in vain.
    learning_tried_at_records = models.PositiveBigIntegerField(default=0, editable=False)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)
    history = HistoricalRecords(excluded_fields=["scored_with", "learning_tried_at_records"])

    class Meta:
        verbose_name = _("matching settings")
        verbose_name_plural = _("matching settings")
        constraints = [
            models.CheckConstraint(
                condition=Q(review__gte=0) & Q(review__lt=F("auto_link")) & Q(auto_link__lte=1),
                name="matchsettings_thresholds_ordered",
            ),
        ]

    def __str__(self) -> str:
        return f"auto-link ≥ {self.auto_link}, review ≥ {self.review}"

    def clean(self) -> None:
        if self.review is not None and self.auto_link is not None and self.review >= self.auto_link:
            raise ValidationError(
                {"review": _("The review threshold must be below the auto-link threshold.")}
            )


class GenericValue(models.Model):
    """An e-mail, phone or name shared by too many unrelated people to be evidence.

    Detected values are refreshed by each batch run; an administrator may add a value
    or dismiss a detected one, and those edits survive later runs.
    """

    class Kind(models.TextChoices):
        EMAIL = "email", _("E-mail")
        PHONE = "phone", _("Phone")
        NAME = "name", _("Name")

    class Origin(models.TextChoices):
        DETECTED = "detected", _("Detected")
        ADMIN = "admin", _("Added by an administrator")

    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices)
    value = models.CharField(
        _("value"), max_length=254, help_text=_("Comparison form: lower-case e-mail, E.164 phone, folded name."),
    )
    origin = models.CharField(_("origin"), max_length=10, choices=Origin.choices, default=Origin.ADMIN)
    reason = models.CharField(_("reason"), max_length=50, blank=True)
    rule = models.CharField(_("rule"), max_length=100, blank=True)
    records = models.PositiveIntegerField(_("records"), default=0)
    distinct_names = models.PositiveIntegerField(_("distinct last names"), default=0)
    dismissed = models.BooleanField(
        _("dismissed"), default=False,
        help_text=_("An administrator says this value is real evidence after all."),
    )
    updated_at = models.DateTimeField(_("updated"), auto_now=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["kind", "-records", "value"]
        verbose_name = _("generic value")
        verbose_name_plural = _("generic values")
        constraints = [
            models.UniqueConstraint(fields=["kind", "value"], name="uniq_genericvalue_kind_value"),
        ]

    def __str__(self) -> str:
        return f"{self.kind}: {self.value}"


class MatchRun(models.Model):
    """One batch matching run: the row is the truth, tasks only trigger its steps."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        SCORING = "scoring", _("Scoring")
        CLUSTERING = "clustering", _("Clustering")
        SUCCEEDED = "succeeded", _("Succeeded")
        FAILED = "failed", _("Failed")

    full = models.BooleanField(_("whole base"), default=False)
    status = models.CharField(_("status"), max_length=12, choices=Status.choices, default=Status.PENDING)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
        related_name="+", verbose_name=_("created by"),
    )
    partitions = models.PositiveIntegerField(_("partitions"), default=0)
    partitions_done = models.PositiveIntegerField(_("partitions done"), default=0)
    records = models.PositiveIntegerField(_("records"), default=0)
    pairs_compared = models.PositiveBigIntegerField(_("pairs compared"), default=0)
    pairs_kept = models.PositiveBigIntegerField(_("pairs kept"), default=0)
    oversized_blocks = models.PositiveIntegerField(_("oversized blocks skipped"), default=0)
    # Blocking keys too widely shared to compare, fixed for the whole run.
    skipped_keys = models.JSONField(default=list, blank=True)
    # Records up to this id were waiting when the run started: those it matched.
    last_record_id = models.PositiveBigIntegerField(default=0)
    generic_values = models.PositiveIntegerField(_("generic values"), default=0)
    records_moved = models.PositiveIntegerField(_("records moved"), default=0)
    customers_retired = models.PositiveIntegerField(_("customers retired"), default=0)
    candidates = models.PositiveIntegerField(_("open candidates"), default=0)
    message = models.TextField(_("message"), blank=True)
    # Seconds spent in each step ("prepare", "scoring" summed over partitions, "load",
    # "cluster", "explain" the review pairs, "apply", "candidates" stored for stewards):
    # where a run's time goes.
    timings = models.JSONField(_("timings"), default=dict, blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("matching run")
        verbose_name_plural = _("matching runs")

    def __str__(self) -> str:
        return f"#{self.pk} {'full' if self.full else 'pending'} {self.status}"

    @property
    def progress_percent(self) -> int | None:
        if not self.partitions:
            return None
        return min(100, round(100 * self.partitions_done / self.partitions))


class MatchRunPartition(models.Model):
    """One chunk of a run's scoring; done once, whatever the retries."""

    run = models.ForeignKey(MatchRun, on_delete=models.CASCADE, related_name="chunks")
    index = models.PositiveIntegerField()
    done = models.BooleanField(default=False)
    pairs_compared = models.PositiveBigIntegerField(default=0)
    pairs_kept = models.PositiveBigIntegerField(default=0)
    seconds = models.FloatField(default=0.0)
    # A full run's pairs of this partition (record ids a < b, little-endian int64 pairs),
    # listed once when the run starts; emptied when the partition is done.
    pairs = models.BinaryField(null=True, editable=False)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["run", "index"], name="uniq_matchrunpartition"),
        ]

    def __str__(self) -> str:
        return f"run {self.run_id} partition {self.index}"
