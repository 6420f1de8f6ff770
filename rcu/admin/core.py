"""Django admin for the core domain.

The same visibility rules as the UI hold here: every queryset goes through the
domain selectors, so a staff member without a role's global permissions sees
nothing. Source records, customers and import jobs are read-only for everybody:
they change only through services (imports, matching, stewardship).
"""

from __future__ import annotations

import json
from typing import Any

from django import forms
from django.contrib import admin
from django.contrib.admin.utils import unquote
from django.contrib.auth.models import Group
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import Http404, HttpRequest
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _
from guardian.admin import GuardedModelAdmin
from simple_history.admin import SimpleHistoryAdmin

from rcu import hooks
from rcu.attributes import ATTRIBUTES_BY_NAME, CANONICAL_NAMES, Kind
from rcu.forms import MappingPreviewForm
from rcu.ingestion.formats import format_problem
from rcu.models import (
    AttributeDefinition,
    Customer,
    Department,
    ExtraIdentifier,
    FieldMapping,
    ImportJob,
    PeriodicRun,
    SourceRecord,
    SourceSystem,
)
from rcu.selectors.attributes import custom_attribute_labels
from rcu.selectors.customers import customers_visible_to
from rcu.selectors.imports import import_jobs_visible_to
from rcu.selectors.records import records_visible_to
from rcu.selectors.sources import sources_for_user
from rcu.selectors.ui import extra_identifier_labels, source_mapping_preview
from rcu.services.sources import source_permissions_sync

admin.site.site_header = _("RCU administration")
admin.site.site_title = _("RCU administration")
admin.site.index_title = _("Customer repository")
admin.site.site_url = "/"


def _pretty_json(value: Any):
    return format_html(
        '<pre class="rcu-json">{}</pre>',
        json.dumps(value, ensure_ascii=False, indent=2, sort_keys=True, default=str),
    )


def _global_view(request: HttpRequest, model) -> bool:
    opts = model._meta
    return request.user.has_perm(f"{opts.app_label}.view_{opts.model_name}")


class ReadOnlyAdminMixin:
    """Rows written only through services: nobody adds, changes or deletes them here."""

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


class LogsPersonalDataReads:
    """Admin pages that show customers' personal data log the read, as the UI does."""

    access_log_purpose = "admin"

    def customers_of(self, objects) -> list[Customer]:
        raise NotImplementedError

    def change_view(self, request, object_id, form_url="", extra_context=None):
        response = super().change_view(request, object_id, form_url, extra_context)
        original = getattr(response, "context_data", {}).get("original")
        if response.status_code == 200 and original is not None:
            hooks.personal_data_read(
                user=request.user, customers=self.customers_of([original]),
                purpose=self.access_log_purpose,
            )
        return response

    def render_history_view(self, request, template, context, **kwargs):
        # The history list and the view of one historical version both come here.
        shown = context.get("original") or context.get("object")
        if shown is not None:
            hooks.personal_data_read(
                user=request.user, customers=self.customers_of([shown]),
                purpose=self.access_log_purpose,
            )
        return super().render_history_view(request, template, context, **kwargs)

    def changelist_view(self, request, extra_context=None):
        response = super().changelist_view(request, extra_context)
        changelist = getattr(response, "context_data", {}).get("cl")
        if response.status_code == 200 and changelist is not None:
            hooks.personal_data_read(
                user=request.user, customers=self.customers_of(changelist.result_list),
                purpose=self.access_log_purpose,
            )
        return response


# --- Departments and extra identifiers ------------------------------------


@admin.register(Department)
class DepartmentAdmin(SimpleHistoryAdmin):
    list_display = ["name", "code", "group"]
    search_fields = ["name", "code"]
    list_select_related = ["group"]
    fields = ["code", "name", "group", "created_at"]
    readonly_fields = ["group", "created_at"]

    def get_readonly_fields(self, request, obj=None):
        # The code names the department's group: fixed once created.
        return [*self.readonly_fields, "code"] if obj is not None else self.readonly_fields

    def save_model(self, request, obj: Department, form, change) -> None:
        if not change:
            obj.group, _created = Group.objects.get_or_create(name=Department.group_name_for(obj.code))
        super().save_model(request, obj, form, change)

    def get_queryset(self, request):
        qs = super().get_queryset(request)
        return qs if _global_view(request, Department) else qs.none()

    def has_delete_permission(self, request, obj=None) -> bool:
        return False  # departments own sources (PROTECT) and their history


@admin.register(ExtraIdentifier)
class ExtraIdentifierAdmin(SimpleHistoryAdmin):
    list_display = ["code", "label"]
    search_fields = ["code", "label"]

    def get_queryset(self, request):
        qs = super().get_queryset(request)
        return qs if _global_view(request, ExtraIdentifier) else qs.none()

    def has_delete_permission(self, request, obj=None) -> bool:
        return False  # records and golden values may still carry the identifier


