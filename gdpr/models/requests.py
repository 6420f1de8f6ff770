"""Subject requests (demandes d'exercice de droits): GDPR arts. 15 to 21.

A request is the DPO's case file: what was asked, by whom (the identifiers the person
gave), its deadline, every step and who took it, notes and attachments, the customers and
source records confirmed in scope, and the letters sent. The row is the truth; its steps
are the trail shown to the CNIL.
"""

from __future__ import annotations

from datetime import date

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class RequestKind(models.TextChoices):
    ACCESS = "access", _("access (art. 15)")
    RECTIFICATION = "rectification", _("rectification (art. 16)")
    ERASURE = "erasure", _("erasure (art. 17)")
    RESTRICTION = "restriction", _("restriction (art. 18)")
    PORTABILITY = "portability", _("portability (art. 20)")
    OBJECTION = "objection", _("objection (art. 21)")


class RequestState(models.TextChoices):
    RECEIVED = "received", pgettext_lazy("subject request state", "received")
    IDENTITY_TO_VERIFY = "identity_to_verify", _("identity to verify")
    IN_PROGRESS = "in_progress", _("in progress")
    WAITING_FOR_SOURCES = "waiting_for_sources", _("waiting for sources")
    DONE = "done", _("done")
    REFUSED = "refused", _("refused")

    @classmethod
    def closed(cls) -> tuple[str, ...]:
        return (cls.DONE, cls.REFUSED)


class RequestChannel(models.TextChoices):
    EMAIL = "email", _("e-mail")
    LETTER = "letter", _("letter")
    WEB_FORM = "web_form", _("web form")
    PHONE = "phone", _("phone")
    IN_PERSON = "in_person", _("in person")
    API = "api", _("API")


OPEN_STATES = models.Q(state__in=[
    RequestState.RECEIVED, RequestState.IDENTITY_TO_VERIFY, RequestState.IN_PROGRESS,
    RequestState.WAITING_FOR_SOURCES,
])


class SubjectRequest(models.Model):
    kind = models.CharField(_("kind"), max_length=20, choices=RequestKind.choices)
    state = models.CharField(
        _("state"), max_length=20, choices=RequestState.choices, default=RequestState.RECEIVED
    )
    channel = models.CharField(
        _("received by"), max_length=20, choices=RequestChannel.choices,
        default=RequestChannel.EMAIL,
    )
    received_on = models.DateField(_("received on"))
    due_on = models.DateField(_("due on"))
    # The identifiers the person gave (e-mail, phone, names, birth date, address, a
    # source's customer number), as given: what finding the person starts from.
    subject = models.JSONField(_("identifiers given"), default=dict, blank=True)
    reply_to = models.CharField(_("answer to"), max_length=254, blank=True)
    language = models.CharField(_("language of the letters"), max_length=5, default="fr")
    description = models.TextField(_("what the person asks"), blank=True)

    identity_verified_at = models.DateTimeField(_("identity verified"), null=True, blank=True)
    identity_verified_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
        related_name="+", verbose_name=_("identity verified by"),
    )
    extended_due_on = models.DateField(_("extended to"), null=True, blank=True)
    extension_reason = models.TextField(_("reason for the extension"), blank=True)
    extended_at = models.DateTimeField(_("extended"), null=True, blank=True)
    refusal_reason = models.TextField(_("reason for refusing"), blank=True)
    closed_at = models.DateTimeField(_("closed"), null=True, blank=True)
    executed_at = models.DateTimeField(_("executed"), null=True, blank=True)

    created_by = models.ForeignKey(  # None: recorded by RCU itself (the demo seed)
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
        related_name="+", verbose_name=_("recorded by"),
    )
    created_at = models.DateTimeField(_("recorded"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        ordering = ["due_on", "id"]
        verbose_name = _("subject request")
        verbose_name_plural = _("subject requests")
        permissions = [("handle_subjectrequest", "Can handle subject requests")]
        indexes = [
            # The dashboard: open requests by deadline.
            models.Index(fields=["due_on"], name="gdpr_request_open_due_idx", condition=OPEN_STATES),
        ]

    def __str__(self) -> str:
        return self.reference

    @property
    def reference(self) -> str:
        return f"DSR-{self.received_on:%Y}-{self.pk or 0:05d}"

    @property
    def deadline(self) -> date:
        """The deadline in force: the extended one once extended."""
        return self.extended_due_on or self.due_on

    @property
    def is_open(self) -> bool:
        return self.state not in RequestState.closed()


STEP_ACTIONS = {
    "restricted": _("processing restricted (art. 18)"),
    "restriction_lifted": _("restriction lifted"),
    "received": _("received"),
    "state_changed": _("state changed"),
    "identity_verified": _("identity verified"),
    "extended": _("deadline extended"),
    "refused": _("refused"),
    "identity_proofs_deleted": _("proofs of identity deleted"),
    "note_added": _("note added"),
    "attachment_added": _("file attached"),
    "letter_drafted": _("letter drafted"),
    "letter_edited": _("letter edited"),
    "letter_sent": _("letter sent"),
    "legal_hold_added": _("legal hold recorded"),
    "legal_hold_removed": _("legal hold removed"),
    "erasure_asked": _("erasure: execution asked"),
    "erasure_approved": _("erasure: execution approved"),
    "erasure_refused": _("erasure: execution refused"),
    "erasure_executed": _("erasure executed"),
    "erasure_acknowledged_by_hand": _("erasure: acknowledgement recorded"),
    "erasure_acknowledged": _("erasure acknowledged by every system"),
    "objection_recorded": _("objection recorded (art. 21)"),
    "objection_lifted": _("objection lifted"),
}


class RequestStep(models.Model):
    """One step of a request's trail: who did what, when (no personal data of the person)."""

    request = models.ForeignKey(SubjectRequest, on_delete=models.CASCADE, related_name="steps")
    at = models.DateTimeField(_("at"), auto_now_add=True)
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
        related_name="+", verbose_name=_("by"),
    )
    action = models.CharField(_("action"), max_length=40)
    state_before = models.CharField(max_length=20, choices=RequestState.choices, blank=True)
    state_after = models.CharField(max_length=20, choices=RequestState.choices, blank=True)
    detail = models.TextField(_("detail"), blank=True)

    class Meta:
        ordering = ["at", "id"]
        verbose_name = _("request step")
        verbose_name_plural = _("request steps")

    def __str__(self) -> str:
        return f"{self.request_id} {self.action}"

    @property
    def action_label(self) -> str:
        """The action in words (an action of another part of the app: its code)."""
        return str(STEP_ACTIONS.get(self.action, self.action))


class RequestNote(models.Model):
    request = models.ForeignKey(SubjectRequest, on_delete=models.CASCADE, related_name="notes")
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+",
        verbose_name=_("author"),
    )
    at = models.DateTimeField(_("at"), auto_now_add=True)
    text = models.TextField(_("note"))

    class Meta:
        ordering = ["at", "id"]
        verbose_name = _("request note")
        verbose_name_plural = _("request notes")

    def __str__(self) -> str:
        return f"{self.request_id} note {self.pk}"


