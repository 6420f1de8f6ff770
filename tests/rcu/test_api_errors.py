"""Every 4xx of the API reads the same: {"detail", "code", "errors": [{"field", "reason"}]}."""

from __future__ import annotations

import pytest
from rest_framework.exceptions import ErrorDetail, ValidationError
from rest_framework.test import APIClient, APIRequestFactory
from rest_framework.views import APIView

from rcu.apis.errors import ApiGone, FieldError, field_errors
from rcu.models import ApiToken, ImportJob
from rcu.services.imports import import_job_cancel, import_job_create
from rcu.services.tokens import api_token_create, api_token_revoke
from tests.factories import PLAIN_FIELDS, TEST_ACTOR
from tests.rcu.refusals import error_body

CUSTOMERS = "/api/v1/customers/"


def client_as(user=None) -> APIClient:
    client = APIClient(HTTP_ACCEPT_LANGUAGE="en")
    if user is not None:
        client.force_authenticate(user)
    return client


def token_client(key: str) -> APIClient:
    client = APIClient(HTTP_ACCEPT_LANGUAGE="en")
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    return client


# --- Flattening a DRF error tree ----------------------------------------------------


def test_nested_fields_read_as_dotted_paths_and_the_whole_body_as_null():
    tree = ValidationError({
        "attributes": {"email": ["Enter a valid e-mail address."]},
        "records": [{}, {"id": ["A valid integer is required."]}],
        "choices": ["Expected a dictionary.", "Second reason."],
        "non_field_errors": ["Give records or a decision."],
    }).detail

    assert list(field_errors(tree)) == [
        FieldError("attributes.email", "Enter a valid e-mail address."),
        FieldError("records.1.id", "A valid integer is required."),
        FieldError("choices", "Expected a dictionary."),
        FieldError("choices", "Second reason."),
        FieldError(None, "Give records or a decision."),
    ]


def test_a_list_of_plain_values_names_its_positions():
    tree = {"records": {0: [ErrorDetail("A valid integer is required.", code="invalid")]}}

    assert list(field_errors(tree)) == [FieldError("records.0", "A valid integer is required.")]


# --- Each status, through the API ---------------------------------------------------


def test_400_lists_each_field_and_keeps_the_first_reason_as_detail(steward_marketing):
    response = client_as(steward_marketing).post(
        "/api/v1/match/", {"limit": "many", "email": ["not", "text"]}, format="json"
    )

    body = error_body(response, 400, "invalid")
    assert {error["field"] for error in body["errors"]} == {"limit", "email"}
    first = body["errors"][0]
    assert body["detail"] == f"{first['field']}: {first['reason']}"


def test_400_for_a_body_that_is_not_json_names_no_field(steward_marketing):
    response = client_as(steward_marketing).post(
        "/api/v1/match/", "{not json", content_type="application/json"
    )

    body = error_body(response, 400, "parse_error")
    assert [error["field"] for error in body["errors"]] == [None]


def test_400_for_an_unreadable_filter_names_the_parameter(dpo):
    response = client_as(dpo).get(CUSTOMERS, {"updated_since": "last tuesday"})

    body = error_body(response, 400, "invalid")
    assert [error["field"] for error in body["errors"]] == ["updated_since"]


def test_401_without_credentials_says_how_to_authenticate(db):
    response = client_as().get(CUSTOMERS)

    error_body(response, 401, "not_authenticated")
    assert response["WWW-Authenticate"] == "Token"


@pytest.mark.parametrize(
    ("key", "words"), [("no-such-key", "Invalid token"), ("revoked", "revoked")]
)
def test_401_for_a_bad_token_says_why(admin_user, steward_marketing, key, words):
    if key == "revoked":
        created = api_token_create(user=steward_marketing, acting_user=admin_user)
        api_token_revoke(token=created.token, acting_user=admin_user)
        key = created.key

    body = error_body(token_client(key).get(CUSTOMERS), 401, "authentication_failed")

    assert words in body["detail"]


def test_403_for_a_source_bound_token_outside_its_source(admin_user, steward_marketing, crm):
    created = api_token_create(user=steward_marketing, source=crm, acting_user=admin_user)

    body = error_body(token_client(created.key).get(CUSTOMERS), 403, "permission_denied")

    assert crm.code in body["detail"]


def test_403_for_a_role_without_the_right(steward_marketing):
    error_body(client_as(steward_marketing).get("/api/v1/tokens/"), 403, "permission_denied")


