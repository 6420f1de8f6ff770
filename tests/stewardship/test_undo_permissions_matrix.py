"""Who may undo a merge, undo a rejection, or reopen one: the same answer in the UI and the API.

Department A (marketing) owns the CRM, department B (service-client) the call centre.
Jeanne is known to both, as two customers; the candidate between them is in both queues.
A merge puts her records in one customer that both departments decide for: a steward of
either may undo it. A rejection keeps the two customers apart: reopening it changes
both, so only a steward who decides for both may (a steward of A alone would otherwise
reopen B's customer through the customer they share). Administrators and read-only
roles undo nothing. Refused: 403 (the API's error shape) and nothing changed.
"""

from __future__ import annotations

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from rcu.models import PairDecision, SourceRecord
from rcu.roles import Role
from stewardship.models import Decision, MergeCandidate
from stewardship.services.merge import candidate_merge
from stewardship.services.reject import candidate_reject
from tests.factories import make_user
from tests.rcu.refusals import error_body
from tests.stewardship.api_world import open_candidate, record

JEANNE = {"first_name": "Jeanne", "last_name": "Lefèvre", "birth_date": "1957-02-01",
          "email": "jeanne.lefevre@orange.fr", "postcode": "75016", "city": "Paris"}

ROLES = ["admin", "steward_a", "steward_b", "steward_a_and_b", "viewer"]
ACTIONS = ["undo_merge", "undo_reject", "reopen"]
ALLOWED = {
    "undo_merge": {"steward_a", "steward_b", "steward_a_and_b"},
    "undo_reject": {"steward_a_and_b"},
    "reopen": {"steward_a_and_b"},
}


@pytest.fixture
def people(admin_user, steward_marketing, steward_service_client, auditor):
    return {
        "admin": admin_user,
        "steward_a": steward_marketing,
        "steward_b": steward_service_client,
        "steward_a_and_b": make_user(
            "steward_a_and_b", roles=[Role.STEWARD], departments=["marketing", "service-client"]
        ),
        "viewer": auditor,
    }


@pytest.fixture
def jeanne(crm, service_client_source):
    a = record(crm, "CRM-1", JEANNE)
    b = record(service_client_source, "SC-1", {**JEANNE, "email": "jl@free.fr"})
    return {"a": a, "b": b, "candidate": open_candidate(a, b, probability=0.8)}


def decided(action: str, jeanne, people) -> Decision:
    """The decision the action would undo, taken by a steward of both departments."""
    decider = people["steward_a_and_b"]
    candidate = jeanne["candidate"]
    if action == "undo_merge":
        return candidate_merge(candidate_id=candidate.pk, acting_user=decider)
    return candidate_reject(candidate_id=candidate.pk, acting_user=decider)


def state() -> tuple:
    return (
        sorted(SourceRecord.objects.values_list("pk", "customer_id")),
        sorted(Decision.objects.values_list("pk", "kind", "undone_at")),
        sorted(PairDecision.objects.values_list("record_a_id", "record_b_id", "kind")),
        sorted(MergeCandidate.objects.values_list("pk", "status")),
    )


def through_ui(client, user, action: str, decision: Decision, jeanne):
    client.force_login(user)
    if action == "reopen":
        return client.post(reverse("stewardship:reopen", args=[jeanne["candidate"].pk]))
    return client.post(reverse("stewardship:undo", args=[decision.pk]))


def through_api(user, role: str, action: str, decision: Decision, jeanne):
    api = APIClient(HTTP_ACCEPT_LANGUAGE="en")
    api.force_authenticate(user)
    # Through the customer the steward sees (the other one is a 404 to them); the others
    # reopen through the call centre's customer and undo through the CRM's.
    side = {"steward_a": "a", "steward_b": "b"}.get(role, "b" if action == "reopen" else "a")
    customer = SourceRecord.objects.get(pk=jeanne[side].pk).customer
    return api.post(
        f"/api/v1/customers/{customer.public_id}/unmerge/", {"decision": decision.pk},
        format="json",
    )


@pytest.mark.parametrize("channel", ["ui", "api"])
@pytest.mark.parametrize("action", ACTIONS)
@pytest.mark.parametrize("role", ROLES)
def test_who_may_undo_and_reopen(client, people, jeanne, role, action, channel):
    decision = decided(action, jeanne, people)
    before = state()
    user = people[role]

    if channel == "ui":
        response = through_ui(client, user, action, decision, jeanne)
    else:
        response = through_api(user, role, action, decision, jeanne)

    if role in ALLOWED[action]:
        assert response.status_code == (302 if channel == "ui" else 200), response.content
        decision.refresh_from_db()
        assert decision.undone_at is not None
        undo = Decision.objects.get(undoes=decision)
        assert undo.decided_by == user
        assert undo.kind == (Decision.Kind.UNDO if action == "undo_merge" else Decision.Kind.REOPEN)
    else:
        if channel == "ui":
            assert response.status_code == 403, response.content
        else:
            error_body(response, 403, "permission_denied")
        assert state() == before


def test_the_matrix_allows_and_refuses_each_action():
    """Not vacuous: each action is allowed to someone and refused to someone."""
    for action in ACTIONS:
        assert ALLOWED[action] and set(ROLES) - ALLOWED[action]
