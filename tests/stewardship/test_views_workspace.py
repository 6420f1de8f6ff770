"""The stewards' workspace pages: queue, review, decisions, customer panel."""

from __future__ import annotations

import pytest
from django.urls import reverse

from rcu.models import Customer, SourceRecord
from stewardship.models import Decision, MergeCandidate
from tests.factories import ingest
from tests.stewardship.builders import candidate_between, person

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def no_matching_after_import(settings):
    settings.RCU_MATCH_AFTER_IMPORT = False


@pytest.fixture
def candidate(crm, service_client_source):
    return candidate_between(
        crm, person("CRM-1"),
        service_client_source, person("SC-1", last_name="Lefebvre", address_line1="3 rue des Lilas",
                                      postcode="69003", city="Lyon"),
    )


def test_the_queue_lists_the_department_candidates_with_both_customers(client, steward_marketing, candidate):
    client.force_login(steward_marketing)
    response = client.get(reverse("stewardship:queue"))
    assert response.status_code == 200
    body = response.content.decode()
    assert f'data-candidate="{candidate.pk}"' in body
    assert "Lefebvre" in body and "Lefèvre" in body


def test_a_steward_of_another_department_does_not_see_the_candidate(client, eshop, candidate):
    from rcu.roles import Role
    from tests.factories import make_user

    stranger = make_user("steward_ecommerce", roles=[Role.STEWARD], departments=["ecommerce"])
    client.force_login(stranger)
    response = client.get(reverse("stewardship:queue"))
    assert f'data-candidate="{candidate.pk}"' not in response.content.decode()
    assert client.get(reverse("stewardship:review", args=[candidate.pk])).status_code == 404


def test_opening_a_candidate_leases_it_and_shows_the_plain_sentence(client, steward_marketing, candidate):
    client.force_login(steward_marketing)
    response = client.get(reverse("stewardship:review", args=[candidate.pk]))
    assert response.status_code == 200
    candidate.refresh_from_db()
    assert candidate.leased_by == steward_marketing
    body = response.content.decode()
    assert 'id="review-sentence"' in body
    assert 'name="choice_address"' in body  # the addresses differ: the steward may pick


def test_another_steward_sees_who_holds_it_and_cannot_decide(
    client, steward_marketing, steward_service_client, candidate
):
    client.force_login(steward_marketing)
    client.get(reverse("stewardship:review", args=[candidate.pk]))
    client.force_login(steward_service_client)
    response = client.get(reverse("stewardship:review", args=[candidate.pk]))
    body = response.content.decode()
    assert 'id="review-held"' in body and "steward_marketing" in body
    merged = client.post(reverse("stewardship:merge", args=[candidate.pk]), {})
    assert merged.status_code == 302
    candidate.refresh_from_db()
    assert candidate.status == MergeCandidate.Status.OPEN


def test_merging_with_a_chosen_address_pins_it(client, steward_marketing, candidate):
    client.force_login(steward_marketing)
    client.get(reverse("stewardship:review", args=[candidate.pk]))
    candidate.refresh_from_db()
    response = client.post(reverse("stewardship:merge", args=[candidate.pk]), {
        "expected": candidate.updated_at.isoformat(),
        "choice_address": str(candidate.record_b_id),
    })
    assert response.status_code == 302
    candidate.refresh_from_db()
    assert candidate.status == MergeCandidate.Status.MERGED
    record_b = SourceRecord.objects.get(pk=candidate.record_b_id)
    survivor = Customer.objects.get(pk=record_b.customer_id)
    assert survivor.city == "Lyon"
    assert survivor.provenance["city"]["rule"] == "steward_choice"
    assert Decision.objects.get(kind=Decision.Kind.MERGE).decided_by == steward_marketing


