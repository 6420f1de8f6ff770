"""Steward actions on golden customers: merge customers found by search, correct golden
values by hand, detach records, or undo a decision from the ledger."""

from __future__ import annotations

from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiExample, extend_schema
from rest_framework.parsers import JSONParser
from rest_framework.request import Request
from rest_framework.response import Response

from rcu.apis.customers import PUBLIC_ID, CustomerDetailApi
from rcu.attributes import ADDRESS_GROUP
from rcu.selectors.customers import customer_get_for_user, customer_resolve
from stewardship.apis.decisions import (
    DecisionApi,
    api_exception_of,
    decision_response,
    forbid_deciding,
)
from stewardship.apis.schema import DECISION_RESPONSES
from stewardship.apis.selectors import customer_decision_get, record_ids_hidden_from
from stewardship.apis.serializers import (
    CorrectionRequestSerializer,
    CustomersMergeRequestSerializer,
    UnmergeRequestSerializer,
)
from stewardship.selectors.access import user_can_decide_for_customer
from stewardship.services.corrections import CorrectionOrigin, customer_values_correct
from stewardship.services.errors import DecisionInvalid
from stewardship.services.merge import customers_merge
from stewardship.services.unmerge import decision_undo, records_detach


class CustomerUnmergeApi(DecisionApi):
    @extend_schema(
        summary="Unmerge a customer",
        description="Either `records`: these source records are not this person; they leave "
        "into a new customer of their own and matching never puts them back (the answer's "
        "`survivor` is the new customer). Or `decision`: a merge or a detachment of this "
        "customer is undone exactly, from the ledger (customers back with their ids, records "
        "and chosen values); undoing a rejection reopens its candidate. A retired customer "
        "id resolves to its survivor. Needs a steward of a department owning one of the "
        "customer's sources; records can only be named from sources the caller sees. An "
        "undo also needs a steward of one of the decision's departments who may decide for "
        "every customer it touched (403 otherwise), as in the review workspace.",
        parameters=[PUBLIC_ID],
        request=UnmergeRequestSerializer,
        responses=DECISION_RESPONSES,
        examples=[
            OpenApiExample(
                "Detach a record", request_only=True,
                value={"records": [19], "reason": "another Jeanne Lefèvre, born 1957"},
            ),
            OpenApiExample("Undo a merge", request_only=True, value={"decision": 311}),
            OpenApiExample(
                "Detached",
                response_only=True,
                status_codes=["200"],
                value={
                    "id": 312, "kind": "detach", "candidate": None,
                    "survivor": "9d2e4c1a-77b0-4a8e-9f0e-2b1c3d4e5f60",
                    "customers": ["0b6f1c1e-5d0c-4a53-9b43-4c1f2f0d8a11",
                                  "9d2e4c1a-77b0-4a8e-9f0e-2b1c3d4e5f60"],
                    "choices": {}, "reason": "another Jeanne Lefèvre, born 1957",
                    "decided_by": "steward_marketing",
                    "decided_at": "2024-05-03T10:07:40.000000+02:00", "undoes": None,
                },
            ),
            OpenApiExample(
                "Changed since",
                response_only=True,
                status_codes=["409"],
                value={"detail": "A later decision changed these customers; undo it first.",
                       "code": "conflict", "errors": []},
            ),
        ],
    )
    def post(self, request: Request, public_id: str) -> Response:
        customer = customer_get_for_user(user=request.user, public_id=public_id)
        if not user_can_decide_for_customer(user=request.user, customer=customer):
            raise forbid_deciding()
        body = UnmergeRequestSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        if "records" in data:
            hidden = record_ids_hidden_from(user=request.user, record_ids=data["records"])
            if hidden:
                raise DecisionInvalid(
                    _("Record %(id)s is not one of the records you may see.") % {"id": hidden[0]},
                    field="records",
                )
            decision = records_detach(
                customer_id=customer.pk, record_ids=data["records"], acting_user=request.user,
                reason=data["reason"],
            )
        else:
            undone = customer_decision_get(customer=customer, pk=data["decision"])
            if undone is None:
                raise DecisionInvalid(
                    _("Decision %(id)s is not a decision on this customer.")
                    % {"id": data["decision"]},
                    field="decision",
                )
            # The service holds the rule (user_can_undo): a 403 when the caller may not.
            decision = decision_undo(
                decision_id=undone.pk, acting_user=request.user, reason=data["reason"]
            )
        return decision_response(decision)


