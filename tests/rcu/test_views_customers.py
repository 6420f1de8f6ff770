"""Customer search and customer page: what they show, to whom, and what they log."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from gdpr.models import AccessLogEntry
from rcu.models import Customer, SourceRecord
from rcu.services.customers import customers_recompute
from tests.factories import TEST_ACTOR, ingest

PAGE_SIZE = 25



def link(record: SourceRecord, customer: Customer) -> None:
    """Attach a record to a golden customer, as a steward's merge would."""
    old = record.customer
    SourceRecord.objects.filter(pk=record.pk).update(customer=customer)
    if old is not None and old.pk != customer.pk:
        Customer.objects.filter(pk=old.pk).update(merged_into=customer)
    customers_recompute(customer_ids=[customer.pk], acting_user=TEST_ACTOR)
    customer.refresh_from_db()


def search(client, **params):
    return client.get(reverse("customer_list"), params)


def shown_ids(response) -> list[str]:
    page = response.context["page"]
    return [str(c.public_id) for c in page.object_list] if page else []


# --- Search ------------------------------------------------------------------


@pytest.mark.parametrize(
    "params",
    [
        {"q": "lefevre"},
        {"q": "LEFÈVRE hélène"},
        {"q": "helene lefevre"},
        {"q": "0612345678"},
        {"q": "06.12.34.56.78"},
        {"q": "+33 6 12 34 56 78"},
        {"q": "HELENE.LEFEVRE@ORANGE.FR"},
        {"q": "75016"},
        {"name": "Lefevre"},
        {"email": "Helene.Lefevre@orange.fr"},
        {"phone": "06 12 34 56 78"},
        {"postcode": "75016", "name": "lef"},
    ],
    ids=lambda p: "-".join(f"{k}={v}" for k, v in p.items()),
)
def test_search_finds_customer_written_another_way(client, steward_marketing, crm_customer, params):
    client.force_login(steward_marketing)
    response = search(client, **params)
    assert response.status_code == 200
    assert shown_ids(response) == [str(crm_customer.public_id)]
    assert reverse("customer_detail", args=[crm_customer.public_id]) in response.content.decode()


def test_search_with_criteria_that_match_nothing(client, steward_marketing, crm_customer):
    client.force_login(steward_marketing)
    assert shown_ids(search(client, q="dupont")) == []
    assert shown_ids(search(client, q="lefevre", postcode="69003")) == []
    assert shown_ids(search(client, q="nobody@example.org")) == []


def test_search_does_not_show_other_departments_customers(
    client, steward_marketing, crm_customer, service_client_customer
):
    client.force_login(steward_marketing)
    assert shown_ids(search(client, q="martin")) == []
    assert shown_ids(search(client, q="lefevre")) == [str(crm_customer.public_id)]


def test_search_without_criteria_shows_and_logs_nothing(client, dpo, crm_customer):
    client.force_login(dpo)
    response = search(client)
    assert response.status_code == 200
    assert response.context["page"] is None
    assert not AccessLogEntry.objects.exists()


def test_search_logs_a_read_for_each_customer_displayed(client, dpo, crm_customer, service_client_customer):
    client.force_login(dpo)
    search(client, q="lefevre")
    entries = AccessLogEntry.objects.filter(user=dpo, purpose="customer_search")
    assert [e.customer_public_id for e in entries] == [crm_customer.public_id]


def test_htmx_search_returns_only_the_results_partial(client, steward_marketing, crm_customer):
    client.force_login(steward_marketing)
    response = client.get(reverse("customer_list"), {"q": "lefevre"}, HTTP_HX_REQUEST="true")
    body = response.content.decode()
    assert response.status_code == 200
    assert "<html" not in body
    assert 'id="customer-search"' not in body
    assert "data-results-for" in body
    assert str(crm_customer.public_id) in body
    assert "HX-Request" in response["Vary"]


def test_full_page_wraps_results_in_a_live_region_and_an_htmx_form(client, steward_marketing, crm_customer):
    client.force_login(steward_marketing)
    body = search(client, q="lefevre").content.decode()
    assert "<html" in body
    assert 'id="search-results"' in body and 'aria-live="polite"' in body
    assert 'hx-get="/customers/"' in body and 'action="/customers/"' in body
    assert 'hx-headers=\'{"X-CSRFToken": "' in body


def test_htmx_history_restore_gets_the_full_page(client, steward_marketing, crm_customer):
    client.force_login(steward_marketing)
    response = client.get(
        reverse("customer_list"), {"q": "lefevre"},
        HTTP_HX_REQUEST="true", HTTP_HX_HISTORY_RESTORE_REQUEST="true",
    )
    assert "<html" in response.content.decode()


def many_customers(source, count: int, *, last_name: str = "Durand") -> None:
    ingest(source, [
        {"id": f"{source.code}-{i}", "first_name": f"Prénom{i:03d}", "last_name": last_name,
         "email": f"p{i}@example.fr", "postcode": "13001", "updated": "2024-01-01 10:00"}
        for i in range(count)
    ])


