"""A plain list of merge candidates; the review workspace is the stewards' own UI."""

from __future__ import annotations

from django.contrib import admin
from simple_history.admin import SimpleHistoryAdmin

from rcu.admin.core import ReadOnlyAdminMixin, _global_view, _pretty_json
from stewardship.models import MergeCandidate


@admin.register(MergeCandidate)
class MergeCandidateAdmin(ReadOnlyAdminMixin, SimpleHistoryAdmin):
    list_display = ["__str__", "status", "probability", "levels", "created_at", "updated_at"]
    list_filter = ["status", "departments"]
    raw_id_fields = ["record_a", "record_b"]
    readonly_fields = ["explanation_display"]

    def explanation_display(self, obj: MergeCandidate):
        return _pretty_json(obj.explanation)

    def get_queryset(self, request):
        qs = super().get_queryset(request)
        return qs if _global_view(request, MergeCandidate) else qs.none()
