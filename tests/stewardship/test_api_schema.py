"""The OpenAPI schema documents the stewardship endpoints, with their error answers."""

from __future__ import annotations

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

DECISIONS = {
    "/api/v1/candidates/{id}/merge/": "MergeRequest",
    "/api/v1/candidates/{id}/reject/": "RejectRequest",
    "/api/v1/customers/{public_id}/unmerge/": "UnmergeRequest",
}


@pytest.fixture
def schema(auditor) -> dict:
    client = APIClient()
    client.force_authenticate(auditor)
    response = client.get(reverse("api-schema"), HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert response.status_code == 200
    return response.json()


def test_the_schema_lists_the_stewardship_paths(schema):
    paths = schema["paths"]

    assert set(paths["/api/v1/candidates/"]) == {"get"}
    assert set(paths["/api/v1/candidates/{id}/"]) == {"get"}
    for path in DECISIONS:
        assert set(paths[path]) == {"post"}, path


def test_the_candidate_list_is_paginated_and_documents_its_filters(schema):
    operation = schema["paths"]["/api/v1/candidates/"]["get"]

    assert operation["summary"]
    params = {p["name"] for p in operation["parameters"]}
    assert {"status", "department", "band", "source", "min_score", "max_score", "assignee",
            "sort", "page"} <= params
    ok = operation["responses"]["200"]["content"]["application/json"]["schema"]
    assert ok["$ref"].endswith("/PaginatedCandidateList")
    item = schema["components"]["schemas"]["Candidate"]["properties"]
    assert {"id", "status", "probability", "weight", "levels", "explanation", "sentence",
            "departments", "record_a", "record_b", "leased_by", "leased_until", "created_at",
            "updated_at"} <= set(item)


@pytest.mark.parametrize("path", list(DECISIONS))
def test_each_decision_documents_its_body_answer_and_refusals(schema, path):
    operation = schema["paths"][path]["post"]

    assert operation["summary"] and operation["description"]
    body = operation["requestBody"]["content"]["application/json"]
    assert body["schema"]["$ref"].endswith(f"/{DECISIONS[path]}")
    assert body.get("examples")
    responses = operation["responses"]
    assert set(responses) == {"200", "400", "401", "403", "404", "409", "415", "429"}
    assert responses["200"]["content"]["application/json"]["schema"]["$ref"].endswith("/Decision")
    for code in ("400", "401", "403", "404", "409", "415", "429"):
        assert responses[code]["content"]["application/json"]["schema"]["$ref"].endswith("/Error")


def test_the_schema_documents_correction_and_merge_by_search(schema):
    paths = schema["paths"]
    assert set(paths["/api/v1/customers/{public_id}/"]) == {"get", "patch"}
    assert set(paths["/api/v1/customers/merge/"]) == {"post"}
    for path, method, body in (
        ("/api/v1/customers/{public_id}/", "patch", "PatchedCorrectionRequest"),
        ("/api/v1/customers/merge/", "post", "CustomersMergeRequest"),
    ):
        operation = paths[path][method]
        assert operation["summary"] and operation["description"]
        assert operation["requestBody"]["content"]["application/json"]["schema"]["$ref"].endswith(
            f"/{body}")
        assert {"200", "400", "403", "404", "409"} <= set(operation["responses"])
