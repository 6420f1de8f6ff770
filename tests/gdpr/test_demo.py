"""`make demo` shows the DPO a dashboard with requests at every age, through the hook
(rcu imports no gdpr)."""

from __future__ import annotations

import pytest
from django.utils import timezone

from gdpr.models import SubjectRequest
from gdpr.selectors.requests import duplicates_among, request_counts, request_urgency
from rcu import hooks

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
