"""Leases (`candidate_claim`, `candidate_release`): one steward at a time on a candidate,
never forever."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from stewardship.models import MergeCandidate
from stewardship.services.leases import candidate_claim, candidate_release
from stewardship.services.merge import candidate_merge
from stewardship.services.reject import candidate_reject
from tests.stewardship.ledger import candidate_between, one

pytestmark = pytest.mark.django_db


@pytest.fixture
def candidate(crm, service_client_source):
    return candidate_between(
        one(crm, "C1", {"first_name": "Hélène", "last_name": "Lefèvre", "city": "Paris"}),
        one(service_client_source, "S1", {"first_name": "Hélène", "last_name": "Lefevre",
                                          "city": "Paris"}),
    )


def stored(candidate: MergeCandidate) -> MergeCandidate:
    return MergeCandidate.objects.select_related("leased_by").get(pk=candidate.pk)


def test_a_free_candidate_is_leased_to_the_first_steward_for_the_configured_time(
    candidate, steward_marketing, settings
):
    settings.RCU_CANDIDATE_LEASE_MINUTES = 7
    started = timezone.now()
    assert candidate_claim(candidate=candidate, user=steward_marketing) is True
    lease = stored(candidate)
    assert lease.leased_by == steward_marketing
    assert started + timedelta(minutes=7) <= lease.leased_until <= timezone.now() + timedelta(minutes=7)
    assert (candidate.leased_by, candidate.leased_until) == (steward_marketing, lease.leased_until)


def test_a_held_candidate_is_refused_to_another_steward_who_learns_the_holder(
    candidate, steward_marketing, steward_service_client
):
    assert candidate_claim(candidate=candidate, user=steward_marketing)
    held_until = stored(candidate).leased_until
    seen_by_other = MergeCandidate.objects.get(pk=candidate.pk)
    assert candidate_claim(candidate=seen_by_other, user=steward_service_client) is False
    assert seen_by_other.leased_by == steward_marketing  # the page can say who
    assert stored(candidate).leased_by == steward_marketing
    assert stored(candidate).leased_until == held_until


def test_the_holder_claiming_again_extends_the_lease(candidate, steward_marketing):
    assert candidate_claim(candidate=candidate, user=steward_marketing, minutes=1)
    first = stored(candidate).leased_until
    assert candidate_claim(candidate=candidate, user=steward_marketing, minutes=30)
    assert stored(candidate).leased_until > first + timedelta(minutes=20)


def test_an_expired_lease_goes_to_the_next_steward(
    candidate, steward_marketing, steward_service_client
):
    MergeCandidate.objects.filter(pk=candidate.pk).update(
        leased_by=steward_marketing, leased_until=timezone.now() - timedelta(seconds=1)
    )
    assert candidate_claim(candidate=candidate, user=steward_service_client) is True
    assert stored(candidate).leased_by == steward_service_client


def test_a_lease_without_an_end_holds_nothing(candidate, steward_marketing, steward_service_client):
    # What deciding considers free, claiming considers free too.
    MergeCandidate.objects.filter(pk=candidate.pk).update(
        leased_by=steward_marketing, leased_until=None
    )
    assert not stored(candidate).is_held_by_other(steward_service_client, now=timezone.now())
    assert candidate_claim(candidate=candidate, user=steward_service_client) is True


def test_releasing_gives_the_candidate_back(candidate, steward_marketing, steward_service_client):
    candidate_claim(candidate=candidate, user=steward_marketing)
    candidate_release(candidate=candidate, user=steward_marketing)
    assert (stored(candidate).leased_by, stored(candidate).leased_until) == (None, None)
    assert candidate.leased_by is None
    assert candidate_claim(candidate=candidate, user=steward_service_client) is True


def test_only_the_holder_can_release(candidate, steward_marketing, steward_service_client):
    candidate_claim(candidate=candidate, user=steward_marketing)
    other_view = MergeCandidate.objects.get(pk=candidate.pk)
    candidate_release(candidate=other_view, user=steward_service_client)
    assert stored(candidate).leased_by == steward_marketing
    assert other_view.leased_by == steward_marketing


def test_two_stewards_take_turns(candidate, steward_marketing, steward_service_client):
    assert candidate_claim(candidate=candidate, user=steward_marketing)
    assert not candidate_claim(candidate=candidate, user=steward_service_client)
    candidate_release(candidate=candidate, user=steward_marketing)
    assert candidate_claim(candidate=candidate, user=steward_service_client)
    assert not candidate_claim(candidate=candidate, user=steward_marketing)


@pytest.mark.parametrize("decide", [candidate_merge, candidate_reject])
def test_a_decided_candidate_cannot_be_claimed(candidate, steward_marketing, decide):
    decide(candidate_id=candidate.pk, acting_user=steward_marketing)
    assert candidate_claim(candidate=candidate, user=steward_marketing) is False
    assert stored(candidate).leased_by is None
    assert candidate.status != MergeCandidate.Status.OPEN  # refreshed for the caller


def test_claiming_does_not_make_the_candidate_look_changed(candidate, steward_marketing):
    # Deciding compares `updated_at` with what the steward saw: a lease is not a change.
    seen = stored(candidate).updated_at
    candidate_claim(candidate=candidate, user=steward_marketing)
    candidate_release(candidate=candidate, user=steward_marketing)
    candidate_claim(candidate=candidate, user=steward_marketing)
    assert stored(candidate).updated_at == seen
    candidate_merge(candidate_id=candidate.pk, acting_user=steward_marketing,
                    expected_updated_at=seen)


def test_leases_are_not_history(candidate, steward_marketing):
    rows = MergeCandidate.history.filter(id=candidate.pk).count()
    candidate_claim(candidate=candidate, user=steward_marketing)
    candidate_release(candidate=candidate, user=steward_marketing)
    assert MergeCandidate.history.filter(id=candidate.pk).count() == rows
