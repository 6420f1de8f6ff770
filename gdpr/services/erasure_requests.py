"""The DPO's erasure workflow on a request (art. 17): preview, legal holds, four eyes,
execution, acknowledgements, closing.

    scope confirmed ──▶ asked (DPO) ──▶ approved (a second DPO or an admin) ──▶ executed
                             └──▶ refused, with a reason (asked again later)
    executed: the request waits for sources ──▶ every source and subscriber acknowledged
                                                ──▶ done (events pseudonymised)

- The preview (`request_erasure_preview`) is `persons_erase_preview` on the confirmed
  scope with the request's legal holds: counts per table and file, the sources.
- Legal holds (`request_legal_hold_add`) are recorded before asking; once asked, they
  are what the approver approves and cannot change (refuse, then ask again).
- Approving or refusing takes the `gdpr.approve_erasure` permission (the DPO and admin
  roles), and approving takes someone other than who asked. Executing takes the DPO.
- Executing (`request_erasure_execute`) runs `persons_erase` with the holds, records
  who is to acknowledge (`ErasureAcknowledgement`: each active subscriber receiving
  `customer.erased`, each source told that has no subscription of its own), clears the
  request's own copy of the person's identifiers (the identifiers given, the address to
  answer to, the description; those values in its notes and letters; its files), and
  moves the request to "waiting for sources".
- A subscriber acknowledges by a 2xx delivery of every `customer.erased` event of the
  request (`rcu.hooks.erasure_delivered` → `erasure_delivered`); a source without a
  subscription, or a subscriber that cannot, is acknowledged by the DPO with a note.
  Once all have, the erased customers' events keep only the keyed pseudonym
  (`erased_events_pseudonymise`) and the request is done.

Every step is recorded in the request's trail, with counts and staff, never the person.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from functools import partial
from typing import Any

from django.db import transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext as _

from gdpr.models import (
    AcknowledgementKind,
    ErasureAcknowledgement,
    ErasureApproval,
    ErasureStatus,
    RequestKind,
    RequestLegalHold,
    RequestState,
    ScopeItem,
    SubjectRequest,
)
from gdpr.services.rectification import rectification_customers
from gdpr.services.requests import (
    RequestConflict,
    RequestInvalid,
    close_request,
    person_of,
    request_step_record,
    subject_request_lock,
)
from rcu.attributes import CANONICAL_NAMES
from rcu.hooks import ErasureCount
from rcu.models import ChangeEvent, Delivery, SourceSystem, Subscription
from rcu.services.erasure import (
    ErasureReport,
    LegalHold,
    erased_events_pseudonymise,
    erasure_scope,
    persons_erase,
    persons_erase_preview,
)
from rcu.services.locks import retrying

APPROVE_ERASURE = "gdpr.approve_erasure"
HANDLE_REQUESTS = "gdpr.handle_subjectrequest"
# What replaces the person's values in the request's notes and letters once executed.
ERASED_TEXT = "[…]"
MIN_VALUE = 3  # shorter given values are not looked for in free text


@dataclass(frozen=True)
class SourceConcerned:
    code: str
    name: str
    held: bool  # its records are kept under a legal hold: it is not told


@dataclass(frozen=True)
class ErasurePreview:
    """What executing would do now (counts per table and file), no identifier."""

    customers: int
    records: int
    counts: list[ErasureCount]
    sources: list[SourceConcerned]

    def to_json(self) -> dict[str, Any]:
        return {
            "customers": self.customers, "records": self.records,
            "counts": [{"store": c.store, "action": c.action, "count": c.count} for c in self.counts],
            "sources": [{"code": s.code, "name": s.name, "held": s.held} for s in self.sources],
        }


def report_json(report: ErasureReport) -> dict[str, Any]:
    return {
        "customers": report.customers, "records": report.records,
        "counts": [{"store": c.store, "action": c.action, "count": c.count} for c in report.counts],
    }


def user_approves_erasures(user: Any) -> bool:
    return bool(getattr(user, "is_authenticated", False) and user.has_perm(APPROVE_ERASURE))


def live_approval(request: SubjectRequest) -> ErasureApproval | None:
    """The request's approval in force (asked, approved or executed): none when never
    asked or last refused."""
    return request.erasure_approvals.exclude(status=ErasureStatus.REFUSED).first()


def _require_erasure(request: SubjectRequest) -> None:
    if request.kind != RequestKind.ERASURE:
        raise RequestConflict(_("Only an erasure request is erased."))


def _require_open(request: SubjectRequest) -> None:
    if not request.is_open:
        raise RequestConflict(_("Request %(reference)s is closed.") % {"reference": request.reference})


def _scope_signature(request: SubjectRequest) -> list[int]:
    """The confirmed scope as decided: what the approver approved."""
    return sorted(ScopeItem.objects.filter(request=request, in_scope=True).values_list("pk", flat=True))


def erasure_targets(request: SubjectRequest) -> tuple[list[int], list[int]]:
    """The golden customers (as they stand, merges followed) and the records of the
    confirmed scope."""
    customers = [c.pk for c in rectification_customers(request)]
    records = sorted(r for r in ScopeItem.objects.filter(request=request, in_scope=True)
                     .exclude(record=None).values_list("record_id", flat=True) if r is not None)
    return customers, records


def legal_holds_of(request: SubjectRequest) -> list[LegalHold]:
    return [
        LegalHold(source_code=hold.source.code, reason=f"{hold.legal_basis}: {hold.reason}",
                  attributes=tuple(hold.attributes or ()))
        for hold in request.legal_holds.select_related("source")
    ]


def request_erasure_preview(*, request: SubjectRequest, acting_user: Any) -> ErasurePreview:
    """What executing the request would erase now, with its legal holds (nothing kept)."""
    _require_erasure(request)
    customers, records = erasure_targets(request)
    if not customers and not records:
        raise RequestConflict(_("Nothing is in scope: find the person and confirm the scope first."))
    holds = legal_holds_of(request)
    report = persons_erase_preview(customer_ids=customers, record_ids=records,
                                   acting_user=acting_user, legal_holds=holds)
    held = {h.source_code for h in holds}
    sources = [
        SourceConcerned(code=code, name=name, held=code in held)
        for code, name in SourceSystem.objects.filter(pk__in=report.source_ids)
        .order_by("code").values_list("code", "name")
    ]
    return ErasurePreview(customers=report.customers, records=report.records,
                          counts=list(report.counts), sources=sources)


# --- legal holds --------------------------------------------------------------------

def _holds_editable(request: SubjectRequest) -> None:
    _require_erasure(request)
    _require_open(request)
    if live_approval(request) is not None:
        raise RequestConflict(_(
            "The execution was asked for with these legal holds: refuse it first to change them."
        ))


@transaction.atomic
def request_legal_hold_add(
    *, request: SubjectRequest, source_code: str, legal_basis: str, reason: str,
    keep_until: date, acting_user: Any, attributes: Iterable[str] = (),
) -> RequestLegalHold:
    """Record a documented exception: this source's records of the person (or only the
    named attributes of them) are kept, on this legal basis, for this reason, until
    `keep_until`."""
    request = subject_request_lock(request)
    _holds_editable(request)
    source = SourceSystem.objects.filter(code=source_code).first()
    if source is None:
        raise RequestInvalid(_("Unknown source: %(code)s.") % {"code": source_code}, field="source")
    names = sorted(set(attributes))
    unknown = [name for name in names if name not in CANONICAL_NAMES]
    if unknown:
        raise RequestInvalid(_("Unknown attributes: %(names)s.") % {"names": ", ".join(unknown)},
                             field="attributes")
    legal_basis, reason = legal_basis.strip(), reason.strip()
    if not legal_basis:
        raise RequestInvalid(_("Give the legal basis of the hold."), field="legal_basis")
    if not reason:
        raise RequestInvalid(_("Give the reason for the hold."), field="reason")
    if keep_until <= timezone.localdate():
        raise RequestInvalid(_("A hold keeps data until a date to come."), field="keep_until")
    hold = RequestLegalHold.objects.create(
        request=request, source=source, attributes=names, legal_basis=legal_basis[:200],
        reason=reason, keep_until=keep_until, created_by=person_of(acting_user),
    )
    request_step_record(request=request, action="legal_hold_added", acting_user=acting_user,
                        detail=f"{source.code} {','.join(names) or '*'} until {keep_until.isoformat()}")
    return hold


@transaction.atomic
def request_legal_hold_remove(*, request: SubjectRequest, hold_id: int, acting_user: Any) -> None:
    request = subject_request_lock(request)
    _holds_editable(request)
    hold = request.legal_holds.select_related("source").filter(pk=hold_id).first()
    if hold is None:
        raise RequestInvalid(_("No such legal hold on this request."), field="hold")
    code = hold.source.code
    hold.delete()
    request_step_record(request=request, action="legal_hold_removed", acting_user=acting_user,
                        detail=code)


# --- four eyes ------------------------------------------------------------------------

@transaction.atomic
def request_erasure_ask(*, request: SubjectRequest, acting_user: Any) -> ErasureApproval:
    """The DPO asks for the execution: the preview as it stands is what is approved."""
    request = subject_request_lock(request)
    _require_erasure(request)
    _require_open(request)
    if request.identity_verified_at is None:
        raise RequestConflict(_("Record the identity as verified first."))
    if live_approval(request) is not None:
        raise RequestConflict(_("The execution was already asked for."))
    preview = request_erasure_preview(request=request, acting_user=acting_user)
    approval = ErasureApproval.objects.create(
        request=request, asked_by=person_of(acting_user),
        preview={**preview.to_json(), "scope": _scope_signature(request)},
    )
    request_step_record(request=request, action="erasure_asked", acting_user=acting_user,
                        detail=f"{preview.customers} customers, {preview.records} records")
    return approval


def _asked(request: SubjectRequest) -> ErasureApproval:
    approval = live_approval(request)
    if approval is None or approval.status != ErasureStatus.ASKED:
        raise RequestConflict(_("No execution is waiting for approval."))
    return approval


@transaction.atomic
def request_erasure_approve(*, request: SubjectRequest, acting_user: Any) -> ErasureApproval:
    """A second person with the DPO or admin role approves what was asked."""
    request = subject_request_lock(request)
    _require_open(request)
    approval = _asked(request)
    user = person_of(acting_user)
    if not user_approves_erasures(user):
        raise RequestConflict(_("Only the DPO or an administrator approves an erasure."))
    if user.pk == approval.asked_by_id:
        raise RequestConflict(_("Who asked for the execution cannot approve it: a second person must."))
    approval.status = ErasureStatus.APPROVED
    approval.decided_by, approval.decided_at = user, timezone.now()
    approval.save(update_fields=["status", "decided_by", "decided_at"])
    request_step_record(request=request, action="erasure_approved", acting_user=acting_user)
    return approval


@transaction.atomic
def request_erasure_refuse(*, request: SubjectRequest, reason: str, acting_user: Any) -> ErasureApproval:
    """Refuse (or, for who asked, withdraw) the execution asked for, with a reason; the
    DPO may change the scope or the holds and ask again."""
    reason = reason.strip()
    if not reason:
        raise RequestInvalid(_("Give the reason for refusing."), field="reason")
    request = subject_request_lock(request)
    _require_open(request)
    approval = _asked(request)
    user = person_of(acting_user)
    if not user_approves_erasures(user):
        raise RequestConflict(_("Only the DPO or an administrator approves an erasure."))
    approval.status = ErasureStatus.REFUSED
    approval.decided_by, approval.decided_at = user, timezone.now()
    approval.refusal_reason = reason
    approval.save(update_fields=["status", "decided_by", "decided_at", "refusal_reason"])
    request_step_record(request=request, action="erasure_refused", acting_user=acting_user)
    return approval


# --- execution --------------------------------------------------------------------------

@retrying
def request_erasure_execute(*, request: SubjectRequest, acting_user: Any) -> ErasureApproval:
    """Erase the person as approved, in one transaction; then wait for acknowledgements."""
    with transaction.atomic():
        request = subject_request_lock(request)
        _require_erasure(request)
        _require_open(request)
        approval = live_approval(request)
        if approval is None or approval.status == ErasureStatus.ASKED:
            raise RequestConflict(_("A second person must approve the execution first."))
        if approval.status == ErasureStatus.EXECUTED:
            raise RequestConflict(_("The erasure was already executed."))
        user = person_of(acting_user)
        if not user.has_perm(HANDLE_REQUESTS):
            raise RequestConflict(_("Only the DPO executes an erasure."))
        if _scope_signature(request) != approval.preview.get("scope"):
            raise RequestConflict(_(
                "The scope changed since the execution was approved: refuse it and ask again."
            ))
        customers, records = erasure_targets(request)
        holds = legal_holds_of(request)
        erased = erasure_scope(customer_ids=customers, record_ids=records).customer_ids
        report = persons_erase(customer_ids=customers, record_ids=records, acting_user=acting_user,
                               legal_holds=holds, reason=f"erasure, request {request.reference}")
        events = list(ChangeEvent.objects.filter(type=ChangeEvent.Type.ERASED, customer_id__in=erased)
                      .order_by("pk").values_list("pk", flat=True))
        now = timezone.now()
        approval.status = ErasureStatus.EXECUTED
        approval.executed_by, approval.executed_at = user, now
        approval.report = report_json(report)
        approval.event_ids = events
        approval.save(update_fields=["status", "executed_by", "executed_at", "report", "event_ids"])
        told = _acknowledgements_create(request, report=report, holds=holds, events=events)
        _subject_clear(request)
        before = request.state
        request.executed_at = now
        request.state = RequestState.WAITING_FOR_SOURCES
        request.save(update_fields=["executed_at", "state", "updated_at"])
        request_step_record(
            request=request, action="erasure_executed", acting_user=acting_user, state_before=before,
            detail=f"{report.customers} customers, {report.records} records; {told} to acknowledge",
        )
        _acknowledgements_check(request)
        return approval


def _acknowledgements_create(request: SubjectRequest, *, report: ErasureReport,
                             holds: Sequence[LegalHold], events: Sequence[int]) -> int:
    """Who must acknowledge: every active subscriber receiving `customer.erased` (when
    there are such events), and every source told without a subscription of its own."""
    rows: list[ErasureAcknowledgement] = []
    bound: set[int] = set()
    if events:
        for subscription in Subscription.objects.filter(active=True).order_by("name"):
            if subscription.event_types and ChangeEvent.Type.ERASED not in subscription.event_types:
                continue
            rows.append(ErasureAcknowledgement(
                request=request, kind=AcknowledgementKind.SUBSCRIBER, subscription=subscription,
                source_id=subscription.source_id, name=subscription.name,
            ))
            if subscription.source_id is not None:
                bound.add(subscription.source_id)
    held = {hold.source_code for hold in holds}
    for source in SourceSystem.objects.filter(pk__in=report.source_ids).order_by("code"):
        if source.code in held or source.pk in bound:
            continue
        rows.append(ErasureAcknowledgement(request=request, kind=AcknowledgementKind.SOURCE,
                                           source=source, name=source.code))
    ErasureAcknowledgement.objects.bulk_create(rows)
    return len(rows)


def _given_values(request: SubjectRequest) -> set[str]:
    values: set[str] = set()

    def walk(value: Any) -> None:
        if isinstance(value, dict):
            for item in value.values():
                walk(item)
        elif isinstance(value, list):
            for item in value:
                walk(item)
        elif value not in (None, ""):
            text = str(value).strip()
            if len(text) >= MIN_VALUE:
                values.add(text)

    walk(request.subject)
    walk(request.reply_to)
    return values


def redact(text: str, values: Iterable[str]) -> str:
    """`text` with each of `values` (any case) replaced by `ERASED_TEXT`, longest first."""
    for value in sorted(values, key=len, reverse=True):
        text = re.sub(re.escape(value), ERASED_TEXT, text, flags=re.IGNORECASE)
    return text


def _subject_clear(request: SubjectRequest) -> None:
    """The request keeps its row (kind, dates, steps, who) but no copy of the person:
    the identifiers given, the address to answer to and the description are cleared, the
    given values are taken out of its notes and letters, and its files go (their rows
    stay, saying when)."""
    values = _given_values(request)
    for note in request.notes.all():
        redacted = redact(note.text, values)
        if redacted != note.text:
            note.text = redacted
            note.save(update_fields=["text"])
    for letter in request.letters.all():
        body, subject_line = redact(letter.body, values), redact(letter.subject_line, values)
        if (body, subject_line) != (letter.body, letter.subject_line):
            letter.body, letter.subject_line = body, subject_line[:200]
            letter.save(update_fields=["body", "subject_line"])
    now = timezone.now()
    for attachment in request.attachments.filter(deleted_at__isnull=True):
        name, storage = attachment.file.name, attachment.file.storage
        attachment.file = ""
        attachment.name = str(attachment.get_kind_display())[:200]
        attachment.deleted_at = now
        attachment.save(update_fields=["file", "name", "deleted_at"])
        if name:
            transaction.on_commit(partial(storage.delete, name))
    request.subject = {}
    request.reply_to = ""
    request.description = ""
    request.save(update_fields=["subject", "reply_to", "description", "updated_at"])


# --- acknowledgements -------------------------------------------------------------------

def _acknowledgements_check(request: SubjectRequest) -> None:
    """Mark the subscribers whose deliveries of every event of the request succeeded;
    when all have acknowledged, pseudonymise the events and close the request. Called
    with the request locked."""
    approval = live_approval(request)
    if approval is None or approval.status != ErasureStatus.EXECUTED or approval.acknowledged_at:
        return
    events = list(approval.event_ids or [])
    waiting = list(request.erasure_acknowledgements.filter(acknowledged_at__isnull=True))
    for ack in waiting:
        if ack.kind != AcknowledgementKind.SUBSCRIBER or ack.subscription_id is None or not events:
            continue
        delivered = Delivery.objects.filter(subscription_id=ack.subscription_id, event_id__in=events,
                                            status=Delivery.Status.DELIVERED)
        facts = delivered.aggregate(last=Max("delivered_at"))
        if delivered.count() == len(events):
            ack.acknowledged_at = facts["last"]
            ack.save(update_fields=["acknowledged_at"])
    if request.erasure_acknowledgements.filter(acknowledged_at__isnull=True).exists():
        return
    now = timezone.now()
    approval.acknowledged_at = now
    approval.save(update_fields=["acknowledged_at"])
    pseudonymised = erased_events_pseudonymise(event_ids=events)
    before = request.state
    request.state = RequestState.DONE
    request.save(update_fields=["state", "updated_at"])
    request_step_record(request=request, action="erasure_acknowledged", acting_user=None,
                        state_before=before, detail=f"{pseudonymised} events pseudonymised")
    close_request(request)


@transaction.atomic
def request_erasure_acknowledge(
    *, request: SubjectRequest, acknowledgement_id: int, note: str, acting_user: Any,
) -> ErasureAcknowledgement:
    """The DPO records that a source acknowledged (or why a system cannot), with a note."""
    note = note.strip()
    if not note:
        raise RequestInvalid(_("Say how the source acknowledged, or why it cannot."), field="note")
    request = subject_request_lock(request)
    _require_open(request)
    ack = request.erasure_acknowledgements.filter(pk=acknowledgement_id).first()
    if ack is None:
        raise RequestInvalid(_("No such source or subscriber on this request."), field="acknowledgement")
    if ack.acknowledged_at is not None:
        raise RequestConflict(_("%(name)s already acknowledged.") % {"name": ack.name})
    ack.acknowledged_at = timezone.now()
    ack.acknowledged_by = person_of(acting_user)
    ack.note = note
    ack.save(update_fields=["acknowledged_at", "acknowledged_by", "note"])
    request_step_record(request=request, action="erasure_acknowledged_by_hand",
                        acting_user=acting_user, detail=f"{ack.kind} {ack.name}")
    _acknowledgements_check(request)
    return ack


def erasure_acknowledgements_refresh(*, request_id: int) -> None:
    """Check a request's subscribers again (after deliveries, or by hand)."""
    with transaction.atomic():
        request = subject_request_lock(SubjectRequest(pk=request_id))
        _acknowledgements_check(request)


def erasure_delivered(*, subscription_id: int, event_ids: list[int]) -> None:
    """`rcu.hooks.erasure_delivered`: a subscriber acknowledged `customer.erased` events;
    the requests waiting for them are checked (a handful are ever waiting)."""
    delivered = set(event_ids)
    waiting = ErasureApproval.objects.filter(status=ErasureStatus.EXECUTED,
                                             acknowledged_at__isnull=True)
    for request_id, ids in waiting.values_list("request_id", "event_ids"):
        if delivered & set(ids or ()):
            erasure_acknowledgements_refresh(request_id=request_id)


def erasure_blocks_closing(request: SubjectRequest) -> bool:
    """An executed erasure closes when every system acknowledged, not by hand."""
    approval = live_approval(request)
    return approval is not None and approval.status == ErasureStatus.EXECUTED and approval.acknowledged_at is None