@admin.register(AttributeDefinition)
class AttributeDefinitionAdmin(SimpleHistoryAdmin):
    """Read only: custom attributes are added and changed in the administration pages
    (or the API), through their service, which records the change and retrains."""

    list_display = ["name", "label", "type", "comparison", "survivorship", "active"]
    search_fields = ["name", "label"]

    def get_queryset(self, request):
        qs = super().get_queryset(request)
        return qs if _global_view(request, AttributeDefinition) else qs.none()

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False  # records and golden customers may still carry its values


# --- Source systems and their mappings ------------------------------------


class FieldMappingForm(forms.ModelForm):
    class Meta:
        model = FieldMapping
        fields = [
            "attribute", "source_fields", "position", "join_with", "trim", "case",
            "date_format", "phone_region",
        ]
        widgets = {
            "source_fields": forms.Textarea(attrs={"rows": 1, "cols": 36}),
            "join_with": forms.TextInput(attrs={"size": 4}),
            "date_format": forms.TextInput(attrs={"size": 14}),
            "phone_region": forms.TextInput(attrs={"size": 3}),
        }

    def clean_attribute(self) -> str:
        attribute = self.cleaned_data["attribute"].strip()
        if (attribute not in ATTRIBUTES_BY_NAME and attribute not in custom_attribute_labels()
                and not ExtraIdentifier.objects.filter(code=attribute).exists()):
            raise forms.ValidationError(
                _("Unknown attribute. Canonical attributes: %(names)s; or declare an extra identifier first."),
                params={"names": ", ".join(CANONICAL_NAMES)},
            )
        return attribute

    def clean_source_fields(self) -> list[str]:
        value = self.cleaned_data["source_fields"]
        if isinstance(value, str):
            value = [value]
        if not isinstance(value, list) or not value or not all(isinstance(v, str) and v for v in value):
            raise forms.ValidationError(_('Give a list of field names, e.g. ["NUM_VOIE", "LIBELLE_VOIE"].'))
        return value

    def clean(self):
        cleaned = super().clean()
        date_format = cleaned.get("date_format")
        attribute = ATTRIBUTES_BY_NAME.get(cleaned.get("attribute") or "")
        if date_format:
            if attribute is None or attribute.kind != Kind.DATE:
                self.add_error("date_format", _("Only date attributes take a format."))
            elif problem := format_problem(date_format):
                self.add_error("date_format", problem)
        return cleaned


class FieldMappingInline(admin.TabularInline):
    model = FieldMapping
    form = FieldMappingForm
    extra = 0
    ordering = ["position", "id"]


@admin.register(SourceSystem)
class SourceSystemAdmin(GuardedModelAdmin, SimpleHistoryAdmin):
    # Guardian's mixin declares it an instance attribute, Django's stubs a ClassVar.
    change_form_template = "admin/rcu/sourcesystem/change_form.html"  # type: ignore[misc]
    list_display = ["name", "code", "department", "trust_rank", "active", "preview_link"]
    list_filter = ["active", "department"]
    search_fields = ["name", "code"]
    list_select_related = ["department"]
    ordering = ["trust_rank", "code"]
    inlines = [FieldMappingInline]
    readonly_fields = ["created_at", "updated_at"]
    fieldsets = [
        (None, {"fields": ["code", "name", "department", "trust_rank", "active", "description"]}),
        (
            _("Reading the source"),
            {
                "fields": [
                    "default_country", "external_id_field", "business_timestamp_field",
                    "business_timestamp_format",
                ]
            },
        ),
        (_("Dates"), {"fields": ["created_at", "updated_at"], "classes": ["collapse"]}),
    ]

    def get_queryset(self, request):
        qs = super().get_queryset(request)
        if request.user.is_superuser:
            return qs
        return qs.filter(pk__in=sources_for_user(request.user).values("pk"))

    def save_related(self, request, form, formsets, change) -> None:
        super().save_related(request, form, formsets, change)
        # The owning department's group must hold the source's object permissions.
        source_permissions_sync(source=form.instance)

    @admin.display(description=_("Mapping preview"))
    def preview_link(self, obj: SourceSystem):
        url = reverse("admin:rcu_sourcesystem_preview", args=[obj.pk])
        return format_html('<a href="{}">{}</a>', url, _("Preview"))

    def get_urls(self):
        preview = path(
            "<path:object_id>/preview/",
            self.admin_site.admin_view(self.preview_view),
            name="rcu_sourcesystem_preview",
        )
        return [preview, *super().get_urls()]

    def preview_view(self, request: HttpRequest, object_id: str):
        """Sample rows through this source's mappings and normalisation; nothing is stored."""
        source = self.get_object(request, unquote(object_id))
        if source is None:
            raise Http404
        if not self.has_view_permission(request, source):
            raise PermissionDenied
        form = MappingPreviewForm(request.POST or None, request.FILES or None)
        preview = None
        if request.method == "POST" and form.is_valid():
            preview = source_mapping_preview(
                source, content=form.cleaned_data["content"], name=form.cleaned_data["name"]
            )
        context = {
            **self.admin_site.each_context(request),
            "title": _("Mapping preview: %(source)s") % {"source": source.name},
            "opts": self.model._meta,
            "original": source,
            "source": source,
            "mappings": list(source.mappings.order_by("position", "id")),
            "extra_labels": extra_identifier_labels(),
            "form": form,
            "preview": preview,
            "media": self.media + form.media,
        }
        return TemplateResponse(request, "admin/rcu/sourcesystem/preview.html", context)


