"""Input and output shapes of the stewardship API. Output serializers only read;
every decision goes through a service."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from rcu.apis.serializers import ExplanationSerializer
from rcu.models import Customer, Department, SourceRecord
from stewardship.explain import explanation_sentence
from stewardship.models import Decision, MergeCandidate
from stewardship.services.bulk import BULK_MAX

REASON_HELP = "Why, in the steward's words; kept in the ledger."


# --- Candidates ---------------------------------------------------------------


class CandidateRecordSerializer(serializers.ModelSerializer):
    """One side of a candidate: which record, where from, which customer holds it now."""

    # The API's field "source" shadows Field.source in DRF's stubs (drf-stubs#158).
    source = serializers.CharField(source="source.code")  # type: ignore[assignment]
    external_id = serializers.SerializerMethodField(
        help_text="Null when the record is in a source the caller may not see."
    )
    customer_id = serializers.UUIDField(
        source="customer.public_id", allow_null=True,
        help_text="Public id of the golden customer holding the record today.",
    )

    class Meta:
        model = SourceRecord
        fields = ["id", "source", "external_id", "customer_id"]

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_external_id(self, record: SourceRecord) -> str | None:
        visible = self.context.get("visible_source_ids", ())
        return record.external_id if record.source_id in visible else None


class CandidateSerializer(serializers.ModelSerializer):
    """A merge candidate: two records of two customers that may be one person."""

    explanation = serializers.SerializerMethodField(
        help_text="The score, broken down per comparison, as the engine stored it."
    )
    sentence = serializers.SerializerMethodField(
        help_text="The explanation in plain words, strongest evidence first "
        "(in the language of the request)."
    )
    departments: serializers.SlugRelatedField[Department] = serializers.SlugRelatedField(
        many=True, read_only=True, slug_field="code",
        help_text="Codes of the departments whose queue holds it.",
    )
    record_a = CandidateRecordSerializer()
    record_b = CandidateRecordSerializer()
    leased_by = serializers.CharField(
        source="leased_by.get_username", allow_null=True,
        help_text="Who is reviewing it; the lease has expired once `leased_until` is past.",
    )
    decided_by = serializers.CharField(source="decided_by.get_username", allow_null=True)
    triage = serializers.SerializerMethodField(
        help_text="likely (nothing speaks against it), check (something does) or "
        "contradiction (the engine found one): the queue's default order."
    )
    assigned_to = serializers.CharField(
        source="assigned_to.get_username", allow_null=True, default=None,
        help_text="The steward it was given to, if any.",
    )
    can_decide = serializers.SerializerMethodField(
        help_text="Whether the caller may merge or reject it (a steward of one of its departments)."
    )

    class Meta:
        model = MergeCandidate
        fields = [
            "id", "status", "probability", "weight", "levels", "explanation", "sentence",
            "departments", "record_a", "record_b", "triage", "assigned_to", "leased_by",
            "leased_until", "decided_by", "decided_at", "can_decide", "created_at", "updated_at",
        ]

    def get_triage(self, candidate: MergeCandidate) -> str:
        return {0: "likely", 1: "check", 2: "contradiction"}.get(candidate.triage, "check")

    @extend_schema_field(ExplanationSerializer(allow_null=True))
    def get_explanation(self, candidate: MergeCandidate) -> dict | None:
        # Passed through as stored (the model's default is empty: null then).
        return candidate.explanation or None

    def get_sentence(self, candidate: MergeCandidate) -> str:
        return explanation_sentence(candidate.explanation or {})

    def get_can_decide(self, candidate: MergeCandidate) -> bool:
        return candidate.pk in self.context.get("decidable_ids", ())


# --- Decisions ----------------------------------------------------------------


class DecisionSerializer(serializers.ModelSerializer):
    """One entry of the stewards' ledger."""

    candidate = serializers.IntegerField(
        source="candidate_id", allow_null=True, help_text="The candidate decided, if any."
    )
    survivor = serializers.UUIDField(
        source="survivor.public_id", allow_null=True,
        help_text="Merge: the surviving customer. Detach: the new customer. Null for a rejection.",
    )
    customers: serializers.SlugRelatedField[Customer] = serializers.SlugRelatedField(
        many=True, read_only=True, slug_field="public_id",
        help_text="Public ids of every customer involved.",
    )
    choices = serializers.DictField(
        child=serializers.IntegerField(), help_text="Attribute → the record whose value was chosen."
    )
    decided_by = serializers.CharField(source="decided_by.get_username", allow_null=True)
    undoes = serializers.IntegerField(
        source="undoes_id", allow_null=True, help_text="The decision this one undid, if any."
    )

    class Meta:
        model = Decision
        fields = [
            "id", "kind", "candidate", "survivor", "customers", "choices", "reason",
            "decided_by", "decided_at", "undoes",
        ]


