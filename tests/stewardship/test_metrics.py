"""The stewardship figures page: numbers from a small ledger built through the real
services, who sees which department, and a query count that does not grow with the data.

Marketing owns the CRM, service client the customer-service base, ecommerce the e-shop.
"""

from __future__ import annotations

from datetime import datetime, time, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from rcu.models import Customer, SourceRecord
from stewardship.models import Decision, MergeCandidate
from stewardship.selectors.metrics import DAYS_SHOWN, stewardship_metrics
from stewardship.services.merge import customers_merge
from stewardship.services.reject import candidate_reject
from stewardship.services.unmerge import decision_undo, records_detach
from tests.factories import TEST_ACTOR, ingest

URL = reverse("stewardship:metrics")
LAST_NAMES = [
    "Abadie", "Barbier", "Carpentier", "Delorme", "Esnault", "Faure", "Gauthier", "Hamon",
    "Imbert", "Jourdan", "Klein", "Lacroix", "Masson", "Navarro", "Olivier", "Perrin",
    "Quentin", "Renaud", "Sauvage", "Texier", "Urbain", "Vasseur", "Weber", "Xavier",
]


def people(source, prefix: str, count: int, *, start: int = 0) -> list[SourceRecord]:
    """`count` unrelated people in one source, each its own golden customer."""
    return ingest(source, [
        {"id": f"{prefix}-{start + n}", "first_name": f"Prénom{start + n}",
         "last_name": LAST_NAMES[(start + n) % len(LAST_NAMES)] + f"{prefix}{start + n}",
         "email": f"{prefix.lower()}{start + n}@exemple.fr", "updated": "2024-01-01 10:00"}
        for n in range(count)
    ])


def candidate(a: SourceRecord, b: SourceRecord, *, probability: float, age: timedelta,
              now: datetime) -> MergeCandidate:
    """An open candidate between two records, proposed `age` ago, in their departments."""
    a, b = sorted((a, b), key=lambda r: r.pk)
    found = MergeCandidate.objects.create(
        record_a=a, record_b=b, probability=probability, weight=1.0, levels="",
    )
    MergeCandidate.objects.filter(pk=found.pk).update(created_at=now - age)
    found.departments.set({a.source.department_id, b.source.department_id})
    return found


def engine_link(record: SourceRecord, into: Customer) -> None:
    """What matching does on an automatic link: the record moves, its customer retires."""
    old = record.customer_id
    SourceRecord.objects.filter(pk=record.pk).update(customer=into)
    Customer.objects.filter(pk=old).update(merged_into=into)


def local_noon(day) -> datetime:
    return timezone.make_aware(datetime.combine(day, time(12)))


@pytest.fixture
def now():
    return timezone.now()


