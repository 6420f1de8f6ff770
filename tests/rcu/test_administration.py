"""Administration in the app: accounts, departments, mappings, matching, history.

The admin role does everything here without being a superuser; every other persona is
refused on every page and endpoint (the matrix below), and every change is recorded.
"""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from rcu.models import (
    AdminEvent,
    AttributeDefinition,
    Department,
    FieldMapping,
    MatchRun,
    MatchSettings,
)
from rcu.selectors.administration import source_config_document
from rcu.services.sources import SourceConfigError, source_config_parse
from rcu.services.tokens import api_token_create, api_token_revoke
from rcu.services.users import UserRefused, user_create, user_role_codes, user_update
from tests.factories import PASSWORD

User = get_user_model()

REFUSED_PERSONAS = ["steward_marketing", "dpo", "auditor", "outsider"]


def _pages(crm) -> list[tuple[str, str, dict]]:
    target = User.objects.get(username="steward_marketing")
    attribute, _created = AttributeDefinition.objects.get_or_create(
        name="national_id", defaults={"label": "N° national", "type": "identifier"})
    return [
        ("get", reverse("admin_home"), {}),
        ("get", reverse("admin_user_list"), {}),
        ("post", reverse("admin_user_list"), {"username": "newbie"}),
        ("get", reverse("admin_user_detail", args=[target.pk]), {}),
        ("post", reverse("admin_user_detail", args=[target.pk]), {"is_active": ""}),
        ("post", reverse("admin_user_password", args=[target.pk]), {"password": "x"}),
        ("get", reverse("admin_department_list"), {}),
        ("post", reverse("admin_department_list"), {"code": "x", "name": "X"}),
        ("get", reverse("admin_department_detail", args=["marketing"]), {}),
        ("post", reverse("admin_department_detail", args=["marketing"]), {"name": "M"}),
        ("get", reverse("admin_history"), {}),
        ("get", reverse("admin_source_mapping", args=[crm.code]), {}),
        ("post", reverse("admin_source_mapping", args=[crm.code]), {"action": "save"}),
        ("get", reverse("admin_matching"), {}),
        ("post", reverse("admin_matching"), {"action": "run"}),
        ("get", reverse("admin_survivorship"), {}),
        ("post", reverse("admin_survivorship"), {"action": "save"}),
        ("get", reverse("admin_attribute_list"), {}),
        ("post", reverse("admin_attribute_list"), {"name": "birthplace", "label": "B", "type": "name"}),
        ("get", reverse("admin_attribute_detail", args=[attribute.name]), {}),
        ("post", reverse("admin_attribute_detail", args=[attribute.name]), {"label": "X"}),
    ]


@pytest.mark.django_db
def test_every_administration_page_is_the_admin_roles_alone(client, personas, crm):
    admin = personas["admin"]
    assert not admin.is_superuser
    pages = _pages(crm)
    for name in REFUSED_PERSONAS:
        client.force_login(personas[name])
        for method, url, data in pages:
            response = getattr(client, method)(url, data)
            assert response.status_code == 403, (name, method, url)
    client.logout()
    for method, url, data in pages:
        response = getattr(client, method)(url, data)
        assert response.status_code == 302 and "/accounts/login/" in response["Location"], url
    client.force_login(admin)
    for method, url, _data in pages:
        if method == "get":
            assert client.get(url).status_code == 200, url
    assert MatchRun.objects.count() == 0 and AdminEvent.objects.count() == 0


API = [
    ("get", "/api/v1/users/", None),
    ("post", "/api/v1/users/", {"username": "api-made"}),
    ("patch", "/api/v1/users/{steward}/", {"is_active": False}),
    ("get", "/api/v1/departments/", None),
    ("post", "/api/v1/departments/", {"code": "x", "name": "X"}),
]


@pytest.mark.django_db
def test_the_accounts_api_is_the_admin_roles_alone(client, personas):
    steward = personas["steward_marketing"]
    for name in [*REFUSED_PERSONAS, None]:
        client.logout()
        if name:
            client.force_login(personas[name])
        for method, url, body in API:
            url = url.format(steward=steward.pk)
            response = getattr(client, method)(url, body, content_type="application/json")
            assert response.status_code == (403 if name else 401), (name, method, url)
    steward.refresh_from_db()
    assert steward.is_active and not User.objects.filter(username="api-made").exists()


