"""Merge candidates: the queue, one candidate, and the two decisions on it.

Candidates show record ids, sources, customer ids, scores and the explanation (which
comparisons agreed, at what level): no name, e-mail or address. Reading them is
therefore not a read of personal data and is not written to the GDPR access log;
the customers' values are read through the customer endpoints, which log it.
"""

from __future__ import annotations

from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiExample, extend_schema
from rest_framework.generics import ListAPIView
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from rcu.apis.permissions import API_PERMISSIONS
from rcu.apis.schema import BAD_FILTER, NOT_AUTHENTICATED, NOT_FOUND
from rcu.selectors.customers import customer_resolve
from stewardship.apis.decisions import DecisionApi, decision_response, forbid_deciding
from stewardship.apis.schema import (
    ALREADY_DECIDED_EXAMPLE,
    CANDIDATE_EXAMPLE,
    CANDIDATE_FILTERS,
    CANDIDATE_ID,
    CONFLICT,
    DECISION_RESPONSES,
    MERGE_DECISION_EXAMPLE,
    NOT_DECIDER,
)
from stewardship.apis.selectors import (
    candidate_detail_for_user,
    candidate_display_context,
    candidate_list,
    decision_for_display,
)
from stewardship.apis.serializers import (
    BulkDecisionRequestSerializer,
    BulkOutcomeSerializer,
    CandidateSerializer,
    LeaseSerializer,
    MergeRequestSerializer,
    RejectRequestSerializer,
)
from stewardship.models import MergeCandidate
from stewardship.selectors.access import DECIDE, candidate_get_for_user, user_can_decide
from stewardship.services.bulk import BULK_MAX, candidates_bulk_decide
from stewardship.services.errors import DecisionInvalid
from stewardship.services.leases import candidate_claim_or_refuse, candidate_release
from stewardship.services.merge import candidate_merge
from stewardship.services.reject import candidate_reject


def _decidable_candidate(*, user, pk: int) -> MergeCandidate:
    """404 when the person may not see it, 403 when they see it but may not decide it."""
    candidate = candidate_get_for_user(user=user, pk=pk)
    if not user_can_decide(user=user, candidate=candidate):
        raise forbid_deciding()
    return candidate


class CandidateListApi(ListAPIView):
    permission_classes = API_PERMISSIONS
    serializer_class = CandidateSerializer
    filter_backends = ()  # filtering runs in the selector

    def get_queryset(self):
        return candidate_list(user=self.request.user, filters=self.request.query_params)

    @extend_schema(
        summary="Merge candidates",
        description="Candidates the caller may see: those of their departments' queues for a "
        "steward, all of them for a role that reads everything (DPO, auditor, administrator). "
        "Open ones by default, best score first. Criteria combine with AND. Record external "
        "ids of sources the caller may not see are null.",
        parameters=CANDIDATE_FILTERS,
        responses={200: CandidateSerializer(many=True), 400: BAD_FILTER, 401: NOT_AUTHENTICATED},
        examples=[CANDIDATE_EXAMPLE],
    )
    def get(self, request: Request, *args, **kwargs) -> Response:
        page = self.paginate_queryset(self.get_queryset())
        assert page is not None  # every list is paginated (REST_FRAMEWORK's PAGE_SIZE)
        context = candidate_display_context(user=request.user, candidates=page)
        return self.get_paginated_response(CandidateSerializer(page, many=True, context=context).data)


class CandidateDetailApi(APIView):
    permission_classes = API_PERMISSIONS

    @extend_schema(
        summary="One merge candidate",
        parameters=[CANDIDATE_ID],
        responses={200: CandidateSerializer, 401: NOT_AUTHENTICATED, 404: NOT_FOUND},
        examples=[CANDIDATE_EXAMPLE],
    )
    def get(self, request: Request, id: int) -> Response:
        candidate = candidate_detail_for_user(user=request.user, pk=id)
        context = candidate_display_context(user=request.user, candidates=[candidate])
        return Response(CandidateSerializer(candidate, context=context).data)


class CandidateMergeApi(DecisionApi):
    @extend_schema(
        summary="Merge a candidate",
        description="Merges the customers of the candidate's two records into one: every "
        "source record moves to the survivor, the other customer keeps its id and redirects "
        "to it, the chosen values are pinned, and matching will never split them again. "
        "One transaction; undo it with `POST /api/v1/customers/{public_id}/unmerge/`. "
        "Needs a steward of one of the candidate's departments.",
        parameters=[CANDIDATE_ID],
        request=MergeRequestSerializer,
        responses=DECISION_RESPONSES,
        examples=[
            OpenApiExample(
                "Keep the service-client e-mail",
                request_only=True,
                value={"choices": {"email": 19, "address": 7},
                       "expected_updated_at": "2024-05-03T10:00:00.123456+02:00",
                       "reason": "same person, confirmed by phone"},
            ),
            MERGE_DECISION_EXAMPLE,
            OpenApiExample(
                "Record without that value",
                response_only=True,
                status_codes=["400"],
                value={
                    "detail": "choices.email: email: record 7 has no value for it.",
                    "code": "invalid",
                    "errors": [{"field": "choices.email",
                                "reason": "email: record 7 has no value for it."}],
                },
            ),
            ALREADY_DECIDED_EXAMPLE,
        ],
    )
    def post(self, request: Request, id: int) -> Response:
        candidate = _decidable_candidate(user=request.user, pk=id)
        body = MergeRequestSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        survivor_id = None
        if "survivor" in data:
            survivor = customer_resolve(data["survivor"])
            if survivor is None:
                raise DecisionInvalid(_("No such customer."), field="survivor")
            survivor_id = survivor.pk
        also = []
        for public_id in data["also_customers"]:
            customer = customer_resolve(public_id)
            if customer is None:
                raise DecisionInvalid(_("No such customer."), field="also_customers")
            also.append(customer.pk)
        try:
            decision = candidate_merge(
                candidate_id=candidate.pk, acting_user=request.user, choices=data["choices"],
                survivor_id=survivor_id, also_customer_ids=also,
                expected_updated_at=data.get("expected_updated_at"), reason=data["reason"],
            )
        except DecisionInvalid as exc:
            # The service names the attribute; over the API it is a key of `choices`.
            if exc.field in data["choices"]:
                raise DecisionInvalid(str(exc), field=f"choices.{exc.field}") from exc
            raise
        return decision_response(decision)


