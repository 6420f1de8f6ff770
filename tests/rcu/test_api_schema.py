"""The OpenAPI schema and the Swagger UI page: valid, for authenticated people, no CDN."""

from __future__ import annotations

import re

import pytest
import yaml
from django.core.management import call_command
from django.urls import reverse
from rest_framework.test import APIClient

PATHS = [
    "/api/v1/sources/",
    "/api/v1/sources/{code}/",
    "/api/v1/sources/{code}/records/",
    "/api/v1/sources/{code}/imports/",
    "/api/v1/customers/",
    "/api/v1/customers/{public_id}/",
    "/api/v1/records/",
    "/api/v1/records/{id}/",
    "/api/v1/imports/",
    "/api/v1/imports/{id}/",
]
# A content network named in a URL's host ("//cdn.jsdelivr.net/…", "unpkg.com"): not a
# bare "cdn" anywhere, which the page's random CSRF token spells now and then.
CDN = re.compile(r"//[^\s\"'/]*(?:cdn|unpkg|jsdelivr|googleapis)", re.IGNORECASE)



@pytest.fixture
def api(auditor) -> APIClient:
    client = APIClient()
    client.force_authenticate(auditor)
    return client


def test_schema_generates_without_warnings_and_validates(tmp_path):
    out = tmp_path / "schema.yaml"

    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(out))

    schema = yaml.safe_load(out.read_text())
    assert set(PATHS) <= set(schema["paths"])


def test_schema_is_served_to_authenticated_people(api):
    response = api.get(reverse("api-schema"), HTTP_ACCEPT="application/vnd.oai.openapi+json")

    assert response.status_code == 200
    schema = response.json()
    assert set(PATHS) <= set(schema["paths"])
    assert "post" in schema["paths"]["/api/v1/sources/{code}/records/"]
    assert {"tokenAuth", "cookieAuth"} <= set(schema["components"]["securitySchemes"])


def test_schema_and_docs_are_closed_to_anonymous_callers(db):
    client = APIClient()

    assert client.get(reverse("api-schema")).status_code == 401
    assert client.get(reverse("api-docs")).status_code in (401, 403)
    assert client.get(reverse("api-docs") + "?script=").status_code in (401, 403)


def test_docs_page_works_offline(api):
    page = api.get(reverse("api-docs"))

    assert page.status_code == 200
    html = page.content.decode()
    assert "/static/drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-bundle.js" in html
    assert "/static/drf_spectacular_sidecar/swagger-ui-dist/swagger-ui.css" in html
    assert not CDN.search(html)
    # No inline script (CSP script-src 'self'): the start-up script is a separate file.
    assert "<script>" not in html
    (script_url,) = re.findall(r'<script src="([^"]*script[^"]*)"', html)
    script = api.get(script_url.replace("&amp;", "&"))
    assert script.status_code == 200
    assert script["Content-Type"].startswith("application/javascript")
    assert reverse("api-schema") in script.content.decode()
    assert not CDN.search(script.content.decode())