# --- Requests -----------------------------------------------------------------


class CandidateDecisionRequestSerializer(serializers.Serializer):
    """What every decision on a candidate carries: the version the caller saw, and why."""

    expected_updated_at = serializers.DateTimeField(
        required=False,
        help_text="The candidate's `updated_at` as the caller last read it: if it changed "
        "since (new score, records moved), nothing is done and the answer is 409.",
    )
    reason = serializers.CharField(
        required=False, allow_blank=True, max_length=500, default="", help_text=REASON_HELP
    )


class LeaseSerializer(serializers.ModelSerializer):
    leased_by = serializers.CharField(source="leased_by.get_username", allow_null=True)

    class Meta:
        model = MergeCandidate
        fields = ["id", "leased_by", "leased_until"]
        read_only_fields = fields


class MergeRequestSerializer(CandidateDecisionRequestSerializer):
    choices = serializers.DictField(
        child=serializers.IntegerField(), required=False, default=dict,
        help_text="Attribute (or `address` for the whole address) → id of the source record "
        "whose value the golden record must keep, whatever the survivorship rules say.",
    )
    survivor = serializers.UUIDField(
        required=False,
        help_text="Public id of the customer that keeps its id; by default the one holding "
        "most records.",
    )
    also_customers = serializers.ListField(
        child=serializers.UUIDField(), required=False, default=list, max_length=20,
        help_text="Public ids of other customers to merge along: only customers tied to "
        "the candidate's by another open candidate (the cluster the review shows).",
    )


class RejectRequestSerializer(CandidateDecisionRequestSerializer):
    pass


class UnmergeRequestSerializer(serializers.Serializer):
    records = serializers.ListField(
        child=serializers.IntegerField(), required=False, allow_empty=False,
        help_text="Ids of source records of this customer to detach into a new customer.",
    )
    decision = serializers.IntegerField(
        required=False, help_text="Id of a merge or detach of this customer to undo exactly."
    )
    reason = serializers.CharField(
        required=False, allow_blank=True, max_length=500, default="", help_text=REASON_HELP
    )

    def validate(self, data):
        if ("records" in data) == ("decision" in data):
            raise serializers.ValidationError("Give either records or decision, not both.")
        return data


class CorrectionRequestSerializer(serializers.Serializer):
    values = serializers.DictField(
        child=serializers.CharField(allow_null=True, allow_blank=True, trim_whitespace=True),
        allow_empty=False,
        help_text="Attribute (canonical, or an extra identifier's code) → the value to keep "
        "whatever the sources say (normalised and checked as at ingestion), or null to unpin "
        "it and let survivorship decide again. An address field corrects the whole address "
        "(address_line1, address_line2, postcode, city, country): those not given keep "
        "their current value; null on an address field unpins the whole address.",
    )
    reason = serializers.CharField(max_length=500, help_text=REASON_HELP)


class CustomersMergeRequestSerializer(serializers.Serializer):
    customers = serializers.ListField(
        child=serializers.UUIDField(), min_length=2, max_length=20,
        help_text="Public ids of the customers to merge (2 to 20); a retired id stands for "
        "its survivor.",
    )
    survivor = serializers.UUIDField(
        required=False,
        help_text="Public id of the customer that keeps its id; by default the one holding "
        "most records.",
    )
    choices = serializers.DictField(
        child=serializers.IntegerField(), required=False, default=dict,
        help_text="Attribute (or `address` for the whole address) → id of the source record "
        "whose value the golden record must keep, whatever the survivorship rules say.",
    )
    reason = serializers.CharField(
        required=False, allow_blank=True, max_length=500, default="", help_text=REASON_HELP
    )


class BulkDecisionRequestSerializer(serializers.Serializer):
    action = serializers.ChoiceField(choices=["merge", "reject"],
                                     help_text="`merge` (survivorship decides every value) or `reject`.")
    candidates = serializers.ListField(
        # Ids are positive 64-bit integers: anything else is a 400 naming the item, not a
        # database overflow.
        child=serializers.IntegerField(min_value=1, max_value=2**63 - 1), min_length=1, max_length=BULK_MAX,
        help_text=f"Ids of open candidates of the caller's queues, at most {BULK_MAX}.",
    )
    reason = serializers.CharField(
        required=False, allow_blank=True, max_length=500, default="", help_text=REASON_HELP
    )


class BulkRefusalSerializer(serializers.Serializer):
    candidate = serializers.IntegerField()
    code = serializers.ChoiceField(choices=["forbidden", "conflict", "invalid"])
    detail = serializers.CharField()


class BulkOutcomeSerializer(serializers.Serializer):
    decisions = DecisionSerializer(many=True, help_text="One ledger entry per candidate decided.")
    refused = BulkRefusalSerializer(
        many=True, help_text="Candidates left as they were, and why (the others went ahead)."
    )
