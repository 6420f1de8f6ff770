"""/gdpr/quarantine/: the rows held because they carried an erased person's identifier."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from gdpr.models import QuarantineStatus
from gdpr.selectors.quarantine import STATUSES, quarantine_for_user, quarantined_record_get_for_user
from gdpr.services.quarantine import (
    QuarantineConflict,
    quarantined_record_discard,
    quarantined_record_release,
)
from rcu.views.pagination import page_number, slice_page

PAGE_SIZE = 50


@login_required
@require_GET
def quarantine_page(request: HttpRequest) -> HttpResponse:
    status = request.GET.get("status", QuarantineStatus.HELD)
    if status not in STATUSES:
        status = QuarantineStatus.HELD
    rows = quarantine_for_user(user=request.user, status=status)
    page = slice_page(rows, number=page_number(request.GET.get("page")), per_page=PAGE_SIZE)
    return render(request, "gdpr/quarantine.html", {
        "page": page, "status": status,
        "statuses": [(QuarantineStatus.HELD, _("held")), (QuarantineStatus.RELEASED, _("released")),
                     (QuarantineStatus.DISCARDED, _("discarded")), ("all", _("all"))],
    })


@login_required
@require_POST
def quarantine_release_view(request: HttpRequest, pk: int) -> HttpResponse:
    held = quarantined_record_get_for_user(user=request.user, pk=pk)
    try:
        quarantined_record_release(held=held, acting_user=request.user, note=request.POST.get("note", ""))
    except QuarantineConflict as conflict:
        messages.error(request, str(conflict))
    else:
        messages.success(request, _("Released: the record was imported."))
    return redirect("gdpr:quarantine")


@login_required
@require_POST
def quarantine_discard_view(request: HttpRequest, pk: int) -> HttpResponse:
    held = quarantined_record_get_for_user(user=request.user, pk=pk)
    try:
        quarantined_record_discard(held=held, acting_user=request.user, note=request.POST.get("note", ""))
    except QuarantineConflict as conflict:
        messages.error(request, str(conflict))
    else:
        messages.success(request, _("Discarded: the held data was deleted."))
    return redirect("gdpr:quarantine")
