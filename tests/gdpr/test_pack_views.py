"""The DPO's scope panel, pack pages and API: only the DPO; 409 before execution, 410
once expired, in the API's one error shape; every download logged."""

from __future__ import annotations

import json
from datetime import timedelta

import jsonschema
import pytest
from django.template.loader import render_to_string
from django.utils import timezone
from rest_framework.test import APIClient

from gdpr.models import AccessLogEntry, AccessPack
from gdpr.services.packs import SCHEMA_PATH, access_packs_purge
from gdpr.views.packs import pdf_available

pytestmark = pytest.mark.django_db

OTHERS = ["steward_marketing", "steward_service_client", "auditor", "admin", "outsider"]


def api_urls(pk: int) -> list[tuple[str, str]]:
    base = f"/api/v1/gdpr/requests/{pk}"
    return [("get", f"{base}/matches/"), ("post", f"{base}/scope/"),
            ("post", f"{base}/execute/"), ("get", f"{base}/pack/")]


def ui_urls(pk: int) -> list[tuple[str, str]]:
    base = f"/gdpr/requests/{pk}"
    return [("get", f"{base}/scope/"), ("post", f"{base}/scope/confirm/"),
            ("post", f"{base}/execute/"), ("get", f"{base}/pack/"), ("get", f"{base}/pack.json"),
            ("get", f"{base}/pack.csv"), ("get", f"{base}/pack.pdf")]


@pytest.fixture
def executed(scenario, subject_request, dpo_api):
    dpo_api.post(f"/api/v1/gdpr/requests/{subject_request.pk}/scope/",
                 {"customers": [str(scenario.person.public_id)]}, format="json")
    response = dpo_api.post(f"/api/v1/gdpr/requests/{subject_request.pk}/execute/")
    assert response.status_code == 200, response.content
    return subject_request


@pytest.mark.parametrize("persona", OTHERS)
def test_nobody_but_the_dpo_reaches_the_api(persona, personas, executed):
    client = APIClient()
    client.force_authenticate(personas[persona])

    for method, url in api_urls(executed.pk):
        response = getattr(client, method)(url, {}, format="json")
        assert response.status_code == 403, (persona, url)
        assert response.json()["code"] == "permission_denied"
    assert not AccessLogEntry.objects.filter(user=personas[persona]).exists()


@pytest.mark.parametrize("persona", OTHERS)
def test_nobody_but_the_dpo_reaches_the_pages(persona, personas, executed, client):
    client.force_login(personas[persona])

    for method, url in ui_urls(executed.pk):
        assert getattr(client, method)(url).status_code == 403, (persona, url)


def test_anonymous_callers_are_sent_away(executed, client):
    for method, url in api_urls(executed.pk):
        assert getattr(APIClient(), method)(url).status_code == 401
    for method, url in ui_urls(executed.pk):
        assert getattr(client, method)(url).status_code == 302


def test_the_pack_is_a_conflict_before_execution(subject_request, dpo_api, dpo, client):
    response = dpo_api.get(f"/api/v1/gdpr/requests/{subject_request.pk}/pack/")

    assert response.status_code == 409
    assert response.json() == {"detail": response.json()["detail"], "code": "conflict",
                               "errors": []}
    client.force_login(dpo)
    assert client.get(f"/gdpr/requests/{subject_request.pk}/pack/").status_code == 409
    assert client.get(f"/gdpr/requests/{subject_request.pk}/pack.json").status_code == 409


def test_executing_with_nothing_in_scope_is_a_conflict(subject_request, dpo_api):
    response = dpo_api.post(f"/api/v1/gdpr/requests/{subject_request.pk}/execute/")

    assert response.status_code == 409 and response.json()["code"] == "conflict"


def test_the_pack_is_gone_once_expired(executed, dpo_api, dpo, client):
    AccessPack.objects.filter(request=executed).update(
        expires_at=timezone.now() - timedelta(seconds=1))

    response = dpo_api.get(f"/api/v1/gdpr/requests/{executed.pk}/pack/")
    assert response.status_code == 410 and response.json()["code"] == "gone"
    access_packs_purge()
    assert dpo_api.get(f"/api/v1/gdpr/requests/{executed.pk}/pack/").status_code == 410
    client.force_login(dpo)
    assert client.get(f"/gdpr/requests/{executed.pk}/pack.json").status_code == 410


