"""Who may open and decide what in the stewards' workspace: every page, every persona."""

from __future__ import annotations

import pytest
from django.urls import reverse

from rcu.models import Customer
from stewardship.models import Decision, MergeCandidate
from stewardship.services.merge import customers_merge
from tests.stewardship.builders import candidate_between, person

pytestmark = pytest.mark.django_db

# Marketing owns the CRM, e-commerce the e-shop: the candidate is in both queues.
SEES = {"steward_marketing", "dpo", "admin", "auditor"}
DECIDES = {"steward_marketing"}


@pytest.fixture(autouse=True)
def no_matching_after_import(settings):
    settings.RCU_MATCH_AFTER_IMPORT = False


@pytest.fixture
def candidate(crm, eshop):
    return candidate_between(crm, person("CRM-1"), eshop, person("WEB-1", city="Lyon"))


@pytest.fixture
def merged_customer(crm, eshop, steward_marketing):
    other = candidate_between(crm, person("CRM-9", first_name="Paul"), eshop,
                              person("WEB-9", first_name="Paul"))
    customers = [other.record_a.customer_id, other.record_b.customer_id]
    decision = customers_merge(customer_ids=customers, acting_user=steward_marketing)
    return Customer.objects.get(pk=decision.survivor_id), decision


@pytest.mark.parametrize("persona", sorted([
    "steward_marketing", "steward_service_client", "dpo", "admin", "auditor", "outsider"
]))
def test_review_page(client, personas, persona, candidate):
    client.force_login(personas[persona])
    response = client.get(reverse("stewardship:review", args=[candidate.pk]))
    assert response.status_code == (200 if persona in SEES else 404)


@pytest.mark.parametrize("persona", sorted([
    "steward_marketing", "steward_service_client", "dpo", "admin", "auditor", "outsider"
]))
def test_queue_lists_the_candidate_only_to_those_who_see_it(client, personas, persona, candidate):
    client.force_login(personas[persona])
    response = client.get(reverse("stewardship:queue"), {"department": "marketing"})
    assert response.status_code == 200
    assert (f'data-candidate="{candidate.pk}"' in response.content.decode()) == (persona in SEES)


@pytest.mark.parametrize("action", ["merge", "reject", "skip", "reopen"])
@pytest.mark.parametrize("persona", sorted([
    "steward_marketing", "steward_service_client", "dpo", "admin", "auditor", "outsider"
]))
def test_deciding(client, personas, persona, action, candidate):
    client.force_login(personas[persona])
    response = client.post(reverse(f"stewardship:{action}", args=[candidate.pk]), {})
    if persona not in SEES:
        assert response.status_code == 404
    elif persona in DECIDES or action == "skip":
        assert response.status_code == 302
    else:
        assert response.status_code == 403
    candidate.refresh_from_db()
    decided = candidate.status != MergeCandidate.Status.OPEN
    assert decided == (persona in DECIDES and action in ("merge", "reject"))


@pytest.mark.parametrize("persona", sorted([
    "steward_marketing", "steward_service_client", "dpo", "admin", "auditor", "outsider"
]))
def test_customer_panel_undo_and_detach(client, personas, persona, merged_customer):
    customer, decision = merged_customer
    client.force_login(personas[persona])
    panel = client.get(reverse("stewardship:customer_decisions", args=[customer.public_id]))
    # The customer page rules apply: a steward sees customers of their departments' sources.
    sees_customer = persona in {"steward_marketing", "dpo", "admin", "auditor"}
    assert panel.status_code == (200 if sees_customer else 404)
    if sees_customer:
        assert (f'data-undo="{decision.pk}"' in panel.content.decode()) == (persona in DECIDES)
    record = customer.records.get(source__code="crm")  # a record marketing can see
    detached = client.post(reverse("stewardship:detach", args=[customer.public_id]),
                           {"records": [record.pk]})
    assert detached.status_code == (302 if persona in DECIDES else 404 if not sees_customer else 403)
    undo = client.post(reverse("stewardship:undo", args=[decision.pk]))
    expected = 302 if persona in DECIDES else 404 if persona in {"outsider", "steward_service_client"} else 403
    assert undo.status_code == expected
    # The steward's detach moved a record since the merge: undoing the merge is refused
    # with a message (302 back to the page), and nobody else could undo anything.
    assert not Decision.objects.filter(kind=Decision.Kind.UNDO).exists()
    assert Decision.objects.filter(kind=Decision.Kind.DETACH).exists() == (persona in DECIDES)


def test_anonymous_is_sent_to_log_in(client, candidate):
    for url in (reverse("stewardship:queue"), reverse("stewardship:review", args=[candidate.pk])):
        response = client.get(url)
        assert response.status_code == 302 and "/accounts/login/" in response["Location"]
