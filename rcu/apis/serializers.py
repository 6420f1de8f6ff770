"""Input and output shapes of the API. Output serializers only read; writes go through services."""

from __future__ import annotations

from rest_framework import serializers

from rcu.attributes import CANONICAL_NAMES
from rcu.models import (
    Customer,
    Department,
    FieldMapping,
    ImportAudit,
    ImportJob,
    SourceRecord,
    SourceSystem,
)
from rcu.survivorship import RULES

INGEST_STATUSES = ("created", "updated", "unchanged")
MATCH_DECISIONS = ("linked", "new", "candidate")


# --- Errors -----------------------------------------------------------------


class FieldErrorSerializer(serializers.Serializer):
    field = serializers.CharField(
        allow_null=True,
        help_text="The field at fault, dotted for nested ones (`attributes.email`, "
        "`choices.email`, `records.0`); null when the request as a whole is.",
    )
    reason = serializers.CharField()


class ErrorSerializer(serializers.Serializer):
    """Every 4xx answer of the API (rcu.apis.errors)."""

    detail = serializers.CharField(help_text="What went wrong, for people.")
    code = serializers.CharField(
        help_text="Stable, for programs: `invalid`, `parse_error`, `not_authenticated`, "
        "`authentication_failed`, `permission_denied`, `not_found`, `method_not_allowed`, "
        "`not_acceptable`, `conflict`, `gone`, `unsupported_media_type`, `throttled`."
    )
    # The API's field "errors" shadows Serializer.errors in DRF's stubs (drf-stubs#78).
    errors = FieldErrorSerializer(  # type: ignore[assignment]
        many=True, help_text="What is wrong with the request, field by field (400 only)."
    )


# --- Sources ------------------------------------------------------------------


class DepartmentSerializer(serializers.ModelSerializer):
    class Meta:
        model = Department
        fields = ["code", "name"]


class FieldMappingSerializer(serializers.ModelSerializer):
    source_fields = serializers.ListField(
        child=serializers.CharField(), help_text="Source field names, joined in this order."
    )

    class Meta:
        model = FieldMapping
        fields = [
            "attribute", "source_fields", "position", "join_with", "trim", "case",
            "date_format", "phone_region",
        ]


class SourceSerializer(serializers.ModelSerializer):
    department = DepartmentSerializer()
    mappings = FieldMappingSerializer(many=True)
    can_ingest = serializers.SerializerMethodField(
        help_text="Whether the caller may send records or files into this source."
    )

    class Meta:
        model = SourceSystem
        fields = [
            "code", "name", "department", "trust_rank", "default_country", "active",
            "external_id_field", "business_timestamp_field", "business_timestamp_format",
            "description", "mappings", "can_ingest",
        ]

    def get_can_ingest(self, source: SourceSystem) -> bool:
        return source.pk in self.context.get("ingestable_source_ids", ())


# --- Records ------------------------------------------------------------------


class CustomerRecordSerializer(serializers.ModelSerializer):
    """A source record as shown inside its customer."""

    # The API's field "source" shadows Field.source in DRF's stubs (drf-stubs#158).
    source = serializers.CharField(source="source.code")  # type: ignore[assignment]
    attributes = serializers.DictField(
        child=serializers.CharField(), help_text="Canonical, normalised values."
    )
    quality_flags = serializers.ListField(
        child=serializers.CharField(), help_text='Problems found, "<attribute>.<problem>".'
    )
    raw = serializers.DictField(help_text="The payload exactly as the source sent it.")

    class Meta:
        model = SourceRecord
        fields = [
            "id", "source", "external_id", "attributes", "quality_flags", "business_ts", "raw",
            "created_at", "updated_at", "deleted_at_source",
        ]
        extra_kwargs = {
            "deleted_at_source": {
                "help_text": "When the source said it deleted this record (null while it has "
                "it). The record is kept but gives no golden value and takes no part in matching."
            }
        }


class RecordSerializer(CustomerRecordSerializer):
    customer_id = serializers.UUIDField(
        source="customer.public_id", allow_null=True, help_text="Public id of its golden customer."
    )

    class Meta(CustomerRecordSerializer.Meta):
        fields = [*CustomerRecordSerializer.Meta.fields, "customer_id"]


class RecordRefSerializer(serializers.ModelSerializer):
    # The API's field "source" shadows Field.source in DRF's stubs (drf-stubs#158).
    source = serializers.CharField(source="source.code")  # type: ignore[assignment]

    class Meta:
        model = SourceRecord
        fields = ["id", "source", "external_id"]


class ContributionSerializer(serializers.Serializer):
    comparison = serializers.CharField()
    level = serializers.CharField(allow_null=True, help_text="Null: a value is missing on a side.")
    weight = serializers.FloatField(help_text="log2(m/u) of the level; 0 when missing.")


