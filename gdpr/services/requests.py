"""Subject requests: recorded, moved through their states, extended, refused, closed.

Every service records its step in the request's trail (`request_step_record`) in the
same transaction; the trail is what the DPO shows the CNIL. Step details never hold
the person's data: kinds, states, dates and references only (a reason for extending or
refusing is kept on the request and in its letter, not copied into the trail).

The state machine (`TRANSITIONS`)::

    received ──▶ identity to verify ──▶ in progress ◀──▶ waiting for sources
        └──────────────────────────────▶     │                   │
                                             └──▶ done ◀─────────┘
    any open state ──▶ refused (with a reason: `subject_request_refuse`)

- identity to verify → in progress only once the identity is verified
  (`subject_request_identity_verify` does both);
- done and refused are final: the request is closed, and the files of its proofs of
  identity are deleted (their rows stay, with `deleted_at`).

Refusals are `RequestRefused`: `RequestConflict` when the request's state forbids the
action (the API answers 409), `RequestInvalid` when what was given is wrong (400,
naming `field`).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from functools import partial
from typing import Any

from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from gdpr import deadlines
from gdpr.models import (
    LetterKind,
    RequestAttachment,
    RequestKind,
    RequestNote,
    RequestState,
    RequestStep,
    SubjectRequest,
)
from gdpr.models.requests import AttachmentKind
from gdpr.selectors.requests import possible_duplicates
from rcu.normalisation.dates import paris_today
from rcu.services.changes import actor_user

OPEN = (
    RequestState.RECEIVED, RequestState.IDENTITY_TO_VERIFY, RequestState.IN_PROGRESS,
    RequestState.WAITING_FOR_SOURCES,
)
TRANSITIONS: dict[str, frozenset[str]] = {
    RequestState.RECEIVED: frozenset({RequestState.IDENTITY_TO_VERIFY, RequestState.IN_PROGRESS}),
    RequestState.IDENTITY_TO_VERIFY: frozenset({RequestState.IN_PROGRESS}),
    RequestState.IN_PROGRESS: frozenset({RequestState.WAITING_FOR_SOURCES, RequestState.DONE}),
    RequestState.WAITING_FOR_SOURCES: frozenset({RequestState.IN_PROGRESS, RequestState.DONE}),
    RequestState.DONE: frozenset(),
    RequestState.REFUSED: frozenset(),
}
SUBJECT_FIELDS = (
    "email", "phone", "first_name", "last_name", "birth_date", "address", "postcode", "city",
    "customer_number",
)  # the new-request form's; a subject may hold more (see docs/gdpr-packs.md)


class RequestRefused(Exception):
    """The action was refused; nothing was written."""

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


class RequestConflict(RequestRefused):
    """The request's state (or its deadline) forbids the action."""


class RequestInvalid(RequestRefused):
    """What was given is wrong: `field` names it."""


def request_step_record(
    *, request: SubjectRequest, action: str, acting_user: Any, state_before: str = "",
    detail: str = "",
) -> RequestStep:
    """The one way a step enters a request's trail (no personal data in `detail`)."""
    return RequestStep.objects.create(
        request=request, action=action, by=actor_user(acting_user), state_before=state_before,
        state_after=request.state, detail=detail,
    )


def _person(acting_user: Any) -> Any:
    """Notes, files and letters are a person's: RCU itself writes none."""
    user = actor_user(acting_user)
    if user is None:
        raise RequestInvalid(_("Only a person can do this."))
    return user


def _locked(request: SubjectRequest) -> SubjectRequest:
    """The request's row, locked for the transaction: two DPOs never race on its state."""
    return SubjectRequest.objects.select_for_update().get(pk=request.pk)


subject_request_lock = _locked
person_of = _person


def _erasure_executed(request: SubjectRequest) -> None:
    """An executed erasure waits for its acknowledgements: it closes by itself once all
    sources and subscribers acknowledged (gdpr.services.erasure_requests)."""
    from gdpr.services.erasure_requests import erasure_blocks_closing

    if erasure_blocks_closing(request):
        raise RequestConflict(_(
            "The erasure was executed: the request closes once every source and subscriber "
            "acknowledged."
        ))


def _require_open(request: SubjectRequest) -> None:
    if not request.is_open:
        raise RequestConflict(
            _("Request %(reference)s is closed (%(state)s).")
            % {"reference": request.reference, "state": request.get_state_display()}
        )


def _given(subject: Mapping[str, Any]) -> dict[str, Any]:
    """The identifiers as given, blanks left out: texts trimmed; structured ones (an
    address as a mapping, `customer_number: {"source", "external_id"}`) kept as they are."""
    given: dict[str, Any] = {}
    for key, value in subject.items():
        if isinstance(value, str):
            value = value.strip()
        if value not in ("", None, {}, []):
            given[key] = value
    return given


