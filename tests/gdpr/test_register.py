"""The register of processing activities (art. 30): kept by the DPO and admins, versioned,
printable, exportable; what an access pack lists for a person's sources."""

from __future__ import annotations

import csv
import io

import pytest
from django.utils import translation
from rest_framework.test import APIClient

from gdpr.demo_register import DEMO_ACTIVITIES, register_demo_seed
from gdpr.models import LegalBasis, ProcessingActivity
from gdpr.selectors.pack_sources import ProcessingEntry, processing_for_sources
from gdpr.selectors.register import processing_activity_versions
from gdpr.services.register import (
    processing_activity_archive,
    processing_activity_create,
    processing_activity_update,
)
from rcu.csv_safe import PEOPLE_CSV_BOM
from tests.factories import TEST_ACTOR

pytestmark = pytest.mark.django_db

PERSONAS = ["dpo", "admin_user", "steward_marketing", "auditor", "outsider", "anonymous"]
EDITORS = {"dpo", "admin_user"}

MARKETING = {
    "name": "Prospection par e-mail", "purpose": "Newsletters", "legal_basis": LegalBasis.CONSENT,
    "data_categories": "Names, e-mail", "people_categories": "Customers who consented",
    "retention": "3 years from the last contact", "controller": "Maison Lumière SAS",
    "recipients": "Marketing", "transfers_outside_eu": "United States (e-mailing provider)",
    "transfer_safeguards": "Standard contractual clauses",
}


def activity(name: str = "Prospection par e-mail", sources=(), **values) -> ProcessingActivity:
    return processing_activity_create(
        values={**MARKETING, "name": name, **values}, sources=sources, acting_user=TEST_ACTOR
    )


def login(client, request, persona: str):
    if persona != "anonymous":
        client.force_login(request.getfixturevalue(persona))


def expected_ui(persona: str, allowed: set[str]) -> int:
    if persona == "anonymous":
        return 302
    return 200 if persona in allowed else 403


@pytest.mark.parametrize("persona", PERSONAS)
@pytest.mark.parametrize("page", ["list", "detail", "print", "export", "new", "edit"])
def test_only_the_dpo_and_admins_see_the_register(client, request, persona, page):
    item = activity()
    url = {
        "list": "/gdpr/register/", "detail": f"/gdpr/register/{item.pk}/",
        "print": "/gdpr/register/print/", "export": "/gdpr/register/register.csv",
        "new": "/gdpr/register/new/", "edit": f"/gdpr/register/{item.pk}/edit/",
    }[page]
    login(client, request, persona)
    assert client.get(url).status_code == expected_ui(persona, EDITORS)


@pytest.mark.parametrize("persona", PERSONAS)
def test_only_the_dpo_and_admins_change_the_register(client, request, persona):
    item = activity()
    login(client, request, persona)
    response = client.post(f"/gdpr/register/{item.pk}/archive/")
    item.refresh_from_db()
    if persona in EDITORS:
        assert response.status_code == 302 and item.active is False
    else:
        assert response.status_code in (302, 403) and item.active is True
        if persona != "anonymous":
            assert response.status_code == 403


@pytest.mark.parametrize("persona", PERSONAS)
def test_the_api_register_matrix(request, persona):
    item = activity()
    client = APIClient()
    if persona != "anonymous":
        client.force_authenticate(request.getfixturevalue(persona))
    listed = client.get("/api/v1/gdpr/register/")
    created = client.post("/api/v1/gdpr/register/", {**MARKETING, "name": "Fidélité",
                                                     "legal_basis": "contract"}, format="json")
    patched = client.patch(f"/api/v1/gdpr/register/{item.pk}/", {"retention": "2 years"}, format="json")
    if persona == "anonymous":
        assert {listed.status_code, created.status_code, patched.status_code} == {401}
    elif persona in EDITORS:
        assert listed.status_code == 200 and listed.json()[0]["name"] == item.name
        assert created.status_code == 201 and created.json()["legal_basis"] == "contract"
        assert patched.status_code == 200 and patched.json()["retention"] == "2 years"
    else:
        assert {listed.status_code, created.status_code, patched.status_code} == {403}
        assert ProcessingActivity.objects.count() == 1


def test_the_api_names_sources_by_code_and_refuses_an_unknown_legal_basis(dpo, crm):
    client = APIClient()
    client.force_authenticate(dpo)
    created = client.post("/api/v1/gdpr/register/", {**MARKETING, "sources": ["crm"]}, format="json")
    assert created.status_code == 201 and created.json()["sources"] == ["crm"]
    refused = client.post("/api/v1/gdpr/register/", {**MARKETING, "name": "x", "legal_basis": "whim"},
                          format="json")
    assert refused.status_code == 400 and "legal_basis" in str(refused.json())


