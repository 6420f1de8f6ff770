"""A steward finds a customer by keyboard and reads why each golden value won."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_steward_searches_by_keyboard_and_reads_provenance(
    page, log_in, steward_marketing, crm_customer, service_client_customer
):
    log_in(steward_marketing)  # lands on the dashboard

    page.keyboard.press("/")  # focuses the quick search in the top bar
    page.keyboard.type("lefevre")
    page.keyboard.press("Enter")
    page.wait_for_url("**/customers/?q=lefevre")
    expect(page.locator("[data-results-for='lefevre']")).to_contain_text("Lefèvre")

    # The search box has the focus again on the results page: Enter opens the first result.
    page.keyboard.press("Enter")
    page.wait_for_url(f"**/customers/{crm_customer.public_id}/")
    main = page.locator("main")
    expect(main).to_contain_text("Hélène")
    expect(main).to_contain_text("06 12 34 56 78")  # E.164 stored, written the French way
    expect(main).to_contain_text("CRM-1")  # provenance: the record each value came from


def test_steward_cannot_find_another_departments_customer(
    page, log_in, steward_marketing, crm_customer, service_client_customer
):
    log_in(steward_marketing)
    page.goto("/customers/?q=martin")
    expect(page.locator("#search-results")).not_to_contain_text("Jean-Pierre")

    response = page.goto(f"/customers/{service_client_customer.public_id}/")
    assert response.status == 404


def test_anonymous_visitor_is_sent_to_the_login_page(page):
    page.goto("/customers/")
    expect(page).to_have_url(re.compile(r"/accounts/login/\?next=/customers/"))
