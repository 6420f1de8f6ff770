"""The DPO's requests: the dashboard, a new request, a request's page and its actions.

Every view resolves the request through `subject_request_get_for_user` (403 for anyone
but the DPO), validates a form, calls one service and redirects to the request's page;
a refusal of the service (`RequestRefused`) is shown there as a message.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import FileResponse, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from rest_framework.exceptions import ValidationError

from gdpr.filters import SubjectRequestFilter
from gdpr.forms import (
    SUBJECT_LABELS,
    AttachmentForm,
    LetterDraftForm,
    LetterEditForm,
    LetterSentForm,
    NoteForm,
    ObjectionForm,
    ReasonForm,
    RectificationForm,
    SubjectRequestForm,
    TransitionForm,
)
from gdpr.models import RequestKind
from gdpr.selectors.consents import request_objections, require_objection_writer, user_may_object
from gdpr.selectors.erasure import erasure_state
from gdpr.selectors.periodic import deadline_notices_for_user, gdpr_runs_for_user
from gdpr.selectors.rectification import rectification_acknowledgements
from gdpr.selectors.requests import (
    duplicates_among,
    request_attachment_get_for_user,
    request_counts,
    request_detail_for_user,
    request_letter_get_for_user,
    request_urgency,
    subject_request_get_for_user,
    subject_request_list,
    user_handles_requests,
)
from gdpr.services.consents import ConsentRefused, objection_request_execute
from gdpr.services.letters import (
    request_letter_draft,
    request_letter_mark_sent,
    request_letter_update,
)
from gdpr.services.rectification import (
    RectificationRefused,
    rectification_customers,
    request_rectify,
)
from gdpr.services.requests import (
    TRANSITIONS,
    RequestRefused,
    request_attachment_add,
    request_note_add,
    subject_request_create,
    subject_request_extend,
    subject_request_identity_verify,
    subject_request_refuse,
    subject_request_transition,
)
from rcu.normalisation.dates import paris_today

LIST_LIMIT = 200


def _back(pk: int) -> HttpResponse:
    return redirect("gdpr:request_detail", pk=pk)


def _refused(request: HttpRequest, error: RequestRefused | str, pk: int) -> HttpResponse:
    messages.error(request, str(error))
    return _back(pk)


def _form_errors(form) -> str:
    return " ".join(str(e) for errors in form.errors.values() for e in errors)


def _identifier_text(value: object) -> str:
    """An identifier as the DPO reads it: a customer number as "crm: C-1001", an address
    given as parts on one line."""
    if isinstance(value, dict):
        if set(value) == {"source", "external_id"}:
            return f"{value['source']}: {value['external_id']}"
        return ", ".join(str(part) for part in value.values() if part)
    if isinstance(value, list):
        return "; ".join(_identifier_text(item) for item in value)
    return str(value)


@login_required
@require_GET
def requests_dashboard(request: HttpRequest) -> HttpResponse:
    """Open requests by deadline (overdue and due this week flagged); filters by kind
    and state; closed ones through the state filter."""
    if not user_handles_requests(request.user):
        raise PermissionDenied
    filterset = SubjectRequestFilter(request.GET or None)
    try:
        rows = list(subject_request_list(user=request.user, filters=request.GET)[:LIST_LIMIT])
    except ValidationError:
        messages.error(request, _("A filter value cannot be read: showing the open requests."))
        rows = list(subject_request_list(user=request.user, filters={})[:LIST_LIMIT])
    duplicates = duplicates_among(rows)
    today = paris_today()
    for row in rows:
        # For the template only, set on the instances it renders.
        row.urgency = request_urgency(row, today=today)  # type: ignore[attr-defined]
        row.duplicates = duplicates.get(row.pk, [])  # type: ignore[attr-defined]
    return render(request, "gdpr/requests.html", {
        "rows": rows,
        "limit": LIST_LIMIT,
        "form": filterset.form,
        "filters": request.GET,
        "counts": request_counts(user=request.user, today=today),
        "notices": deadline_notices_for_user(user=request.user),
        "runs": gdpr_runs_for_user(user=request.user),
    })


@login_required
@require_http_methods(["GET", "POST"])
def request_new(request: HttpRequest) -> HttpResponse:
    if not user_handles_requests(request.user):
        raise PermissionDenied
    form = SubjectRequestForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            created = subject_request_create(
                kind=data["kind"], received_on=data["received_on"], subject=form.subject(),
                channel=data["channel"], language=data["language"], reply_to=data["reply_to"],
                description=data["description"], acting_user=request.user,
            )
        except RequestRefused as error:
            form.add_error(error.field if error.field in form.fields else None, str(error))
        else:
            messages.success(request, _("Request %(reference)s recorded.") % {
                "reference": created.reference,
            })
            return _back(created.pk)
    return render(request, "gdpr/request_new.html", {"form": form})


@login_required
@require_GET
def request_detail(request: HttpRequest, pk: int) -> HttpResponse:
    subject_request = request_detail_for_user(user=request.user, pk=pk)
    targets = TRANSITIONS[subject_request.state]
    return render(request, "gdpr/request_detail.html", {
        "subject_request": subject_request,
        "identifiers": [
            (SUBJECT_LABELS.get(key, key), _identifier_text(value))
            for key, value in subject_request.subject.items()
        ],
        "urgency": request_urgency(subject_request),
        "duplicates": duplicates_among([subject_request]).get(subject_request.pk, []),
        "transitions": [
            (value, label) for value, label in TransitionForm.base_fields["state"].choices  # type: ignore[attr-defined]
            if value in targets
        ],
        "can_extend": subject_request.is_open and subject_request.extended_due_on is None
        and paris_today() <= subject_request.due_on,
        "note_form": NoteForm(),
        "attachment_form": AttachmentForm(),
        "letter_form": LetterDraftForm(),
        "reason_form": ReasonForm(),
        "sent_form": LetterSentForm(),
        "rectification_form": RectificationForm() if subject_request.kind == RequestKind.RECTIFICATION
        else None,
        "acknowledgements": rectification_acknowledgements(subject_request)
        if subject_request.kind == RequestKind.RECTIFICATION else [],
        "erasure": erasure_state(subject_request) if subject_request.kind == RequestKind.ERASURE
        else None,
        "restriction_customers": rectification_customers(subject_request)
        if subject_request.kind == RequestKind.RESTRICTION else None,
        "objections": _request_objections(request, subject_request),
    })


def _request_objections(request: HttpRequest, subject_request) -> dict | None:
    """An objection request's panel: the objections it recorded, and whether this user
    (the DPO) may execute it or lift them."""
    if subject_request.kind != RequestKind.OBJECTION:
        return None
    return {"recorded": request_objections(request=subject_request), "can_object": user_may_object(request.user)}


@login_required
@require_POST
def request_objection_view(request: HttpRequest, pk: int) -> HttpResponse:
    """The DPO executes an objection request: an objection, with the reason given, on every
    customer in its scope; the request's trail records it."""
    require_objection_writer(request.user)
    subject_request = subject_request_get_for_user(user=request.user, pk=pk)
    form = ObjectionForm(request.POST)
    if not form.is_valid():
        return _refused(request, _("Say why the person objects."), pk)
    try:
        done = objection_request_execute(request=subject_request, reason=form.cleaned_data["reason"],
                                         acting_user=request.user)
    except ConsentRefused as refused:
        return _refused(request, str(refused), pk)
    messages.success(request, ngettext(
        "Objection recorded on %(count)d customer: every marketing consent is withdrawn.",
        "Objection recorded on %(count)d customers: every marketing consent is withdrawn.",
        len(done)) % {"count": len(done)})
    return _back(pk)