def test_search_pages_by_25_without_counting(client, steward_marketing, crm):
    many_customers(crm, PAGE_SIZE + 5)
    client.force_login(steward_marketing)
    first = search(client, q="durand")
    assert len(shown_ids(first)) == PAGE_SIZE
    assert first.context["page"].has_next
    assert "page=2" in first.content.decode()
    second = search(client, q="durand", page=2)
    assert len(shown_ids(second)) == 5
    assert not second.context["page"].has_next
    assert set(shown_ids(first)).isdisjoint(shown_ids(second))


def _count_queries(client, url, params=None) -> int:
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url, params or {})
    assert response.status_code == 200
    return len(ctx.captured_queries)


@pytest.mark.parametrize("persona", ["steward_marketing", "dpo"])
def test_search_query_count_does_not_grow_with_results(
    client, request, crm, service_client_source, django_assert_max_num_queries, persona
):
    client.force_login(request.getfixturevalue(persona))
    many_customers(crm, 2)
    search(client, q="durand")  # warm caches (content types, permissions)
    small = _count_queries(client, reverse("customer_list"), {"q": "durand"})
    many_customers(crm, PAGE_SIZE + 10)
    ingest(service_client_source, [{"id": "SC-X", "last_name": "Durand", "updated": "2024-01-01 10:00"}])
    for record in SourceRecord.objects.filter(source=crm)[:10]:
        other = ingest(service_client_source, [
            {"id": f"SC-{record.pk}", "last_name": "Durand", "updated": "2024-01-01 10:00"}
        ])[0]
        link(other, record.customer)
    large = _count_queries(client, reverse("customer_list"), {"q": "durand"})
    assert large == small
    with django_assert_max_num_queries(15):
        search(client, q="durand")


# --- Customer page -----------------------------------------------------------


@pytest.fixture
def shared_customer(crm_customer, service_client_source):
    """crm_customer also known to customer service (hidden from marketing)."""
    (record,) = ingest(service_client_source, [{
        "id": "SC-7", "first_name": "Hélène", "last_name": "LEFEVRE", "email": "h.lefevre@free.fr",
        "postcode": "75016", "updated": "2024-06-01 09:00",
    }])
    link(record, crm_customer)
    return crm_customer


def test_customer_page_explains_each_value_and_shows_raw_payload(client, steward_marketing, shared_customer):
    client.force_login(steward_marketing)
    response = client.get(reverse("customer_detail", args=[shared_customer.public_id]))
    assert response.status_code == 200
    body = response.content.decode()

    rows = {row.name: row for row in response.context["golden_rows"]}
    email = rows["email"]
    assert email.value == "helene.lefevre@orange.fr"
    assert email.why.source_code == "crm" and email.why.external_id == "CRM-1"
    assert email.why.rule == "trust_rank"
    assert email.why.business_ts is not None
    assert 'class="rule rule-trust_rank"' in body
    assert f'href="#record-{shared_customer.records.get(source__code="crm").pk}"' in body

    # The raw payload exactly as the CRM sent it, beside the normalised value.
    assert "Helene.Lefevre@Orange.fr" in body
    assert "12 bis av. Victor Hugo" in body
    assert "<details" in body


def test_customer_page_hides_other_departments_records_but_counts_them(
    client, steward_marketing, shared_customer
):
    client.force_login(steward_marketing)
    response = client.get(reverse("customer_detail", args=[shared_customer.public_id]))
    assert response.context["hidden_count"] == 1
    assert [card.record.external_id for card in response.context["cards"]] == ["CRM-1"]
    body = response.content.decode()
    assert 'id="hidden-records"' in body
    assert "SC-7" not in body
    assert "h.lefevre@free.fr" not in body


def test_customer_page_shows_every_record_to_the_dpo(client, dpo, shared_customer):
    client.force_login(dpo)
    response = client.get(reverse("customer_detail", args=[shared_customer.public_id]))
    assert response.context["hidden_count"] == 0
    assert {card.record.external_id for card in response.context["cards"]} == {"CRM-1", "SC-7"}
    assert 'id="hidden-records"' not in response.content.decode()


def test_value_from_a_hidden_record_names_its_source_not_its_id(
    client, steward_marketing, crm, service_client_source
):
    (crm_record,) = ingest(crm, [{"id": "CRM-2", "last_name": "Petit", "updated": "2024-01-01 10:00"}])
    (sc_record,) = ingest(service_client_source, [
        {"id": "SC-2", "last_name": "Petit", "email": "petit@example.fr", "updated": "2024-01-01 10:00"}
    ])
    customer = crm_record.customer
    link(sc_record, customer)
    client.force_login(steward_marketing)
    response = client.get(reverse("customer_detail", args=[customer.public_id]))
    email = {row.name: row for row in response.context["golden_rows"]}["email"]
    assert email.value == "petit@example.fr"
    assert email.why.source_code == "service_client"
    assert email.why.external_id is None
    assert "SC-2" not in response.content.decode()