class CustomerCorrectApi(CustomerDetailApi):
    """The customer detail (`GET`, as in `rcu.apis.customers`) and a steward's correction
    (`PATCH`): declared on the same path before the core's route, which it answers too."""

    parser_classes = [JSONParser]

    def handle_exception(self, exc: Exception) -> Response:
        return super().handle_exception(api_exception_of(exc))

    @extend_schema(
        summary="Correct golden values",
        description="A steward pins values typed by hand, with a reason: each becomes the "
        "golden value whatever the sources say later, with the steward and the reason as its "
        "provenance, until a steward changes it or unpins it (null). The address is one "
        "block. Values are normalised and checked as at ingestion: a value ingestion would "
        "reject is a 400 naming it (`values.email`). A value rectified by the DPO at a data "
        "subject's request can only be changed by the DPO (403). Needs a steward of a "
        "department owning one of the customer's sources. Answers the ledger entry (kind "
        "`correct`), undone like any other with the unmerge endpoint (`decision`).",
        parameters=[PUBLIC_ID],
        request=CorrectionRequestSerializer,
        responses=DECISION_RESPONSES,
        examples=[
            OpenApiExample(
                "New e-mail, address unpinned", request_only=True,
                value={"values": {"email": "helene.martin@gmail.com", "city": None},
                       "reason": "she called on 3 May"},
            ),
            OpenApiExample(
                "Bad e-mail", response_only=True, status_codes=["400"],
                value={"detail": "values.email: not-an-address: invalid, not kept.",
                       "code": "invalid",
                       "errors": [{"field": "values.email",
                                   "reason": "not-an-address: invalid, not kept."}]},
            ),
        ],
    )
    def patch(self, request: Request, public_id: str) -> Response:
        customer = customer_get_for_user(user=request.user, public_id=public_id)
        if not user_can_decide_for_customer(user=request.user, customer=customer):
            raise forbid_deciding()
        body = CorrectionRequestSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        try:
            decision = customer_values_correct(
                customer_id=customer.pk, values=data["values"], reason=data["reason"],
                origin=CorrectionOrigin.CORRECTION, acting_user=request.user,
            )
        except DecisionInvalid as exc:
            if exc.field in data["values"] or exc.field in ADDRESS_GROUP:
                raise DecisionInvalid(str(exc), field=f"values.{exc.field}") from exc
            raise
        return decision_response(decision)


class CustomersMergeApi(DecisionApi):
    @extend_schema(
        summary="Merge customers found by search",
        description="Merges these customers into one, as a candidate merge does: every source "
        "record moves to the survivor, the others keep their ids and redirect to it, the "
        "chosen values are pinned, and matching never splits them again. One decision in the "
        "ledger, undone with the unmerge endpoint (`decision`). Needs a steward who may "
        "decide for every one of them (a department owning one of each customer's sources); "
        "choices name records the caller may see.",
        request=CustomersMergeRequestSerializer,
        responses=DECISION_RESPONSES,
        examples=[
            OpenApiExample(
                "Two Hélène Lefèvre", request_only=True,
                value={"customers": ["0b6f1c1e-5d0c-4a53-9b43-4c1f2f0d8a11",
                                     "9d2e4c1a-77b0-4a8e-9f0e-2b1c3d4e5f60"],
                       "survivor": "0b6f1c1e-5d0c-4a53-9b43-4c1f2f0d8a11",
                       "choices": {"email": 19, "address": 7},
                       "reason": "same person, confirmed by phone"},
            ),
        ],
    )
    def post(self, request: Request) -> Response:
        body = CustomersMergeRequestSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        customers = []
        for public_id in data["customers"]:
            customer = customer_get_for_user(user=request.user, public_id=public_id)
            if not user_can_decide_for_customer(user=request.user, customer=customer):
                raise forbid_deciding()
            customers.append(customer)
        survivor_id = None
        if "survivor" in data:
            survivor = customer_resolve(data["survivor"])
            if survivor is None or survivor.pk not in {c.pk for c in customers}:
                raise DecisionInvalid(
                    _("The surviving customer must be one of those merged."), field="survivor"
                )
            survivor_id = survivor.pk
        hidden = record_ids_hidden_from(user=request.user, record_ids=data["choices"].values())
        if hidden:
            raise DecisionInvalid(
                _("Record %(id)s is not one of the records you may see.") % {"id": hidden[0]},
                field="choices",
            )
        try:
            decision = customers_merge(
                customer_ids=[c.pk for c in customers], survivor_id=survivor_id,
                choices=data["choices"], reason=data["reason"], acting_user=request.user,
            )
        except DecisionInvalid as exc:
            if exc.field in data["choices"]:
                raise DecisionInvalid(str(exc), field=f"choices.{exc.field}") from exc
            raise
        return decision_response(decision)