@login_required
@require_POST
def request_rectify_view(request: HttpRequest, pk: int) -> HttpResponse:
    """The DPO's corrected values, applied to every customer in the request's scope."""
    subject_request = subject_request_get_for_user(user=request.user, pk=pk)
    form = RectificationForm(request.POST)
    if not form.is_valid():
        return _refused(request, _form_errors(form), pk)
    if not form.corrections():
        return _refused(request, _("Type at least one corrected value."), pk)
    try:
        outcome = request_rectify(request=subject_request, corrections=form.corrections(),
                                  acting_user=request.user)
    except RectificationRefused as error:
        return _refused(request, str(error), pk)
    messages.success(request, _("Rectified on %(count)d customer(s): %(what)s.") % {
        "count": len(outcome.customer_public_ids), "what": ", ".join(outcome.attributes)})
    return _back(pk)


@login_required
@require_POST
def request_transition(request: HttpRequest, pk: int) -> HttpResponse:
    subject_request = subject_request_get_for_user(user=request.user, pk=pk)
    form = TransitionForm(request.POST)
    if not form.is_valid():
        return _refused(request, _form_errors(form), pk)
    try:
        subject_request_transition(request=subject_request, state=form.cleaned_data["state"],
                                   note=form.cleaned_data["note"], acting_user=request.user)
    except RequestRefused as error:
        return _refused(request, error, pk)
    return _back(pk)


