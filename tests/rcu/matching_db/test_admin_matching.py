"""The admin pages of matching: thresholds versioned, generic values editable,
runs, decisions and candidates readable, all behind the roles."""

from __future__ import annotations

import pytest
from django.urls import reverse

from rcu.models import GenericValue, MatchSettings
from stewardship.models import MergeCandidate
from tests.factories import ingest, make_user
from tests.rcu.matching_db.conftest import match_now
from tests.rcu.matching_db.people import JEANNE, JEANNE_SPARSE

pytestmark = pytest.mark.django_db

SETTINGS_URL = reverse("admin:rcu_matchsettings_change", args=[1])


def settings_form(**changes) -> dict:
    form = {"auto_link": "0.99", "review": "0.5", "max_block_size": "300"}
    form.update(changes)
    return form


def test_an_admin_changes_the_thresholds_and_the_history_keeps_each_version(client, admin_user):
    client.force_login(admin_user)
    response = client.post(SETTINGS_URL, settings_form(auto_link="0.995", review="0.4"))
    assert response.status_code == 302, response.content
    settings = MatchSettings.objects.get()
    assert (settings.auto_link, settings.review) == (0.995, 0.4)
    versions = list(settings.history.order_by("history_id").values_list("auto_link", "review"))
    assert versions[-1] == (0.995, 0.4) and (0.99, 0.5) in versions
    assert settings.history.latest().history_user == admin_user


def test_a_review_threshold_above_auto_link_is_refused(client, admin_user):
    client.force_login(admin_user)
    response = client.post(SETTINGS_URL, settings_form(auto_link="0.9", review="0.95"))
    assert response.status_code == 200
    assert response.context["adminform"].form.errors["review"]
    assert MatchSettings.objects.get().review == 0.5


@pytest.mark.parametrize("persona", ["auditor", "dpo"])
def test_readers_see_the_settings_but_cannot_change_them(client, request, persona):
    client.force_login(request.getfixturevalue(persona))
    user = request.getfixturevalue(persona)
    user.is_staff = True
    user.save()
    assert client.get(SETTINGS_URL).status_code == 200
    assert client.post(SETTINGS_URL, settings_form(auto_link="0.5", review="0.1")).status_code == 403
    assert MatchSettings.objects.get().auto_link == 0.99


def test_staff_without_a_role_sees_no_matching_page(client):
    client.force_login(make_user("staff_steward", departments=["marketing"], is_staff=True))
    for name in ("rcu_matchsettings", "rcu_genericvalue", "rcu_matchrun", "stewardship_mergecandidate"):
        response = client.get(reverse(f"admin:{name}_changelist"))
        assert response.status_code == 403, name


def test_an_admin_adds_a_generic_value_and_dismisses_a_detected_one(client, admin_user):
    detected = GenericValue.objects.create(
        kind="phone", value="+33478000000", origin="detected", reason="shared_by_many_people",
        records=12, distinct_names=12,
    )
    client.force_login(admin_user)
    response = client.post(
        reverse("admin:rcu_genericvalue_add"), {"kind": "email", "value": "client@magasin.fr"}
    )
    assert response.status_code == 302, response.content
    added = GenericValue.objects.get(value="client@magasin.fr")
    assert added.origin == "admin"
    change = reverse("admin:rcu_genericvalue_change", args=[detected.pk])
    assert client.post(change, {"dismissed": "on"}).status_code == 302
    detected.refresh_from_db()
    assert detected.dismissed and detected.value == "+33478000000"
    # A detected value is dismissed, never deleted: the next run would find it again.
    assert client.get(reverse("admin:rcu_genericvalue_delete", args=[detected.pk])).status_code == 403


def test_candidates_are_listed_read_only(client, admin_user, crm, service_client_source):
    records = ingest(crm, [{"id": "C1", **JEANNE}]) + ingest(
        service_client_source, [{"id": "S1", **JEANNE_SPARSE}]
    )
    match_now(records)
    candidate = MergeCandidate.objects.get()
    client.force_login(admin_user)
    listing = client.get(reverse("admin:stewardship_mergecandidate_changelist"))
    assert listing.status_code == 200
    assert str(candidate.pk) in listing.content.decode()
    page = client.get(reverse("admin:stewardship_mergecandidate_change", args=[candidate.pk]))
    assert page.status_code == 200 and not page.context["has_change_permission"]
    assert "contributions" in page.content.decode()