@transaction.atomic
def subject_request_create(
    *, kind: RequestKind | str, received_on: date, subject: Mapping[str, Any],
    acting_user: Any, channel: str = "email", reply_to: str = "", language: str = "fr",
    description: str = "",
) -> SubjectRequest:
    """Record a request received on `received_on`; its deadline follows (gdpr.deadlines).

    Open requests from the same person (`possible_duplicates`) are named in the trail's
    first step, by reference."""
    if received_on > paris_today():
        raise RequestInvalid(_("A request cannot be received in the future."), field="received_on")
    given = _given(subject)
    if not given:
        raise RequestInvalid(_("Give at least one identifier of the person."), field="subject")
    request = SubjectRequest.objects.create(
        kind=RequestKind(kind), received_on=received_on, due_on=deadlines.due_on(received_on),
        subject=given, channel=channel, reply_to=reply_to, language=language,
        description=description, created_by=actor_user(acting_user),
    )
    duplicates = possible_duplicates(request=request)
    # Codes and references, not sentences: the trail reads the same in every language.
    detail = (
        "possible_duplicates=" + ",".join(other.reference for other in duplicates)
        if duplicates else ""
    )
    request_step_record(request=request, action="received", acting_user=acting_user, detail=detail)
    return request


@transaction.atomic
def subject_request_transition(
    *, request: SubjectRequest, state: RequestState | str, acting_user: Any, note: str = "",
) -> SubjectRequest:
    """Move the request to `state` along `TRANSITIONS`; a note, if given, joins the request.

    Moving to "identity to verify" drafts the letter asking for a proof of identity;
    moving to "done" closes the request (`_close`)."""
    try:
        target = RequestState(state)
    except ValueError:
        raise RequestInvalid(_("Unknown state: %(state)s.") % {"state": state}, field="state") from None
    request = _locked(request)
    _require_open(request)
    if target == RequestState.REFUSED:
        raise RequestInvalid(
            _("A request is refused with a reason: use “refuse”."), field="state"
        )
    _erasure_executed(request)
    if target not in TRANSITIONS[request.state]:
        raise RequestConflict(
            _("A request cannot go from “%(before)s” to “%(after)s”.")
            % {"before": request.get_state_display(), "after": target.label}
        )
    if (
        request.state == RequestState.IDENTITY_TO_VERIFY and target == RequestState.IN_PROGRESS
        and request.identity_verified_at is None
    ):
        raise RequestConflict(_("Record the identity as verified first."))
    before = request.state
    request.state = target
    request.save(update_fields=["state", "updated_at"])
    request_step_record(
        request=request, action="state_changed", acting_user=acting_user, state_before=before
    )
    if note.strip():
        request_note_add(request=request, text=note, acting_user=acting_user)
    if target == RequestState.IDENTITY_TO_VERIFY:
        from gdpr.services.letters import request_letter_draft

        request_letter_draft(request=request, kind=LetterKind.IDENTITY, acting_user=acting_user)
    if target == RequestState.DONE:
        _close(request)
    return request


@transaction.atomic
def subject_request_identity_verify(
    *, request: SubjectRequest, acting_user: Any, verified_at: datetime | None = None,
) -> SubjectRequest:
    """Record who verified the person's identity and when; a request that was waiting
    for it (or just received) goes on to "in progress"."""
    request = _locked(request)
    _require_open(request)
    if request.identity_verified_at is not None:
        raise RequestConflict(_("The identity was already verified."))
    verified_at = verified_at or timezone.now()
    if verified_at > timezone.now():
        raise RequestInvalid(_("A verification cannot be in the future."), field="verified_at")
    before = request.state
    request.identity_verified_at = verified_at
    request.identity_verified_by = _person(acting_user)
    if request.state in (RequestState.RECEIVED, RequestState.IDENTITY_TO_VERIFY):
        request.state = RequestState.IN_PROGRESS
    request.save(update_fields=[
        "identity_verified_at", "identity_verified_by", "state", "updated_at",
    ])
    request_step_record(
        request=request, action="identity_verified", acting_user=acting_user, state_before=before,
        detail=verified_at.date().isoformat(),
    )
    return request


