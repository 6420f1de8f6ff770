"""/gdpr/requests/<id>/erasure/…: an erasure request's workflow page (preview, legal
holds, four eyes, execution, acknowledgements), its receipt (page, JSON, PDF), and
/gdpr/erasures/: the executions waiting for a second pair of eyes.

The DPO does everything; an admin (an approver) sees the page's counts and holds and
approves or refuses. Each view resolves the request through its access helper, calls
one service and comes back to the page; a refusal is shown there as a message.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_POST

from gdpr.forms import AcknowledgementForm, LegalHoldForm, ReasonForm
from gdpr.models import ErasureStatus, SubjectRequest
from gdpr.selectors.erasure import (
    erasure_receipt,
    erasure_request_get_for_user,
    erasure_state,
    erasures_awaiting_approval,
)
from gdpr.selectors.requests import subject_request_get_for_user, user_handles_requests
from gdpr.services.erasure_requests import (
    request_erasure_acknowledge,
    request_erasure_approve,
    request_erasure_ask,
    request_erasure_execute,
    request_erasure_preview,
    request_erasure_refuse,
    request_legal_hold_add,
    request_legal_hold_remove,
    user_approves_erasures,
)
from gdpr.services.requests import RequestRefused
from gdpr.views.packs import PACK_CSS, _no_fetch, pdf_available

# What an erasure does to a table or file, in the reader's language (ErasureCount.action).
ACTION_LABELS = {
    "deleted": gettext_lazy("deleted"),
    "scrubbed": gettext_lazy("scrubbed (the person's values removed)"),
    "rewritten": gettext_lazy("rewritten without the person's rows"),
    "tombstoned": gettext_lazy("emptied (id-only tombstones)"),
    "written": gettext_lazy("written"),
    "kept under a legal hold": gettext_lazy("kept under a legal hold"),
    "not rewritten": gettext_lazy("not rewritten (outside the media folder)"),
}


def count_rows(counts: Iterable[Any]) -> list[dict[str, Any]]:
    """Counts (ErasureCount or their JSON) as table rows with the action in words."""
    rows = []
    for count in counts:
        store, action, n = ((count["store"], count["action"], count["count"]) if isinstance(count, dict)
                            else (count.store, count.action, count.count))
        rows.append({"store": store, "action": action, "label": ACTION_LABELS.get(action, action),
                     "count": n})
    return rows


_WHEN_KEYS = {"at", "closed_at", "acknowledged_at", "all_acknowledged_at", "generated_at",
              "recorded_at"}


def dated(value: Any, key: str = "") -> Any:
    """The receipt for the page: its ISO timestamps as datetimes, shown in the reader's
    format and time zone (the JSON keeps ISO)."""
    if isinstance(value, dict):
        return {k: dated(v, k) for k, v in value.items()}
    if isinstance(value, list):
        return [dated(v) for v in value]
    if key in _WHEN_KEYS and isinstance(value, str):
        return datetime.fromisoformat(value)
    return value


def _back(pk: int) -> HttpResponse:
    return redirect("gdpr:erasure", pk=pk)


def _errors(form) -> str:
    return " ".join(str(e) for errors in form.errors.values() for e in errors)


@login_required
@require_GET
def erasure_page(request: HttpRequest, pk: int) -> HttpResponse:
    subject_request = erasure_request_get_for_user(user=request.user, pk=pk)
    state = erasure_state(subject_request)
    preview, nothing_in_scope = None, False
    if not state.executed and subject_request.is_open:
        try:
            preview = request_erasure_preview(request=subject_request, acting_user=request.user)
        except RequestRefused:
            nothing_in_scope = True
    approval = state.approval
    is_dpo = user_handles_requests(request.user)
    asked = approval is not None and approval.status == ErasureStatus.ASKED
    return render(request, "gdpr/erasure.html", {
        "subject_request": subject_request, "state": state, "preview": preview,
        "count_rows": count_rows(preview.counts) if preview is not None else [],
        "nothing_in_scope": nothing_in_scope, "is_dpo": is_dpo,
        "can_edit_holds": is_dpo and subject_request.is_open and approval is None,
        "can_ask": is_dpo and subject_request.is_open and approval is None and preview is not None,
        "can_decide": asked and user_approves_erasures(request.user),
        "asked_by_me": asked and approval is not None and approval.asked_by_id == request.user.pk,
        "can_execute": is_dpo and approval is not None and approval.status == ErasureStatus.APPROVED,
        "hold_form": LegalHoldForm(), "reason_form": ReasonForm(),
        "ack_form": AcknowledgementForm(), "pdf_available": pdf_available(),
    })


@login_required
@require_GET
def erasures_to_approve(request: HttpRequest) -> HttpResponse:
    return render(request, "gdpr/erasures.html", {
        "approvals": list(erasures_awaiting_approval(user=request.user)),
    })


def _dpo_request(request: HttpRequest, pk: int) -> SubjectRequest:
    return subject_request_get_for_user(user=request.user, pk=pk)


@login_required
@require_POST
def erasure_hold_add(request: HttpRequest, pk: int) -> HttpResponse:
    subject_request = _dpo_request(request, pk)
    form = LegalHoldForm(request.POST)
    if not form.is_valid():
        messages.error(request, _errors(form))
        return _back(pk)
    data = form.cleaned_data
    try:
        request_legal_hold_add(request=subject_request, source_code=data["source"],
                               attributes=data["attributes"], legal_basis=data["legal_basis"],
                               reason=data["reason"], keep_until=data["keep_until"],
                               acting_user=request.user)
    except RequestRefused as error:
        messages.error(request, str(error))
    else:
        messages.success(request, _("Legal hold recorded."))
    return _back(pk)


@login_required
@require_POST
def erasure_hold_remove(request: HttpRequest, pk: int, hold_pk: int) -> HttpResponse:
    subject_request = _dpo_request(request, pk)
    try:
        request_legal_hold_remove(request=subject_request, hold_id=hold_pk, acting_user=request.user)
    except RequestRefused as error:
        messages.error(request, str(error))
    return _back(pk)


@login_required
@require_POST
def erasure_ask(request: HttpRequest, pk: int) -> HttpResponse:
    subject_request = _dpo_request(request, pk)
    try:
        request_erasure_ask(request=subject_request, acting_user=request.user)
    except RequestRefused as error:
        messages.error(request, str(error))
    else:
        messages.success(request, _("Execution asked: a second DPO or an administrator must approve it."))
    return _back(pk)


@login_required
@require_POST
def erasure_approve(request: HttpRequest, pk: int) -> HttpResponse:
    subject_request = erasure_request_get_for_user(user=request.user, pk=pk)
    try:
        request_erasure_approve(request=subject_request, acting_user=request.user)
    except RequestRefused as error:
        messages.error(request, str(error))
    else:
        messages.success(request, _("Execution approved."))
    return _back(pk)


@login_required
@require_POST
def erasure_refuse(request: HttpRequest, pk: int) -> HttpResponse:
    subject_request = erasure_request_get_for_user(user=request.user, pk=pk)
    form = ReasonForm(request.POST)
    if not form.is_valid():
        messages.error(request, _errors(form))
        return _back(pk)
    try:
        request_erasure_refuse(request=subject_request, reason=form.cleaned_data["reason"],
                               acting_user=request.user)
    except RequestRefused as error:
        messages.error(request, str(error))
    else:
        messages.success(request, _("Execution refused."))
    return _back(pk)


@login_required
@require_POST
def erasure_execute(request: HttpRequest, pk: int) -> HttpResponse:
    subject_request = _dpo_request(request, pk)
    try:
        request_erasure_execute(request=subject_request, acting_user=request.user)
    except RequestRefused as error:
        messages.error(request, str(error))
    else:
        messages.success(request, _("Erased. The request waits until every source and subscriber acknowledged."))
    return _back(pk)


@login_required
@require_POST
def erasure_acknowledge(request: HttpRequest, pk: int, ack_pk: int) -> HttpResponse:
    subject_request = _dpo_request(request, pk)
    form = AcknowledgementForm(request.POST)
    if not form.is_valid():
        messages.error(request, _errors(form))
        return _back(pk)
    try:
        request_erasure_acknowledge(request=subject_request, acknowledgement_id=ack_pk,
                                    note=form.cleaned_data["note"], acting_user=request.user)
    except RequestRefused as error:
        messages.error(request, str(error))
    else:
        messages.success(request, _("Acknowledgement recorded."))
    return _back(pk)


def _receipt_or_409(request: HttpRequest, subject_request: SubjectRequest) -> dict | HttpResponse:
    try:
        return erasure_receipt(subject_request)
    except LookupError:
        return HttpResponse(_("The erasure has not been executed: no receipt yet."), status=409)


@login_required
@require_GET
def erasure_receipt_page(request: HttpRequest, pk: int) -> HttpResponse:
    subject_request = _dpo_request(request, pk)
    receipt = _receipt_or_409(request, subject_request)
    if isinstance(receipt, HttpResponse):
        return receipt
    return render(request, "gdpr/erasure_receipt.html", {
        "request_obj": subject_request, "receipt": dated(receipt), "pdf_available": pdf_available(),
        "count_rows": count_rows(receipt["erased"]["counts"]),
    })


@login_required
@require_GET
def erasure_receipt_json(request: HttpRequest, pk: int) -> HttpResponse:
    subject_request = _dpo_request(request, pk)
    receipt = _receipt_or_409(request, subject_request)
    if isinstance(receipt, HttpResponse):
        return receipt
    response = HttpResponse(json.dumps(receipt, ensure_ascii=False, indent=2),
                            content_type="application/json")
    response["Content-Disposition"] = f'attachment; filename="{subject_request.reference}-erasure.json"'
    return response


@login_required
@require_GET
def erasure_receipt_pdf(request: HttpRequest, pk: int) -> HttpResponse:
    subject_request = _dpo_request(request, pk)
    receipt = _receipt_or_409(request, subject_request)
    if isinstance(receipt, HttpResponse):
        return receipt
    if not pdf_available():
        return HttpResponse(_("PDF rendering is not installed."), status=404)
    import weasyprint

    html = render_to_string("gdpr/erasure_receipt.html", {
        "request_obj": subject_request, "receipt": dated(receipt), "for_pdf": True,
        "count_rows": count_rows(receipt["erased"]["counts"]),
        "pack_css": PACK_CSS.read_text(),
    }, request=request)
    pdf = weasyprint.HTML(string=html, url_fetcher=_no_fetch).write_pdf()
    response = HttpResponse(pdf, content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="{subject_request.reference}-erasure.pdf"'
    return response