def test_the_api_pack_validates_and_each_download_is_logged_per_customer(
    scenario, executed, dpo_api
):
    response = dpo_api.get(f"/api/v1/gdpr/requests/{executed.pk}/pack/")

    assert response.status_code == 200
    schema = json.loads(SCHEMA_PATH.read_text())
    jsonschema.validate(response.json(), schema, format_checker=jsonschema.FormatChecker())
    dpo_api.get(f"/api/v1/gdpr/requests/{executed.pk}/pack/")
    downloads = AccessLogEntry.objects.filter(purpose="gdpr_pack_download")
    assert list(downloads.values_list("customer_public_id", flat=True)) == [
        scenario.person.public_id] * 2


def test_the_scope_page_shows_proposals_and_the_lookalike_unchecked(
    scenario, subject_request, dpo, client
):
    client.force_login(dpo)

    page = client.get(f"/gdpr/requests/{subject_request.pk}/scope/").content.decode()
    fragment = client.get(f"/gdpr/requests/{subject_request.pk}/scope/",
                          headers={"HX-Request": "true"}).content.decode()

    assert "<html" in page and "<html" not in fragment
    for html in (page, fragment):
        person = html.split(f'data-customer="{scenario.person.public_id}"')[1].split("</tr>")[0]
        lookalike = html.split(f'data-customer="{scenario.lookalike.public_id}"')[1] \
            .split("</tr>")[0]
        assert " checked" in person and " checked" not in lookalike
        assert "Sophie" in lookalike and "badge-error" in lookalike
    assert AccessLogEntry.objects.filter(purpose="gdpr_request_search").count() == 4


def test_the_dpo_confirms_executes_and_downloads_from_the_pages(scenario, subject_request, dpo,
                                                               client):
    client.force_login(dpo)
    base = f"/gdpr/requests/{subject_request.pk}"

    response = client.post(f"{base}/scope/confirm/",
                           {"customers": [str(scenario.person.public_id)]})
    assert response.status_code == 302
    assert client.post(f"{base}/execute/").status_code == 302
    panel = client.get(f"{base}/scope/").content.decode()
    assert f"{base}/pack.json" in panel and f"{base}/pack/" in panel
    assert (f"{base}/pack.pdf" in panel) == pdf_available()

    page = client.get(f"{base}/pack/")
    assert page.status_code == 200
    html = page.content.decode()
    assert "gdpr-pack.css" in html and "CRM-1001" in html and "Sophie" not in html
    download = client.get(f"{base}/pack.json")
    assert download.status_code == 200
    assert json.loads(b"".join(download.streaming_content))["kind"] == "access"


@pytest.mark.skipif(not pdf_available(), reason="WeasyPrint or Pango is not installed")
def test_the_pack_prints_as_a_pdf(executed, dpo, client):
    client.force_login(dpo)

    response = client.get(f"/gdpr/requests/{executed.pk}/pack.pdf")

    assert response.status_code == 200 and response.content.startswith(b"%PDF")


def test_the_panel_loads_the_scope_fragment_with_a_plain_link_beside(subject_request):
    html = render_to_string("gdpr/_request_scope_panel.html", {"request_obj": subject_request})

    url = f"/gdpr/requests/{subject_request.pk}/scope/"
    assert f'hx-get="{url}"' in html and f'href="{url}"' in html


def test_the_schema_is_published(client):
    response = client.get("/gdpr/schemas/access_pack.v1.json")

    assert response.status_code == 200
    schema = json.loads(response.content)
    jsonschema.Draft202012Validator.check_schema(schema)
    assert schema["properties"]["schema_version"] == {"const": 1}


def test_the_panels_forms_bring_the_dpo_back_to_the_request_page_never_elsewhere(
    scenario, subject_request, dpo, client
):
    client.force_login(dpo)
    base = f"/gdpr/requests/{subject_request.pk}"
    fragment = client.get(f"{base}/scope/", headers={
        "HX-Request": "true", "HX-Current-URL": f"http://testserver/gdpr/requests/{subject_request.pk}/",
    }).content.decode()
    assert f'name="next" value="/gdpr/requests/{subject_request.pk}/"' in fragment

    back = client.post(f"{base}/scope/confirm/", {
        "customers": [str(scenario.person.public_id)], "next": f"/gdpr/requests/{subject_request.pk}/"})
    offsite = client.post(f"{base}/execute/", {"next": "https://evil.example/"})

    assert back.url == f"/gdpr/requests/{subject_request.pk}/"
    assert offsite.url == f"{base}/scope/"