class ExplanationSerializer(serializers.Serializer):
    probability = serializers.FloatField()
    total_weight = serializers.FloatField(help_text="prior_weight + Σ contributions, exactly.")
    prior_weight = serializers.FloatField()
    link_guard = serializers.CharField(
        allow_null=True,
        help_text="Why the pair may not be linked without a steward whatever its score "
        "(contradiction:<comparisons>, names_only, possible_twins or household_evidence); null "
        "when it may.",
    )
    contributions = ContributionSerializer(many=True)


class MatchOutcomeSerializer(serializers.Serializer):
    decision = serializers.ChoiceField(
        choices=MATCH_DECISIONS,
        help_text="linked: joined a customer; candidate: awaits a steward; new: no match.",
    )
    probability = serializers.FloatField(allow_null=True, help_text="Its best pair's probability.")
    explanation = ExplanationSerializer(allow_null=True, help_text="Its best pair, explained.")


class IngestOutcomeSerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=INGEST_STATUSES)
    # The API's field "source" shadows Field.source in DRF's stubs (drf-stubs#158).
    source = serializers.CharField(source="record.source.code")  # type: ignore[assignment]
    external_id = serializers.CharField(source="record.external_id")
    record_id = serializers.IntegerField(source="record.pk")
    customer_id = serializers.UUIDField(
        source="customer.public_id", help_text="Public id of the golden customer."
    )
    quality_flags = serializers.ListField(source="record.quality_flags", child=serializers.CharField())
    attributes = serializers.DictField(source="record.attributes", child=serializers.CharField())
    match = MatchOutcomeSerializer(
        allow_null=True, help_text="What matching decided; null when the record did not change."
    )


class HeldOutcomeSerializer(serializers.Serializer):
    """A record held in quarantine: it carries an erased person's identifier."""

    status = serializers.CharField(help_text='Always "held".')
    # The API's field "source" shadows Field.source in DRF's stubs (drf-stubs#158).
    source = serializers.CharField()  # type: ignore[assignment]
    external_id = serializers.CharField()


# --- Customers ----------------------------------------------------------------


class ProvenanceSerializer(serializers.Serializer):
    # The API's field "source" shadows Field.source in DRF's stubs (drf-stubs#158).
    source = serializers.CharField()  # type: ignore[assignment]
    external_id = serializers.CharField(
        allow_null=True, help_text="Null when the record belongs to a source the caller may not see."
    )
    rule = serializers.ChoiceField(choices=RULES, help_text="The survivorship rule that chose it.")
    business_ts = serializers.DateTimeField(allow_null=True)


class CustomerSerializer(serializers.ModelSerializer):
    """A golden customer on a list: its golden values and its visible records."""

    extra_identifiers = serializers.DictField(child=serializers.CharField())
    custom_attributes = serializers.DictField(
        child=serializers.CharField(),
        help_text="The golden values of the custom attributes (/api/v1/attributes/), by name.",
    )
    # The detail serializer shows the records in full.
    records: serializers.BaseSerializer = RecordRefSerializer(many=True, source="visible_records")
    merged_into = serializers.UUIDField(
        source="merged_into.public_id", allow_null=True, default=None,
        help_text="Survivor of this customer; null for a live one (listed with updated_since).",
    )
    restricted = serializers.BooleanField(
        source="is_restricted", read_only=True,
        help_text="Processing restricted (GDPR art. 18): the data is kept but used for "
        "nothing else (no export, no marketing, no merge) until the DPO lifts it.",
    )
    restricted_at = serializers.DateTimeField(
        read_only=True, allow_null=True, help_text="Since when it is restricted (null: it is not).",
    )

    class Meta:
        model = Customer
        fields = [
            "public_id", *CANONICAL_NAMES, "extra_identifiers", "custom_attributes", "records",
            "merged_into", "restricted", "restricted_at", "created_at", "updated_at",
        ]


class CustomerDetailSerializer(CustomerSerializer):
    merged_from = serializers.ListField(
        child=serializers.UUIDField(), help_text="Retired public ids merged into this customer."
    )
    provenance = serializers.DictField(
        child=ProvenanceSerializer(), source="visible_provenance",
        help_text="Attribute → the record its golden value came from.",
    )
    records = CustomerRecordSerializer(many=True, source="visible_records")
    hidden_records = serializers.IntegerField(
        help_text="Linked records in sources the caller may not see."
    )

    class Meta(CustomerSerializer.Meta):
        fields = [
            "public_id", "merged_into", "merged_from", *CANONICAL_NAMES, "extra_identifiers",
            "custom_attributes", "provenance", "records", "hidden_records", "restricted",
            "restricted_at", "created_at", "updated_at",
        ]


# --- Import jobs --------------------------------------------------------------


