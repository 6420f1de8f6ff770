"""Who may call what on the stewardship API: every endpoint, every persona.

Candidate `marketing` joins a CRM record (marketing) with an e-shop record
(ecommerce); candidate `service` joins a customer-service record (service-client)
with an e-shop record. A steward sees and decides the candidates of their
departments' queues; a member of a department without the steward role sees them and
decides none; the DPO, the auditor and the admin see everything and decide nothing
unless they are also stewards of a department; the outsider sees an empty list and
gets 404 everywhere else; anonymous callers are turned away. Unmerging needs a steward
of a department owning one of the customer's sources.
"""

from __future__ import annotations

import pytest

from rcu.models import Customer, SourceRecord
from rcu.roles import Role
from rcu.selectors.records import records_visible_to
from stewardship.models import Decision, MergeCandidate
from stewardship.services.merge import candidate_merge
from tests.factories import TEST_ACTOR, make_user
from tests.stewardship.api_world import CANDIDATES, World, build_world, client_as

MARKETING, SERVICE = "marketing", "service"
PERSONAS = [
    "steward_marketing", "steward_service_client", "steward_ecommerce", "member_marketing",
    "admin_steward", "dpo", "admin_user", "auditor", "outsider", "anonymous",
]
# persona → candidates it sees / may decide
SEES = {
    "steward_marketing": {MARKETING},
    "steward_service_client": {SERVICE},
    "steward_ecommerce": {MARKETING, SERVICE},
    "member_marketing": {MARKETING},
    "admin_steward": {MARKETING, SERVICE},
    "dpo": {MARKETING, SERVICE},
    "admin_user": {MARKETING, SERVICE},
    "auditor": {MARKETING, SERVICE},
    "outsider": set(),
}
DECIDES = {
    "steward_marketing": {MARKETING},
    "steward_service_client": {SERVICE},
    "steward_ecommerce": {MARKETING, SERVICE},
    "admin_steward": {MARKETING},
}


@pytest.fixture
def steward_ecommerce(db):
    # Membership of a department is its group, which holds `rcu.work_queue_department`
    # on the department (granted by `department_get_or_create`), as in tests/conftest.py.
    return make_user("steward_ecommerce", roles=[Role.STEWARD], departments=["ecommerce"])


@pytest.fixture
def member_marketing(db):
    """In the marketing department, without the steward role."""
    return make_user("member_marketing", departments=["marketing"])


@pytest.fixture
def admin_steward(db):
    """An administrator who is also a steward of marketing."""
    return make_user(
        "admin_steward", roles=[Role.ADMIN, Role.STEWARD], departments=["marketing"], is_staff=True
    )


@pytest.fixture
def world(sources) -> World:
    return build_world(sources)


def caller(request, persona: str):
    return client_as(None if persona == "anonymous" else request.getfixturevalue(persona))


def _read_expectation(persona: str, name: str) -> int:
    if persona == "anonymous":
        return 401
    return 200 if name in SEES[persona] else 404


def _decide_expectation(persona: str, name: str) -> int:
    if persona == "anonymous":
        return 401
    if name not in SEES[persona]:
        return 404
    return 200 if name in DECIDES.get(persona, set()) else 403


# (persona, candidate) → the status of any decision on it (merge, reject, claim, unmerge)
DECIDE_CASES = [
    pytest.param(persona, name, _decide_expectation(persona, name), id=f"{persona}-{name}")
    for persona in PERSONAS
    for name in (MARKETING, SERVICE)
]


# --- Reads --------------------------------------------------------------------

@pytest.mark.parametrize("persona", PERSONAS)
def test_list_shows_only_visible_candidates(request, world, persona):
    response = caller(request, persona).get(CANDIDATES)

    if persona == "anonymous":
        assert response.status_code == 401
        return
    assert response.status_code == 200
    listed = {item["id"]: item for item in response.json()["results"]}
    for name, candidate in world.candidates.items():
        assert (candidate.pk in listed) == (name in SEES[persona]), name
        if candidate.pk in listed:
            assert listed[candidate.pk]["can_decide"] == (name in DECIDES.get(persona, set()))


@pytest.mark.parametrize(
    ("persona", "name", "expected"),
    [
        pytest.param(persona, name, _read_expectation(persona, name), id=f"{persona}-{name}")
        for persona in PERSONAS
        for name in (MARKETING, SERVICE)
    ],
)
def test_detail_status(request, world, persona, name, expected):
    response = caller(request, persona).get(f"{CANDIDATES}{world.candidates[name].pk}/")

    assert response.status_code == expected


