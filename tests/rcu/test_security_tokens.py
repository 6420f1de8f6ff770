"""API tokens: hashed, expiring, revocable, optionally bound to one source; admins manage them."""

from __future__ import annotations

from datetime import timedelta
from types import SimpleNamespace

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.utils import timezone
from rest_framework.test import APIClient

from rcu.models import ApiToken, SourceRecord, api_token_digest
from rcu.services.tokens import api_token_create
from tests.factories import TEST_ACTOR

TOKENS = "/api/v1/tokens/"
PERSONAS = ["admin_user", "steward_marketing", "dpo", "auditor", "outsider", "anonymous"]


def token_client(key: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}", HTTP_ACCEPT_LANGUAGE="en")
    return client


def admin_client(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def in_days(days: float) -> str:
    return (timezone.now() + timedelta(days=days)).isoformat()


def record(external_id: str = "API-1") -> dict:
    return {"id": external_id, "first_name": "Camille", "last_name": "Roux", "email": "c@roux.fr"}


# --- Creating, listing, revoking ------------------------------------------------


def test_the_key_is_shown_once_and_stored_hashed(admin_user, steward_marketing, crm):
    api = admin_client(admin_user)

    created = api.post(
        TOKENS, {"user": steward_marketing.username, "expires_at": in_days(30), "name": "CRM sync"},
        format="json",
    )
    listed = api.get(TOKENS)

    assert created.status_code == 201
    key = created.json()["key"]
    token = ApiToken.objects.get(pk=created.json()["id"])
    assert token.key_digest == api_token_digest(key) and key not in token.key_digest
    assert created.json()["user"] == {"id": steward_marketing.pk, "username": "steward_marketing"}
    assert created.json()["created_by"] == admin_user.username
    assert created.json()["status"] == "active"
    (row,) = listed.json()["results"]
    assert "key" not in row and row["key_prefix"] == key[:12] and row["name"] == "CRM sync"
    assert key not in listed.content.decode()
    assert token_client(key).get("/api/v1/sources/").status_code == 200


def test_the_user_is_named_by_id_or_username_and_expiry_defaults(settings, admin_user, auditor):
    settings.RCU_API_TOKEN_DEFAULT_DAYS = 90
    api = admin_client(admin_user)

    by_id = api.post(TOKENS, {"user": auditor.pk}, format="json")
    by_name = api.post(TOKENS, {"user": "auditor", "source": None}, format="json")

    assert by_id.status_code == by_name.status_code == 201
    expires = ApiToken.objects.get(pk=by_id.json()["id"]).expires_at
    assert abs(expires - (timezone.now() + timedelta(days=90))) < timedelta(minutes=1)


@pytest.mark.parametrize(
    "body, field",
    [
        ({"user": "nobody"}, "user"),
        ({"user": "auditor", "expires_at": in_days(-1)}, "expires_at"),
        ({"user": "auditor", "expires_at": in_days(400)}, "expires_at"),
        ({"user": "auditor", "source": "no-such-source"}, "source"),
        ({"user": "auditor", "source": "crm"}, "source"),  # the auditor cannot feed the CRM
        ({"expires_at": in_days(3)}, "user"),
    ],
)
def test_tokens_that_cannot_be_made_are_a_400_naming_the_field(admin_user, auditor, crm, body, field):
    response = admin_client(admin_user).post(TOKENS, body, format="json")

    assert response.status_code == 400
    assert field in response.content.decode()
    assert not ApiToken.objects.exists()


def test_a_revoked_token_is_refused_at_once_and_stays_listed(admin_user, steward_marketing, crm):
    api = admin_client(admin_user)
    created = api.post(TOKENS, {"user": steward_marketing.username}, format="json").json()

    revoked = api.delete(f"{TOKENS}{created['id']}/")
    refused = token_client(created["key"]).get("/api/v1/sources/")

    assert revoked.status_code == 204
    assert refused.status_code == 401
    assert "revoked" in refused.json()["detail"]
    (row,) = api.get(TOKENS).json()["results"]
    assert row["status"] == "revoked" and row["revoked_by"] == admin_user.username


def test_an_expired_token_is_refused_with_its_date(steward_marketing, crm):
    created = api_token_create(user=steward_marketing, acting_user=TEST_ACTOR)
    ApiToken.objects.update(expires_at=timezone.now() - timedelta(seconds=1))

    refused = token_client(created.key).get("/api/v1/sources/")

    assert refused.status_code == 401
    assert "expired" in refused.json()["detail"]


def test_unknown_and_malformed_tokens_are_401(crm):
    assert token_client("rcu_not-a-key").get("/api/v1/sources/").status_code == 401
    malformed = APIClient()
    malformed.credentials(HTTP_AUTHORIZATION="Token two parts")
    assert malformed.get("/api/v1/sources/").status_code == 401


def test_a_use_is_noted_without_a_history_row(steward_marketing, crm):
    created = api_token_create(user=steward_marketing, acting_user=TEST_ACTOR)

    token_client(created.key).get("/api/v1/sources/")

    token = ApiToken.objects.get()
    assert token.last_used_at is not None
    assert token.history.count() == 1


def test_creation_and_revocation_are_in_history_with_who_did_it(admin_user, steward_marketing):
    api = admin_client(admin_user)
    created = api.post(TOKENS, {"user": steward_marketing.username}, format="json").json()
    api.delete(f"{TOKENS}{created['id']}/")

    history = list(ApiToken.objects.get().history.order_by("history_date"))

    assert [(h.history_type, h.history_change_reason) for h in history] == [
        ("+", "created"), ("~", "revoked"),
    ]
    assert {h.history_user for h in history} == {admin_user}


# --- Source-bound tokens --------------------------------------------------------


@pytest.fixture
def crm_feed_key(admin_user, steward_marketing, crm, service_client_source) -> str:
    response = admin_client(admin_user).post(
        TOKENS, {"user": steward_marketing.username, "expires_at": in_days(30), "source": "crm"},
        format="json",
    )
    assert response.status_code == 201
    return response.json()["key"]


def test_a_source_bound_token_sends_records_and_files_to_its_source(
    crm_feed_key, settings, tmp_path
):
    settings.MEDIA_ROOT = tmp_path
    api = token_client(crm_feed_key)

    sent = api.post("/api/v1/sources/crm/records/", record(), format="json")
    upload = SimpleUploadedFile("f.csv", b"id;first_name;last_name\nF-1;Paul;Durand\n")
    imported = api.post("/api/v1/sources/crm/imports/", {"file": upload}, format="multipart")

    assert sent.status_code == 201
    assert SourceRecord.objects.filter(source__code="crm", external_id="API-1").exists()
    assert imported.status_code == 202
    deleted = api.delete("/api/v1/sources/crm/records/API-1/")
    assert deleted.status_code == 200
    assert SourceRecord.objects.get(external_id="API-1").deleted_at_source is not None


@pytest.mark.parametrize(
    "method, path",
    [
        ("post", "/api/v1/sources/service_client/records/"),
        ("post", "/api/v1/sources/service_client/imports/"),
        ("delete", "/api/v1/sources/service_client/records/S-1/"),
        ("get", "/api/v1/sources/"),
        ("get", "/api/v1/sources/crm/"),
        ("get", "/api/v1/customers/"),
        ("get", "/api/v1/records/"),
        ("get", "/api/v1/imports/"),
        ("post", "/api/v1/match/"),
        ("get", "/api/v1/candidates/"),
        ("get", TOKENS),
        ("get", "/api/schema/"),
    ],
)
def test_a_source_bound_token_is_refused_everywhere_else(crm_feed_key, method, path):
    response = getattr(token_client(crm_feed_key), method)(path, record(), format="json")

    assert response.status_code == 403
    assert "only send records and files to the source crm" in response.content.decode()
    assert not SourceRecord.objects.filter(external_id="API-1").exists()


# --- Who may manage tokens ------------------------------------------------------


def persona_client(request, persona: str) -> APIClient:
    client = APIClient()
    if persona != "anonymous":
        client.force_authenticate(request.getfixturevalue(persona))
    return client


@pytest.mark.parametrize("persona", PERSONAS)
def test_token_api_permission_matrix(request, persona, steward_marketing):
    existing = api_token_create(user=steward_marketing, acting_user=TEST_ACTOR).token
    client = persona_client(request, persona)
    expected = {"admin_user": (200, 201, 204), "anonymous": (401, 401, 401)}.get(
        persona, (403, 403, 403)
    )

    listed = client.get(TOKENS)
    created = client.post(TOKENS, {"user": steward_marketing.username}, format="json")
    revoked = client.delete(f"{TOKENS}{existing.pk}/")

    assert (listed.status_code, created.status_code, revoked.status_code) == expected
    assert ApiToken.objects.count() == (2 if persona == "admin_user" else 1)
    existing.refresh_from_db()
    assert (existing.revoked_at is not None) == (persona == "admin_user")


@pytest.mark.parametrize("persona", PERSONAS)
def test_token_pages_permission_matrix(request, client, persona, steward_marketing):
    existing = api_token_create(user=steward_marketing, acting_user=TEST_ACTOR).token
    if persona != "anonymous":
        client.force_login(request.getfixturevalue(persona))
    expected = {"admin_user": (200, 200, 302), "anonymous": (302, 302, 302)}.get(
        persona, (403, 403, 403)
    )

    listed = client.get("/administration/tokens/")
    created = client.post(
        "/administration/tokens/",
        {"user": steward_marketing.pk, "expires_on": (timezone.localdate() + timedelta(days=7))},
    )
    revoked = client.post(f"/administration/tokens/{existing.pk}/revoke/")

    assert (listed.status_code, created.status_code, revoked.status_code) == expected
    if persona == "anonymous":
        assert listed["Location"].startswith("/accounts/login/")
    assert ApiToken.objects.count() == (2 if persona == "admin_user" else 1)
    existing.refresh_from_db()
    assert (existing.revoked_at is not None) == (persona == "admin_user")


def test_the_page_shows_a_new_key_once(client, admin_user, steward_marketing, crm):
    client.force_login(admin_user)

    created = client.post(
        "/administration/tokens/",
        {"user": steward_marketing.pk, "name": "CRM", "source": "crm",
         "expires_on": timezone.localdate() + timedelta(days=30)},
    )
    again = client.get("/administration/tokens/")

    token = ApiToken.objects.get()
    assert token.source.code == "crm" and token.created_by == admin_user
    body = created.content.decode()
    key = body.split("data-token-key>")[1].split("<")[0]
    assert api_token_digest(key) == token.key_digest
    assert key not in again.content.decode()
    assert token.key_prefix in again.content.decode()


# --- Tokens from before ---------------------------------------------------------


def test_drf_tokens_from_before_keep_working_with_an_expiry(settings, steward_marketing, crm):
    """The 0008 migration copies DRF authtoken keys (hashed) and deletes them."""
    from importlib import import_module

    from django.apps import apps

    migration = import_module("rcu.migrations.0010_api_tokens")
    old_key = "0123456789abcdef0123456789abcdef01234567"
    with connection.cursor() as cursor:
        cursor.execute(
            "CREATE TABLE authtoken_token (key varchar(40) PRIMARY KEY, created timestamp with time zone, user_id integer)"
            if connection.vendor == "postgresql"
            else "CREATE TABLE authtoken_token (key varchar(40) PRIMARY KEY, created datetime, user_id integer)"
        )
        cursor.execute(
            "INSERT INTO authtoken_token VALUES (%s, %s, %s)",
            [old_key, timezone.now(), steward_marketing.pk],
        )

    migration.migrate_drf_tokens(apps, SimpleNamespace(connection=connection))

    token = ApiToken.objects.get()
    assert token.user == steward_marketing and token.key_digest == api_token_digest(old_key)
    assert token.expires_at > timezone.now() + timedelta(days=settings.RCU_API_TOKEN_DEFAULT_DAYS - 1)
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM authtoken_token")
        assert cursor.fetchone()[0] == 0
    assert token_client(old_key).get("/api/v1/sources/").status_code == 200