@pytest.mark.django_db
def test_an_admin_onboards_a_steward_through_the_api(client, admin_user, crm):
    client.force_login(admin_user)
    created = client.post("/api/v1/departments/", {"code": "fidelite", "name": "Fidélité"},
                          content_type="application/json")
    assert created.status_code == 201 and created.json()["name"] == "Fidélité"
    answer = client.post(
        "/api/v1/users/",
        {"username": "marie", "email": "marie@example.org", "password": PASSWORD,
         "roles": ["steward"], "departments": ["fidelite", "marketing"]},
        content_type="application/json",
    )
    assert answer.status_code == 201, answer.json()
    body = answer.json()
    assert body["roles"] == ["steward"] and body["departments"] == ["fidelite", "marketing"]
    assert "password" not in body
    assert client.login(username="marie", password=PASSWORD)

    client.force_login(admin_user)
    patched = client.patch(f"/api/v1/users/{body['id']}/", {"roles": ["steward", "auditor"],
                           "departments": ["marketing"], "is_active": False},
                           content_type="application/json")
    assert patched.status_code == 200
    assert patched.json()["roles"] == ["auditor", "steward"]
    assert patched.json()["departments"] == ["marketing"] and not patched.json()["is_active"]
    unknown = client.patch(f"/api/v1/users/{body['id']}/", {"departments": ["nowhere"]},
                           content_type="application/json")
    assert unknown.status_code == 400
    assert unknown.json()["errors"][0]["field"] == "departments"
    listed = client.get("/api/v1/departments/").json()["results"]
    fidelite = next(d for d in listed if d["code"] == "fidelite")
    assert fidelite["members"] == []
    marketing = next(d for d in listed if d["code"] == "marketing")
    assert "marie" in marketing["members"] and marketing["sources"] == ["crm"]
    actions = list(AdminEvent.objects.filter(target_user__username="marie")
                   .order_by("id").values_list("action", flat=True))
    assert actions == ["user_created", "user_deactivated", "roles_changed", "membership_changed"]


@pytest.mark.django_db
def test_an_admin_cannot_lock_themselves_out(admin_user):
    with pytest.raises(UserRefused):
        user_update(user=admin_user, is_active=False, acting_user=admin_user)
    with pytest.raises(UserRefused):
        user_update(user=admin_user, roles=["steward"], acting_user=admin_user)
    assert user_role_codes(admin_user) == ["admin"]
    assert not AdminEvent.objects.exists()


@pytest.mark.django_db
def test_a_weak_password_or_a_taken_username_is_refused(admin_user, steward_marketing):
    with pytest.raises(UserRefused) as taken:
        user_create(username="STEWARD_MARKETING", acting_user=admin_user)
    assert taken.value.field == "username"
    with pytest.raises(UserRefused) as weak:
        user_create(username="neo", password="123", acting_user=admin_user)
    assert weak.value.field == "password"
    assert not User.objects.filter(username="neo").exists()


@pytest.mark.django_db
def test_the_ui_creates_a_steward_gives_a_department_and_resets_a_password(client, admin_user, crm):
    client.force_login(admin_user)
    response = client.post(reverse("admin_user_list"), {
        "username": "paul", "first_name": "Paul", "last_name": "Martin", "email": "",
        "password": PASSWORD, "roles": ["steward"],
    })
    assert response.status_code == 302
    paul = User.objects.get(username="paul")
    response = client.post(reverse("admin_department_detail", args=["marketing"]), {
        "name": "Marketing", "review_target_days": "5", "members": [paul.pk],
    })
    assert response.status_code == 302
    marketing = Department.objects.get(code="marketing")
    assert marketing.review_target_days == 5 and paul.groups.filter(pk=marketing.group_id).exists()
    response = client.post(reverse("admin_user_password", args=[paul.pk]), {"password": "Nouveau-mot-2026!"})
    assert response.status_code == 302
    assert client.login(username="paul", password="Nouveau-mot-2026!")

    client.force_login(admin_user)
    page = client.get(reverse("admin_history"), HTTP_ACCEPT_LANGUAGE="fr").content.decode()
    assert "Compte créé" in page or "Account created" in page
    assert "Marketing" in page
    detail = client.get(reverse("admin_user_detail", args=[paul.pk])).content.decode()
    assert detail.count("data-event=") == 3  # created, joined marketing, password reset


@pytest.mark.django_db
def test_tokens_are_in_the_administration_history(admin_user, steward_marketing):
    created = api_token_create(user=steward_marketing, acting_user=admin_user, name="ETL")
    api_token_revoke(token=created.token, acting_user=admin_user)
    events = list(AdminEvent.objects.order_by("id"))
    assert [e.action for e in events] == ["token_created", "token_revoked"]
    assert all(e.actor == admin_user and e.target_user == steward_marketing for e in events)
    assert created.key not in str(events[0].change)


@pytest.mark.django_db
def test_a_source_configuration_gives_its_department_its_display_name(db):
    from tests.factories import make_source, make_user

    make_user("someone", departments=["service-client"])  # met first by its code
    make_source("sc", department="service-client", extra={"department_name": "Service client"})
    assert Department.objects.get(code="service-client").name == "Service client"


# --- The mapping editor --------------------------------------------------------


def _editor_post(source, rows: list[dict], **extra) -> dict:
    document = source_config_document(source)
    data = {
        "rows-TOTAL_FORMS": str(len(rows)), "rows-INITIAL_FORMS": "0",
        "rows-MIN_NUM_FORMS": "0", "rows-MAX_NUM_FORMS": "1000",
        "external_id": document["external_id"],
        "timestamp_field": document["business_timestamp"]["source"],
        "timestamp_format": document["business_timestamp"]["format"],
    }
    for i, row in enumerate(rows):
        base = {"attribute": "", "source": "", "join_with": " ", "case": "keep", "trim": "on",
                "format": "", "phone_region": ""}
        base.update(row)
        for key, value in base.items():
            if key == "trim" and not value:
                continue
            data[f"rows-{i}-{key}"] = value
    data.update(extra)
    return data