@transaction.atomic
def subject_request_extend(
    *, request: SubjectRequest, reason: str, acting_user: Any, today: date | None = None,
) -> SubjectRequest:
    """Extend the deadline to three months from receipt (art. 12(3)): once, before the
    first deadline has passed, with a reason. Drafts the letter telling the person."""
    reason = reason.strip()
    if not reason:
        raise RequestInvalid(_("Give the reason for the extension."), field="reason")
    request = _locked(request)
    _require_open(request)
    today = today or paris_today()
    if request.extended_due_on is not None:
        raise RequestConflict(_("A request can be extended only once."))
    if today > request.due_on:
        raise RequestConflict(
            _("The first deadline (%(due_on)s) has passed: the request can no longer be extended.")
            % {"due_on": request.due_on.isoformat()}
        )
    request.extended_due_on = deadlines.extended_due_on(request.received_on)
    request.extension_reason = reason
    request.extended_at = timezone.now()
    request.save(update_fields=["extended_due_on", "extension_reason", "extended_at", "updated_at"])
    request_step_record(
        request=request, action="extended", acting_user=acting_user,
        detail=request.extended_due_on.isoformat(),
    )
    from gdpr.services.letters import request_letter_draft

    request_letter_draft(request=request, kind=LetterKind.EXTENSION, acting_user=acting_user)
    return request


@transaction.atomic
def subject_request_refuse(
    *, request: SubjectRequest, reason: str, acting_user: Any,
) -> SubjectRequest:
    """Refuse the request with a reason (art. 12(4)); drafts the refusal letter, which
    tells the person they may complain to the CNIL and seek a judicial remedy."""
    reason = reason.strip()
    if not reason:
        raise RequestInvalid(_("Give the reason for refusing."), field="reason")
    request = _locked(request)
    _require_open(request)
    _erasure_executed(request)
    before = request.state
    request.state = RequestState.REFUSED
    request.refusal_reason = reason
    request.save(update_fields=["state", "refusal_reason", "updated_at"])
    request_step_record(
        request=request, action="refused", acting_user=acting_user, state_before=before
    )
    from gdpr.services.letters import request_letter_draft

    request_letter_draft(request=request, kind=LetterKind.REFUSAL, acting_user=acting_user)
    _close(request)
    return request


@transaction.atomic
def subject_request_close(*, request: SubjectRequest, acting_user: Any) -> SubjectRequest:
    """Mark the request done (from "in progress" or "waiting for sources")."""
    return subject_request_transition(request=request, state=RequestState.DONE, acting_user=acting_user)


def close_request(request: SubjectRequest) -> None:
    """Close a request whose state was just set to done by its own workflow."""
    _close(request)


def _close(request: SubjectRequest) -> None:
    """A request that closes (done or refused) keeps no proof of identity: the files go
    once the transaction commits; their rows stay, saying when."""
    now = timezone.now()
    request.closed_at = now
    request.save(update_fields=["closed_at", "updated_at"])
    proofs = list(request.attachments.filter(
        kind=AttachmentKind.IDENTITY_PROOF, deleted_at__isnull=True,
    ))
    for attachment in proofs:
        name, storage = attachment.file.name, attachment.file.storage
        attachment.file = ""
        attachment.deleted_at = now
        attachment.save(update_fields=["file", "deleted_at"])
        if name:
            transaction.on_commit(partial(storage.delete, name))
    if proofs:
        request_step_record(
            request=request, action="identity_proofs_deleted", acting_user=None,
            detail=str(len(proofs)),
        )


@transaction.atomic
def request_note_add(*, request: SubjectRequest, text: str, acting_user: Any) -> RequestNote:
    text = text.strip()
    if not text:
        raise RequestInvalid(_("A note cannot be empty."), field="text")
    note = RequestNote.objects.create(request=request, author=_person(acting_user), text=text)
    request_step_record(request=request, action="note_added", acting_user=acting_user)
    return note


@transaction.atomic
def request_attachment_add(
    *, request: SubjectRequest, kind: AttachmentKind | str, upload: UploadedFile,
    acting_user: Any,
) -> RequestAttachment:
    """Join a file. A proof of identity is stored apart (its own folder) and only while
    the request is open: it is deleted when the request closes."""
    try:
        kind = AttachmentKind(kind)
    except ValueError:
        raise RequestInvalid(_("Unknown kind of file: %(kind)s.") % {"kind": kind}, field="kind") from None
    if kind == AttachmentKind.IDENTITY_PROOF:
        request = _locked(request)
        _require_open(request)
    attachment = RequestAttachment(
        request=request, kind=kind, name=(upload.name or "file")[:200],
        uploaded_by=_person(acting_user),
    )
    attachment.file.save(upload.name or "file", upload, save=False)
    attachment.save()
    request_step_record(request=request, action="attachment_added", acting_user=acting_user,
                        detail=kind.value)
    return attachment