# --- Decisions on candidates: 200 if decidable, 403 if only visible, 404 if not ---

@pytest.mark.parametrize("action", ["merge", "reject"])
@pytest.mark.parametrize(("persona", "name", "expected"), DECIDE_CASES)
def test_decision_status(request, world, persona, name, expected, action):
    candidate = world.candidates[name]

    response = caller(request, persona).post(
        f"{CANDIDATES}{candidate.pk}/{action}/", {"reason": "matrix"}, format="json"
    )

    assert response.status_code == expected, response.content
    candidate.refresh_from_db()
    if expected == 200:
        assert response.json()["kind"] == action
        assert candidate.status == {"merge": "merged", "reject": "rejected"}[action]
        assert candidate.decided_by == request.getfixturevalue(persona)
    else:
        assert candidate.status == MergeCandidate.Status.OPEN
        assert not Decision.objects.exists()


@pytest.mark.parametrize(("persona", "name", "expected"), DECIDE_CASES)
def test_claim_status(request, world, persona, name, expected):
    candidate = world.candidates[name]
    client = caller(request, persona)

    claimed = client.post(f"{CANDIDATES}{candidate.pk}/claim/")

    assert claimed.status_code == expected, claimed.content
    candidate.refresh_from_db()
    if expected == 200:
        assert candidate.leased_by == request.getfixturevalue(persona)
        released = client.delete(f"{CANDIDATES}{candidate.pk}/claim/")
        assert released.status_code == 204
        candidate.refresh_from_db()
    else:
        assert client.delete(f"{CANDIDATES}{candidate.pk}/claim/").status_code == expected
    assert candidate.leased_by is None


# --- Unmerge: 200 for a steward of one of the customer's departments -----------

@pytest.fixture
def merged(world) -> dict[str, tuple[Customer, Decision]]:
    """Both candidates merged (by nobody in particular): name → (customer, decision)."""
    found = {}
    for name, candidate in world.candidates.items():
        decision = candidate_merge(candidate_id=candidate.pk, acting_user=TEST_ACTOR)
        found[name] = (decision.survivor, decision)
    return found


def _record_to_detach(user, customer: Customer) -> int:
    """A record of the customer the person sees (any, for those who see none)."""
    records = SourceRecord.objects.filter(customer=customer).order_by("pk")
    if user is not None:
        visible = records_visible_to(user).filter(customer=customer).order_by("pk").first()
        if visible is not None:
            return visible.pk
    return records.first().pk


@pytest.mark.parametrize("body", ["records", "decision"])
@pytest.mark.parametrize(("persona", "name", "expected"), DECIDE_CASES)
def test_unmerge_status(request, merged, persona, name, expected, body):
    customer, decision = merged[name]
    user = None if persona == "anonymous" else request.getfixturevalue(persona)
    payload = (
        {"records": [_record_to_detach(user, customer)]}
        if body == "records"
        else {"decision": decision.pk}
    )

    response = client_as(user).post(
        f"/api/v1/customers/{customer.public_id}/unmerge/", payload, format="json"
    )

    assert response.status_code == expected, response.content
    remaining = SourceRecord.objects.filter(customer=customer).count()
    assert remaining == (1 if expected == 200 else 2)
    assert Decision.objects.count() == (3 if expected == 200 else 2)


def test_unknown_objects_are_404_even_for_a_steward(request, world, steward_ecommerce):
    client = client_as(steward_ecommerce)

    assert client.get(f"{CANDIDATES}999999/").status_code == 404
    assert client.post(f"{CANDIDATES}999999/merge/", {}, format="json").status_code == 404
    assert client.post(f"{CANDIDATES}999999/reject/", {}, format="json").status_code == 404
    for public_id in ("00000000-0000-0000-0000-000000000000", "not-a-uuid"):
        response = client.post(
            f"/api/v1/customers/{public_id}/unmerge/", {"decision": 1}, format="json"
        )
        assert response.status_code == 404, public_id


def test_session_authentication_needs_csrf_for_decisions(steward_marketing, password, world):
    from rest_framework.test import APIClient

    client = APIClient(enforce_csrf_checks=True)
    assert client.login(username=steward_marketing.username, password=password)
    candidate = world.candidates[MARKETING]

    assert client.get(f"{CANDIDATES}{candidate.pk}/").status_code == 200
    assert client.post(f"{CANDIDATES}{candidate.pk}/merge/", {}, format="json").status_code == 403
    candidate.refresh_from_db()
    assert candidate.status == MergeCandidate.Status.OPEN
