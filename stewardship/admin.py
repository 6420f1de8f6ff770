"""A plain list of merge candidates; the review workspace is the stewards' own UI."""

from __future__ import annotations

from django.contrib import admin
from simple_history.admin import SimpleHistoryAdmin

from rcu.admin.core import ReadOnlyAdminMixin, _global_view, _pretty_json
from stewardship.models import Decision, MergeCandidate


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


@admin.register(Decision)
class DecisionAdmin(ReadOnlyAdminMixin, SimpleHistoryAdmin):
    """The stewards' ledger, read-only: decisions are made and undone in the workspace."""

    list_display = ["__str__", "kind", "decided_by", "decided_at", "undone_at", "candidate"]
    list_filter = ["kind", "departments"]
    raw_id_fields = ["candidate", "survivor", "undoes"]
    readonly_fields = ["before_display", "after_display"]
    exclude = ["before", "after"]

    def before_display(self, obj: Decision):
        return _pretty_json(obj.before)

    def after_display(self, obj: Decision):
        return _pretty_json(obj.after)

    def get_queryset(self, request):
        qs = super().get_queryset(request).select_related("decided_by")
        return qs if _global_view(request, Decision) else qs.none()
