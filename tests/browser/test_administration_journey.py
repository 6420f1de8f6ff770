"""An admin runs RCU without a superuser, in French: creates a department and a
steward, gives the steward the department, edits a mapping with its live preview,
previews a survivorship rule; the new steward signs in, finds their queue, searches two
customers, merges them, corrects a value, undoes the merge and finds it all in the
history."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from rcu.models import AdminEvent, Department, FieldMapping
from tests.browser.test_steward_actions_journey import (
    merge_correct_undo_in_french,
    two_helenes_in,
)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SAMPLE = (
    "id;first_name;last_name;birth_date;email;phone;mobile;address_line1;address_line2;"
    "postcode;city;country;updated;PRENOM_USAGE\n"
    "C9;Zoé;Garnier;1985-03-12;zoe@example.org;;0612345678;1 rue A;;75001;Paris;FR;"
    "2024-01-02 08:00;Zouzou\n"
)


def test_admin_onboards_a_steward_and_edits_a_mapping_in_french(
    page, log_in, admin_user, crm, tmp_path, settings
):
    assert not admin_user.is_superuser
    helene_a, helene_b = two_helenes_in(crm, settings)
    log_in(admin_user)
    page.goto("/administration/departments/")
    page.fill("#id_code", "fidelite")
    page.fill("#id_name", "Fidélité")
    page.click("[data-department-create] button[type=submit]")
    expect(page.locator("h1")).to_contain_text("Fidélité")

    # The department first met by its code gets its display name, shown everywhere.
    page.goto("/administration/departments/marketing/")
    page.fill("#id_name", "Marketing")
    page.click("[data-department-form] button[type=submit]")
    expect(page.locator("h1")).to_contain_text("Marketing")

    page.goto("/administration/users/")
    page.click("#create-user summary")
    page.fill("#id_username", "marie")
    page.fill("#id_first_name", "Marie")
    page.fill("#id_password", "Un-mot-de-passe-2026!")
    page.check("input[name=roles][value=steward]")
    page.check("input[name=departments][value=marketing]")
    page.click("#create-user button[type=submit]")
    expect(page.locator(".message-success")).to_contain_text("marie")

    # The mapping editor: a row per attribute, a sample previewed as the rows change.
    page.goto(f"/administration/sources/{crm.code}/mapping/")
    sample = tmp_path / "sample.csv"
    sample.write_text(SAMPLE, encoding="utf-8")
    page.set_input_files("#id_sample", str(sample))
    expect(page.locator("[data-preview]")).to_contain_text("Garnier")
    page.select_option("select[name=rows-1-case]", "upper")  # first name in capitals
    expect(page.locator("[data-preview]")).to_contain_text("ZOÉ")
    assert FieldMapping.objects.get(source=crm, attribute="first_name").case == "keep"
    page.click("button[value=save]")
    expect(page.locator(".message-success")).to_be_visible()
    assert FieldMapping.objects.get(source=crm, attribute="first_name").case == "upper"

    # Survivorship: preview a rule without saving it.
    page.goto("/administration/survivorship/")
    page.select_option("select[name=email-rule-0]", "source_priority")
    page.fill("input[name=email-sources]", "crm")
    page.click("button[value=preview]")
    expect(page.locator("[data-survivorship-preview]")).to_be_visible()

    page.goto("/administration/history/")
    history = page.locator("[data-admin-events]")
    expect(history).to_contain_text("Compte créé")
    expect(history).to_contain_text("Correspondances de champs modifiées")
    assert AdminEvent.objects.filter(action="department_created",
                                     department=Department.objects.get(code="fidelite")).exists()

    # The new steward signs in and finds their queue on the dashboard.
    page.context.clear_cookies()
    page.goto("/accounts/login/")
    page.fill("#id_username", "marie")
    page.fill("#id_password", "Un-mot-de-passe-2026!")
    page.press("#id_password", "Enter")
    page.wait_for_url(lambda url: "/accounts/login/" not in url)
    expect(page.locator("[data-my-backlog]")).to_contain_text("Mes files de doublons")
    expect(page.locator("[data-my-backlog]")).to_contain_text("Marketing")

    # ...then does a steward's work: merge two customers found by search, correct a
    # value, undo the merge, all of it in the history.
    merge_correct_undo_in_french(page, helene_a, helene_b)