@pytest.fixture
def ledger(sources, steward_marketing, steward_service_client, now):
    """Marketing: 3 merges (1 undone), 3 detachments (one undid an automatic link, one a
    steward's merge, one an automatic link but was undone itself), 4 open candidates.
    Service client: 1 rejection, 2 open candidates (one shared with marketing).
    Ecommerce: 1 merge 40 days ago."""
    crm, sc, eshop = sources["crm"], sources["service_client"], sources["eshop"]
    r = people(crm, "CRM", 18)
    s = people(sc, "SC", 6)
    e = people(eshop, "ES", 2)
    user = steward_marketing
    today = timezone.localdate(now)

    m1 = customers_merge(customer_ids=[r[0].customer_id, r[1].customer_id], acting_user=user)
    Decision.objects.filter(pk=m1.pk).update(decided_at=local_noon(today - timedelta(days=3)))
    m2 = customers_merge(customer_ids=[r[2].customer_id, r[3].customer_id], acting_user=user)
    decision_undo(decision_id=m2.pk, acting_user=user)

    engine_link(r[5], r[4].customer)
    records_detach(customer_id=r[4].customer_id, record_ids=[r[5].pk], acting_user=user)

    m3 = customers_merge(customer_ids=[r[6].customer_id, r[7].customer_id], acting_user=user)
    records_detach(customer_id=m3.survivor_id, record_ids=[r[7].pk], acting_user=user)

    engine_link(r[9], r[8].customer)
    d3 = records_detach(customer_id=r[8].customer_id, record_ids=[r[9].pk], acting_user=user)
    decision_undo(decision_id=d3.pk, acting_user=user)

    candidate(r[10], r[11], probability=0.95, age=timedelta(days=1), now=now)
    candidate(r[12], r[13], probability=0.80, age=timedelta(days=3), now=now)
    candidate(r[14], r[15], probability=0.50, age=timedelta(days=5), now=now)
    candidate(r[16], s[4], probability=0.75, age=timedelta(days=7), now=now)
    candidate(s[2], s[3], probability=0.92, age=timedelta(days=10), now=now)

    rejected = candidate(s[0], s[1], probability=0.80, age=timedelta(days=2), now=now)
    candidate_reject(candidate_id=rejected.pk, acting_user=steward_service_client)

    old = customers_merge(customer_ids=[e[0].customer_id, e[1].customer_id], acting_user=TEST_ACTOR)
    Decision.objects.filter(pk=old.pk).update(decided_at=now - timedelta(days=40))
    return {"crm": r, "sc": s, "eshop": e}


def by_code(report):
    return {m.department.code: m for m in report.departments}


def test_backlog_counts_open_candidates_by_score_band(ledger, auditor, now):
    figures = by_code(stewardship_metrics(user=auditor, now=now))
    assert figures["marketing"].backlog == {"total": 4, "high": 1, "medium": 2, "low": 1}
    assert figures["service-client"].backlog == {"total": 2, "high": 1, "medium": 1, "low": 0}
    assert figures["ecommerce"].backlog == {"total": 0, "high": 0, "medium": 0, "low": 0}


def test_median_wait_interpolates_between_the_two_middle_candidates(ledger, auditor, now):
    figures = by_code(stewardship_metrics(user=auditor, now=now))
    # Marketing waits 1, 3, 5 and 7 days: median 4. Service client: 7 and 10: 8.5.
    marketing, service = figures["marketing"], figures["service-client"]
    assert abs(now - marketing.median_open_since - timedelta(days=4)) < timedelta(seconds=1)
    assert abs(now - service.median_open_since - timedelta(days=8.5)) < timedelta(seconds=1)
    assert abs(now - marketing.oldest_open_since - timedelta(days=7)) < timedelta(seconds=1)
    assert figures["ecommerce"].median_open_since is None


def test_decisions_per_day_by_kind(ledger, auditor, now):
    figures = by_code(stewardship_metrics(user=auditor, now=now))
    today = timezone.localdate(now)
    marketing = {d.day: d for d in figures["marketing"].days}
    assert len(marketing) == DAYS_SHOWN
    assert min(marketing) == today - timedelta(days=DAYS_SHOWN - 1)
    assert marketing[today - timedelta(days=3)].merges == 1
    assert (marketing[today].merges, marketing[today].rejects, marketing[today].detaches,
            marketing[today].undos) == (2, 0, 3, 2)
    assert figures["marketing"].decisions == 8
    service = {d.day: d for d in figures["service-client"].days}
    assert (service[today].rejects, service[today].total) == (1, 1)
    # The e-shop merge was 40 days ago: outside the chart.
    assert figures["ecommerce"].decisions == 0


def test_overturns_of_the_period(ledger, auditor, now):
    marketing = by_code(stewardship_metrics(user=auditor, now=now))["marketing"].overturns
    assert (marketing.merges, marketing.merges_undone) == (3, 1)
    assert marketing.merge_rate == pytest.approx(1 / 3)
    # Detaching r5 undid an automatic link; detaching r7 undid a steward's merge (it
    # withdrew a must-link); detaching r9 undid an automatic link but was undone itself.
    assert (marketing.detaches, marketing.detaches_undone, marketing.engine_links_undone) == (
        3, 1, 1)


