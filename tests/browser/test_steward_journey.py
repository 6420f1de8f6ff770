"""A steward clears their queue by keyboard, then undoes a merge from the customer page."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from rcu.models import Customer, PendingMatch, SourceRecord
from stewardship.models import Decision, MergeCandidate
from tests.stewardship.builders import candidate_between, person

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def queue(settings, crm, eshop, service_client_source):
    settings.RCU_MATCH_AFTER_IMPORT = False
    lefevre = candidate_between(
        crm, person("CRM-1"),
        eshop, person("WEB-1", address_line1="3 rue des Lilas", postcode="69003", city="Lyon"),
        probability=0.91,
    )
    martins = candidate_between(
        crm, person("CRM-2", first_name="Jean", last_name="Martin", email="jean.martin@free.fr"),
        crm, person("CRM-3", first_name="Jeanne", last_name="Martin", email="jeanne.martin@free.fr"),
        probability=0.62,
    )
    # The planted candidates stand for a matched base: nothing waits to be matched (a
    # decision asks for a run, which would otherwise match these records afresh).
    PendingMatch.objects.all().delete()
    return lefevre, martins


def test_steward_works_the_queue_by_keyboard_and_undoes_a_merge(
    page, log_in, steward_marketing, queue
):
    lefevre, martins = queue
    log_in(steward_marketing)
    page.goto("/stewardship/queue/")
    expect(page.locator("#queue-summary")).to_contain_text("2")

    page.keyboard.press("j")  # selects the first (best) candidate
    page.keyboard.press("Enter")
    page.wait_for_url(f"**/stewardship/candidates/{lefevre.pk}/**")
    expect(page.locator("#review-sentence")).to_contain_text("e-mail")

    # Keep the e-shop's address (Lyon), not the one survivorship would pick (CRM, Paris).
    page.check(f"input[name='choice_address'][value='{lefevre.record_b_id}']")
    page.keyboard.press("m")
    page.wait_for_url(f"**/stewardship/candidates/{martins.pk}/**")  # straight to the next one
    lefevre.refresh_from_db()
    assert lefevre.status == MergeCandidate.Status.MERGED
    survivor = Customer.objects.get(pk=SourceRecord.objects.get(pk=lefevre.record_a_id).customer_id)
    assert survivor.city == "Lyon"

    page.keyboard.press("r")  # two different Martins
    page.wait_for_url("**/stewardship/queue/**")
    expect(page.locator("#queue-empty")).to_be_visible()
    martins.refresh_from_db()
    assert martins.status == MergeCandidate.Status.REJECTED

    # The merge was wrong after all: undo it from the customer page.
    page.goto(f"/customers/{survivor.public_id}/")
    merge = Decision.objects.get(kind=Decision.Kind.MERGE)
    undo = page.locator(f"[data-undo='{merge.pk}']")
    expect(undo).to_be_visible()  # the panel is loaded by htmx
    undo.click()
    page.wait_for_load_state()
    expect(page.locator(".message-success")).to_be_visible()
    merge.refresh_from_db()
    assert merge.undone_at is not None
    record_a, record_b = SourceRecord.objects.filter(
        pk__in=[lefevre.record_a_id, lefevre.record_b_id]
    ).order_by("pk")
    assert record_a.customer_id != record_b.customer_id
    assert Customer.objects.get(pk=record_a.customer_id).city == "Paris"


def test_another_departments_steward_does_not_see_these_candidates(
    page, log_in, steward_service_client, queue
):
    lefevre, _martins = queue
    log_in(steward_service_client)
    page.goto("/stewardship/queue/")
    expect(page.locator("main")).not_to_contain_text("Lefèvre")
    expect(page.locator("main")).not_to_contain_text("Martin")
    response = page.goto(f"/stewardship/candidates/{lefevre.pk}/")
    assert response.status == 404
