"""The steward half of the administration journey, in French: a steward searches two
customers, merges them, corrects a value, undoes the merge, and finds it all in the
customer's history and decisions."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from rcu.models import Customer, PendingMatch, SourceRecord
from stewardship.models import Decision
from tests.stewardship.builders import person
from tests.stewardship.ledger import one

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def two_helenes(settings, crm):
    return two_helenes_in(crm, settings)


def two_helenes_in(crm, settings):
    """Two customers of one person, not linked: what a steward finds by search."""
    settings.RCU_MATCH_AFTER_IMPORT = False
    a = one(crm, "CRM-1", person("CRM-1"))
    b = one(crm, "CRM-2", person("CRM-2", email="h.lefevre@gmail.com",
                                 address_line1="3 rue des Lilas", postcode="69003", city="Lyon"))
    PendingMatch.objects.all().delete()  # a matched base: nothing waits to be matched
    return a, b


def test_steward_merges_found_customers_corrects_a_value_and_undoes_the_merge(
    page, log_in, steward_marketing, two_helenes
):
    log_in(steward_marketing)
    merge_correct_undo_in_french(page, *two_helenes)


def merge_correct_undo_in_french(page, a, b) -> None:
    """The steward's steps once signed in (the administration journey's new steward
    takes them too)."""
    # Search, tick both, compare.
    page.goto("/customers/?q=Lef%C3%A8vre")
    for record in (a, b):
        public_id = Customer.objects.get(pk=record.customer_id).public_id
        page.check(f"input[name='customers'][value='{public_id}']")
    page.click("#merge-selected")
    page.wait_for_url("**/stewardship/customers/merge/**")
    expect(page.locator("h1")).to_contain_text("Fusionner 2 clients")
    expect(page.locator("table.compare")).to_contain_text("h.lefevre@gmail.com")

    # Keep the Gmail address, and the first customer's id; merge.
    page.check(f"input[name='choice_email'][value='{b.pk}']")
    survivor = Customer.objects.get(pk=a.customer_id)
    page.check(f"input[name='survivor'][value='{survivor.public_id}']")
    page.fill("#id_reason", "même personne, vue au téléphone")
    page.click("button[data-decide='merge']")
    page.wait_for_url(f"**/customers/{survivor.public_id}/**")
    expect(page.locator(".message-success")).to_contain_text("Fusionné")
    assert Customer.objects.get(pk=b.customer_id).merged_into_id == survivor.pk

    # Correct her mobile by hand, with a reason.
    page.locator("#correct summary").click()
    page.fill("#correct-mobile", "07 81 22 33 44")
    page.fill("#correct-reason", "appel du 3 mai")
    page.click("#correct-submit")
    page.wait_for_load_state()
    expect(page.locator(".message-success")).to_contain_text("Corrigé")
    survivor.refresh_from_db()
    assert survivor.mobile == "+33781223344" and survivor.pinned["mobile"]["origin"] == "correction"
    expect(page.locator("#golden")).to_contain_text("Corrigée par un gestionnaire")
    expect(page.locator("#golden")).to_contain_text("appel du 3 mai")

    # The merge was wrong after all: undo it from the decisions panel.
    merge = Decision.objects.get(kind=Decision.Kind.MERGE)
    page.locator(f"[data-undo='{merge.pk}']").click()
    page.wait_for_load_state()
    expect(page.locator(".message-success")).to_be_visible()
    merge.refresh_from_db()
    assert merge.undone_at is not None
    assert SourceRecord.objects.get(pk=b.pk).customer_id == b.customer_id
    survivor.refresh_from_db()
    assert survivor.mobile == "+33781223344"  # the correction made since stays

    # Everything is in the history and the decisions, in French.
    page.goto(f"/customers/{survivor.public_id}/")
    decisions = page.locator("#decisions")
    expect(decisions).to_contain_text("Correction de valeurs")
    expect(decisions).to_contain_text("Fusionner")
    expect(decisions).to_contain_text("annulée")
    history = page.locator("#history")
    expect(history).to_contain_text("correction à la main : appel du 3 mai")
    expect(history).to_contain_text("même personne, vue au téléphone")
    expect(history).to_contain_text("fusion n°")
    expect(page.locator("main")).not_to_contain_text("undo merge")