# --- Records, customers, imports: read-only --------------------------------


@admin.register(SourceRecord)
class SourceRecordAdmin(LogsPersonalDataReads, ReadOnlyAdminMixin, SimpleHistoryAdmin):
    list_display = ["external_id", "source", "customer_link", "business_ts", "updated_at"]
    list_filter = ["source"]
    search_fields = ["=external_id"]
    list_select_related = ["source", "customer"]
    show_full_result_count = False
    fields = [
        "source", "external_id", "customer_link", "business_ts", "created_at", "updated_at",
        "quality_flags", "attributes_display", "raw_display", "keys_display",
    ]
    readonly_fields = fields

    def get_queryset(self, request):
        return records_visible_to(request.user).select_related("customer")

    def customers_of(self, objects) -> list[Customer]:
        return list({r.customer_id: r.customer for r in objects if r.customer_id}.values())

    @admin.display(description=_("customer"))
    def customer_link(self, obj: SourceRecord):
        if obj.customer_id is None:
            return "—"
        url = reverse("admin:rcu_customer_change", args=[obj.customer_id])
        return format_html('<a href="{}">{}</a>', url, obj.customer)

    @admin.display(description=_("raw payload"))
    def raw_display(self, obj: SourceRecord):
        return _pretty_json(obj.raw)

    @admin.display(description=_("attributes"))
    def attributes_display(self, obj: SourceRecord):
        return _pretty_json(obj.attributes)

    @admin.display(description=_("comparison keys"))
    def keys_display(self, obj: SourceRecord):
        return _pretty_json(obj.keys)


@admin.register(Customer)
class CustomerAdmin(LogsPersonalDataReads, ReadOnlyAdminMixin, SimpleHistoryAdmin):
    list_display = ["__str__", "email", "postcode", "city", "updated_at", "merged_into"]
    list_select_related = ["merged_into"]
    search_fields = ["=public_id", "^last_name_key", "=email", "=postcode"]
    show_full_result_count = False
    fields = [
        "public_id", "merged_into", *CANONICAL_NAMES, "extra_identifiers_display",
        "provenance_display", "pinned_display", "created_at", "updated_at",
    ]
    readonly_fields = fields

    def get_queryset(self, request) -> QuerySet[Customer]:
        # Retired (merged) customers too, for whoever may read every customer.
        if _global_view(request, Customer):
            return Customer.objects.all()
        return customers_visible_to(request.user)

    def customers_of(self, objects) -> list[Customer]:
        return list(objects)

    @admin.display(description=_("extra identifiers"))
    def extra_identifiers_display(self, obj: Customer):
        return _pretty_json(obj.extra_identifiers)

    @admin.display(description=_("provenance"))
    def provenance_display(self, obj: Customer):
        return _pretty_json(obj.provenance)

    @admin.display(description=_("pinned choices"))
    def pinned_display(self, obj: Customer):
        return _pretty_json(obj.pinned)


@admin.register(ImportJob)
class ImportJobAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = [
        "__str__", "source", "status", "created_count", "updated_count", "unchanged_count", "held_count",
        "rejected_count", "created_by", "created_at",
    ]
    list_filter = ["status", "source"]
    list_select_related = ["source", "created_by"]
    date_hierarchy = "created_at"

    def get_queryset(self, request):
        return import_jobs_visible_to(request.user)


@admin.register(PeriodicRun)
class PeriodicRunAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """What periodic work did (retention purges, reminders…): counts, never data."""

    list_display = ["task", "trigger", "state", "started_at", "finished_at", "result", "error"]
    list_filter = ["task", "state", "trigger"]
    date_hierarchy = "started_at"

    def get_queryset(self, request):
        qs = super().get_queryset(request)
        return qs if _global_view(request, PeriodicRun) else qs.none()
