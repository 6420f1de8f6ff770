"""Auditing a file before loading it: upload, the report, two reports side by side."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.cache import patch_vary_headers
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods

from rcu.forms import AuditCompareForm, AuditUploadForm
from rcu.http import HtmxHttpRequest
from rcu.ingestion.profile import reports_compare
from rcu.models import ImportAudit
from rcu.selectors.import_audits import (
    import_audit_get_for_user,
    import_audit_source_for_user,
    import_audits_of_source,
)
from rcu.services.import_audits import import_audit_submit

AUDITS_PAGE_SIZE = 30
SUMMARY_LABELS = {
    "rows": gettext_lazy("Rows read"),
    "accepted": gettext_lazy("Rows accepted"),
    "rejected": gettext_lazy("Rows rejected"),
    "duplicate_external_ids": gettext_lazy("External ids sent more than once"),
    "same_content": gettext_lazy("Groups of rows with the same values"),
    "created": gettext_lazy("Records created"),
    "updated": gettext_lazy("Records updated"),
    "records_linked": gettext_lazy("Records linked to an existing customer"),
    "records_to_review": gettext_lazy("Records sent to review"),
    "records_new_customer": gettext_lazy("Records starting a new customer"),
    "new_customers": gettext_lazy("New customers"),
}
PROGRESS_TARGET = "audit-progress"
HTMX_STOP_POLLING = 286


@login_required
@require_http_methods(["GET", "POST"])
def audit_list(request: HttpRequest, code: str) -> HttpResponse:
    """The source's past audits, and the form to audit a file."""
    source = import_audit_source_for_user(user=request.user, code=code)
    if request.method == "POST":
        form = AuditUploadForm(request.POST, request.FILES)
        if form.is_valid():
            audit = import_audit_submit(
                source=source, upload=form.cleaned_data["file"], acting_user=request.user
            )
            messages.success(request, _("File received: audit #%(pk)s.") % {"pk": audit.pk})
            return redirect("audit_detail", code=source.code, pk=audit.pk)
    else:
        form = AuditUploadForm()
    audits = import_audits_of_source(source)
    page = Paginator(audits, AUDITS_PAGE_SIZE).get_page(request.GET.get("page"))
    compare = AuditCompareForm(audits=audits.filter(status=ImportAudit.Status.SUCCEEDED))
    return render(request, "rcu/audit_list.html", {
        "source": source, "form": form, "page": page, "compare": compare,
    })


@login_required
@require_GET
def audit_detail(request: HtmxHttpRequest, code: str, pk: int) -> HttpResponse:
    """One report; htmx polls the status while a queued audit runs."""
    audit = import_audit_get_for_user(user=request.user, code=code, pk=pk)
    if request.htmx and request.htmx.target == PROGRESS_TARGET:
        response = render(request, "rcu/audit_detail.html#progress", {"audit": audit})
        if audit.is_finished:
            response.status_code = HTMX_STOP_POLLING
            response["HX-Refresh"] = "true"
        patch_vary_headers(response, ("HX-Request",))
        return response
    previous = (
        import_audits_of_source(audit.source)
        .filter(status=ImportAudit.Status.SUCCEEDED, created_at__lt=audit.created_at)
        .first()
    )
    response = render(request, "rcu/audit_detail.html", {
        "audit": audit, "report": audit.report, "previous": previous,
        "polling": not audit.is_finished,
    })
    patch_vary_headers(response, ("HX-Request",))
    return response


@login_required
@require_GET
def audit_compare(request: HttpRequest, code: str) -> HttpResponse:
    """Two succeeded audits of the source side by side, with what changed."""
    source = import_audit_source_for_user(user=request.user, code=code)
    audits = import_audits_of_source(source).filter(status=ImportAudit.Status.SUCCEEDED)
    form = AuditCompareForm(request.GET or None, audits=audits)
    comparison = None
    earlier = later = None
    if form.is_valid():
        # The reports themselves: the list's rows leave them out.
        reports = ImportAudit.objects.in_bulk([form.cleaned_data["a"].pk, form.cleaned_data["b"].pk])
        earlier, later = reports[form.cleaned_data["a"].pk], reports[form.cleaned_data["b"].pk]
        comparison = reports_compare(earlier.report, later.report)
    summary = (
        [(SUMMARY_LABELS[d.label], d) for d in comparison.summary] if comparison else []
    )
    return render(request, "rcu/audit_compare.html", {
        "source": source, "form": form, "comparison": comparison, "summary": summary,
        "earlier": earlier, "later": later,
    })