class ImportJobSerializer(serializers.ModelSerializer):
    # The API's field "source" shadows Field.source in DRF's stubs (drf-stubs#158).
    source = serializers.CharField(source="source.code")  # type: ignore[assignment]
    created_by = serializers.CharField(source="created_by.get_username", allow_null=True)
    progress_percent = serializers.IntegerField(allow_null=True)

    class Meta:
        model = ImportJob
        fields = [
            "id", "source", "file_name", "file_format", "status", "message", "lines_done",
            "total_lines", "progress_percent", "created_count", "updated_count",
            "unchanged_count", "rejected_count", "held_count", "created_by", "created_at", "started_at",
            "finished_at",
        ]


class ImportAuditSummarySerializer(serializers.ModelSerializer):
    """An audit without its report (lists)."""

    # The API's field "source" shadows Field.source in DRF's stubs (drf-stubs#158).
    source = serializers.CharField(source="source.code")  # type: ignore[assignment]
    created_by = serializers.CharField(source="created_by.get_username", allow_null=True)
    rejected = serializers.IntegerField(
        source="rejected_count", help_text="Rows the import would reject."
    )

    class Meta:
        model = ImportAudit
        fields = [
            "id", "source", "file_name", "status", "message", "total_lines", "rows", "rejected",
            "created_by", "created_at", "started_at", "finished_at",
        ]


class ImportAuditSerializer(ImportAuditSummarySerializer):
    report = serializers.JSONField(
        help_text="Columns (fill rate, distinct and most frequent values), attributes "
        "(validity rate, quality flags, generic values), rejected rows (line, field, "
        "reason), duplicates inside the file, and `prediction`: created, updated, "
        "unchanged, rejected, records_linked, records_to_review, records_new_customer, "
        "new_customers, review_pairs. Rates are fractions 0..1 with their numerator and "
        "denominator."
    )

    class Meta(ImportAuditSummarySerializer.Meta):
        fields = [*ImportAuditSummarySerializer.Meta.fields, "report"]


class ImportAuditQueuedSerializer(serializers.ModelSerializer):
    class Meta:
        model = ImportAudit
        fields = ["id", "status"]


class ImportAuditUploadSerializer(serializers.Serializer):
    file = serializers.FileField(
        help_text="A sample or the whole file: CSV (UTF-8 or Windows-1252, ; or ,) or JSON Lines."
    )


class ImportUploadSerializer(serializers.Serializer):
    file = serializers.FileField(help_text="CSV (UTF-8 or Windows-1252, ; or ,) or JSON Lines.")
    snapshot = serializers.BooleanField(
        required=False, default=False,
        help_text="The file holds every record of the source: once it is imported, the "
        "source's records absent from it are marked deleted at the source (kept, flagged).",
    )


class RecordDeletedSerializer(serializers.Serializer):
    """A record its source says it deleted: kept and flagged, never dropped."""

    status = serializers.ChoiceField(
        choices=["deleted", "already_deleted"],
        help_text="`already_deleted` when the source had said so before: nothing changed.",
    )
    # The API's field "source" shadows Field.source in DRF's stubs (drf-stubs#158).
    source = serializers.CharField()  # type: ignore[assignment]
    external_id = serializers.CharField()
    record_id = serializers.IntegerField()
    customer_id = serializers.UUIDField(allow_null=True)
    deleted_at_source = serializers.DateTimeField()


# --- Search before create -----------------------------------------------------


class MatchRequestSerializer(serializers.Serializer):
    """An unsaved record, in canonical attributes: what a call centre or a web form has."""

    civility = serializers.CharField(required=False, allow_blank=True)
    first_name = serializers.CharField(required=False, allow_blank=True)
    last_name = serializers.CharField(required=False, allow_blank=True)
    birth_date = serializers.CharField(required=False, allow_blank=True, help_text="ISO 8601 or dd/mm/yyyy.")
    email = serializers.CharField(required=False, allow_blank=True)
    phone = serializers.CharField(required=False, allow_blank=True)
    mobile = serializers.CharField(required=False, allow_blank=True)
    address_line1 = serializers.CharField(required=False, allow_blank=True)
    address_line2 = serializers.CharField(required=False, allow_blank=True)
    postcode = serializers.CharField(required=False, allow_blank=True)
    city = serializers.CharField(required=False, allow_blank=True)
    country = serializers.CharField(required=False, allow_blank=True, help_text="Default FR.")
    limit = serializers.IntegerField(required=False, min_value=1, max_value=50, default=10)

    def validate(self, data):
        if not any(v for k, v in data.items() if k != "limit"):
            raise serializers.ValidationError("Give at least one attribute to search with.")
        return data


class MatchHitSerializer(serializers.Serializer):
    customer = CustomerSerializer()
    probability = serializers.FloatField()
    band = serializers.ChoiceField(
        choices=("auto_link", "review"),
        help_text="auto_link: above the auto-link threshold and nothing stops a link.",
    )
    explanation = ExplanationSerializer()