class CandidateRejectApi(DecisionApi):
    @extend_schema(
        summary="Reject a candidate",
        description="Not the same person: every record of one customer against every record "
        "of the other is remembered as cannot-link, so no later match, merge or rule change "
        "joins them or proposes them again. Undo it with the customers' unmerge endpoint "
        "(`decision`). Needs a steward of one of the candidate's departments.",
        parameters=[CANDIDATE_ID],
        request=RejectRequestSerializer,
        responses=DECISION_RESPONSES,
        examples=[
            OpenApiExample(
                "Twins",
                request_only=True,
                value={"reason": "twins: same address, different first names",
                       "expected_updated_at": "2024-05-03T10:00:00.123456+02:00"},
            ),
            ALREADY_DECIDED_EXAMPLE,
        ],
    )
    def post(self, request: Request, id: int) -> Response:
        candidate = _decidable_candidate(user=request.user, pk=id)
        body = RejectRequestSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        decision = candidate_reject(
            candidate_id=candidate.pk, acting_user=request.user, reason=body.validated_data["reason"],
            expected_updated_at=body.validated_data.get("expected_updated_at"),
        )
        return decision_response(decision)


class CandidateClaimApi(DecisionApi):
    """The lease the review page takes, for clients that build their own review screen."""

    @extend_schema(
        summary="Claim a candidate",
        description="Leases the open candidate to the caller for the configured time "
        "(`RCU_CANDIDATE_LEASE_MINUTES`), or extends their lease: others see who holds it "
        "and cannot decide it meanwhile. 409 when another steward holds an unexpired lease "
        "or the candidate is no longer open. Needs a steward of one of its departments.",
        parameters=[CANDIDATE_ID],
        request=None,
        responses={200: LeaseSerializer, 401: NOT_AUTHENTICATED, 403: NOT_DECIDER, 404: NOT_FOUND,
                   409: CONFLICT},
    )
    def post(self, request: Request, id: int) -> Response:
        candidate = _decidable_candidate(user=request.user, pk=id)
        candidate_claim_or_refuse(candidate=candidate, user=request.user)
        return Response(LeaseSerializer(candidate).data)

    @extend_schema(
        summary="Give a candidate back",
        description="Ends the caller's lease on the candidate (nothing happens when they do "
        "not hold it).",
        parameters=[CANDIDATE_ID],
        request=None,
        responses={204: None, 401: NOT_AUTHENTICATED, 403: NOT_DECIDER, 404: NOT_FOUND},
    )
    def delete(self, request: Request, id: int) -> Response:
        candidate = _decidable_candidate(user=request.user, pk=id)
        candidate_release(candidate=candidate, user=request.user)
        return Response(status=204)


class CandidateBulkApi(DecisionApi):
    @extend_schema(
        summary="Decide many candidates at once",
        description="Merges (survivorship decides every value) or rejects each candidate "
        f"listed (at most {BULK_MAX}), in id order, each on its own as if opened one by one: "
        "each gets its own ledger entry, undone one by one with the customers' unmerge "
        "endpoint. A candidate that cannot be decided (not in the caller's queues, held by "
        "another steward, decided meanwhile, closed by an earlier merge of the same batch) "
        "is left as it is and listed in `refused`; the others go ahead. Needs the steward "
        "role.",
        request=BulkDecisionRequestSerializer,
        responses={200: BulkOutcomeSerializer, 400: DECISION_RESPONSES[400],
                   401: NOT_AUTHENTICATED, 403: NOT_DECIDER},
        examples=[
            OpenApiExample(
                "Merge the likely duplicates", request_only=True,
                value={"action": "merge", "candidates": [311, 312, 318],
                       "reason": "likely duplicates, checked in the list"},
            ),
        ],
    )
    def post(self, request: Request) -> Response:
        if not request.user.has_perm(DECIDE):
            raise forbid_deciding()
        body = BulkDecisionRequestSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        outcome = candidates_bulk_decide(
            candidate_ids=data["candidates"], action=data["action"], reason=data["reason"],
            acting_user=request.user,
        )
        return Response(BulkOutcomeSerializer({
            "decisions": [decision_for_display(d) for d in outcome.decisions],
            "refused": [{"candidate": r.candidate, "code": r.code, "detail": r.detail}
                        for r in outcome.refused],
        }).data)
