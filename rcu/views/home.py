from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from rcu.selectors.ui import dashboard_counts, latest_import_jobs, sources_with_counts


@login_required
@require_GET
def home(request: HttpRequest) -> HttpResponse:
    """Dashboard: what the person may see, per source, and the latest imports."""
    sources = list(sources_with_counts(request.user))
    context = {
        "counts": dashboard_counts(request.user, sources),
        "sources": sources,
        "jobs": latest_import_jobs(request.user, limit=8),
    }
    return render(request, "rcu/home.html", context)
