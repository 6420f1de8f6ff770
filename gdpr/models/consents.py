"""Consent per purpose and channel, and objections (art. 21).

- `ConsentPurpose`: why a person may be contacted (newsletter, partner offers,
  profiling…), a list admins extend in the Django admin.
- `ConsentStatement`: one "yes" or "no" the person gave, for one purpose and channel,
  with its proof; append-only (never changed nor deleted, except by an erasure). A
  statement comes from a source record (an import or the ingest API: `record` is set,
  and it follows the record through merges and unmerges) or is stated on a customer
  (the API, a form, an objection: `stated_on` is set, and stays with that customer's
  id). `holder` is the active customer the statement counts for now: kept in step by
  `gdpr.services.consents` when records move or customers are retired or restored.
- `Consent`: the state in force per holder, purpose and channel, derived from the
  holder's statements by the one rule (`gdpr.consent_rules`); what lists and events read.
- `Objection`: the person objects to processing for direct marketing (art. 21): every
  marketing consent withdrawn, and the person left out of the contactable lists until
  the DPO lifts it, whatever a source says later.
"""

from __future__ import annotations

from django.conf import settings
from django.core.validators import RegexValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from gdpr.models.requests import SubjectRequest


class Channel(models.TextChoices):
    EMAIL = "email", _("e-mail")
    SMS = "sms", _("SMS")
    PHONE = "phone", _("phone")
    POST = "post", _("post")


class StatementOrigin(models.TextChoices):
    SOURCE = "source", _("source record")
    API = "api", _("API")
    FORM = "form", _("form")
    OBJECTION = "objection", _("objection")


class ConsentPurpose(models.Model):
    code = models.SlugField(
        _("code"), max_length=50, unique=True,
        validators=[RegexValidator(r"^[a-z][a-z0-9_]*$", _("Lower-case letters, digits and _."))],
    )
    label = models.CharField(_("label"), max_length=200)
    # Direct marketing (art. 21(2)): an objection withdraws these.
    marketing = models.BooleanField(_("direct marketing"), default=True)
    active = models.BooleanField(_("active"), default=True)
    position = models.PositiveSmallIntegerField(_("position"), default=0)

    class Meta:
        ordering = ["position", "code"]
        verbose_name = _("consent purpose")
        verbose_name_plural = _("consent purposes")

    def __str__(self) -> str:
        return self.label


class ConsentStatement(models.Model):
    # Foreign keys without an index of their own when an index below leads with them, or
    # when nothing looks rows up by them (purposes and accounts are retired, never deleted):
    # an import may write millions of statements.
    purpose = models.ForeignKey(ConsentPurpose, on_delete=models.PROTECT, related_name="+",
                                verbose_name=_("purpose"), db_index=False)
    channel = models.CharField(_("channel"), max_length=10, choices=Channel.choices)
    granted = models.BooleanField(_("granted"))
    stated_at = models.DateTimeField(_("stated"))
    recorded_at = models.DateTimeField(_("recorded"), auto_now_add=True)
    origin = models.CharField(_("origin"), max_length=10, choices=StatementOrigin.choices)
    # Exactly one anchor: the source record that says it, or the customer it was stated on.
    record = models.ForeignKey("rcu.SourceRecord", on_delete=models.CASCADE, null=True, blank=True,
                               related_name="+", verbose_name=_("source record"), db_index=False)
    stated_on = models.ForeignKey("rcu.Customer", on_delete=models.CASCADE, null=True, blank=True,
                                  related_name="+", verbose_name=_("stated on"), db_index=False)
    holder = models.ForeignKey("rcu.Customer", on_delete=models.CASCADE, null=True, blank=True,
                               related_name="+", verbose_name=_("counts for"), db_index=False)
    # Proof: the wording the person agreed to (its text or version), the request of an
    # objection, who recorded it (None: RCU, `actor_job` says which job).
    wording = models.CharField(_("wording"), max_length=200, blank=True)
    request = models.ForeignKey(SubjectRequest, on_delete=models.SET_NULL, null=True, blank=True,
                                related_name="+", verbose_name=_("request"))
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True,
                                    blank=True, related_name="+", verbose_name=_("recorded by"),
                                    db_index=False)
    actor_job = models.CharField(max_length=100, blank=True)
    # A "no" stated on a customer that others were merged into is also stated on each of
    # them (`copy_of` the first), so that an unmerge leaves it on every side.
    copy_of = models.ForeignKey("self", on_delete=models.CASCADE, null=True, blank=True,
                                related_name="copies")

    class Meta:
        ordering = ["stated_at", "id"]
        verbose_name = _("consent statement")
        verbose_name_plural = _("consent statements")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(record__isnull=False, stated_on__isnull=True)
                | models.Q(record__isnull=True, stated_on__isnull=False),
                name="gdpr_statement_one_anchor",
            ),
        ]
        indexes = [
            # A customer's statements (its consents recomputed, its panel, its pack).
            models.Index(fields=["holder", "purpose", "channel"], name="gdpr_statement_holder_idx"),
            # Statements of records that moved, or that an import states again.
            models.Index(fields=["record"], name="gdpr_statement_record_idx",
                         condition=models.Q(record__isnull=False)),
            # Statements stated on customers retired or restored.
            models.Index(fields=["stated_on"], name="gdpr_statement_stated_on_idx",
                         condition=models.Q(stated_on__isnull=False)),
        ]

    def __str__(self) -> str:
        return f"{self.purpose_id}/{self.channel} {'yes' if self.granted else 'no'} {self.stated_at:%Y-%m-%d}"


