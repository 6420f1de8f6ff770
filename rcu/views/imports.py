from __future__ import annotations

from pathlib import Path

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.cache import patch_vary_headers
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from rcu import hooks
from rcu.csv_safe import CSV_CONTENT_TYPE
from rcu.forms import ImportUploadForm
from rcu.http import HtmxHttpRequest
from rcu.selectors.imports import CANCEL, import_job_get_for_user, import_jobs_visible_to
from rcu.selectors.sources import INGEST, source_get_for_user, sources_for_user
from rcu.services.imports import ImportJobFinished, import_job_cancel, import_job_submit

JOBS_PAGE_SIZE = 50
REJECTS_PAGE_SIZE = 50
PROGRESS_TARGET = "job-progress"
HTMX_STOP_POLLING = 286  # htmx stops an "every 2s" trigger on this status


@login_required
@require_GET
def import_list(request: HttpRequest) -> HttpResponse:
    jobs = import_jobs_visible_to(request.user).order_by("-created_at", "-id")
    page = Paginator(jobs, JOBS_PAGE_SIZE).get_page(request.GET.get("page"))
    can_upload = sources_for_user(request.user, perm=INGEST).exists()
    return render(request, "rcu/import_list.html", {"page": page, "can_upload": can_upload})


@login_required
@require_GET
def import_detail(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    """A job's status and rejected rows; htmx polls its progress while it runs."""
    job = import_job_get_for_user(user=request.user, pk=pk)
    if request.htmx and request.htmx.target == PROGRESS_TARGET:
        response = render(request, "rcu/import_detail.html#progress", {"job": job})
        if job.is_finished or job.status == job.Status.INTERRUPTED:
            # Stop polling and reload once, so the rejected rows and the final
            # counts are rendered by the full page.
            response.status_code = HTMX_STOP_POLLING
            response["HX-Refresh"] = "true"
        patch_vary_headers(response, ("HX-Request",))
        return response
    rejects = Paginator(job.row_errors.order_by("line", "field"), REJECTS_PAGE_SIZE)
    rejects_page = rejects.get_page(request.GET.get("page"))
    if rejects_page.object_list:
        # Rejected rows show values as received: a read of personal data that no customer
        # holds (the row was refused), logged against the import.
        hooks.personal_data_read(
            user=request.user, customers=[], purpose="import_rejects",
            reference=f"import #{job.pk}, rejected rows page {rejects_page.number}",
        )
    context = {
        "job": job,
        "rejects": rejects_page,
        "polling": not job.is_finished and job.status != job.Status.INTERRUPTED,
        "rejects_available": bool(job.rejects_file) and Path(job.rejects_file).is_file(),
        "can_cancel": not job.is_finished and request.user.has_perm(CANCEL),
    }
    response = render(request, "rcu/import_detail.html", context)
    patch_vary_headers(response, ("HX-Request",))
    return response


@login_required
@require_http_methods(["GET", "POST"])
def import_new(request: HttpRequest) -> HttpResponse:
    """Upload a file into one of the sources the person may ingest into."""
    if request.method == "POST":
        form = ImportUploadForm(request.POST, request.FILES, user=request.user)
        if not form.ingestable_sources.exists():
            raise PermissionDenied
        if form.is_valid():
            source = source_get_for_user(
                user=request.user, code=form.cleaned_data["source"].code, perm=INGEST
            )
            job = import_job_submit(
                source=source, upload=form.cleaned_data["file"], acting_user=request.user,
                snapshot=form.cleaned_data["snapshot"],
            )
            messages.success(request, _("File received: import #%(pk)s.") % {"pk": job.pk})
            return redirect("import_detail", pk=job.pk)
    else:
        form = ImportUploadForm(user=request.user)
        form.initial["source"] = _preselected_source(form, request.GET.get("source"))
    return render(request, "rcu/import_new.html", {"form": form})


def _preselected_source(form: ImportUploadForm, code: str | None):
    """The source named in the link (from a source page), or the only one offered."""
    ingestable = form.ingestable_sources
    if code:
        return ingestable.filter(code=code).first()
    first_two = list(ingestable[:2])
    return first_two[0] if len(first_two) == 1 else None


@login_required
@require_POST
def import_cancel(request: HttpRequest, pk: int) -> HttpResponse:
    """Cancel a job that has not ended (admins); a running one stops between batches."""
    job = import_job_get_for_user(user=request.user, pk=pk, cancel=True)
    try:
        import_job_cancel(job=job, acting_user=request.user)
    except ImportJobFinished:
        messages.info(request, _("This import had already ended."))
    else:
        messages.success(request, _("Import #%(pk)s cancelled.") % {"pk": job.pk})
    return redirect("import_detail", pk=job.pk)


@login_required
@require_GET
def import_rejects(request: HttpRequest, pk: int) -> FileResponse:
    """The job's rejected rows, for whoever may see the job: CSV, or JSON Lines for a
    JSON Lines source (`import_job_write_rejects`)."""
    job = import_job_get_for_user(user=request.user, pk=pk)
    path = Path(job.rejects_file) if job.rejects_file else None
    if path is None or not path.is_file():
        raise Http404("No rejects file")
    jsonl = path.suffix == ".jsonl"
    hooks.personal_data_read(
        user=request.user, customers=[], purpose="export_import_rejects",
        reference=f"import #{job.pk}, rejected rows file",
    )
    return FileResponse(
        path.open("rb"),
        as_attachment=True,
        filename=f"import-{job.pk}-rejects.{'jsonl' if jsonl else 'csv'}",
        content_type="application/jsonl; charset=utf-8" if jsonl else CSV_CONTENT_TYPE,
    )