def test_404_for_an_object_the_caller_may_not_see(dpo):
    error_body(client_as(dpo).get(f"{CUSTOMERS}not-a-customer/"), 404, "not_found")


def test_404_for_a_page_past_the_end(dpo):
    error_body(client_as(dpo).get(CUSTOMERS, {"page": 99}), 404, "not_found")


def test_404_for_a_url_nothing_answers_under_the_api(dpo):
    response = client_as(dpo).get("/api/v1/records/not-a-number/")

    error_body(response, 404, "not_found")
    assert response["Content-Type"] == "application/json"


def test_405_for_a_method_the_endpoint_does_not_take(dpo):
    error_body(client_as(dpo).delete(CUSTOMERS), 405, "method_not_allowed")


def test_409_for_cancelling_an_import_that_already_ended(admin_user, crm, tmp_path):
    path = tmp_path / "crm.csv"
    path.write_text(",".join(PLAIN_FIELDS) + "\n", encoding="utf-8")
    job, _ = import_job_create(source=crm, path=path, acting_user=TEST_ACTOR)
    import_job_cancel(job=job, acting_user=admin_user)
    assert ImportJob.objects.get(pk=job.pk).status == ImportJob.Status.CANCELLED

    response = client_as(admin_user).post(f"/api/v1/imports/{job.pk}/cancel/")

    error_body(response, 409, "conflict")


def test_410_reads_like_the_others():
    class Retired(APIView):
        permission_classes = ()
        authentication_classes = ()

        def get(self, request):
            raise ApiGone("This endpoint was retired.")

    response = Retired.as_view()(APIRequestFactory().get("/api/v1/retired/"))
    response.render()

    assert response.status_code == 410
    assert response.data == {"detail": "This endpoint was retired.", "code": "gone", "errors": []}


def test_415_for_a_body_of_a_media_type_the_endpoint_does_not_read(steward_marketing):
    response = client_as(steward_marketing).post(
        "/api/v1/match/", "first_name=Jean", content_type="text/plain"
    )

    error_body(response, 415, "unsupported_media_type")


def test_429_past_the_rate_with_retry_after(settings, steward_marketing):
    settings.RCU_API_THROTTLE_RATES = {"anon": None, "user": "1/min", "ingest": None}
    client = client_as(steward_marketing)
    assert client.get("/api/v1/sources/").status_code == 200

    response = client.get("/api/v1/sources/")

    error_body(response, 429, "throttled")
    assert int(response["Retry-After"]) > 0


def test_400_names_every_refused_field_and_stores_nothing(admin_user, steward_marketing):
    response = client_as(admin_user).post(
        "/api/v1/tokens/", {"user": "nobody", "source": "nowhere"}, format="json"
    )

    body = error_body(response, 400, "invalid")
    assert {error["field"] for error in body["errors"]} == {"user", "source"}
    assert not ApiToken.objects.exists()


# --- The schema documents it ----------------------------------------------------------


@pytest.fixture(scope="module")
def schema():
    from drf_spectacular.generators import SchemaGenerator

    return SchemaGenerator().get_schema(request=None, public=True)


def operations(schema):
    for path, item in schema["paths"].items():
        for method, operation in item.items():
            yield path, method.upper(), operation


def test_the_error_component_is_the_documented_shape(schema):
    error = schema["components"]["schemas"]["Error"]
    field_error = schema["components"]["schemas"]["FieldError"]

    assert set(error["required"]) == {"detail", "code", "errors"}
    assert error["properties"]["errors"]["items"]["$ref"].endswith("/FieldError")
    assert field_error["properties"]["field"]["nullable"] is True


def test_every_4xx_of_every_operation_is_the_error_shape(schema):
    for path, method, operation in operations(schema):
        codes = {code for code in operation["responses"] if code.startswith("4")}
        assert {"401", "403", "429"} <= codes, (method, path)
        if "{" in path:
            assert "404" in codes, (method, path)
        if method in ("POST", "PUT", "PATCH"):
            assert {"400", "415"} <= codes, (method, path)
        for code in codes:
            content = operation["responses"][code]["content"]["application/json"]
            assert content["schema"]["$ref"] == "#/components/schemas/Error", (method, path, code)


def test_conflicts_are_documented_where_views_raise_them(schema):
    assert "409" in schema["paths"]["/api/v1/imports/{id}/cancel/"]["post"]["responses"]
    assert "409" in schema["paths"]["/api/v1/candidates/{id}/merge/"]["post"]["responses"]
    assert "409" in schema["paths"]["/api/v1/customers/{public_id}/unmerge/"]["post"]["responses"]
