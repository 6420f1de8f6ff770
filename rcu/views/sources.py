from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from rcu.selectors.sources import INGEST, source_get_for_user, user_has_source_perm
from rcu.selectors.ui import (
    extra_identifier_labels,
    latest_import_jobs,
    source_record_counts,
    sources_with_counts,
)


@login_required
@require_GET
def source_list(request: HttpRequest) -> HttpResponse:
    sources = sources_with_counts(request.user).order_by("trust_rank", "code")
    return render(request, "rcu/source_list.html", {"sources": list(sources)})


@login_required
@require_GET
def source_detail(request: HttpRequest, code: str) -> HttpResponse:
    source = source_get_for_user(user=request.user, code=code)
    context = {
        "source": source,
        "mappings": list(source.mappings.order_by("position", "id")),
        "counts": source_record_counts(source),
        "jobs": latest_import_jobs(request.user, source=source, limit=10),
        "can_ingest": source.active and user_has_source_perm(request.user, INGEST, source),
        "extra_labels": extra_identifier_labels(),
    }
    return render(request, "rcu/source_detail.html", context)