def test_the_period_chosen_widens_the_overturns(ledger, auditor, now):
    in_30 = by_code(stewardship_metrics(user=auditor, now=now, period_days=30))
    in_90 = by_code(stewardship_metrics(user=auditor, now=now, period_days=90))
    assert in_30["ecommerce"].overturns.merges == 0
    assert in_90["ecommerce"].overturns.merges == 1
    assert in_90["marketing"].overturns.merges == 3


def test_a_merge_keeps_its_department_after_its_survivor_is_merged_again(
    crm, steward_marketing, auditor, now
):
    r = people(crm, "CRM", 3)
    first = customers_merge(customer_ids=[r[0].customer_id, r[1].customer_id],
                            acting_user=steward_marketing)
    customers_merge(customer_ids=[first.survivor_id, r[2].customer_id],
                    survivor_id=r[2].customer_id, acting_user=steward_marketing)
    marketing = by_code(stewardship_metrics(user=auditor, now=now))["marketing"]
    assert marketing.overturns.merges == 2


def test_page_shows_the_figures(client, ledger, auditor):
    client.force_login(auditor)
    response = client.get(URL)
    assert response.status_code == 200
    html = response.content.decode()
    assert 'data-department="marketing"' in html
    assert 'data-metric="merge-rate">33 %' in html
    assert 'id="metrics-help"' in html


def test_page_accepts_a_period_and_ignores_a_bad_one(client, ledger, auditor):
    client.force_login(auditor)
    assert client.get(URL, {"period": "90"}).context["report"].period_days == 90
    assert client.get(URL, {"period": "nope"}).context["report"].period_days == 30
    assert client.get(URL, {"period": "12"}).context["report"].period_days == 30


@pytest.mark.parametrize(("persona", "shown"), [
    ("steward_marketing", {"marketing"}),
    ("steward_service_client", {"service-client"}),
    ("auditor", {"marketing", "service-client", "ecommerce"}),
    ("dpo", {"marketing", "service-client", "ecommerce"}),
    ("outsider", set()),
])
def test_each_person_sees_only_the_departments_they_may_view(
    client, request, ledger, persona, shown
):
    client.force_login(request.getfixturevalue(persona))
    response = client.get(URL)
    assert response.status_code == 200
    codes = {m.department.code for m in response.context["report"].departments}
    assert codes == shown
    html = response.content.decode()
    for code in {"marketing", "service-client", "ecommerce"} - shown:
        assert f'data-department="{code}"' not in html
    assert ('id="metrics-none"' in html) == (not shown)


def test_anonymous_is_sent_to_log_in(client, sources):
    response = client.get(URL)
    assert response.status_code == 302
    assert reverse("login") in response["Location"]


def test_post_is_refused(client, auditor):
    client.force_login(auditor)
    assert client.post(URL).status_code == 405


@pytest.mark.parametrize("persona", ["auditor", "steward_marketing"])
def test_query_count_does_not_grow_with_the_data(
    client, request, ledger, sources, steward_marketing, now, persona,
    django_assert_max_num_queries,
):
    client.force_login(request.getfixturevalue(persona))
    with CaptureQueriesContext(connection) as small:
        assert client.get(URL).status_code == 200
    assert len(small) <= 15

    more = people(sources["crm"], "MORE", 24, start=100)
    for n in range(0, 12, 2):
        customers_merge(customer_ids=[more[n].customer_id, more[n + 1].customer_id],
                        acting_user=steward_marketing)
    for n in range(12, 24, 2):
        candidate(more[n], more[n + 1], probability=0.6 + n / 100, age=timedelta(days=n),
                  now=now)
    with django_assert_max_num_queries(len(small)):
        assert client.get(URL).status_code == 200
