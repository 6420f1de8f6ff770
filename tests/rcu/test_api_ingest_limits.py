"""The ingest API answers 400 with the field and the reason for every malformed
payload, never a server error, and stores nothing of a refused record."""

from __future__ import annotations

import json

import pytest
from rest_framework.test import APIClient

from rcu.models import SourceRecord
from tests.rcu.refusals import refusals

URL = "/api/v1/sources/crm/records/"
GOOD = {
    "id": "CRM-1", "civility": "Mme", "first_name": "Hélène", "last_name": "Lefèvre",
    "birth_date": "1984-03-12", "email": "helene@orange.fr", "mobile": "06 12 34 56 78",
    "phone": "", "address_line1": "12 rue de la Paix", "address_line2": "", "postcode": "75002",
    "city": "Paris", "country": "FR", "updated": "2024-05-03 10:00",
}


def body(**overrides) -> str:
    return json.dumps({**GOOD, **overrides}, ensure_ascii=False)


def raw(fragment: str) -> str:
    """The good payload with one more member written as raw JSON text."""
    return body()[:-1] + ", " + fragment + "}"


def nested(depth: int) -> str:
    return '{"a": ' * depth + "1" + "}" * depth


# name → (raw JSON body, field at fault or "" for the whole body, words of the reason)
REFUSED = {
    "first name of 151": (body(first_name="A" * 151), "first_name", "longer than 150"),
    "last name of 151": (body(last_name="B" * 151), "last_name", "longer than 150"),
    "address line of 256": (body(address_line1="x" * 256), "address_line1", "longer than 255"),
    "second address line of 256": (body(address_line2="y" * 256), "address_line2", "longer than 255"),
    "city of 151": (body(city="V" * 151), "city", "longer than 150"),
    "external id of 201": (body(id="X" * 201), "id", "longer than 200"),
    "NUL in a name": (body(first_name="Hé\x00lène"), "first_name", "NUL"),
    "NUL in the external id": (body(id="CRM\x00-1"), "id", "NUL"),
    "NUL in a field name": (raw('"no\\u0000te": "x"'), "no\\x00te", "NUL"),
    "escape character": (body(city="Pa\x1bris"), "city", "control character"),
    "C1 control character": (body(city="Pa\x85ris"), "city", "control character"),
    "lone surrogate": (raw('"nickname": "\\ud800"'), "nickname", "lone surrogate"),
    "U+FFFD": (body(last_name="Lef\ufffdvre"), "last_name", "could not be decoded"),
    "NaN": (raw('"score": NaN'), "score", "NaN or Infinity"),
    "Infinity": (raw('"score": Infinity'), "score", "NaN or Infinity"),
    "-Infinity": (raw('"score": -Infinity'), "score", "NaN or Infinity"),
    "number beyond a double": (raw('"score": 1e999'), "score", "NaN or Infinity"),
    "nesting of 40 levels": (raw('"extra": ' + nested(40)), "extra" + ".a" * 31, "nested deeper than 32"),
    "nesting of 10,000 levels": (raw('"extra": ' + nested(10_000)), "", "nested deeper than 32"),
    "payload over 64 KiB": (body(notes="n" * 70_000), "", "larger than 64 KiB"),
    "body over 256 KiB": (body(notes="n" * 300_000), "", "larger than 256 KiB"),
    "list where text is expected": (body(first_name=["Hélène"]), "first_name", "nested value"),
    "object where text is expected": (body(email={"home": "a@b.fr"}), "email", "nested value"),
    "body is a list": ("[" + body() + "]", "", "object"),
    "body is a string": ('"CRM-1"', "", "object"),
    "body is null": ("null", "", "object"),
    "truncated JSON": (body()[:-10], "", "JSON"),
    "integer of 5000 digits": (raw('"score": ' + "9" * 5000), "", "JSON"),
    "raw control character in a string": (raw('"note": "a\x01b"'), "", "JSON"),
}

# Read, flagged and stored: bad quality is not a refusal.
ACCEPTED_WITH_FLAGS = {
    "impossible date": (body(birth_date="1980-02-31"), "birth_date.impossible"),
    "date in another format": (body(birth_date="31/02/1980"), "birth_date.unparseable"),
    "number where text is expected": (body(first_name=12345), "first_name.invalid"),
    "boolean where text is expected": (body(last_name=True), None),
    "e-mail of 300 characters": (body(email="a" * 290 + "@orange.fr"), "email.invalid"),
}


@pytest.fixture
def api(crm, steward_marketing):
    client = APIClient()
    client.force_authenticate(steward_marketing)
    return client


def post_raw(api, text: str | bytes):
    data = text.encode("utf-8", errors="surrogatepass") if isinstance(text, str) else text
    return api.generic("POST", URL, data, content_type="application/json")


@pytest.mark.parametrize("name", list(REFUSED))
def test_a_malformed_payload_is_a_400_naming_the_field_and_the_reason(api, name):
    text, field, words = REFUSED[name]

    response = post_raw(api, text)

    assert response.status_code == 400, response.content[:300]
    found = refusals(response)
    assert field in found, found
    assert any(words in reason for reason in found[field]), found
    assert not SourceRecord.objects.exists()


def test_bytes_that_are_not_utf8_are_a_400(api):
    response = post_raw(api, body().encode("utf-8").replace("è".encode(), b"\xe8"))
    assert response.status_code == 400
    assert not SourceRecord.objects.exists()


@pytest.mark.parametrize("name", list(ACCEPTED_WITH_FLAGS))
def test_a_readable_value_of_poor_quality_is_stored_with_a_flag(api, name):
    text, flag = ACCEPTED_WITH_FLAGS[name]

    response = post_raw(api, text)

    assert response.status_code == 201, response.content[:300]
    if flag:
        assert flag in response.json()["quality_flags"]


def test_no_malformed_payload_makes_a_server_error(api):
    """Every payload above, one after the other on the same source: 0 server errors."""
    statuses = [post_raw(api, text).status_code for text, _, _ in REFUSED.values()]
    statuses += [post_raw(api, text).status_code for text, _ in ACCEPTED_WITH_FLAGS.values()]
    assert len(statuses) >= 26
    assert [s for s in statuses if s >= 500] == []
    assert post_raw(api, body()).status_code in (200, 201)  # and the source still works


def test_a_value_at_the_limit_is_stored_whole(api):
    response = post_raw(api, body(first_name="A" * 150, address_line1="1 " + "x" * 253))

    assert response.status_code == 201
    record = SourceRecord.objects.get()
    assert len(record.attributes["first_name"]) == 150
    assert len(record.customer.address_line1) == 255  # never cut


def test_tabs_and_line_breaks_are_allowed_and_become_spaces(api):
    response = post_raw(api, body(address_line1="12 rue\tde la\nPaix"))

    assert response.status_code == 201
    assert response.json()["attributes"]["address_line1"] == "12 RUE DE LA PAIX" or " " in (
        response.json()["attributes"]["address_line1"]
    )
    assert SourceRecord.objects.get().raw["address_line1"] == "12 rue\tde la\nPaix"  # kept as received
