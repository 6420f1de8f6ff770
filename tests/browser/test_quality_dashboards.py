"""Each quality dashboard opens in Chromium at 1366x768, for an admin and a steward, and is
kept as a screenshot (the artefacts: $RCU_TEST_ARTEFACTS, default var/artefacts/)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from playwright.sync_api import expect

from quality.services import quality_snapshot_take
from tests.factories import TEST_ACTOR
from tests.quality.base import build_base

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

ROOT = Path(__file__).resolve().parents[2]
PAGES = {
    "quality": "/quality/",
    "quality-source": "/quality/sources/crm/?attribute=email",
    "quality-records": "/quality/sources/crm/records/?flag=city.postcode_mismatch",
    "quality-kpis": "/quality/kpis/",
    "home": "/",
}


def _artefacts() -> Path:
    folder = Path(os.environ.get("RCU_TEST_ARTEFACTS") or ROOT / "var" / "artefacts") / "screenshots"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@pytest.fixture
def measured(sources, steward_everywhere, settings):
    settings.RCU_MATCH_AFTER_IMPORT = False
    build_base(sources, steward=steward_everywhere)
    quality_snapshot_take(notify=False, acting_user=TEST_ACTOR)


@pytest.fixture
def desktop(browser, live_server, password):
    """A 1366x768 window signed in as the given person (a page of its own)."""
    contexts = []

    def _open(user):
        context = browser.new_context(base_url=live_server.url, locale="fr-FR",
                                      viewport={"width": 1366, "height": 768})
        contexts.append(context)
        page = context.new_page()
        page.set_default_timeout(10_000)
        page.goto("/accounts/login/")
        page.fill("#id_username", user.username)
        page.fill("#id_password", password)
        page.press("#id_password", "Enter")
        page.wait_for_url(lambda url: "/accounts/login/" not in url)
        return page

    yield _open
    for context in contexts:
        context.close()


@pytest.mark.parametrize("persona", ["admin", "steward"])
def test_each_quality_page_opens_and_is_kept_as_a_screenshot(
    desktop, measured, persona, admin_user, steward_marketing
):
    page = desktop(admin_user if persona == "admin" else steward_marketing)
    for name, url in PAGES.items():
        response = page.goto(url)
        assert response is not None and response.status == 200, (name, url)
        expect(page.locator("h1")).to_be_visible()
        page.screenshot(path=str(_artefacts() / f"{name}-{persona}-1366x768.png"))

    page.goto("/quality/")
    expect(page.locator('tr[data-source="crm"]')).to_be_visible()
    if persona == "admin":
        expect(page.locator("#quality-golden")).to_be_visible()
        expect(page.locator("#chart-completeness")).to_be_visible()
    else:
        expect(page.locator('tr[data-source="eshop"]')).to_have_count(0)


def test_an_admin_measures_now_from_the_page(desktop, measured, admin_user):
    page = desktop(admin_user)
    page.goto("/quality/")

    page.get_by_role("button", name="Mesurer maintenant").click()

    page.wait_for_url("**/quality/")
    expect(page.locator("#quality-snapshot")).to_be_visible()
    expect(page.locator('tr[data-source="crm"] [data-metric="validity"]')).to_be_visible()