@login_required
@require_POST
def request_identity_verify(request: HttpRequest, pk: int) -> HttpResponse:
    subject_request = subject_request_get_for_user(user=request.user, pk=pk)
    try:
        subject_request_identity_verify(request=subject_request, acting_user=request.user)
    except RequestRefused as error:
        return _refused(request, error, pk)
    messages.success(request, _("Identity recorded as verified."))
    return _back(pk)


@login_required
@require_POST
def request_extend(request: HttpRequest, pk: int) -> HttpResponse:
    subject_request = subject_request_get_for_user(user=request.user, pk=pk)
    form = ReasonForm(request.POST)
    if not form.is_valid():
        return _refused(request, _("Give the reason for the extension."), pk)
    try:
        subject_request_extend(request=subject_request, reason=form.cleaned_data["reason"],
                               acting_user=request.user)
    except RequestRefused as error:
        return _refused(request, error, pk)
    messages.success(request, _("Extended: the letter telling the person is drafted below."))
    return _back(pk)


@login_required
@require_POST
def request_refuse(request: HttpRequest, pk: int) -> HttpResponse:
    subject_request = subject_request_get_for_user(user=request.user, pk=pk)
    form = ReasonForm(request.POST)
    if not form.is_valid():
        return _refused(request, _("Give the reason for refusing."), pk)
    try:
        subject_request_refuse(request=subject_request, reason=form.cleaned_data["reason"],
                               acting_user=request.user)
    except RequestRefused as error:
        return _refused(request, error, pk)
    messages.success(request, _("Refused: the refusal letter is drafted below."))
    return _back(pk)


@login_required
@require_POST
def request_note(request: HttpRequest, pk: int) -> HttpResponse:
    subject_request = subject_request_get_for_user(user=request.user, pk=pk)
    form = NoteForm(request.POST)
    if not form.is_valid():
        return _refused(request, _form_errors(form), pk)
    request_note_add(request=subject_request, text=form.cleaned_data["text"], acting_user=request.user)
    return _back(pk)


@login_required
@require_POST
def request_attachment(request: HttpRequest, pk: int) -> HttpResponse:
    subject_request = subject_request_get_for_user(user=request.user, pk=pk)
    form = AttachmentForm(request.POST, request.FILES)
    if not form.is_valid():
        return _refused(request, _form_errors(form), pk)
    try:
        request_attachment_add(request=subject_request, kind=form.cleaned_data["kind"],
                               upload=form.cleaned_data["file"], acting_user=request.user)
    except RequestRefused as error:
        return _refused(request, error, pk)
    return _back(pk)


@login_required
@require_GET
def attachment_download(request: HttpRequest, pk: int, attachment_pk: int) -> FileResponse:
    attachment = request_attachment_get_for_user(user=request.user, request_pk=pk, pk=attachment_pk)
    return FileResponse(attachment.file.open("rb"), as_attachment=True, filename=attachment.name)


@login_required
@require_POST
def letter_draft(request: HttpRequest, pk: int) -> HttpResponse:
    subject_request = subject_request_get_for_user(user=request.user, pk=pk)
    form = LetterDraftForm(request.POST)
    if not form.is_valid():
        return _refused(request, _form_errors(form), pk)
    request_letter_draft(request=subject_request, kind=form.cleaned_data["kind"],
                         acting_user=request.user)
    return _back(pk)


@login_required
@require_http_methods(["GET", "POST"])
def letter_edit(request: HttpRequest, pk: int, letter_pk: int) -> HttpResponse:
    letter = request_letter_get_for_user(user=request.user, request_pk=pk, pk=letter_pk)
    form = LetterEditForm(request.POST or None, initial={
        "subject_line": letter.subject_line, "body": letter.body,
    })
    if request.method == "POST" and form.is_valid():
        try:
            request_letter_update(letter=letter, subject_line=form.cleaned_data["subject_line"],
                                  body=form.cleaned_data["body"], acting_user=request.user)
        except RequestRefused as error:
            return _refused(request, error, pk)
        messages.success(request, _("Letter saved."))
        return _back(pk)
    return render(request, "gdpr/letter_edit.html", {
        "subject_request": letter.request, "letter": letter, "form": form,
    })


@login_required
@require_POST
def letter_sent(request: HttpRequest, pk: int, letter_pk: int) -> HttpResponse:
    letter = request_letter_get_for_user(user=request.user, request_pk=pk, pk=letter_pk)
    form = LetterSentForm(request.POST)
    if not form.is_valid():
        return _refused(request, _form_errors(form), pk)
    try:
        request_letter_mark_sent(letter=letter, sent_on=form.cleaned_data["sent_on"],
                                 acting_user=request.user)
    except RequestRefused as error:
        return _refused(request, error, pk)
    return _back(pk)