SAMPLE = (
    "id;prenom;nom;naissance;courriel;updated\n"
    "C1;Zoé;GARNIER;12/03/1985;ZOE@Example.org;2024-01-02 08:00\n"
).encode()


@pytest.mark.django_db
def test_the_editor_refuses_exactly_what_configure_source_refuses(client, admin_user, crm):
    client.force_login(admin_user)
    bad_row = {"attribute": "first_name", "source": "prenom", "format": "%d/%m/%Y"}
    response = client.post(
        reverse("admin_source_mapping", args=[crm.code]),
        _editor_post(crm, [{"attribute": "last_name", "source": "nom"}, bad_row], action="save"),
    )
    assert response.status_code == 200
    document = source_config_document(crm)
    document["fields"] = [{"source": ["nom"], "attribute": "last_name"},
                          {"source": ["prenom"], "attribute": "first_name", "format": "%d/%m/%Y"}]
    with pytest.raises(SourceConfigError) as refused:
        source_config_parse(document)
    (expected,) = refused.value.errors
    shown = response.content.decode()
    assert "data-row-error" in shown
    assert expected.split(": ", 1)[1] in shown  # the parser's very words, on the row
    assert FieldMapping.objects.filter(source=crm).count() == 12  # unchanged


@pytest.mark.django_db
def test_the_editor_previews_a_sample_then_saves_and_records_it(client, admin_user, crm):
    client.force_login(admin_user)
    rows = [
        {"attribute": "first_name", "source": "prenom", "case": "upper"},
        {"attribute": "last_name", "source": "nom"},
        {"attribute": "birth_date", "source": "naissance", "format": "%d/%m/%Y"},
        {"attribute": "email", "source": "courriel"},
    ]
    data = _editor_post(crm, rows, action="preview")
    data["sample"] = SimpleUploadedFile("sample.csv", SAMPLE, content_type="text/csv")
    preview = client.post(reverse("admin_source_mapping", args=[crm.code]), data,
                          HTTP_HX_REQUEST="true")
    body = preview.content.decode()
    assert preview.status_code == 200 and "<html" not in body
    assert "ZOÉ" in body and "1985-03-12" in body and "zoe@example.org" in body
    assert '<option value="courriel">' in body  # the sample's columns are offered
    assert FieldMapping.objects.filter(source=crm).count() == 12  # a preview stores nothing

    # the sample stays in the session: a change previews again without a new upload
    again = client.post(reverse("admin_source_mapping", args=[crm.code]),
                        _editor_post(crm, rows[:2], action="preview"), HTTP_HX_REQUEST="true")
    assert "ZOÉ" in again.content.decode() and "1985-03-12" not in again.content.decode()

    saved = client.post(reverse("admin_source_mapping", args=[crm.code]), _editor_post(crm, rows, action="save"))
    assert saved.status_code == 302
    mappings = {m.attribute: m for m in FieldMapping.objects.filter(source=crm)}
    assert set(mappings) == {"first_name", "last_name", "birth_date", "email"}
    assert mappings["first_name"].source_fields == ["prenom"] and mappings["first_name"].case == "upper"
    event = AdminEvent.objects.get(action="mapping_changed")
    assert event.source == crm and event.actor == admin_user
    assert "phone" in event.change["removed"] and "first_name" in event.change["fields"]


# --- Matching ------------------------------------------------------------------


@pytest.mark.django_db
def test_thresholds_are_checked_and_a_run_starts_from_the_page(client, admin_user, crm):
    client.force_login(admin_user)
    url = reverse("admin_matching")
    wrong = client.post(url, {"action": "settings", "auto_link": "0.5", "review": "0.9",
                              "max_block_size": "300"})
    assert wrong.status_code == 200 and "data-settings-form" in wrong.content.decode()
    assert MatchSettings.objects.get(pk=1).auto_link == 0.99
    ok = client.post(url, {"action": "settings", "auto_link": "0.98", "review": "0.6",
                           "max_block_size": "300"})
    assert ok.status_code == 302 and MatchSettings.objects.get(pk=1).review == 0.6
    started = client.post(url, {"action": "run", "full": "on"})
    assert started.status_code == 302
    run = MatchRun.objects.get()
    assert run.full and run.created_by == admin_user
    page = client.get(url).content.decode()
    assert f'data-run="{run.pk}"' in page
    row = client.get(reverse("admin_match_run", args=[run.pk]))
    assert row.status_code == 200 and f'id="run-{run.pk}"' in row.content.decode()
    assert set(AdminEvent.objects.values_list("action", flat=True)) == {
        "match_settings_changed", "match_run_started",
    }