def test_an_edit_through_the_form_is_a_new_version_saying_who_changed_what(client, dpo, crm, eshop):
    item = activity(sources=[crm])
    client.force_login(dpo)
    form = {**MARKETING, "retention": "2 years from the last purchase", "sources": [crm.pk, eshop.pk]}
    response = client.post(f"/gdpr/register/{item.pk}/edit/", form)
    assert response.status_code == 302

    with translation.override("en"):
        latest, first = processing_activity_versions(activity=item)
    assert (first.action, first.who) == ("created", "RCU")
    assert (latest.action, latest.who, latest.number) == ("changed", "dpo", 2)
    changes = {label: (before, after) for label, before, after in latest.changes}
    assert changes == {
        "retention": ("3 years from the last contact", "2 years from the last purchase"),
        "sources concerned": ("CRM", "CRM, ESHOP"),
    }
    page = client.get(f"/gdpr/register/{item.pk}/").content.decode()
    assert "2 years from the last purchase" in page and "dpo" in page


def test_each_service_write_is_one_version_sources_included(crm):
    item = activity(sources=[crm])
    processing_activity_update(activity=item, values={"retention": "1 year"}, sources=[],
                               acting_user=TEST_ACTOR)
    processing_activity_archive(activity=item, acting_user=TEST_ACTOR)
    rows = list(ProcessingActivity.history.filter(id=item.pk).order_by("history_date", "history_id"))
    assert [r.history_type for r in rows] == ["+", "~", "~"]
    with translation.override("en"):
        versions = processing_activity_versions(activity=item)
    assert [[c for c in v.changes if c[0] == "sources concerned"] for v in versions] == [
        [], [("sources concerned", "CRM", "every source")], [("sources concerned", "", "CRM")],
    ]
    assert [r.active for r in rows] == [True, True, False]
    assert rows[-1].history_change_reason == "test setup: register: activity archived"


def test_the_csv_export_holds_every_activity_and_neutralises_formulas(client, dpo, crm):
    activity(sources=[crm])
    activity(name="=HYPERLINK(\"http://evil\",\"x\")", recipients="@SUM(A1)", legal_basis="contract")
    client.force_login(dpo)
    response = client.get("/gdpr/register/register.csv")
    text = response.content.decode("utf-8")
    assert response["Content-Type"].startswith("text/csv") and text.startswith(PEOPLE_CSV_BOM)
    rows = list(csv.reader(io.StringIO(text.removeprefix(PEOPLE_CSV_BOM)), delimiter=";"))
    header, *body = rows
    assert len(header) == 16 and len(body) == 2
    by_name = {r[0]: r for r in body}
    evil = by_name["'=HYPERLINK(\"http://evil\",\"x\")"]
    assert evil[6] == "'@SUM(A1)"
    assert by_name["Prospection par e-mail"][11] == "CRM"
    assert by_name["Prospection par e-mail"][7] == "United States (e-mailing provider)"


def test_the_printable_register_shows_active_activities_in_full_with_print_css(client, admin_user):
    activity()
    archived = activity(name="Ancien jeu concours")
    processing_activity_archive(activity=archived, acting_user=TEST_ACTOR)
    client.force_login(admin_user)
    page = client.get("/gdpr/register/print/").content.decode()
    assert "Prospection par e-mail" in page and "Standard contractual clauses" in page
    assert "Ancien jeu concours" not in page
    assert "gdpr-print.css" in page


def test_an_activity_without_sources_applies_to_every_source(crm, eshop, service_client_source):
    activity(name="Relation client")  # every source
    activity(name="Fraude", sources=[eshop], legal_basis="legitimate_interests")
    activity(name="Service client", sources=[service_client_source])
    old = activity(name="Ancien", sources=[crm])
    processing_activity_archive(activity=old, acting_user=TEST_ACTOR)

    entries = processing_for_sources([crm.pk, eshop.pk])
    assert [e.name for e in entries] == ["Fraude", "Relation client"]
    assert entries[0] == ProcessingEntry(
        name="Fraude", purpose="Newsletters", legal_basis="legitimate_interests",
        categories_of_data=entries[0].categories_of_data, recipients=("Marketing",),
        transfers_outside_eu="United States (e-mailing provider)\nStandard contractual clauses",
        retention="3 years from the last contact", sources=("eshop",),
    )
    assert entries[0].categories_of_data  # the activity's categories, one per line
    assert [e.name for e in processing_for_sources([])] == ["Relation client"]


def test_the_demo_register_is_realistic_and_seeding_twice_adds_nothing(dpo, crm, eshop):
    created = register_demo_seed(acting_user=dpo)
    assert len(created) == len(DEMO_ACTIVITIES) >= 5
    assert register_demo_seed(acting_user=dpo) == []
    bases = set(ProcessingActivity.objects.values_list("legal_basis", flat=True))
    assert {"contract", "consent", "legitimate_interests", "legal_obligation"} <= bases
    accounting = ProcessingActivity.objects.get(name="Obligations comptables")
    assert "10 ans" in accounting.retention
    assert list(accounting.sources.values_list("code", flat=True)) == ["eshop"]  # no till source here
    assert ProcessingActivity.history.filter(history_user=dpo).count() == len(DEMO_ACTIVITIES)