class AttachmentKind(models.TextChoices):
    IDENTITY_PROOF = "identity_proof", _("proof of identity")
    CORRESPONDENCE = "correspondence", _("correspondence")
    OTHER = "other", _("other")


def _attachment_path(instance: RequestAttachment, filename: str) -> str:
    return f"gdpr/requests/{instance.request_id}/{instance.kind}/{filename}"


class RequestAttachment(models.Model):
    """A file joined to a request. Proofs of identity are kept apart and their file is
    deleted when the request closes (the row stays, saying when it was deleted)."""

    request = models.ForeignKey(SubjectRequest, on_delete=models.CASCADE, related_name="attachments")
    kind = models.CharField(_("kind"), max_length=20, choices=AttachmentKind.choices)
    file = models.FileField(_("file"), upload_to=_attachment_path, max_length=300, blank=True)
    name = models.CharField(_("name"), max_length=200)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+",
        verbose_name=_("uploaded by"),
    )
    uploaded_at = models.DateTimeField(_("uploaded"), auto_now_add=True)
    deleted_at = models.DateTimeField(_("file deleted"), null=True, blank=True)

    class Meta:
        ordering = ["uploaded_at", "id"]
        verbose_name = _("request attachment")
        verbose_name_plural = _("request attachments")

    def __str__(self) -> str:
        return self.name


class ScopeItem(models.Model):
    """A golden customer or a source record the DPO confirmed (or set aside) as the
    person's. The public id / source reference outlive an erasure of the row."""

    request = models.ForeignKey(SubjectRequest, on_delete=models.CASCADE, related_name="scope")
    customer = models.ForeignKey(
        "rcu.Customer", on_delete=models.SET_NULL, null=True, blank=True, related_name="+",
    )
    record = models.ForeignKey(
        "rcu.SourceRecord", on_delete=models.SET_NULL, null=True, blank=True, related_name="+",
    )
    customer_public_id = models.UUIDField(null=True, blank=True)
    score = models.FloatField(null=True, blank=True)
    in_scope = models.BooleanField(_("in scope"), default=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+",
    )
    decided_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]
        verbose_name = _("scope item")
        verbose_name_plural = _("scope")
        constraints = [
            models.UniqueConstraint(
                fields=["request", "customer"], name="gdpr_scope_one_customer",
                condition=models.Q(customer__isnull=False),
            ),
            models.UniqueConstraint(
                fields=["request", "record"], name="gdpr_scope_one_record",
                condition=models.Q(record__isnull=False),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.request_id} {self.customer_public_id or self.record_id}"


class LetterKind(models.TextChoices):
    ACKNOWLEDGEMENT = "acknowledgement", _("acknowledgement")
    IDENTITY = "identity", _("request for proof of identity")
    EXTENSION = "extension", _("extension")
    REFUSAL = "refusal", _("refusal")
    ANSWER = "answer", _("answer")


class RequestLetter(models.Model):
    """A letter to the person, drafted from a template and edited; sent_on says when."""

    request = models.ForeignKey(SubjectRequest, on_delete=models.CASCADE, related_name="letters")
    kind = models.CharField(_("kind"), max_length=20, choices=LetterKind.choices)
    language = models.CharField(_("language"), max_length=5, default="fr")
    subject_line = models.CharField(_("subject"), max_length=200)
    body = models.TextField(_("text"))
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    sent_on = models.DateField(_("sent on"), null=True, blank=True)
    sent_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
        related_name="+",
    )

    class Meta:
        ordering = ["created_at", "id"]
        verbose_name = _("letter")
        verbose_name_plural = _("letters")

    def __str__(self) -> str:
        return f"{self.request_id} {self.kind}"
