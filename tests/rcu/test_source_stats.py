"""Per-source counts are kept by the writes, so pages never count a million rows."""

from __future__ import annotations

import pytest
from django.urls import reverse

from rcu.models import SourceRecord, SourceStats
from rcu.services.stats import source_stats_recount
from tests.factories import ingest


def person(i: int) -> dict:
    return {"id": f"P{i}", "first_name": "Jean", "last_name": f"Martin{i}", "updated": "2024-01-01 10:00"}


@pytest.mark.django_db
def test_new_records_count_in_their_source(crm):
    ingest(crm, [person(i) for i in range(3)])
    ingest(crm, [person(3), person(0)])  # one new, one re-sent

    stats = SourceStats.objects.get(source=crm)
    assert (stats.record_count, stats.customer_count) == (4, 4)


@pytest.mark.django_db
def test_a_recount_rebuilds_the_counts_from_the_records(crm, service_client_source):
    ingest(crm, [person(i) for i in range(3)])
    SourceStats.objects.filter(source=crm).update(record_count=99, customer_count=98)
    first = SourceRecord.objects.filter(source=crm).order_by("pk").first()
    SourceRecord.objects.filter(source=crm).exclude(pk=first.pk).update(customer=first.customer)

    source_stats_recount(source_ids=[crm.pk, service_client_source.pk])

    assert SourceStats.objects.filter(source=crm).values_list("record_count", "customer_count").get() == (3, 1)
    assert SourceStats.objects.get(source=service_client_source).record_count == 0


@pytest.mark.django_db
def test_the_dashboard_reads_counts_without_counting_records(
    client, crm, service_client_source, steward_marketing, dpo, django_assert_max_num_queries
):
    ingest(crm, [person(i) for i in range(5)])
    ingest(service_client_source, [person(10 + i) for i in range(2)])

    client.force_login(steward_marketing)
    with django_assert_max_num_queries(12):
        page = client.get(reverse("home"), HTTP_ACCEPT_LANGUAGE="en").content.decode()
    # A customer known to two of a department's sources would count twice: no total.
    assert "golden customers" not in page
    assert ">5<" in page.replace(" ", "")  # the CRM's records, the only source a steward of marketing sees

    client.force_login(dpo)
    page = client.get(reverse("home"), HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "golden customers" in page
    assert ">7<" in page.replace(" ", "")  # every record, for the DPO
