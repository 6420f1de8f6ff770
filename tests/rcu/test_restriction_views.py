"""Restriction on the customer page: only the DPO and the admin restrict or lift, with a
reason; every screen showing the customer marks it."""

from __future__ import annotations

import pytest
from django.urls import reverse

from rcu.models import Customer
from rcu.services.restriction import customer_restrict
from tests.factories import TEST_ACTOR

PERSONAS = ["anonymous", "steward_marketing", "steward_service_client", "dpo", "admin_user",
            "auditor", "outsider"]
MAY_RESTRICT = {"dpo", "admin_user"}


def login(client, request, persona: str) -> None:
    if persona != "anonymous":
        client.force_login(request.getfixturevalue(persona))


@pytest.mark.parametrize("persona", PERSONAS)
def test_only_the_dpo_and_the_admin_restrict_and_lift(client, request, persona, crm_customer):
    login(client, request, persona)
    url = reverse("customer_restriction", args=[crm_customer.public_id])

    response = client.post(url, {"action": "restrict", "reason": "accuracy contested"})

    restricted = Customer.objects.get(pk=crm_customer.pk).restricted_at is not None
    if persona == "anonymous":
        assert response.status_code == 302 and "/accounts/login/" in response["Location"]
    elif persona in MAY_RESTRICT:
        assert response.status_code == 302 and restricted
        response = client.post(url, {"action": "lift", "reason": "verified"})
        assert response.status_code == 302
        assert Customer.objects.get(pk=crm_customer.pk).restricted_at is None
    else:
        assert response.status_code == 403
    if persona not in MAY_RESTRICT:
        assert not restricted


def test_a_restriction_needs_a_reason(client, dpo, crm_customer):
    client.force_login(dpo)
    client.post(reverse("customer_restriction", args=[crm_customer.public_id]),
                {"action": "restrict", "reason": ""})
    assert Customer.objects.get(pk=crm_customer.pk).restricted_at is None


def test_the_search_the_customer_page_and_the_merge_page_mark_a_restricted_customer(
    client, steward_marketing, crm_customer, crm,
):
    customer_restrict(customer=crm_customer, reason="contested", acting_user=TEST_ACTOR)
    client.force_login(steward_marketing)

    found = client.get(reverse("customer_list"), {"q": "lefevre"}).content.decode()
    page = client.get(reverse("customer_detail", args=[crm_customer.public_id])).content.decode()

    assert 'class="badge badge-warn"' in found
    assert 'class="badge badge-warn"' in page and "restriction-title" in page
    # A steward sees that it is restricted, not why, and has no button.
    assert "contested" not in page and reverse("customer_restriction", args=[crm_customer.public_id]) not in page


def test_the_dpo_sees_why_and_can_lift(client, dpo, crm_customer):
    customer_restrict(customer=crm_customer, reason="contested accuracy", acting_user=TEST_ACTOR)
    client.force_login(dpo)
    page = client.get(reverse("customer_detail", args=[crm_customer.public_id])).content.decode()
    assert "contested accuracy" in page and 'value="lift"' in page
