"""Admin for the matching engine: thresholds and model (versioned), generic values
(computed, then edited by administrators), runs and the steward decisions it obeys."""

from __future__ import annotations

from django.contrib import admin
from django.utils.translation import gettext_lazy as _
from simple_history.admin import SimpleHistoryAdmin

from rcu.admin.core import ReadOnlyAdminMixin, _global_view, _pretty_json
from rcu.models import GenericValue, MatchRun, MatchSettings, PairDecision


@admin.register(MatchSettings)
class MatchSettingsAdmin(SimpleHistoryAdmin):
    list_display = ["__str__", "max_block_size", "model_frozen", "model_trained_at", "updated_at"]
    fields = [
        "auto_link", "review", "max_block_size", "model_frozen", "model_trained_at",
        "model_display", "updated_at",
    ]
    readonly_fields = ["model_trained_at", "model_display", "updated_at"]

    @admin.display(description=_("model parameters"))
    def model_display(self, obj: MatchSettings):
        return _pretty_json(obj.model)

    def get_queryset(self, request):
        MatchSettings.objects.get_or_create(pk=1)
        qs = super().get_queryset(request)
        return qs if _global_view(request, MatchSettings) else qs.none()

    def has_add_permission(self, request) -> bool:
        return False  # one row, created on first use

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


@admin.register(GenericValue)
class GenericValueAdmin(SimpleHistoryAdmin):
    list_display = ["value", "kind", "origin", "reason", "rule", "records", "distinct_names", "dismissed"]
    list_filter = ["kind", "origin", "reason", "dismissed"]
    list_editable = ["dismissed"]
    search_fields = ["value"]
    fields = ["kind", "value", "origin", "reason", "rule", "records", "distinct_names", "dismissed"]
    readonly_fields = ["origin", "reason", "rule", "records", "distinct_names"]

    def get_readonly_fields(self, request, obj=None):
        # A detected value keeps its key; an administrator only dismisses it.
        if obj is not None:
            return [*self.readonly_fields, "kind", "value"]
        return self.readonly_fields

    def save_model(self, request, obj: GenericValue, form, change) -> None:
        if not change:
            obj.origin = GenericValue.Origin.ADMIN
            obj.reason = "admin"
        super().save_model(request, obj, form, change)

    def get_queryset(self, request):
        qs = super().get_queryset(request)
        return qs if _global_view(request, GenericValue) else qs.none()

    def has_delete_permission(self, request, obj=None) -> bool:
        # Dismiss instead: the next run would detect a deleted value again.
        return bool(obj is not None and obj.origin == GenericValue.Origin.ADMIN) and super(
        ).has_delete_permission(request, obj)


@admin.register(MatchRun)
class MatchRunAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = [
        "__str__", "status", "progress", "records", "pairs_compared", "pairs_kept",
        "records_moved", "customers_retired", "candidates", "oversized_blocks", "created_at",
        "finished_at",
    ]
    list_filter = ["status", "full"]
    exclude = ["skipped_keys"]

    @admin.display(description=_("progress"))
    def progress(self, obj: MatchRun) -> str:
        percent = obj.progress_percent
        return "" if percent is None else f"{obj.partitions_done}/{obj.partitions} ({percent} %)"

    def get_queryset(self, request):
        qs = super().get_queryset(request)
        return qs if _global_view(request, MatchRun) else qs.none()


@admin.register(PairDecision)
class PairDecisionAdmin(ReadOnlyAdminMixin, SimpleHistoryAdmin):
    list_display = ["record_a", "record_b", "kind", "decided_by", "decided_at", "reason"]
    list_filter = ["kind"]
    raw_id_fields = ["record_a", "record_b"]
    list_select_related = ["decided_by"]

    def get_queryset(self, request):
        qs = super().get_queryset(request)
        return qs if _global_view(request, PairDecision) else qs.none()