def test_customer_page_shows_quality_flags_readably(client, steward_marketing, crm):
    (record,) = ingest(crm, [{
        "id": "CRM-3", "last_name": "Roux", "email": "roux@@example", "postcode": "7500",
        "updated": "2024-01-01 10:00",
    }])
    assert "email.invalid" in record.quality_flags
    client.force_login(steward_marketing)
    body = client.get(reverse("customer_detail", args=[record.customer.public_id])).content.decode()
    assert 'title="email.invalid"' in body
    assert 'title="postcode.padded"' in body
    assert "email.invalid</li>" not in body  # rendered as words, not as the code


def test_customer_page_shows_history(client, steward_marketing, crm, crm_customer):
    ingest(crm, [{
        "id": "CRM-1", "civility": "Mme", "first_name": "Hélène", "last_name": "Lefèvre",
        "birth_date": "1984-03-12", "email": "helene@nouveau.fr", "phone": "01 42 11 22 33",
        "mobile": "06 12 34 56 78", "address_line1": "12 bis av. Victor Hugo", "address_line2": "",
        "postcode": "75016", "city": "Paris", "country": "FR", "updated": "2024-06-03 10:00",
    }], acting_user=steward_marketing)
    client.force_login(steward_marketing)
    response = client.get(reverse("customer_detail", args=[crm_customer.public_id]))
    timeline = response.context["timeline"]
    assert {item.entry.action for item in timeline} >= {"created", "changed"}
    changes = [(c.label, c.before, c.after) for item in timeline for c in item.changes]
    assert any(before == "helene.lefevre@orange.fr" and after == "helene@nouveau.fr"
               for _label, before, after in changes)
    body = response.content.decode()
    assert 'class="timeline"' in body
    assert "helene@nouveau.fr" in body
    assert steward_marketing.username in body


def test_customer_page_writes_an_access_log_entry(client, auditor, crm_customer):
    client.force_login(auditor)
    client.get(reverse("customer_detail", args=[crm_customer.public_id]))
    entry = AccessLogEntry.objects.get()
    assert entry.user == auditor
    assert entry.customer_public_id == crm_customer.public_id
    assert entry.purpose == "customer_page"


def test_denied_customer_page_logs_nothing(client, steward_service_client, crm_customer):
    client.force_login(steward_service_client)
    assert client.get(reverse("customer_detail", args=[crm_customer.public_id])).status_code == 404
    assert not AccessLogEntry.objects.exists()


def test_merged_away_id_redirects_to_the_survivor(client, dpo, crm, crm_customer):
    (record,) = ingest(crm, [{"id": "CRM-9", "last_name": "Lefèvre", "updated": "2024-01-01 10:00"}])
    retired = record.customer
    link(record, crm_customer)
    client.force_login(dpo)
    response = client.get(reverse("customer_detail", args=[retired.public_id]))
    assert response.status_code == 302
    assert response["Location"] == reverse("customer_detail", args=[crm_customer.public_id])
    assert not AccessLogEntry.objects.exists()


def test_unknown_customer_is_404(client, dpo):
    client.force_login(dpo)
    url = reverse("customer_detail", args=["00000000-0000-0000-0000-000000000000"])
    assert client.get(url).status_code == 404


@pytest.mark.parametrize("persona", ["steward_marketing", "dpo"])
def test_customer_page_query_count_does_not_grow_with_records(
    client, request, crm, service_client_source, eshop, crm_customer, django_assert_max_num_queries,
    persona,
):
    def add_records(count: int) -> None:
        for source in (crm, service_client_source, eshop):
            for i in range(count):
                (record,) = ingest(source, [{
                    "id": f"{source.code}-{i}", "last_name": "Lefèvre", "email": f"h{i}@example.fr",
                    "updated": f"2024-0{i + 1}-01 10:00",
                }])
                link(record, crm_customer)
                ingest(source, [{
                    "id": f"{source.code}-{i}", "last_name": "Lefèvre", "email": f"h{i}@changed.fr",
                    "updated": f"2024-0{i + 2}-01 10:00",
                }])

    client.force_login(request.getfixturevalue(persona))
    url = reverse("customer_detail", args=[crm_customer.public_id])
    add_records(1)  # one linked record per source, each changed once
    client.get(url)  # warm caches
    small = _count_queries(client, url)
    add_records(5)
    large = _count_queries(client, url)
    assert large == small
    with django_assert_max_num_queries(20):
        client.get(url)


def test_customer_page_in_english(client, steward_marketing, crm_customer):
    client.force_login(steward_marketing)
    url = reverse("customer_detail", args=[crm_customer.public_id])
    english = client.get(url, HTTP_ACCEPT_LANGUAGE="en").content.decode()
    french = client.get(url).content.decode()
    assert "Why this value" in english
    assert "Pourquoi cette valeur" in french
    assert 'lang="fr"' in french
