"""/api/v1/gdpr/requests/{id}/matches/ and …/scope/: finding the person, confirming the scope."""

from __future__ import annotations

from typing import Any

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiExample, extend_schema
from rest_framework import serializers
from rest_framework.exceptions import ValidationError
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from gdpr.selectors.requests import subject_request_get_for_user
from gdpr.selectors.scope import Proposals, ProposedCustomer, ProposedRecord, request_matches
from gdpr.services.access_log import access_log_record
from gdpr.services.scope import ScopeInvalid, request_scope_set
from rcu.apis.permissions import API_PERMISSIONS

SEARCH_PURPOSE = "gdpr_request_search"
SHOWN_VALUES = ("first_name", "last_name", "birth_date", "email", "phone", "mobile",
                "postcode", "city")


class ScopeRequestSerializer(serializers.Serializer):
    customers = serializers.ListField(child=serializers.UUIDField(), required=False, default=list)
    records = serializers.ListField(
        child=serializers.IntegerField(min_value=1), required=False, default=list
    )


def _record_json(p: ProposedRecord) -> dict[str, Any]:
    return {
        "id": p.record.pk,
        "source": p.record.source.code,
        "external_id": p.record.external_id,
        "probability": p.probability,
        "found_by": list(p.found_by),
        "agreements": [e.to_json() for e in p.agreements],
        "contradictions": [e.to_json() for e in p.contradictions],
        "link_guard": p.link_guard,
        "in_scope": p.in_scope,
    }


def _customer_json(p: ProposedCustomer) -> dict[str, Any]:
    values = {}
    for name in SHOWN_VALUES:
        value = getattr(p.customer, name)
        if value not in ("", None):
            values[name] = value.isoformat() if hasattr(value, "isoformat") else value
    return {
        "public_id": str(p.customer.public_id),
        "probability": p.probability,
        "suggested": p.suggested,
        "in_scope": p.in_scope,
        "found_by": list(p.found_by),
        "contradictions": [e.to_json() for e in p.contradictions],
        "values": values,
        "records": [_record_json(r) for r in p.records],
    }


def proposals_json(proposals: Proposals) -> dict[str, Any]:
    return {
        "identifiers": proposals.identifiers_used,
        "customer_numbers": [{"source": s, "external_id": e} for s, e in proposals.customer_numbers],
        "customers": [_customer_json(p) for p in proposals.customers],
        "records": [_record_json(r) for r in proposals.orphan_records],
    }


class RequestMatchesApi(APIView):
    permission_classes = API_PERMISSIONS

    @extend_schema(
        summary="Find the person of a subject request",
        description="The golden customers and source records the identifiers given point to, "
        "best first, each with its score and the evidence for and against. Look-alikes are "
        "proposed with what contradicts them and `suggested: false`. Only the DPO; the read "
        "is logged in the access log.",
        responses={200: OpenApiTypes.OBJECT},
    )
    def get(self, request: Request, pk: int) -> Response:
        subject_request = subject_request_get_for_user(user=request.user, pk=pk)
        proposals = request_matches(request=subject_request)
        access_log_record(user=request.user, customers=proposals.all_customers,
                          purpose=SEARCH_PURPOSE)
        return Response(proposals_json(proposals))


class RequestScopeApi(APIView):
    permission_classes = API_PERMISSIONS

    @extend_schema(
        summary="Confirm a subject request's scope",
        description="These customers (each with all its records) and records are the "
        "person's; what was in scope before and is not named is set aside. Only the DPO.",
        request=ScopeRequestSerializer,
        responses={200: OpenApiTypes.OBJECT},
        examples=[OpenApiExample("Two customers and a record", request_only=True, value={
            "customers": ["6f1c2a1e-2b9f-4c55-9d0c-1b0e5b1c9a10"], "records": [42]})],
    )
    def post(self, request: Request, pk: int) -> Response:
        subject_request = subject_request_get_for_user(user=request.user, pk=pk)
        serializer = ScopeRequestSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        try:
            outcome = request_scope_set(
                request=subject_request,
                customer_public_ids=serializer.validated_data["customers"],
                record_ids=serializer.validated_data["records"], acting_user=request.user,
            )
        except ScopeInvalid as exc:
            errors: dict[str, Any] = {}
            if exc.unknown_customers:
                errors["customers"] = [f"unknown customer {c}" for c in exc.unknown_customers]
            if exc.unknown_records:
                errors["records"] = [f"unknown record {r}" for r in exc.unknown_records]
            raise ValidationError(errors) from None
        return Response({"customers": outcome.customers, "records": outcome.records,
                         "set_aside": outcome.set_aside})


