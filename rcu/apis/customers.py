"""Golden customers: search and detail. Every read is written to the GDPR access log."""

from __future__ import annotations

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.generics import ListAPIView
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from rcu import hooks
from rcu.apis.errors import ApiGone
from rcu.apis.permissions import API_PERMISSIONS
from rcu.apis.schema import BAD_FILTER, ERASED, NOT_AUTHENTICATED, NOT_FOUND
from rcu.apis.selectors import customer_detail_for_user, customer_list
from rcu.apis.serializers import CustomerDetailSerializer, CustomerSerializer
from rcu.selectors.customers import CustomerErased

CUSTOMER_FILTERS = [
    OpenApiParameter(
        "q", OpenApiTypes.STR,
        description="Guesses the kind: an e-mail (contains @), a postcode (5 digits), "
        "a phone number, otherwise a name.",
    ),
    OpenApiParameter(
        "name", OpenApiTypes.STR,
        description="First and/or last name, prefixes, accents and case ignored.",
    ),
    OpenApiParameter("email", OpenApiTypes.STR, description="E-mail, compared normalised."),
    OpenApiParameter(
        "phone", OpenApiTypes.STR, description="Phone or mobile, any French or E.164 notation."
    ),
    OpenApiParameter("postcode", OpenApiTypes.STR, description="Postcode."),
    OpenApiParameter(
        "updated_since", OpenApiTypes.DATETIME,
        description="Only customers whose golden record changed at or after this instant (ISO 8601).",
    ),
]
PUBLIC_ID = OpenApiParameter(
    "public_id", OpenApiTypes.UUID, OpenApiParameter.PATH,
    description="Public id; a retired (merged) id resolves to its survivor.",
)


class CustomerListApi(ListAPIView):
    permission_classes = API_PERMISSIONS
    serializer_class = CustomerSerializer
    filter_backends = ()  # filtering runs in the selector

    def get_queryset(self):
        return customer_list(user=self.request.user, filters=self.request.query_params)

    @extend_schema(
        summary="Search golden customers",
        description="Active customers the caller may see (with `updated_since`, also those "
        "merged away since: `merged_into` names their survivor): all of them for a role that reads "
        "everything, otherwise those with a record in one of their departments' sources. "
        "Criteria combine with AND.",
        parameters=CUSTOMER_FILTERS,
        responses={200: CustomerSerializer(many=True), 400: BAD_FILTER, 401: NOT_AUTHENTICATED},
    )
    def get(self, request: Request, *args, **kwargs) -> Response:
        page = self.paginate_queryset(self.get_queryset())
        assert page is not None  # every list is paginated (REST_FRAMEWORK's PAGE_SIZE)
        hooks.personal_data_read(user=request.user, customers=page, purpose="api_customer_list")
        return self.get_paginated_response(self.get_serializer(page, many=True).data)


class CustomerDetailApi(APIView):
    permission_classes = API_PERMISSIONS

    @extend_schema(
        summary="One golden customer",
        description="Golden values with the provenance of each, extra identifiers, and the "
        "linked source records the caller may see (the others are only counted).",
        parameters=[PUBLIC_ID],
        responses={200: CustomerDetailSerializer, 401: NOT_AUTHENTICATED, 404: NOT_FOUND,
                   410: ERASED},
    )
    def get(self, request: Request, public_id: str) -> Response:
        try:
            customer = customer_detail_for_user(user=request.user, public_id=public_id)
        except CustomerErased as erased:
            raise ApiGone("This customer was erased (GDPR art. 17).", code="erased") from erased
        hooks.personal_data_read(user=request.user, customers=[customer], purpose="api_customer")
        return Response(CustomerDetailSerializer(customer).data)
