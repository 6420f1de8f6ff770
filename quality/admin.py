from __future__ import annotations

from django import forms
from django.contrib import admin
from django.utils.translation import gettext_lazy as _
from simple_history.admin import SimpleHistoryAdmin

from quality.models import QualityRule, QualitySnapshot
from quality.services import quality_rule_save
from rcu.attributes import CANONICAL_NAMES
from rcu.models import ExtraIdentifier


def _attribute_choices() -> list[tuple[str, str]]:
    from rcu.templatetags.rcu_ui import attribute_label

    extras = list(ExtraIdentifier.objects.values_list("code", "label"))
    return [(name, attribute_label(name)) for name in CANONICAL_NAMES] + extras


class QualityRuleForm(forms.ModelForm):
    attribute = forms.ChoiceField(label=_("attribute"), choices=_attribute_choices)

    class Meta:
        model = QualityRule
        fields = ["source", "attribute", "metric", "minimum", "active"]


@admin.register(QualityRule)
class QualityRuleAdmin(SimpleHistoryAdmin):
    """Admins declare what they expect of each source; breaches show on the quality pages."""

    form = QualityRuleForm
    list_display = ["source", "attribute", "metric", "minimum", "active", "notified_on"]
    list_filter = ["source", "metric", "active"]
    readonly_fields = ["created_by", "notified_on"]

    def save_model(self, request, obj, form, change) -> None:
        quality_rule_save(rule=obj, acting_user=request.user)


@admin.register(QualitySnapshot)
class QualitySnapshotAdmin(admin.ModelAdmin):
    list_display = ["taken_on", "started_at", "finished_at", "duration_ms", "taken_by"]

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False
