"""`make demo` shows the DPO a dashboard with requests at every age, through the hook
(rcu imports no gdpr)."""

from __future__ import annotations

import pytest
from django.utils import timezone

from gdpr.models import Consent, ConsentStatement, SubjectRequest
from gdpr.selectors.requests import duplicates_among, request_counts, request_urgency
from rcu import hooks
from rcu.models import Customer, SourceSystem

pytestmark = pytest.mark.django_db


def test_the_demo_hook_seeds_requests_at_every_age_once(dpo, admin_user):
    hooks.demo_seeded(acting_user=admin_user)
    requests = list(SubjectRequest.objects.all())
    urgencies = [request_urgency(r) for r in requests]
    assert sum(u.overdue for u in urgencies) == 1
    assert sum(u.due_soon for u in urgencies) == 1
    assert sum(r.extended_due_on is not None for r in requests) == 1
    assert sum(r.state == "done" for r in requests) == 1
    # Received today, in Paris (created_at is UTC: from 23:00 or 22:00 it is another day).
    assert sum(r.received_on == timezone.localtime(r.created_at).date() for r in requests) >= 1
    assert len(duplicates_among(requests)) == 2  # one person, two open requests
    assert {step.by for r in requests for step in r.steps.all() if step.by} == {dpo}
    counts = request_counts(user=dpo)
    assert (counts.open, counts.overdue, counts.due_soon, counts.closed) == (4, 1, 1, 1)

    hooks.demo_seeded(acting_user=admin_user)  # again: nothing more
    assert SubjectRequest.objects.count() == 5


# --- consents ---------------------------------------------------------------------------------

def _demo_customers(count: int, first: int = 0) -> None:
    from tests.factories import ingest, make_source

    source = SourceSystem.objects.filter(code="crm").first() or make_source("crm", department="marketing")
    ingest(source, [{"id": f"D{i}", "first_name": "Hélène", "last_name": f"Lefèvre{i}",
                     "email": f"h{i}@orange.fr", "mobile": "06 12 34 56 78", "city": "Lyon"}
                    for i in range(first, first + count)])


def test_the_demo_seeds_consents_some_granted_some_withdrawn_that_the_list_and_panel_show(dpo, admin_user):
    from django.test import Client
    from django.urls import reverse
    from rest_framework.test import APIClient

    _demo_customers(30)
    hooks.demo_seeded(acting_user=admin_user)
    newsletter = Consent.objects.filter(purpose__code="newsletter", channel="email")
    granted, refused = newsletter.filter(granted=True).count(), newsletter.filter(granted=False).count()
    assert 0 < refused < granted < 30  # a share said yes, some withdrew or said no
    withdrawn = ConsentStatement.objects.filter(granted=False, holder__in=ConsentStatement.objects.filter(
        granted=True).values("holder")).count()
    assert withdrawn > 0  # a yes, then a no later: the no is in force
    assert ConsentStatement.objects.exclude(wording="").count() == ConsentStatement.objects.count()  # proofs
    assert Consent.objects.filter(channel="sms", granted=True).exists()

    api = APIClient()
    api.force_authenticate(dpo)
    listed = api.get("/api/v1/gdpr/consents/", {"purpose": "newsletter", "channel": "email"}).json()["results"]
    assert len(listed) == granted
    customer = newsletter.filter(granted=True).first().customer
    client = Client()
    client.force_login(dpo)
    panel = client.get(reverse("gdpr:customer_consents", args=[customer.public_id])).content.decode()
    assert 'data-purpose="newsletter"' in panel and "formulaire web" in panel

    statements = ConsentStatement.objects.count()
    hooks.demo_seeded(acting_user=admin_user)  # again: nothing more
    assert ConsentStatement.objects.count() == statements


def test_seeding_the_demo_consents_is_set_based_fifty_more_customers_cost_no_more_queries_each(dpo, admin_user):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from gdpr.demo import _seed_consents

    def queries(count: int) -> int:
        ConsentStatement.objects.all().delete()
        Consent.objects.all().delete()
        _demo_customers(count, first=Customer.objects.count())
        with CaptureQueriesContext(connection) as captured:
            assert _seed_consents(now=timezone.now()) > 0
        return len(captured)

    few, many = queries(10), queries(50)  # 60 customers in all, the second time
    assert many - few <= 2  # a query that only a larger variety needs, never one per customer