class Consent(models.Model):
    """The consent in force for one active customer, purpose and channel."""

    # Indexed by the unique constraint and the list's index, which lead with them.
    customer = models.ForeignKey("rcu.Customer", on_delete=models.CASCADE, related_name="+",
                                 verbose_name=_("customer"), db_index=False)
    purpose = models.ForeignKey(ConsentPurpose, on_delete=models.PROTECT, related_name="+",
                                verbose_name=_("purpose"), db_index=False)
    channel = models.CharField(_("channel"), max_length=10, choices=Channel.choices)
    granted = models.BooleanField(_("granted"))
    stated_at = models.DateTimeField(_("stated"))
    statement = models.ForeignKey(ConsentStatement, on_delete=models.CASCADE, related_name="+")

    class Meta:
        ordering = ["customer", "purpose", "channel"]
        verbose_name = _("consent")
        verbose_name_plural = _("consents")
        constraints = [
            models.UniqueConstraint(fields=["customer", "purpose", "channel"],
                                    name="gdpr_consent_one_per_customer"),
        ]
        indexes = [
            # The contactable list (`consents_contactable`): granted rows of one purpose and
            # channel in customer order, read a page at a time from a customer id on.
            models.Index(fields=["purpose", "channel", "customer"], name="gdpr_consent_granted_idx",
                         condition=models.Q(granted=True)),
        ]

    def __str__(self) -> str:
        return f"{self.customer_id} {self.purpose_id}/{self.channel} {'yes' if self.granted else 'no'}"


class Objection(models.Model):
    """Art. 21: the person objects to direct marketing. In force until lifted."""

    stated_on = models.ForeignKey("rcu.Customer", on_delete=models.CASCADE, related_name="+",
                                  verbose_name=_("stated on"), db_index=False)
    # Its index serves "does this customer object?" (the contactable list's anti-join).
    holder = models.ForeignKey("rcu.Customer", on_delete=models.CASCADE, related_name="+",
                               verbose_name=_("counts for"))
    request = models.ForeignKey(SubjectRequest, on_delete=models.SET_NULL, null=True, blank=True,
                                related_name="+", verbose_name=_("request"))
    reason = models.TextField(_("why"))
    recorded_at = models.DateTimeField(_("recorded"), auto_now_add=True)
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True,
                                    blank=True, related_name="+", verbose_name=_("recorded by"))
    lifted_at = models.DateTimeField(_("lifted"), null=True, blank=True)
    lifted_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True,
                                  blank=True, related_name="+", verbose_name=_("lifted by"))
    lift_reason = models.TextField(_("why lifted"), blank=True)

    class Meta:
        ordering = ["-recorded_at", "-id"]
        verbose_name = _("objection")
        verbose_name_plural = _("objections")
        permissions = [("list_contactable", _("Can list who may be contacted"))]
        indexes = [
            models.Index(fields=["stated_on"], name="gdpr_objection_stated_on_idx"),
        ]

    def __str__(self) -> str:
        return f"objection {self.pk}"
