"""Merging customers a steward found by search: selected in the results, compared side by
side on the review screen, merged with the values picked, undone from the message."""

from __future__ import annotations

import pytest
from django.urls import reverse

from rcu.models import Customer, SourceRecord
from stewardship.models import Decision
from tests.stewardship.builders import person
from tests.stewardship.ledger import one

pytestmark = pytest.mark.django_db

MERGE = reverse("stewardship:customers_merge")
PERSONAS = ["steward_marketing", "steward_service_client", "dpo", "admin", "auditor", "outsider"]


@pytest.fixture(autouse=True)
def no_matching_after_import(settings):
    settings.RCU_MATCH_AFTER_IMPORT = False


@pytest.fixture
def two(crm):
    a = one(crm, "CRM-1", person("CRM-1"))
    b = one(crm, "CRM-2", person("CRM-2", email="h.lefevre@gmail.com", city="Lyon",
                                 postcode="69003", address_line1="3 rue des Lilas"))
    return a, b


def ids(*records) -> list[str]:
    return [str(Customer.objects.get(pk=r.customer_id).public_id) for r in records]


def test_search_results_offer_the_selection_to_stewards_only(client, personas, two):
    for persona in PERSONAS:
        client.force_login(personas[persona])
        page = client.get(reverse("customer_list"), {"q": "Lefèvre"}).content.decode()
        assert ('id="merge-selection"' in page) == (persona == "steward_marketing"), persona


def test_the_selected_customers_are_shown_side_by_side(client, steward_marketing, two):
    client.force_login(steward_marketing)
    response = client.get(MERGE, {"customers": ids(*two)})
    assert response.status_code == 200
    page = response.content.decode()
    assert 'class="table compare' in page and 'data-records="2"' in page
    assert "h.lefevre@gmail.com" in page and 'name="choice_email"' in page


@pytest.mark.parametrize("persona", PERSONAS)
def test_who_may_merge_customers_found_by_search(client, personas, persona, two):
    client.force_login(personas[persona])
    response = client.post(MERGE, {"customers": ids(*two), "reason": "same"})
    merged = Customer.objects.filter(merged_into__isnull=False).count()
    if persona == "steward_marketing":
        assert response.status_code == 302 and merged == 1
    else:
        assert response.status_code in (403, 404) and merged == 0


def test_merge_with_picked_values_then_undo_from_the_message(client, steward_marketing, two):
    a, b = two
    client.force_login(steward_marketing)
    response = client.post(MERGE, {
        "customers": ids(a, b), "survivor": ids(b)[0], "choice_email": str(b.pk),
        "choice_address": str(a.pk), "reason": "same person",
    }, follow=True)
    survivor = Customer.objects.get(pk=b.customer_id)
    assert survivor.merged_into_id is None
    assert Customer.objects.get(pk=a.customer_id).merged_into_id == survivor.pk
    assert (survivor.email, survivor.city) == ("h.lefevre@gmail.com", "Paris")
    decision = Decision.objects.get(kind=Decision.Kind.MERGE)
    assert f'data-undo-last="{decision.pk}"' in response.content.decode()
    client.post(reverse("stewardship:undo", args=[decision.pk]))
    assert SourceRecord.objects.get(pk=a.pk).customer_id == a.customer_id
    assert Customer.objects.get(pk=a.customer_id).merged_into_id is None


def test_one_customer_is_not_a_merge(client, steward_marketing, two):
    client.force_login(steward_marketing)
    response = client.get(MERGE, {"customers": ids(two[0])})
    assert response.status_code == 302 and response.url == reverse("customer_list")