def test_rejecting_from_the_review_page(client, steward_marketing, candidate):
    client.force_login(steward_marketing)
    client.get(reverse("stewardship:review", args=[candidate.pk]))
    response = client.post(reverse("stewardship:reject", args=[candidate.pk]), {"reason": "twins"})
    assert response.status_code == 302
    candidate.refresh_from_db()
    assert candidate.status == MergeCandidate.Status.REJECTED


def test_an_auditor_reads_the_review_page_but_cannot_decide(client, auditor, candidate):
    client.force_login(auditor)
    response = client.get(reverse("stewardship:review", args=[candidate.pk]))
    assert response.status_code == 200
    assert 'id="review-readonly"' in response.content.decode()
    assert client.post(reverse("stewardship:merge", args=[candidate.pk]), {}).status_code == 403
    candidate.refresh_from_db()
    assert candidate.leased_by is None


def test_the_customer_page_panel_lists_decisions_and_undoes_a_merge(client, steward_marketing, candidate):
    client.force_login(steward_marketing)
    client.get(reverse("stewardship:review", args=[candidate.pk]))
    client.post(reverse("stewardship:merge", args=[candidate.pk]), {})
    survivor = Customer.objects.get(pk=Decision.objects.get().survivor_id)
    panel = client.get(reverse("stewardship:customer_decisions", args=[survivor.public_id]))
    decision = Decision.objects.get()
    assert f'data-undo="{decision.pk}"' in panel.content.decode()
    client.post(reverse("stewardship:undo", args=[decision.pk]))
    assert Customer.objects.active().count() == 2
    candidate.refresh_from_db()
    assert candidate.status == MergeCandidate.Status.OPEN


def _candidates(crm, service_client_source, count: int) -> list[MergeCandidate]:
    return [
        candidate_between(
            crm, person(f"CRM-P{i}", email=f"p{i}@exemple.fr"),
            service_client_source, person(f"SC-P{i}", email=f"p{i}@exemple.fr"),
            probability=0.6 + i / 1000,
        )
        for i in range(count)
    ]


def test_the_queue_page_costs_the_same_queries_on_the_first_and_a_deep_page(
    client, steward_marketing, crm, service_client_source, django_assert_max_num_queries
):
    from stewardship.views.queue import PAGE_SIZE

    made = _candidates(crm, service_client_source, PAGE_SIZE + 3)
    best_first = sorted(made, key=lambda c: (-c.probability, c.pk))
    client.force_login(steward_marketing)
    client.get(reverse("stewardship:queue"))  # session and permission caches warm
    # 19: the page also counts overdue candidates and lists whom to assign to (constant).
    with django_assert_max_num_queries(19):
        first = client.get(reverse("stewardship:queue") + "?sort=score").content.decode()
    with django_assert_max_num_queries(19):
        second = client.get(reverse("stewardship:queue") + "?sort=score&page=2").content.decode()
    # The rows of each page, in the queue's order, and none twice.
    positions = [first.find(f'data-candidate="{c.pk}"') for c in best_first[:PAGE_SIZE]]
    assert -1 not in positions and positions == sorted(positions)
    for c in best_first[PAGE_SIZE:]:
        assert f'data-candidate="{c.pk}"' in second
        assert f'data-candidate="{c.pk}"' not in first


def test_a_merge_cannot_take_along_a_customer_outside_the_cluster(
    client, steward_marketing, candidate, eshop
):
    (stranger,) = ingest(eshop, [person("E-99", first_name="Paul", last_name="Durand",
                                        email="paul.durand@free.fr")])
    client.force_login(steward_marketing)
    client.get(reverse("stewardship:review", args=[candidate.pk]))
    candidate.refresh_from_db()
    client.post(reverse("stewardship:merge", args=[candidate.pk]), {
        "expected": candidate.updated_at.isoformat(), "include": [str(stranger.customer_id)],
    })
    candidate.refresh_from_db()
    assert candidate.status == MergeCandidate.Status.OPEN
    assert SourceRecord.objects.filter(customer_id=stranger.customer_id).count() == 1
    assert not Decision.objects.exists()
