"""Every rate on the small hand-built base (tests/quality/base.py), counted by hand, then
compared with what the API returns and the pages show (French formats)."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from quality.models import QualityFigure, QualitySnapshot
from quality.services import quality_snapshot_take
from tests.factories import TEST_ACTOR
from tests.quality.base import build_base

# (attribute, metric) → (numerator, denominator) for the CRM, counted by hand:
CRM = {
    # e-mail: CRM-1 and CRM-4 kept; CRM-2's unreadable, not kept: 3 received, 2 valid.
    ("email", "completeness"): (2, 4),
    ("email", "validity"): (2, 3),
    # both kept e-mails are their customers' golden e-mails.
    ("email", "agreement"): (2, 2),
    # postcodes: four kept, 75099 not in La Poste's base (kept, invalid).
    ("postcode", "completeness"): (4, 4),
    ("postcode", "validity"): (3, 4),
    # cities: four with a postcode; 75001 + Marseille disagrees. "Marseile" is corrected
    # (valid, flagged city.corrected).
    ("city", "consistency"): (3, 4),
    ("city", "validity"): (4, 4),
    # mobiles: three kept, CRM-2's is a landline.
    ("mobile", "completeness"): (3, 4),
    ("mobile", "consistency"): (2, 3),
    ("civility", "completeness"): (2, 4),
    ("birth_date", "completeness"): (0, 4),
}
ESHOP = {
    ("email", "completeness"): (3, 3),
    # ES-3's m.curie@… lost to the CRM's marie.curie@… (the CRM is trusted more).
    ("email", "agreement"): (2, 3),
    # ES-1's mobile lost to the CRM's.
    ("mobile", "agreement"): (0, 1),
    ("postcode", "completeness"): (0, 3),
}


@pytest.fixture
def base(sources, steward_everywhere):
    records = build_base(sources, steward=steward_everywhere)
    quality_snapshot_take(acting_user=TEST_ACTOR)
    return records


def _api(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def _by_attribute(payload: list[dict]) -> dict[str, dict]:
    return {row["attribute"]: row for row in payload}


def _fraction(row: dict, metric: str) -> tuple[int, int] | None:
    names = {
        "completeness": ("filled", "total"), "validity": ("valid", "received"),
        "consistency": ("consistent", "checked"), "agreement": ("agreeing", "compared"),
    }[metric]
    return row[names[0]], row[names[1]]


@pytest.mark.parametrize(("code", "expected"), [("crm", CRM), ("eshop", ESHOP)])
def test_attribute_rates_in_the_api_are_the_hand_counted_ones(base, admin_user, code, expected):
    response = _api(admin_user).get(f"/api/v1/quality/sources/{code}/attributes/")

    assert response.status_code == 200
    rows = _by_attribute(response.json())
    for (attribute, metric), (numerator, denominator) in expected.items():
        row = rows[attribute]
        assert _fraction(row, metric) == (numerator, denominator), (attribute, metric)
        assert row[metric] == (numerator / denominator if denominator else None), (attribute, metric)


def test_flags_are_counted_with_their_records(base, admin_user):
    rows = _by_attribute(_api(admin_user).get("/api/v1/quality/sources/crm/attributes/").json())

    assert {f["flag"]: f["records"] for f in rows["city"]["flags"]} == {
        "city.corrected": 1, "city.postcode_mismatch": 1,
    }
    assert [f["flag"] for f in rows["postcode"]["flags"]] == ["postcode.unknown"]
    assert rows["email"]["flags"] == [
        {"flag": "email.invalid", "rate": 0.25, "records": 1, "total": 4,
         "records_url": "/api/v1/records/?source=crm&flag=email.invalid"}
    ]
    behind = _api(admin_user).get(rows["email"]["flags"][0]["records_url"]).json()
    assert [r["external_id"] for r in behind["results"]] == ["CRM-2"]


def test_source_rates_in_the_api(base, admin_user):
    rows = {r["code"]: r for r in _api(admin_user).get("/api/v1/quality/sources/").json()}

    crm = rows["crm"]
    assert crm["records"] == 4
    # CRM-1 (merged with ES-1) and CRM-4 (linked to ES-3) share their customer.
    assert crm["uniqueness"] == {"rate": 0.5, "numerator": 2, "denominator": 4}
    # one open candidate (CRM-2 / ES-2), over 4 records.
    assert crm["open_candidates"] == {"rate": 0.25, "numerator": 1, "denominator": 4}
    # three records dated, CRM-2's two years old.
    assert crm["freshness"] == {"rate": 2 / 3, "numerator": 2, "denominator": 3}
    # consistency over the three checks: city 3/4, mobile 2/3, civility 2/2.
    assert crm["consistency"] == {"rate": 7 / 9, "numerator": 7, "denominator": 9}
    assert rows["eshop"]["freshness"] == {"rate": 2 / 3, "numerator": 2, "denominator": 3}


def test_kpis_in_the_api(base, admin_user):
    payload = _api(admin_user).get("/api/v1/quality/kpis/").json()

    # 7 records, 5 customers hold them: 2 redundant records.
    assert payload["base"]["duplicate_rate"] == {"rate": 2 / 7, "numerator": 2, "denominator": 7}
    # 4 records share their customer; CRM-1 and ES-1 by a steward's merge.
    assert payload["base"]["auto_link_rate"] == {"rate": 0.5, "numerator": 2, "denominator": 4}
    departments = {d["department"]: d for d in payload["departments"]}
    assert departments["marketing"]["open_candidates"] == 1
    assert departments["marketing"]["backlog_ageing"] == [1, 0, 0, 0]
    assert departments["marketing"]["median_wait_seconds"] < 3600
    # the one merge (CRM-1 with ES-1), not undone: in both departments.
    assert departments["marketing"]["overturn_rate"] == {"rate": 0.0, "numerator": 0, "denominator": 1}
    assert departments["ecommerce"]["overturn_rate"]["denominator"] == 1
    assert departments["marketing"]["auto_link_rate"]["numerator"] == 1
    # the steward's one merge, today.
    (steward,) = payload["stewards"]
    assert steward | {"by_day": None} == {
        "steward": "steward_everywhere", "decisions": 1, "days": 1,
        "decisions_per_day": 1.0, "busiest_day": 1, "by_day": None,
    }
    assert [d["decisions"] for d in steward["by_day"]] == [1]


def test_golden_completeness_beside_the_sources(base, admin_user):
    rows = _by_attribute(_api(admin_user).get("/api/v1/quality/sources/eshop/attributes/").json())

    # 5 active customers; postcodes of C1 (from the CRM), C2, C3, C4.
    assert (rows["postcode"]["golden_filled"], rows["postcode"]["golden_total"]) == (4, 5)
    assert rows["postcode"]["golden_completeness"] == 0.8


def _cell(html: str, row_attr: str, metric: str) -> str:
    row = re.search(rf'<tr {row_attr}>(.*?)</tr>', html, re.S)
    assert row, row_attr
    cell = re.search(rf'data-metric="{metric}">(.*?)</td>', row.group(1), re.S)
    assert cell, metric
    return re.sub(r"<[^>]+>", "", cell.group(1)).split("(")[0].strip()


def test_the_pages_show_the_same_rates_in_french(base, client, admin_user):
    client.force_login(admin_user)

    html = client.get(reverse("quality:dashboard")).content.decode()
    assert _cell(html, 'data-source="crm"', "uniqueness") == "50,0\u00a0%"
    assert _cell(html, 'data-source="crm"', "consistency") == "77,8\u00a0%"
    assert _cell(html, 'data-source="crm"', "candidates") == "250,0"

    html = client.get(reverse("quality:source", args=["crm"])).content.decode()
    assert _cell(html, 'data-attribute="email"', "validity") == "66,7\u00a0%"
    assert _cell(html, 'data-attribute="postcode"', "validity") == "75,0\u00a0%"
    assert _cell(html, 'data-attribute="city"', "consistency") == "75,0\u00a0%"
    assert _cell(html, 'data-attribute="email"', "missing") == "2"

    html = client.get(reverse("quality:kpis")).content.decode()
    assert _cell(html, 'data-scope="base"', "duplicate-rate") == "28,6\u00a0%"
    assert _cell(html, 'data-scope="base"', "auto-link-rate") == "50,0\u00a0%"


def test_each_figure_opens_the_records_behind_it(base, client, admin_user):
    client.force_login(admin_user)
    url = reverse("quality:records", args=["crm"])

    flagged = client.get(url, {"flag": "postcode.unknown"}).content.decode()
    missing = client.get(url, {"missing": "email"}).content.decode()
    page = client.get(reverse("quality:source", args=["crm"])).content.decode()

    assert re.findall(r'data-record="([^"]+)"', flagged) == ["CRM-3"]
    assert re.findall(r'data-record="([^"]+)"', missing) == ["CRM-2", "CRM-3"]
    assert f'{url}?flag=postcode.unknown' in page
    assert f'{url}?missing=email' in page


def test_a_snapshot_taken_again_the_same_day_replaces_its_figures(base):
    before = QualityFigure.objects.count()

    quality_snapshot_take(acting_user=TEST_ACTOR)

    assert QualityFigure.objects.count() == before
    assert QualitySnapshot.objects.count() == 1


def test_every_table_downloads_as_csv(base, client, admin_user):
    client.force_login(admin_user)
    pages = {
        reverse("quality:dashboard"): ["sources", "golden", "breaches", "completeness-trend", "validity-trend"],
        reverse("quality:source", args=["crm"]): ["attributes", "flags", "trend"],
        reverse("quality:kpis"): ["kpis", "stewards", "steward-days", "ageing"],
    }
    for url, names in pages.items():
        for name in names:
            response = client.get(url, {"export": name})
            assert response.status_code == 200, (url, name)
            assert response["Content-Type"].startswith("text/csv")
            assert response.content.decode("utf-8-sig").count("\n") >= 1
    body = client.get(reverse("quality:source", args=["crm"]), {"export": "attributes"})
    assert "email;4;0.5;2;4;0.666667;2;3" in body.content.decode("utf-8-sig")
    assert client.get(reverse("quality:kpis"), {"export": "nope"}).status_code == 404


def test_extra_identifiers_are_measured_like_attributes(db, admin_user):
    from tests.factories import ingest, make_source

    shop = make_source(
        "shop", department="ecommerce", fields=["first_name", "last_name", "loyalty_card"],
        extra={"extra_identifiers": [{"code": "loyalty_card", "label": "Carte de fidélité"}]},
    )
    ingest(shop, [
        {"id": "S-1", "first_name": "Ana", "last_name": "Lopes", "loyalty_card": "F 001", "updated": ""},
        {"id": "S-2", "first_name": "Luc", "last_name": "Blanc", "loyalty_card": "", "updated": ""},
    ])
    quality_snapshot_take(acting_user=TEST_ACTOR)

    rows = _by_attribute(_api(admin_user).get("/api/v1/quality/sources/shop/attributes/").json())

    card = rows["loyalty_card"]
    assert (card["filled"], card["total"]) == (1, 2)
    assert (card["agreeing"], card["compared"]) == (1, 1)
    assert (card["golden_filled"], card["golden_total"]) == (1, 2)
