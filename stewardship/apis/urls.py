"""Stewardship over the API: /api/v1/candidates/, customer merge, correction and unmerge."""

from __future__ import annotations

from django.urls import path

from stewardship.apis.candidates import (
    CandidateBulkApi,
    CandidateClaimApi,
    CandidateDetailApi,
    CandidateListApi,
    CandidateMergeApi,
    CandidateRejectApi,
)
from stewardship.apis.customers import CustomerCorrectApi, CustomersMergeApi, CustomerUnmergeApi

urlpatterns = [
    path("candidates/", CandidateListApi.as_view(), name="api-v1-candidate-list"),
    path("candidates/bulk/", CandidateBulkApi.as_view(), name="api-v1-candidate-bulk"),
    path("candidates/<int:id>/", CandidateDetailApi.as_view(), name="api-v1-candidate-detail"),
    path(
        "candidates/<int:id>/merge/", CandidateMergeApi.as_view(), name="api-v1-candidate-merge"
    ),
    path(
        "candidates/<int:id>/claim/", CandidateClaimApi.as_view(), name="api-v1-candidate-claim"
    ),
    path(
        "candidates/<int:id>/reject/", CandidateRejectApi.as_view(), name="api-v1-candidate-reject"
    ),
    # Before the customer detail: "merge" is not a customer id.
    path("customers/merge/", CustomersMergeApi.as_view(), name="api-v1-customers-merge"),
    # The customer detail with its PATCH (a correction); before the core's GET-only route
    # (rcu.apis.urls), on the same path. Any text, not only UUIDs: a malformed id is
    # answered by the API (404), as for the detail.
    path("customers/<str:public_id>/", CustomerCorrectApi.as_view(),
         name="api-v1-customer-correct"),
    path(
        "customers/<str:public_id>/unmerge/", CustomerUnmergeApi.as_view(),
        name="api-v1-customer-unmerge",
    ),
]
