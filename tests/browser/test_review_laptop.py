"""The review page on a 1366x768 laptop: two records fit without scrolling sideways,
the decision bar never covers a row, Enter in the reason field never decides, and the
confirmation of a merge carries its undo."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from rcu.models import PendingMatch
from stewardship.models import Decision, MergeCandidate
from tests.stewardship.builders import candidate_between, person

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

LAPTOP = {"width": 1366, "height": 768}


@pytest.fixture
def two_records(settings, crm, eshop):
    settings.RCU_MATCH_AFTER_IMPORT = False
    # Long values, as real bases hold: they must wrap, not widen the page.
    candidate = candidate_between(
        crm, person("CRM-000000000000000000001", email="marie-helene.de-la-fontaine-lefevre@entreprise-tres-longue.example.fr",
                    address_line1="Résidence des Grands Chênes, bâtiment B, escalier 4, 127 boulevard du Maréchal-de-Lattre-de-Tassigny",
                    birth_date="1971-04-03", mobile="0612345678"),
        eshop, person("WEB-000000000000000000001", email="mh.lefevre@example.org",
                      address_line1="3 rue des Lilas", postcode="69003", city="Lyon",
                      birth_date="1971-04-03", mobile="0698765432"),
        probability=0.91,
    )
    PendingMatch.objects.all().delete()
    return candidate


def _no_horizontal_scroll(page) -> None:
    widths = page.evaluate(
        """() => {
          const wrap = document.querySelector('.compare-wrap');
          return [document.documentElement.scrollWidth, document.documentElement.clientWidth,
                  wrap.scrollWidth, wrap.clientWidth];
        }"""
    )
    page_scroll, page_width, table_scroll, table_width = widths
    assert page_scroll <= page_width, f"the page scrolls sideways: {widths}"
    assert table_scroll <= table_width, f"the comparison scrolls sideways: {widths}"


def test_a_two_record_review_fits_a_laptop_and_enter_never_decides(
    browser, live_server, password, steward_marketing, two_records
):
    context = browser.new_context(base_url=live_server.url, locale="fr-FR", viewport=LAPTOP)
    page = context.new_page()
    page.set_default_timeout(10_000)
    page.goto("/accounts/login/")
    page.fill("#id_username", steward_marketing.username)
    page.fill("#id_password", password)
    page.press("#id_password", "Enter")
    page.wait_for_url(lambda url: "/accounts/login/" not in url)

    url = f"/stewardship/candidates/{two_records.pk}/"
    page.goto(url)
    expect(page.locator("[data-records='2']")).to_be_visible()
    _no_horizontal_scroll(page)
    # French formats: the birth date and the mobile as people write them.
    expect(page.locator("tr[data-attribute='birth_date']")).to_contain_text("03/04/1971")
    expect(page.locator("tr[data-attribute='mobile']")).to_contain_text("06 12 34 56 78")

    # The sticky decision bar never covers the row in focus, down to the last one.
    bar = page.locator("[data-decision-bar]")
    last_choice = page.locator("tbody tr:has(input[type=radio]) input[type=radio]").last
    last_choice.focus()
    row_box = last_choice.locator("xpath=ancestor::tr").bounding_box()
    bar_box = bar.bounding_box()
    assert row_box["y"] + row_box["height"] <= bar_box["y"] + 1, (row_box, bar_box)
    page.evaluate("window.scrollTo(0, document.body.scrollHeight)")
    last_row = page.locator(".compare tbody tr").last.bounding_box()
    assert last_row["y"] + last_row["height"] <= bar.bounding_box()["y"] + 1

    # Enter in the reason field, or on a chosen value, decides nothing.
    page.fill("#id_reason", "même personne, vérifié au téléphone")
    page.press("#id_reason", "Enter")
    last_choice.check()
    page.keyboard.press("Enter")
    page.wait_for_timeout(500)
    assert page.url.endswith(url)
    two_records.refresh_from_db()
    assert two_records.status == MergeCandidate.Status.OPEN
    assert not Decision.objects.exists()

    # The merge button decides; its confirmation offers the undo, which works.
    page.click("[data-decide='merge']")
    page.wait_for_load_state()
    undo = page.locator("[data-undo-last]")
    expect(undo).to_be_visible()
    two_records.refresh_from_db()
    assert two_records.status == MergeCandidate.Status.MERGED
    undo.click()
    page.wait_for_load_state()
    expect(page.locator(".message-success")).to_be_visible()
    assert Decision.objects.get(kind=Decision.Kind.MERGE).undone_at is not None
    context.close()
